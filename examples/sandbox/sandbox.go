package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
)

// Paths of the sandbox's own routes.
const (
	sspPrefix  = "/ssp/"
	shcrPrefix = "/shcr/"
	pdsBase    = "/personal-demographics/FHIR/R4"
	tokenPath  = "/oauth2/token"
	keysPath   = "/sandbox/keys"
)

// shcrRoot is the path of a fake shared care record's service root under
// its own address.
const shcrRoot = "/fhir"

// sandbox serves a shcrtest.World from one address, by path. Every link,
// Location and fullUrl a tester gets back names the address the tester
// called (Host, or X-Forwarded-Proto and X-Forwarded-Host set by a proxy
// in front), and resolves there.
type sandbox struct {
	base    string // the address listened on, for the printed guide
	world   *shcrtest.World
	mux     *http.ServeMux
	regions []region
	ssp     http.Handler
	fetch   *http.Client // fetches testers' JWKS URLs on loopback
}

type region struct {
	server *shcrtest.Server
	prefix string // /shcr/<ODS>
	name   string // of the shared care record, from the directory
	auth   string
}

// root is the region's service root at the address the tester called.
func (rg region) root(r *http.Request) string {
	return fake.CalledOrigin(r) + rg.prefix + shcrRoot
}

func newSandbox(base string, latency time.Duration) (*sandbox, error) {
	if latency < 0 {
		return nil, fmt.Errorf("negative latency %s", latency)
	}
	w, err := shcrtest.NewWorld()
	if err != nil {
		return nil, err
	}
	w.SetLatency(latency)
	s := &sandbox{base: base, world: w, mux: http.NewServeMux(), fetch: loopbackClient()}

	s.mux.Handle("/oauth2/", proxyTo(w.Tokens.URL, "", nil, nil))
	s.mux.Handle("/personal-demographics/", proxyTo(w.PDS.URL, "", nil, nil))
	s.mux.Handle("/record-locator/", proxyTo(w.NRL.URL, "", nil, absoluteLocation("/record-locator")))
	for _, r := range w.Regions {
		ods := r.Custodian()
		ep, _ := w.Directory.Endpoint(ods)
		reg := region{server: r, prefix: shcrPrefix + string(ods), name: ep.Name, auth: describeAuth(w.Directory, ods)}
		r.ServeBehindProxy(true)
		s.mux.Handle(reg.prefix+"/", proxyTo(r.URL, reg.prefix, r.HTTPClient().Transport, nil))
		// Pointers lead to the regions through the sandbox's address, so
		// that a tester can follow them.
		if hasPointers(w, ods) {
			if err := w.NRL.Rebase(ods, base+reg.prefix+shcrRoot); err != nil {
				w.Close()
				return nil, err
			}
		}
		s.regions = append(s.regions, reg)
	}
	s.ssp = proxyTo(w.Proxy.URL, "", nil, nil)
	s.mux.HandleFunc("POST /sandbox/token", s.token)
	s.mux.HandleFunc("GET /sandbox/identity-token", s.identityToken)
	s.mux.HandleFunc("GET /sandbox/patients", s.patients)
	s.mux.HandleFunc("POST "+keysPath, s.registerKeys)
	s.mux.HandleFunc("POST /sandbox/identity-keys", s.registerIdentityKey)
	s.mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		s.printGuide(rw, fake.CalledOrigin(r))
	})
	return s, nil
}

// ServeHTTP routes the request. The Spine Secure Proxy route is taken
// before the mux, which would clean the // of a target URL written
// unencoded in the path.
func (s *sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.EscapedPath(), sspPrefix) {
		s.serveSSP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Close stops every fake.
func (s *sandbox) Close() { s.world.Close() }

// proxyTo forwards requests to a fake, minus a path prefix, telling it in
// X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix where the
// tester called, so that the links it writes lead back through the
// sandbox. modify, when set, adjusts the answer.
func proxyTo(target, strip string, transport http.RoundTripper, modify func(*http.Response) error) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		panic(err) // the fakes' URLs are made by httptest
	}
	root := &url.URL{Scheme: u.Scheme, Host: u.Host}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			origin := fake.CalledOrigin(pr.In)
			pr.SetURL(root)
			if strip != "" {
				pr.Out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, strip)
				pr.Out.URL.RawPath = ""
				pr.Out.Header.Set("X-Forwarded-Prefix", strip)
			}
			scheme, host, _ := strings.Cut(origin, "://")
			pr.Out.Header.Set("X-Forwarded-Proto", scheme)
			pr.Out.Header.Set("X-Forwarded-Host", host)
			// CORS is the sandbox's business, not the fakes'.
			pr.Out.Header.Del("Origin")
		},
		Transport:      transport,
		ModifyResponse: modify,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			fake.WriteOutcome(w, fake.Outcome{Status: http.StatusBadGateway, Code: "UNABLE_TO_CALL_SERVICE",
				Diagnostics: "the fake behind the sandbox did not answer"})
		},
	}
}

// absoluteLocation makes a Location the service writes relative to the
// API's root (as the NRL producer does: /producer/FHIR/R4/...) absolute at
// the address the tester called, so that it can be followed.
func absoluteLocation(mount string) func(*http.Response) error {
	return func(resp *http.Response) error {
		loc := resp.Header.Get("Location")
		if strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, mount+"/") {
			resp.Header.Set("Location", fake.CalledOrigin(resp.Request)+mount+loc)
		} else if strings.HasPrefix(loc, mount+"/") {
			resp.Header.Set("Location", fake.CalledOrigin(resp.Request)+loc)
		}
		return nil
	}
}

func hasPointers(w *shcrtest.World, ods shcrkit.ODSCode) bool {
	for _, nhs := range synthetic.Numbers() {
		for _, p := range w.NRL.Pointers(nhs) {
			if p.Custodian == ods {
				return true
			}
		}
	}
	return false
}

func describeAuth(d *shcr.Directory, ods shcrkit.ODSCode) string {
	ep, ok := d.Endpoint(ods)
	if !ok {
		return "-"
	}
	signing := string(ep.Identity.Signing)
	if signing == "" || ep.Identity.Signing == jws.None {
		signing = "unsigned"
	}
	if ep.TokenSource == nil {
		return "identity token (" + signing + ") in Authorization"
	}
	return "access token + identity token (" + signing + ") in " + identityHeader(ep)
}

func identityHeader(ep shcr.Endpoint) string {
	if ep.TokenSource == nil {
		return "Authorization"
	}
	if ep.Identity.Header != "" {
		return ep.Identity.Header
	}
	return identitytoken.DefaultHeader
}

func (s *sandbox) region(ods shcrkit.ODSCode) (region, bool) {
	for _, rg := range s.regions {
		if rg.server.Custodian() == ods {
			return rg, true
		}
	}
	return region{}, false
}

// token hands out the world application's access token, so that a tester
// with curl need not sign a client assertion.
func (s *sandbox) token(w http.ResponseWriter, r *http.Request) {
	tok, err := s.world.TokenSource.Token()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, tok.AccessToken)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok.AccessToken, "token_type": "Bearer",
		"expires_in": fmt.Sprint(int(time.Until(tok.Expiry).Seconds()))})
}

// identityToken makes an identity token for the world's requester, as the
// custodian's endpoint expects it, for the region's address as the tester
// calls it.
func (s *sandbox) identityToken(w http.ResponseWriter, r *http.Request) {
	ods, err := shcrkit.ParseODSCode(r.URL.Query().Get("custodian"))
	if err != nil {
		http.Error(w, "custodian: "+err.Error(), http.StatusBadRequest)
		return
	}
	ep, ok := s.world.Directory.Endpoint(ods)
	rg, found := s.region(ods)
	if !ok || !found {
		http.Error(w, "no regional ShCR for that custodian", http.StatusNotFound)
		return
	}
	purpose := shcrkit.PurposeDirectCare
	if p := r.URL.Query().Get("purpose"); p != "" {
		if purpose, err = shcrkit.ParsePurpose(p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
	}
	aud := rg.root(r)
	claims := identitytoken.New(s.world.Requester, purpose, aud, "https://riverside-ed.example/epr", false, time.Now())
	tok, err := identitytoken.Sign(ep.Identity.Signing, ep.Identity.Key, ep.Identity.KeyID, claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, tok)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"identity_token": tok, "header": identityHeader(ep), "audience": aud,
		"access_token_needed": ep.TokenSource != nil, "claims": claims})
}

// patient is a seeded test patient as the sandbox lists it.
type patient struct {
	NHSNumber string `json:"nhsNumber"`
	Kind      string `json:"kind"`
	Name      string `json:"name,omitempty"`
	BirthDate string `json:"birthDate,omitempty"`
	HomeShCR  string `json:"homeShCR,omitempty"`
	Pointers  int    `json:"pointers"`
}

func (s *sandbox) patientList() []patient {
	kinds := map[shcrkit.NHSNumber]string{
		pdstest.Patients.Normal: "normal", pdstest.Patients.Restricted: "restricted (R)",
		pdstest.Patients.VeryRestricted: "very restricted (V)", pdstest.Patients.Deceased: "deceased",
		pdstest.Patients.Superseded: "superseded", pdstest.Patients.Surviving: "surviving record",
		pdstest.Patients.Invalidated: "invalidated", pdstest.Patients.Redacted: "redacted (404)",
		pdstest.Patients.Minimal: "no pointers",
	}
	var out []patient
	for _, p := range pdstest.Population() {
		kind := kinds[p.NHSNumber]
		if kind == "" {
			if p.Family == pdstest.SharedSurname {
				kind = "shares surname " + pdstest.SharedSurname
			} else {
				kind = "-"
			}
		}
		name := strings.TrimSpace(strings.Join(p.Given, " ") + " " + p.Family)
		out = append(out, patient{NHSNumber: p.NHSNumber.String(), Kind: kind, Name: name, BirthDate: p.BirthDate,
			HomeShCR: string(p.HomeShCR), Pointers: len(s.world.NRL.Pointers(p.NHSNumber))})
	}
	return out
}

func (s *sandbox) patients(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.patientList())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// printGuide prints what a tester needs: each service's base URL and what
// it wants, and the well-known test patients. origin is the sandbox's
// address as the tester calls it.
func (s *sandbox) printGuide(out io.Writer, origin string) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tBASE URL\tWHAT IT WANTS")
	fmt.Fprintf(tw, "ready token\t%s/sandbox/token\tPOST; ?format=text for the bare access token\n", origin)
	fmt.Fprintf(tw, "token endpoint\t%s%s\tsigned-JWT client credentials: register your public key first (below)\n", origin, tokenPath)
	fmt.Fprintf(tw, "your key\t%s%s?api_key=APP&kid=KID\tPOST a PEM public key or a JWKS; or ?jwks_url= on loopback\n", origin, keysPath)
	fmt.Fprintf(tw, "PDS\t%s%s\tBearer token, X-Request-ID (UUID); updates: PATCH {\"patches\":[...]} with If-Match\n", origin, pdsBase)
	fmt.Fprintf(tw, "NRL consumer\t%s%s\tBearer token, X-Request-ID (UUID), NHSD-End-User-Organisation-ODS: %s; POST _search takes a JSON body\n", origin, nrls.ConsumerPath, nrlstest.ConsumerODS)
	fmt.Fprintf(tw, "NRL producer\t%s%s\tBearer token, X-Request-ID (UUID), NHSD-End-User-Organisation-ODS: the custodian\n", origin, nrls.ProducerPath)
	for _, rg := range s.regions {
		fmt.Fprintf(tw, "ShCR %s\t%s%s%s\t%s: %s\n", rg.server.Custodian(), origin, rg.prefix, shcrRoot, rg.name, rg.auth)
	}
	fmt.Fprintf(tw, "identity token\t%s/sandbox/identity-token?custodian=ODS\tGET; aud = the ShCR's base URL above; for %s\n", origin, s.world.Requester.Name)
	fmt.Fprintf(tw, "your identity key\t%s/sandbox/identity-keys\tPOST a PEM public key to sign your own identity tokens for the signed regions\n", origin)
	fmt.Fprintf(tw, "SSP proxy\t%s%s<ShCR URL>\tfor ssp:// pointers (ssp://H/P is http://H/P); Ssp-TraceID (UUID), Ssp-From: %s, Ssp-To: the pointer's ASID, Ssp-InteractionID: %s; identity token in Authorization\n",
		origin, sspPrefix, s.world.Requester.System.ASID, nrls.SSPInteractionRead)
	fmt.Fprintf(tw, "metadata\t<base>/metadata\tCapabilityStatement of PDS and of each NRL API\n")
	_ = tw.Flush()
	fmt.Fprintln(out, "\nA PDS search with too many matches answers 200 with an OperationOutcome coded TOO_MANY_MATCHES.")

	fmt.Fprintf(out, "\nTEST PATIENTS (all %d at %s/sandbox/patients)\n", len(pdstest.Population()), origin)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NHS NUMBER\tKIND\tNAME\tBORN\tHOME ShCR\tPOINTERS")
	for _, p := range s.patientList() {
		if p.Kind == "-" || strings.HasPrefix(p.Kind, "shares") {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", p.NHSNumber, p.Kind, dash(p.Name), dash(p.BirthDate), dash(p.HomeShCR), p.Pointers)
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
