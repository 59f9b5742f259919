package pdstest

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/pds"
)

// basePath is the path of the service root on the fake, as on the real
// service: the fake answers under it only.
const basePath = "/personal-demographics/FHIR/R4"

// Fault is something going wrong on purpose, for InjectFault: latency, an
// error answer (Status with the Spine error Code, and RetryAfter), a
// truncated or oversized body, a dripping or hanging answer.
type Fault = fake.Fault

// Option configures a Server. Every fake (pdstest, nrlstest, shcrtest,
// authtest) takes options of this shape, and the same WithClock,
// WithTokenValidator and WithTokenIdentities where they apply.
type Option func(*config) error

type config struct {
	fake.Settings
	mode       pds.AccessMode
	population []Person
	seeded     bool
	requireEUO bool
}

// Base returns the settings every fake shares.
func (c *config) Base() *fake.Settings { return &c.Settings }

// WithTokenValidator makes the fake refuse, with 401 ACCESS_DENIED, any
// request without a bearer token that validate accepts (e.g. the Validate
// method of auth/authtest's token server).
func WithTokenValidator(validate func(token string) error) Option {
	return Option(fake.WithTokenValidator[config](validate))
}

// WithTokenIdentities makes the fake place each request's bearer token
// in a session (the user, organisation and role it was issued for) with
// resolve (tokens bound with BindToken first) and refuse, with 403
// ACCESS_DENIED, a request whose token it cannot place or whose
// NHSD-End-User-Organisation-ODS or NHSD-Session-URID is not that of the
// token's user: a client that sends one user's token with another's
// organisation or role fails. Binding a token with BindToken, or setting
// a resolver on a running server with SetTokenIdentities, turns the check
// on too.
func WithTokenIdentities(resolve func(token string) (shcrkit.Session, bool)) Option {
	return Option(fake.WithTokenIdentities[config](resolve))
}

// WithClock sets the clock used for Bundle timestamps and the request log.
func WithClock(now func() time.Time) Option { return Option(fake.WithClock[config](now)) }

// WithAccessMode makes the fake behave as the service does for an
// application in that mode: application-restricted callers get one search
// result at most (403 INVALID_VALUE when they ask for more) and may not
// update (403 INVALID_METHOD). The default is pds.AccessHealthcareWorker.
func WithAccessMode(m pds.AccessMode) Option {
	return func(c *config) error { c.mode = m; return nil }
}

// WithPopulation seeds the fake with people instead of Population().
// People that cannot be made into a record (an invalid NHS number, a bad
// date) are an error of NewUnstartedServer (NewServer panics).
func WithPopulation(people []Person) Option {
	return func(c *config) error { c.population, c.seeded = people, true; return nil }
}

// WithEndUserOrganisationRequired makes the fake refuse requests without
// the NHSD-End-User-Organisation-ODS header (400 MISSING_VALUE), as the
// service does for applications that serve several organisations.
func WithEndUserOrganisationRequired() Option {
	return func(c *config) error { c.requireEUO = true; return nil }
}

// Server is an in-memory PDS. Like httptest.Server it listens on a
// loopback address once started; URL is the service root,
// http://127.0.0.1:port/personal-demographics/FHIR/R4, the base URL to give
// pds.NewClient. It is safe for concurrent use.
//
// The embedded base gives it what every fake has: Start, Close, Handler
// (which answers under /personal-demographics/FHIR/R4, for mounting in
// another server), HTTPClient, Requests and ResetRequests, InjectFault (paths relative to
// the service root, "/Patient"; a Status without a Code carries the code
// the service sends with it: 429 TOO_MANY_REQUESTS, 503
// SERVICE_UNAVAILABLE, 408 UNABLE_TO_CALL_SERVICE and so on, none for 500,
// 502 and 504, which come from gateways), ClearFaults, SetLatency and
// Connections; and BindToken and SetTokenIdentities (see
// WithTokenIdentities).
type Server struct {
	*fake.Server
	*fake.Identities

	cfg config

	mu          sync.RWMutex
	records     map[shcrkit.NHSNumber]*record
	superseded  map[shcrkit.NHSNumber]shcrkit.NHSNumber
	invalidated map[shcrkit.NHSNumber]bool
	done        *dedup
}

// NewServer starts a fake PDS on a loopback address, seeded with
// Population(). Close it when done. Like httptest.NewServer, which panics
// when it cannot listen, it panics on an invalid option, since a fake's
// options are written by the test using it; NewUnstartedServer returns the
// error instead.
func NewServer(opts ...Option) *Server { return fake.Started(NewUnstartedServer(opts...)) }

// NewUnstartedServer returns a fake PDS that is not yet listening (call
// Start, or mount Handler elsewhere), or the error of an invalid option.
func NewUnstartedServer(opts ...Option) (*Server, error) {
	s := &Server{
		cfg:         config{mode: pds.AccessHealthcareWorker},
		records:     make(map[shcrkit.NHSNumber]*record),
		superseded:  make(map[shcrkit.NHSNumber]shcrkit.NHSNumber),
		invalidated: make(map[shcrkit.NHSNumber]bool),
		done:        newDedup(1024),
	}
	if err := fake.Apply(&s.cfg, opts); err != nil {
		return nil, err
	}
	s.cfg.Now = s.cfg.Clock()
	people := s.cfg.population
	if !s.cfg.seeded {
		people = Population()
	}
	for _, p := range people {
		if err := s.AddPatient(p); err != nil {
			return nil, fmt.Errorf("%w: %w", shcrkit.ErrInvalidOption, err)
		}
	}
	s.Identities = &fake.Identities{OrganisationHeader: fhirhttp.HeaderEndUserOrganisation, URIDHeader: fhirhttp.HeaderSessionURID}
	if s.cfg.Resolve != nil {
		s.SetTokenIdentities(s.cfg.Resolve)
	}
	mw := &fake.Middleware{Validate: s.cfg.Validate, Identities: s.Identities,
		Public: func(r *http.Request) bool { return r.URL.Path == basePath+"/metadata" }}
	s.Server = fake.New(s.cfg.Settings, fake.Spec{Path: basePath, Handler: http.HandlerFunc(s.serve), Middleware: mw,
		EchoIDs: true, FaultPrefix: basePath, FaultCodes: statusCodes})
	return s, nil
}

// Client returns a client of the fake, in the fake's access mode, using
// the server's HTTP client and short retry waits. It panics if the server
// is not started, as a test cannot go on; NewClient returns the error.
func (s *Server) Client() *pds.Client { return fake.Must(s.NewClient()) }

// NewClient returns a client of the fake configured like Client's, with
// opts applied after those defaults.
func (s *Server) NewClient(opts ...pds.Option) (*pds.Client, error) {
	if s.URL == "" {
		return nil, errors.New("pdstest: server not started")
	}
	base := []pds.Option{
		pds.WithHTTPClient(s.HTTPClient()),
		pds.WithAccessMode(s.cfg.mode),
		pds.WithRetryWait(time.Millisecond, 20*time.Millisecond, 2*time.Second),
	}
	return pds.NewClient(s.URL, append(base, opts...)...)
}

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
	case p.SupersededBy != "":
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

// dedup remembers the answers to applied updates by X-Request-ID, so that
// a re-sent update is answered without being applied twice.
type dedup struct {
	max   int
	order []string
	byID  map[string]dedupEntry
	bytes int // of the bodies in byID
}

// maxDedupBytes bounds the answers a dedup keeps, beside its count.
const maxDedupBytes = 64 << 20

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
	if old, ok := d.byID[id]; ok {
		d.bytes -= len(old.body)
	} else {
		d.order = append(d.order, id)
	}
	d.byID[id] = e
	d.bytes += len(e.body)
	for len(d.order) > d.max || (d.bytes > maxDedupBytes && len(d.order) > 1) {
		d.bytes -= len(d.byID[d.order[0]].body)
		delete(d.byID, d.order[0])
		d.order = d.order[1:]
	}
}
