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
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
)

// sandbox serves a shcrtest.World from one address, by path.
type sandbox struct {
	base    string
	world   *shcrtest.World
	mux     *http.ServeMux
	regions []region
}

type region struct {
	server *shcrtest.Server
	base   string // the region's service root as served by the sandbox
	auth   string
}

func newSandbox(base string, latency time.Duration) (*sandbox, error) {
	w, err := shcrtest.NewWorld(shcrtest.WithLatency(latency))
	if err != nil {
		return nil, err
	}
	s := &sandbox{base: base, world: w, mux: http.NewServeMux()}

	s.mux.Handle("/oauth2/", proxyTo(w.Tokens.URL, "", nil, true))
	s.mux.Handle("/personal-demographics/", proxyTo(w.PDS.URL, "", nil, true))
	s.mux.Handle("/record-locator/", proxyTo(w.NRL.URL, "", nil, true))
	for _, r := range w.Regions {
		ods := r.Custodian()
		prefix := "/shcr/" + string(ods)
		reg := region{server: r, base: base + prefix + shcrtest.RootPath, auth: describeAuth(w.Directory, ods)}
		s.mux.Handle(prefix+"/", proxyTo(r.URL, prefix, r.Client().Transport, false))
		// Pointers lead to the regions through the sandbox's address, so
		// that a tester can follow them.
		if hasPointers(w, ods) {
			if err := w.NRL.Rebase(ods, reg.base); err != nil {
				w.Close()
				return nil, err
			}
		}
		s.regions = append(s.regions, reg)
	}
	s.mux.HandleFunc("POST /sandbox/token", s.token)
	s.mux.HandleFunc("GET /sandbox/identity-token", s.identityToken)
	s.mux.HandleFunc("GET /sandbox/patients", s.patients)
	s.mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
		s.printGuide(rw)
	})
	return s, nil
}

func (s *sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops every fake.
func (s *sandbox) Close() { s.world.Close() }

// proxyTo forwards requests to a fake, minus a path prefix. keepHost
// passes the sandbox's own host on, so that the links a fake writes into
// its answers (a Bundle's self link) lead back through the sandbox.
func proxyTo(target, strip string, transport http.RoundTripper, keepHost bool) http.Handler {
	u, err := url.Parse(target)
	if err != nil {
		panic(err) // the fakes' URLs are made by httptest
	}
	root := &url.URL{Scheme: u.Scheme, Host: u.Host}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(root)
			pr.Out.URL.Path = strings.TrimPrefix(pr.In.URL.Path, strip)
			pr.Out.URL.RawPath = ""
			if keepHost {
				pr.Out.Host = pr.In.Host
			} else {
				pr.Out.Host = root.Host
			}
		},
		Transport: transport,
	}
	return rp
}

func hasPointers(w *shcrtest.World, ods shcrkit.ODSCode) bool {
	for _, nhs := range nrlstest.Population() {
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
	if signing == "" || ep.Identity.Signing == shcr.Unsigned {
		signing = "unsigned"
	}
	if ep.TokenSource == nil {
		return "identity token (" + signing + ") in Authorization"
	}
	header := ep.Identity.Header
	if header == "" {
		header = shcr.DefaultIdentityHeader
	}
	return "access token + identity token (" + signing + ") in " + header
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
	writeJSON(w, map[string]any{"access_token": tok.AccessToken, "token_type": "Bearer",
		"expires_in": fmt.Sprint(int(time.Until(tok.Expiry).Seconds()))})
}

// identityToken makes an identity token for the world's requester, as the
// custodian's endpoint expects it.
func (s *sandbox) identityToken(w http.ResponseWriter, r *http.Request) {
	ods, err := shcrkit.ParseODSCode(r.URL.Query().Get("custodian"))
	if err != nil {
		http.Error(w, "custodian: "+err.Error(), http.StatusBadRequest)
		return
	}
	ep, ok := s.world.Directory.Endpoint(ods)
	if !ok {
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
	aud := ep.Audience
	if aud == "" {
		aud = ep.BaseURL
	}
	claims := shcr.NewIdentityClaims(s.world.Requester, purpose, aud, "https://riverside-ed.example/epr", false, time.Now())
	tok, err := ep.Identity.Sign(claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	header := "Authorization"
	if ep.TokenSource != nil {
		header = ep.Identity.Header
		if header == "" {
			header = shcr.DefaultIdentityHeader
		}
	}
	if r.URL.Query().Get("format") == "text" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, tok)
		return
	}
	writeJSON(w, map[string]any{"identity_token": tok, "header": header, "audience": aud,
		"access_token_needed": ep.TokenSource != nil})
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
		pdstest.PatientNormal: "normal", pdstest.PatientRestricted: "restricted (R)",
		pdstest.PatientVeryRestricted: "very restricted (V)", pdstest.PatientDeceased: "deceased",
		pdstest.PatientSuperseded: "superseded", pdstest.PatientSurviving: "surviving record",
		pdstest.PatientInvalidated: "invalidated", pdstest.PatientRedacted: "redacted (404)",
		pdstest.PatientMinimal: "no pointers",
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

func (s *sandbox) patients(w http.ResponseWriter, _ *http.Request) { writeJSON(w, s.patientList()) }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// printGuide prints the base URLs, how to get a token and the well-known
// test patients.
func (s *sandbox) printGuide(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tBASE URL\tNOTES")
	fmt.Fprintf(tw, "token endpoint\t%s/oauth2/token\tsigned-JWT client credentials (NHS API platform)\n", s.base)
	fmt.Fprintf(tw, "ready token\t%s/sandbox/token\tPOST; ?format=text for the bare token\n", s.base)
	fmt.Fprintf(tw, "PDS\t%s%s\tBearer token, X-Request-ID (UUID)\n", s.base, "/personal-demographics/FHIR/R4")
	fmt.Fprintf(tw, "NRL consumer\t%s%s\tBearer token, X-Request-ID, NHSD-End-User-Organisation-ODS: %s\n", s.base, nrls.ConsumerPath, nrlstest.ConsumerODS)
	fmt.Fprintf(tw, "NRL producer\t%s%s\tNHSD-End-User-Organisation-ODS: the custodian\n", s.base, nrls.ProducerPath)
	for _, r := range s.regions {
		fmt.Fprintf(tw, "ShCR %s\t%s\t%s: %s\n", r.server.Custodian(), r.base, r.server.Name(), r.auth)
	}
	fmt.Fprintf(tw, "identity token\t%s/sandbox/identity-token?custodian=ODS\tGET; for the requester %s\n", s.base, s.world.Requester.Name)
	_ = tw.Flush()

	fmt.Fprintf(out, "\nTEST PATIENTS (all %d at %s/sandbox/patients)\n", len(pdstest.Population()), s.base)
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
