package shcrtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/nrls/nrlstest"
)

// rootPath is the path of the service root on the fake; records are served
// at rootPath + "/records/<pointer ID>".
const rootPath = "/fhir"

// defaultPageSize is how many entries of a Bundle one page holds.
const defaultPageSize = 3

// Fault is something going wrong on purpose, for InjectFault: latency, an
// error answer, a truncated, dripping, oversized or hanging answer.
type Fault = fake.Fault

// Option configures a Server. Every fake (pdstest, nrlstest, shcrtest,
// authtest) takes options of this shape, and the same WithClock and
// WithTokenValidator where they apply.
type Option func(*config) error

type config struct {
	fake.Settings
	custodian  shcrkit.ODSCode
	asid       string
	signing    auth.Algorithm
	key        crypto.PublicKey
	header     string
	documents  []Document
	pointers   []nrls.Pointer
	seeded     bool
	pageSize   int
	tls        bool
	proxyCerts []*x509.Certificate
	leeway     time.Duration
}

// Base returns the settings every fake shares.
func (c *config) Base() *fake.Settings { return &c.Settings }

// WithCustodian sets the ODS code of the shared care record the fake
// stands for (nrlstest.CustodianNorth by default): it serves records for
// that custodian's pointers.
func WithCustodian(ods shcrkit.ODSCode) Option {
	return func(c *config) error {
		if !ods.Valid() {
			return fmt.Errorf("%w: custodian must be an upper-case ODS code", shcrkit.ErrInvalidOption)
		}
		c.custodian = ods
		return nil
	}
}

// WithTokenValidator makes the fake require an OAuth2 access token
// (Authorization: Bearer) that validate accepts on every direct request,
// e.g. the Validate method of auth/authtest's token server; the identity
// token then travels in the identity header. Without it, the identity
// token is expected in Authorization, as in GP Connect.
func WithTokenValidator(validate func(token string) error) Option {
	return Option(fake.WithTokenValidator[config](validate))
}

// WithIdentitySigning makes the fake accept only identity tokens signed
// with method and verified by key (an *rsa.PublicKey or *ecdsa.PublicKey).
// The default accepts only unsigned tokens.
func WithIdentitySigning(method auth.Algorithm, key crypto.PublicKey) Option {
	return func(c *config) error {
		switch method {
		case jws.None, "":
			if key != nil {
				return fmt.Errorf("%w: an unsigned identity token takes no key", shcrkit.ErrInvalidOption)
			}
		case auth.RS256, auth.RS512, auth.ES256:
			if key == nil {
				return fmt.Errorf("%w: %s needs a public key", shcrkit.ErrInvalidOption, method)
			}
		default:
			return fmt.Errorf("%w: unknown signing method %q", shcrkit.ErrInvalidOption, string(method))
		}
		c.signing, c.key = method, key
		return nil
	}
}

// withIdentityHeader names the header the identity token travels in beside
// an access token (default identitytoken.DefaultHeader).
func withIdentityHeader(h string) Option {
	return func(c *config) error {
		if h == "" || strings.ContainsAny(h, " :\r\n") {
			return fmt.Errorf("%w: identity header %q", shcrkit.ErrInvalidOption, h)
		}
		c.header = h
		return nil
	}
}

// WithASID sets the ASID of the provider system, which requests through
// the Spine Secure Proxy must name in Ssp-To.
func WithASID(asid string) Option {
	return func(c *config) error {
		if len(asid) != 12 || strings.Trim(asid, "0123456789") != "" {
			return fmt.Errorf("%w: ASID must be 12 digits", shcrkit.ErrInvalidOption)
		}
		c.asid = asid
		return nil
	}
}

// WithPointers seeds a document made up for each of pointers held by the
// server's custodian (shaped by the pointer's content type: a FHIR Bundle
// or CarePlan for structured content, a one-page PDF for documents, an
// HTML page otherwise, with the patient's name and date of birth from
// pdstest's population), instead of one for each of the NRL fake's seed
// pointers; WithPointers(nil) starts the fake with none.
func WithPointers(pointers []nrls.Pointer) Option {
	return func(c *config) error {
		c.pointers, c.seeded = append([]nrls.Pointer(nil), pointers...), true
		return nil
	}
}

// WithDocuments adds documents as given, beside the seeded ones.
func WithDocuments(docs ...Document) Option {
	return func(c *config) error {
		for _, d := range docs {
			if d.PointerID == "" || d.ContentType == "" {
				return fmt.Errorf("%w: a document needs a pointer ID and a content type", shcrkit.ErrInvalidOption)
			}
		}
		c.documents = append(c.documents, docs...)
		return nil
	}
}

// WithPageSize sets how many Bundle entries one page holds (default 3).
func WithPageSize(n int) Option {
	return func(c *config) error {
		if n < 1 {
			return fmt.Errorf("%w: page size %d", shcrkit.ErrInvalidOption, n)
		}
		c.pageSize = n
		return nil
	}
}

// WithTLS serves over TLS (https) with the test server's certificate; see
// Certificate.
func WithTLS() Option {
	return func(c *config) error { c.tls = true; return nil }
}

// WithTrustedProxy makes the fake take requests that present this client
// certificate over TLS as coming through the Spine Secure Proxy: they need
// the Ssp-* headers and carry the identity token in Authorization, with no
// access token of their own. It implies WithTLS.
func WithTrustedProxy(cert *x509.Certificate) Option {
	return func(c *config) error {
		if cert == nil {
			return fmt.Errorf("%w: nil proxy certificate", shcrkit.ErrInvalidOption)
		}
		c.tls = true
		c.proxyCerts = append(c.proxyCerts, cert)
		return nil
	}
}

// WithClock sets the clock used to check identity tokens and stamp
// recorded requests.
func WithClock(now func() time.Time) Option { return Option(fake.WithClock[config](now)) }

// Server is a fake remote shared care record for one custodian: it serves
// the records NRL pointers lead to, and checks the access token and the
// identity token of every request as a provider does. It is safe for
// concurrent use.
//
// Where it differs from a real ShCR: it serves only records/<pointer ID>
// and searches of AllergyIntolerance, MedicationStatement and Condition
// by patient.identifier (two
// synthetic resources of each type per patient of the PDS fake's
// population) with a read of each at its fullUrl, no other resources; its content is synthetic; it
// checks the identity token's shape, signature, audience and lifetime but
// holds no access rules of its own; nothing it serves is audited beyond
// Requests.
//
// Like httptest.Server it listens on a loopback address once started; URL
// is the service root, <scheme>://127.0.0.1:port/fhir: the base URL of the
// endpoint in a shcr.Directory and the audience of identity tokens. The
// embedded base gives it what every fake has: Start, Close, Handler (its
// service root is then /fhir), HTTPClient (which trusts its
// certificate), Certificate (nil without TLS), Requests, ResetRequests
// (which forgets the identities received too), InjectFault
// (paths from the service root, e.g. "/records/"), ClearFaults,
// SetLatency and Connections.
type Server struct {
	*fake.Server

	cfg    config
	behind atomic.Bool

	mu        sync.RWMutex
	documents map[string]Document
	// identities are the identity tokens accepted, bounded as every
	// fake's request log is: a region that takes unsigned identity
	// tokens takes them from anyone.
	identities fake.Kept[Presented]
	extraKeys  []crypto.PublicKey
	// verified spares a token presented again (reused by the consumer
	// within a journey) a second parse and signature check.
	verified identitytoken.Verified
}

// Presented is an identity token the fake accepted, with what it was
// presented for.
type Presented struct {
	// PointerID is the record asked for, or "" for a search.
	PointerID string
	// Search is the resource type searched or read, or "" for a record.
	Search string
	// ViaSSP is true when the request came through the Spine Secure
	// Proxy.
	ViaSSP bool
	// TokenID is the token's ID (jti), or "" when it carries none.
	TokenID string
	// Subject is the token's sub claim, the user's ID.
	Subject string
	// Expires is when the token expires.
	Expires time.Time
	// Requester is the professional as the token states them.
	Requester shcrkit.Requester
	// Purpose is the purpose of use stated (direct care when none was).
	Purpose shcrkit.Purpose
	// Restricted is true when the token asked for restricted data too
	// (scope conf/R).
	Restricted bool
}

// NewServer starts a fake remote ShCR on a loopback address, seeded with a
// document for each of the NRL fake's seed pointers held by its custodian
// (unless WithPointers says otherwise). Like httptest.NewServer, which
// panics when it cannot listen, it panics on an invalid option, since a
// test cannot go on; NewUnstartedServer returns the error instead.
func NewServer(opts ...Option) *Server { return fake.Started(NewUnstartedServer(opts...)) }

// NewUnstartedServer returns a fake that is not yet listening (call Start,
// or mount Handler elsewhere), or the error of an invalid option.
func NewUnstartedServer(opts ...Option) (*Server, error) {
	s := &Server{cfg: config{custodian: nrlstest.CustodianNorth, pageSize: defaultPageSize,
		header: identitytoken.DefaultHeader, signing: jws.None, leeway: 5 * time.Second},
		documents: make(map[string]Document)}
	if err := fake.Apply(&s.cfg, opts); err != nil {
		return nil, err
	}
	s.cfg.Now = s.cfg.Clock()
	if !s.cfg.seeded {
		ptrs, err := seedPointers(s.cfg.custodian)
		if err != nil {
			return nil, err
		}
		s.cfg.pointers = ptrs
	}
	for _, p := range s.cfg.pointers {
		if p.Custodian == s.cfg.custodian {
			s.documents[p.ID] = documentFor(p)
		}
	}
	for _, d := range s.cfg.documents {
		s.documents[d.PointerID] = d
	}
	spec := fake.Spec{Path: rootPath, FaultPrefix: rootPath, Handler: http.HandlerFunc(s.serve), OnReset: s.forgetIdentities}
	if s.cfg.tls {
		spec.TLS = &tls.Config{}
	}
	if len(s.cfg.proxyCerts) > 0 {
		pool := x509.NewCertPool()
		for _, c := range s.cfg.proxyCerts {
			pool.AddCert(c)
		}
		spec.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	}
	s.Server = fake.New(s.cfg.Settings, spec)
	return s, nil
}

// seedPointers returns the NRL fake's seed pointers held by custodian.
func seedPointers(custodian shcrkit.ODSCode) ([]nrls.Pointer, error) {
	nrl, err := nrlstest.NewUnstartedServer()
	if err != nil {
		return nil, err
	}
	defer nrl.Close()
	var out []nrls.Pointer
	for _, nhs := range synthetic.Numbers() {
		for _, p := range nrl.Pointers(nhs) {
			if p.Custodian == custodian {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Custodian returns the ODS code the server holds records for.
func (s *Server) Custodian() shcrkit.ODSCode { return s.cfg.custodian }

// asid returns the provider ASID, "" when none was set.
func (s *Server) asid() string { return s.cfg.asid }

// addDocument adds or replaces a document.
func (s *Server) addDocument(d Document) error {
	if d.PointerID == "" || d.ContentType == "" {
		return fmt.Errorf("%w: a document needs a pointer ID and a content type", shcrkit.ErrInvalidOption)
	}
	s.mu.Lock()
	s.documents[d.PointerID] = d
	s.mu.Unlock()
	return nil
}

// Document returns the document served for a pointer.
func (s *Server) Document(pointerID string) (Document, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.documents[pointerID]
	d.Body = append([]byte(nil), d.Body...)
	return d, ok
}

// documentURL returns the URL a pointer to the document should carry.
func (s *Server) documentURL(pointerID string) string { return s.URL + "/records/" + pointerID }

// forgetIdentities forgets the identity tokens received so far.
func (s *Server) forgetIdentities() {
	s.mu.Lock()
	s.identities.Reset()
	s.mu.Unlock()
}

// presentedOverhead is about the memory a Presented holds beside its
// strings.
const presentedOverhead = 256

// size is about the memory p holds.
func (p Presented) size() int {
	r := p.Requester
	n := presentedOverhead + len(p.PointerID) + len(p.Search) + len(p.TokenID) + len(p.Subject) +
		len(r.UserID) + len(r.Name) + len(r.RoleProfileID) + len(r.RoleCode) + len(r.RoleName) +
		len(r.Organisation) + len(r.OrganisationName) + len(r.System.Name) + len(r.System.Version) + len(r.System.ASID)
	for _, a := range r.Activities {
		n += len(a) + 16
	}
	return n
}

// Identities returns the identity tokens accepted so far, oldest first:
// the most recent 10,000 at most, and fewer when they hold more than
// 64 MiB (fake.Kept).
func (s *Server) Identities() []Presented {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]Presented(nil), s.identities.Items()...)
}

func deny(w http.ResponseWriter, status int, diagnostics string) {
	fake.WriteOutcome(w, fake.Outcome{Status: status, Code: "ACCESS_DENIED", Display: "Access denied", Diagnostics: diagnostics})
}

// viaProxy reports whether the request came over TLS with the trusted
// proxy's client certificate.
func (s *Server) viaProxy(r *http.Request) bool {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return false
	}
	leaf := r.TLS.VerifiedChains[0][0]
	for _, c := range s.cfg.proxyCerts {
		if leaf.Equal(c) {
			return true
		}
	}
	return false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, rootPath+"/records/")
	search, isSearch := strings.CutPrefix(r.URL.Path, rootPath+"/")
	readType, readID, isRead := strings.Cut(search, "/")
	isRead = isSearch && isRead && searchResourceTypes[readType] && readID != "" && !strings.Contains(readID, "/")
	isSearch = isSearch && searchResourceTypes[search]
	if !isSearch && !isRead && (!ok || id == "" || strings.Contains(id, "/")) {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusNotFound, Code: "NO_RECORD_FOUND", Diagnostics: "no such resource"})
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusMethodNotAllowed, Code: "INVALID_METHOD", Diagnostics: "records are read-only"})
		return
	}
	p, ok := s.authorize(w, r)
	if !ok {
		return
	}
	if isSearch {
		s.mu.Lock()
		p.Search = search
		s.identities.Add(p, p.size())
		s.mu.Unlock()
		s.serveSearch(w, r, search)
		return
	}
	if isRead {
		s.mu.Lock()
		p.Search = readType
		s.identities.Add(p, p.size())
		s.mu.Unlock()
		serveRead(w, readType, readID)
		return
	}
	s.mu.Lock()
	rec, found := s.documents[id]
	p.PointerID = id
	s.identities.Add(p, p.size())
	s.mu.Unlock()
	if !found {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusNotFound, Code: "NO_RECORD_FOUND", Diagnostics: "no record for this pointer"})
		return
	}
	if !accepts(r.Header.Get("Accept"), rec.ContentType) {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusNotAcceptable, Code: "NOT_ACCEPTABLE", Diagnostics: "the record is served as " + rec.ContentType})
		return
	}
	body := rec.Body
	if isFHIR(rec.ContentType) {
		page, err := s.page(r, rec)
		if err != nil {
			fake.WriteOutcome(w, fake.Outcome{Status: http.StatusBadRequest, Code: "INVALID_PARAMETER", Diagnostics: err.Error()})
			return
		}
		body = page
	}
	w.Header().Set("Content-Type", rec.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// authorize checks the access and identity tokens of a request (or the
// proxy's headers) and answers the refusal itself. It returns what the
// accepted identity token says.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (Presented, bool) {
	proxied, claims, ok := s.verifyTokens(w, r)
	if !ok {
		return Presented{}, false
	}
	purpose, err := claims.Purpose()
	if err != nil {
		deny(w, http.StatusForbidden, "purpose_of_use is not TREAT, ETREAT or BTG")
		return Presented{}, false
	}
	return Presented{ViaSSP: proxied, TokenID: claims.ID, Subject: claims.Subject, Expires: time.Unix(claims.ExpiresAt, 0),
		Requester: claims.Requester(), Purpose: purpose, Restricted: claims.Restricted()}, true
}

// verifyTokens checks the access and identity tokens of a request (or
// the proxy's headers) and answers the refusal itself.
func (s *Server) verifyTokens(w http.ResponseWriter, r *http.Request) (proxied bool, claims identitytoken.Claims, ok bool) {
	proxied = s.viaProxy(r)
	var token string
	switch {
	case proxied:
		if problem := s.checkSSP(r); problem != "" {
			fake.WriteOutcome(w, fake.Outcome{Status: http.StatusBadRequest, Code: "INVALID_SSP_HEADERS", Diagnostics: problem})
			return
		}
		token = bearer(r)
	case s.cfg.Validate != nil:
		access := bearer(r)
		if access == "" {
			deny(w, http.StatusUnauthorized, "no access token")
			return
		}
		if err := s.cfg.Validate(access); err != nil {
			deny(w, http.StatusUnauthorized, "access token refused")
			return
		}
		token = r.Header.Get(s.cfg.header)
	default:
		token = bearer(r)
	}
	if token == "" {
		deny(w, http.StatusUnauthorized, "no identity token")
		return
	}
	check := identitytoken.Check{Audience: s.audience(r), Signing: s.cfg.signing, Key: s.cfg.key, Now: s.cfg.Now, Leeway: s.cfg.leeway,
		Verified: &s.verified}
	claims, err := check.Verify(token)
	if err != nil {
		s.mu.RLock()
		extra := s.extraKeys
		s.mu.RUnlock()
		for _, k := range extra {
			check.Key = k
			if c, e := check.Verify(token); e == nil {
				claims, err = c, nil
				break
			}
		}
	}
	if err != nil {
		deny(w, http.StatusForbidden, strings.ReplaceAll(err.Error(), "\n", "; "))
		return
	}
	if org := r.Header.Get("NHSD-End-User-Organisation-ODS"); org != "" &&
		org != claims.RequestingOrganization.IdentifierValue(codesystem.ODS) {
		deny(w, http.StatusForbidden, "NHSD-End-User-Organisation-ODS differs from requesting_organization")
		return
	}
	return proxied, claims, true
}

// TrustIdentityKey makes the fake accept identity tokens signed with its
// signing method by key too, beside the key it was made with: the public
// half of a tester's own signer, say. key must fit the method: an
// *rsa.PublicKey for RS256 and RS512, an *ecdsa.PublicKey on P-256 for
// ES256; a fake that takes unsigned tokens takes no key. It is safe to
// call while serving.
//
// The same key trusted again is kept once, and only the most recent
// maxExtraKeys keys are kept, since a token its own key does not verify
// is tried against each of them.
func (s *Server) TrustIdentityKey(key crypto.PublicKey) error {
	if signer, ok := key.(crypto.Signer); ok {
		key = signer.Public()
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k == nil || (s.cfg.signing != auth.RS256 && s.cfg.signing != auth.RS512) {
			return fmt.Errorf("%w: an RSA key fits RS256 and RS512, and this fake takes %s identity tokens", shcrkit.ErrInvalidOption, s.signingName())
		}
	case *ecdsa.PublicKey:
		if k == nil || s.cfg.signing != auth.ES256 || k.Curve != elliptic.P256() {
			return fmt.Errorf("%w: a P-256 key fits ES256, and this fake takes %s identity tokens", shcrkit.ErrInvalidOption, s.signingName())
		}
	default:
		return fmt.Errorf("%w: identity keys are RSA or ECDSA public keys", shcrkit.ErrInvalidOption)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// A new slice each time: verifyTokens ranges over the one it read
	// without the lock.
	keys := make([]crypto.PublicKey, 0, min(len(s.extraKeys)+1, maxExtraKeys))
	for _, k := range s.extraKeys {
		if !key.(publicKey).Equal(k) {
			keys = append(keys, k)
		}
	}
	keys = append(keys, key)
	s.extraKeys = keys[max(len(keys)-maxExtraKeys, 0):]
	return nil
}

// publicKey is what the RSA and ECDSA public keys TrustIdentityKey takes
// have in common, to tell a key already trusted.
type publicKey interface{ Equal(crypto.PublicKey) bool }

// maxExtraKeys is how many keys TrustIdentityKey keeps.
const maxExtraKeys = 64

func (s *Server) signingName() string {
	if s.cfg.signing == jws.None || s.cfg.signing == "" {
		return "unsigned"
	}
	return string(s.cfg.signing)
}

// ServeBehindProxy(true) makes the fake take the address clients call
// from the X-Forwarded-Proto, X-Forwarded-Host and X-Forwarded-Prefix
// headers that a reverse proxy in front of it sets (e.g. the stand-alone
// sandbox serving it at /shcr/<ODS>): that address, with /fhir, is then
// the audience identity tokens must name and the base of the links it
// writes. Requests without X-Forwarded-Host are still held to URL. It is
// safe to call while serving.
func (s *Server) ServeBehindProxy(on bool) { s.behind.Store(on) }

// audience is the service root as the client addressed it.
func (s *Server) audience(r *http.Request) string {
	if s.behind.Load() && r.Header.Get("X-Forwarded-Host") != "" {
		return fake.CalledOrigin(r) + fake.ForwardedPrefix(r) + rootPath
	}
	if s.URL != "" {
		return s.URL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + rootPath
}

func (s *Server) checkSSP(r *http.Request) string {
	var problems []string
	if _, err := uuid.Parse(r.Header.Get("Ssp-TraceID")); err != nil {
		problems = append(problems, "Ssp-TraceID must be a UUID")
	}
	if f := r.Header.Get("Ssp-From"); len(f) != 12 {
		problems = append(problems, "Ssp-From must be a 12-digit ASID")
	}
	if to := r.Header.Get("Ssp-To"); to == "" || (s.cfg.asid != "" && to != s.cfg.asid) {
		problems = append(problems, "Ssp-To does not name this provider")
	}
	if r.Header.Get("Ssp-InteractionID") == "" {
		problems = append(problems, "Ssp-InteractionID is missing")
	}
	return strings.Join(problems, "; ")
}

func bearer(r *http.Request) string {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(tok)
}

func isFHIR(ct string) bool {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "application/fhir+json" || mt == "application/json"
}

// accepts reports whether an Accept header admits the content type.
func accepts(accept, ct string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	mt, _, _ := mime.ParseMediaType(ct)
	for _, part := range strings.Split(accept, ",") {
		a, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch {
		case a == "*/*", a == mt, strings.HasSuffix(a, "/*") && strings.HasPrefix(mt, strings.TrimSuffix(a, "*")):
			return true
		case isFHIR(a) && isFHIR(mt):
			return true
		}
	}
	return false
}

// page cuts a Bundle into pages of the page size, linked by next links.
func (s *Server) page(r *http.Request, rec Document) ([]byte, error) {
	var b map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body, &b); err != nil {
		return rec.Body, nil
	}
	var rt string
	_ = json.Unmarshal(b["resourceType"], &rt)
	var entries []json.RawMessage
	if rt != "Bundle" || json.Unmarshal(b["entry"], &entries) != nil || len(entries) <= s.cfg.pageSize {
		return rec.Body, nil
	}
	n := 1
	if v := r.URL.Query().Get("page"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || (n-1)*s.cfg.pageSize >= len(entries) {
			return nil, errors.New("no such page")
		}
	}
	lo, hi := (n-1)*s.cfg.pageSize, min(n*s.cfg.pageSize, len(entries))
	self := s.audience(r) + "/records/" + rec.PointerID
	links := []map[string]string{{"relation": "self", "url": self + "?page=" + strconv.Itoa(n)}}
	if hi < len(entries) {
		links = append(links, map[string]string{"relation": "next", "url": self + "?page=" + strconv.Itoa(n+1)})
	}
	b["entry"], _ = json.Marshal(entries[lo:hi])
	b["link"], _ = json.Marshal(links)
	return json.Marshal(b)
}
