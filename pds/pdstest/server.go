package pdstest

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/pds"
)

// BasePath is the path of the service root on the fake, as on the real
// service: the fake answers under it only.
const BasePath = "/personal-demographics/FHIR/R4"

// Fault is something going wrong on purpose, for InjectFault: latency, an
// error answer (Status with the Spine error Code, and RetryAfter), a
// truncated or oversized body, a dripping or hanging answer.
type Fault = fake.Fault

// Request is a request as the fake received it, with the status it
// answered.
type Request = fake.Request

// Option configures a Server.
type Option func(*config)

type config struct {
	validate   func(string) error
	mode       pds.AccessMode
	population []Person
	seeded     bool
	requireEUO bool
	now        func() time.Time
	resolve    func(token string) (TokenIdentity, bool)
}

// WithTokenValidator makes the fake refuse, with 401 ACCESS_DENIED, any
// request without a bearer token that validate accepts (e.g. the Validate
// method of auth/authtest's token server).
func WithTokenValidator(validate func(token string) error) Option {
	return func(c *config) { c.validate = validate }
}

// WithAccessMode makes the fake behave as the service does for an
// application in that mode: application-restricted callers get one search
// result at most (403 INVALID_VALUE when they ask for more) and may not
// update (403 INVALID_METHOD). The default is pds.AccessHealthcareWorker.
func WithAccessMode(m pds.AccessMode) Option {
	return func(c *config) { c.mode = m }
}

// WithPopulation seeds the fake with people instead of Population().
// People that cannot be made into a record (an invalid NHS number, a bad
// date) are left out; use AddPatient to see why.
func WithPopulation(people []Person) Option {
	return func(c *config) { c.population, c.seeded = people, true }
}

// WithEndUserOrganisationRequired makes the fake refuse requests without
// the NHSD-End-User-Organisation-ODS header (400 MISSING_VALUE), as the
// service does for applications that serve several organisations.
func WithEndUserOrganisationRequired() Option {
	return func(c *config) { c.requireEUO = true }
}

// TokenIdentity is the user, organisation and role an access token was
// issued for; see WithTokenIdentities and Server.BindToken.
type TokenIdentity = fake.TokenIdentity

// WithTokenIdentities makes the fake place each request's bearer token
// with resolve (tokens bound with BindToken first) and refuse, with 403
// ACCESS_DENIED, a request whose token it cannot place or whose
// NHSD-End-User-Organisation-ODS or NHSD-Session-URID is not that of the
// token's user: a client that sends one user's token with another's
// organisation or role fails. Binding a token with BindToken turns the
// check on too.
func WithTokenIdentities(resolve func(token string) (TokenIdentity, bool)) Option {
	return func(c *config) { c.resolve = resolve }
}

// WithClock sets the clock used for Bundle timestamps and the request log.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// Server is an in-memory PDS. It is safe for concurrent use.
type Server struct {
	// URL is the service root, http://127.0.0.1:port/personal-demographics/FHIR/R4:
	// the base URL to give pds.NewClient. It is empty until the server
	// is started.
	URL string

	ts      *httptest.Server
	handler http.Handler
	cfg     config
	rec     fake.Recorder
	faults  fake.Faults
	mw      *fake.Middleware
	ids     *fake.Identities

	mu          sync.RWMutex
	records     map[shcrkit.NHSNumber]*record
	superseded  map[shcrkit.NHSNumber]shcrkit.NHSNumber
	invalidated map[shcrkit.NHSNumber]bool
	done        *dedup
	timeouts    []string // Retry-After values of updates to time out
}

// NewServer starts a fake PDS on a loopback address, seeded with
// Population(). Close it when done.
func NewServer(opts ...Option) *Server {
	s := NewUnstartedServer(opts...)
	s.Start()
	return s
}

// NewUnstartedServer returns a fake PDS that is not yet listening: call
// Start, or mount Handler elsewhere.
func NewUnstartedServer(opts ...Option) *Server {
	s := &Server{
		cfg:         config{mode: pds.AccessHealthcareWorker, now: time.Now},
		records:     make(map[shcrkit.NHSNumber]*record),
		superseded:  make(map[shcrkit.NHSNumber]shcrkit.NHSNumber),
		invalidated: make(map[shcrkit.NHSNumber]bool),
		done:        newDedup(1024),
	}
	for _, o := range opts {
		if o != nil {
			o(&s.cfg)
		}
	}
	people := s.cfg.population
	if !s.cfg.seeded {
		people = Population()
	}
	for _, p := range people {
		_ = s.AddPatient(p)
	}
	s.ids = &fake.Identities{OrganisationHeader: fhirhttp.HeaderEndUserOrganisation, URIDHeader: fhirhttp.HeaderSessionURID}
	if s.cfg.resolve != nil {
		s.ids.SetResolver(s.cfg.resolve)
	}
	mw := &fake.Middleware{Recorder: &s.rec, Faults: &s.faults, Validate: s.cfg.validate, Now: s.cfg.now, Identities: s.ids,
		Public: func(r *http.Request) bool { return r.URL.Path == BasePath+"/metadata" }}
	s.mw = mw
	s.handler = fake.EchoIDs(mw.Wrap(http.HandlerFunc(s.serve)))
	s.ts = httptest.NewUnstartedServer(s.handler)
	return s
}

// Start starts a server made by NewUnstartedServer.
func (s *Server) Start() {
	s.ts.Start()
	s.URL = s.ts.URL + BasePath
}

// Close shuts the server down, ending requests in progress.
func (s *Server) Close() {
	s.ts.CloseClientConnections()
	s.ts.Close()
}

// Handler returns the fake's handler, which answers under BasePath, for
// mounting in another server (a sandbox of several fakes).
func (s *Server) Handler() http.Handler { return s.handler }

// Client returns a client of the fake, in the fake's access mode, using
// the server's HTTP client and short retry waits.
func (s *Server) Client() *pds.Client {
	c, err := s.NewClient()
	if err != nil {
		// The fixed options above cannot fail; a failure is a defect.
		panic(err)
	}
	return c
}

// NewClient returns a client of the fake configured like Client's, with
// opts applied after those defaults.
func (s *Server) NewClient(opts ...pds.Option) (*pds.Client, error) {
	if s.URL == "" {
		return nil, errors.New("pdstest: server not started")
	}
	base := []pds.Option{
		pds.WithHTTPClient(s.ts.Client()),
		pds.WithAccessMode(s.cfg.mode),
		pds.WithRetryWait(time.Millisecond, 20*time.Millisecond, 2*time.Second),
	}
	return pds.NewClient(s.URL, append(base, opts...)...)
}

// BindToken records that the access token was issued for id, and turns on
// the identity check of WithTokenIdentities: from then on every request
// must carry a token the fake can place, with the organisation and role
// of the token's user.
func (s *Server) BindToken(token string, id TokenIdentity) { s.ids.Bind(token, id) }

// SetTokenIdentities sets, on a running server, the resolver of
// WithTokenIdentities.
func (s *Server) SetTokenIdentities(resolve func(token string) (TokenIdentity, bool)) {
	s.ids.SetResolver(resolve)
}

// AccessMode returns the access mode the fake enforces.
func (s *Server) AccessMode() pds.AccessMode { return s.cfg.mode }

// AddPatient adds a patient, or replaces the one with the same NHS number
// (at version 1). A Person with SupersededBy makes its number resolve to
// that record; one with Invalidated makes it invalidated.
func (s *Server) AddPatient(p Person) error {
	if !p.NHSNumber.Valid() {
		return fmt.Errorf("pdstest: person has an invalid NHS number")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !p.SupersededBy.IsZero():
		if !p.SupersededBy.Valid() || p.SupersededBy == p.NHSNumber {
			return fmt.Errorf("pdstest: SupersededBy must be another valid NHS number")
		}
		delete(s.records, p.NHSNumber)
		delete(s.invalidated, p.NHSNumber)
		s.superseded[p.NHSNumber] = p.SupersededBy
		return nil
	case p.Invalidated:
		delete(s.records, p.NHSNumber)
		delete(s.superseded, p.NHSNumber)
		s.invalidated[p.NHSNumber] = true
		return nil
	}
	rec, err := buildRecord(p)
	if err != nil {
		return err
	}
	delete(s.superseded, p.NHSNumber)
	delete(s.invalidated, p.NHSNumber)
	s.records[p.NHSNumber] = rec
	return nil
}

// Record returns a copy of the patient's record as the fake holds it
// (nothing removed), and its version.
func (s *Server) Record(nhs shcrkit.NHSNumber) (fhir.Patient, string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.records[nhs]
	if !ok {
		return fhir.Patient{}, "", false
	}
	return clonePatient(r.res), fmt.Sprint(r.version), true
}

// InjectFault makes the next n requests (n < 0: all, until ClearFaults)
// whose method matches (""; any) and whose path, relative to the service
// root, starts with path ("/Patient"; "" matches any) go wrong as f says.
// A fault with a Status and no Code carries the code the service sends
// with that status (429 TOO_MANY_REQUESTS, 503 SERVICE_UNAVAILABLE, 408
// UNABLE_TO_CALL_SERVICE, and so on; none for 500, 502 and 504, which
// come from gateways).
func (s *Server) InjectFault(method, path string, n int, f Fault) {
	if f.Status != 0 && f.Code == "" {
		f.Code = statusCodes[f.Status]
	}
	s.faults.Add(method, BasePath+path, n, f)
}

// statusCodes are the Spine error codes the service sends with each error
// status, where there is one obvious code.
var statusCodes = map[int]string{
	http.StatusUnauthorized:       "ACCESS_DENIED",
	http.StatusForbidden:          "ACCESS_DENIED",
	http.StatusNotFound:           "RESOURCE_NOT_FOUND",
	http.StatusRequestTimeout:     "UNABLE_TO_CALL_SERVICE",
	http.StatusConflict:           "RESOURCE_VERSION_MISMATCH",
	http.StatusPreconditionFailed: "PRECONDITION_FAILED",
	http.StatusTooManyRequests:    "TOO_MANY_REQUESTS",
	http.StatusServiceUnavailable: "SERVICE_UNAVAILABLE",
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() { s.faults.Clear() }

// TimeOutUpdates makes the next n updates behave like a slow service: the
// change is applied, but the answer is 503 SERVICE_UNAVAILABLE with
// Retry-After retryAfter (seconds). Re-sending the update with the same
// X-Request-ID then returns the updated patient, as on the real service.
func (s *Server) TimeOutUpdates(n int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.timeouts = append(s.timeouts, retryAfter)
	}
}

// Requests returns copies of the requests received, oldest first.
func (s *Server) Requests() []Request { return s.rec.Requests() }

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() { s.rec.Reset() }

// dedup remembers the answers to applied updates by X-Request-ID, so that
// a re-sent update is answered without being applied twice.
type dedup struct {
	max   int
	order []string
	byID  map[string]dedupEntry
}

type dedupEntry struct {
	nhs  shcrkit.NHSNumber
	etag string
	body []byte
}

func newDedup(max int) *dedup { return &dedup{max: max, byID: make(map[string]dedupEntry)} }

func (d *dedup) get(id string) (dedupEntry, bool) {
	e, ok := d.byID[id]
	return e, ok
}

func (d *dedup) put(id string, e dedupEntry) {
	if _, ok := d.byID[id]; !ok {
		d.order = append(d.order, id)
	}
	d.byID[id] = e
	for len(d.order) > d.max {
		delete(d.byID, d.order[0])
		d.order = d.order[1:]
	}
}

// SetLatency delays every answer by d until it is set again (0 removes
// the delay), leaving injected faults alone.
func (s *Server) SetLatency(d time.Duration) { s.mw.SetLatency(d) }
