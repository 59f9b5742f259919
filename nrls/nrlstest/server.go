package nrlstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/internal/synthetic"
	"github.com/shcrkit/shcrkit/nrls"
)

// Fault is something going wrong on purpose; see Server.InjectFault.
type Fault = fake.Fault

// Server is a fake NRL serving the consumer API under nrls.ConsumerPath
// and the producer API under nrls.ProducerPath. Like httptest.Server it
// listens on a loopback address once started; URL is the server's root,
// http://127.0.0.1:<port>. It is safe for concurrent use.
//
// The embedded base gives it what every fake has: Start, Close, Handler
// (the consumer and producer APIs under their full paths, for mounting in
// another server), HTTPClient, Requests and ResetRequests, InjectFault
// (paths from the root, e.g. nrls.ConsumerPath +
// "/DocumentReference/_search"), ClearFaults, SetLatency and Connections;
// and BindToken and SetTokenIdentities (see WithTokenIdentities).
type Server struct {
	*fake.Server
	*fake.Identities

	cfg config

	mu    sync.RWMutex
	store *store
}

// NewServer starts a fake NRL on a loopback port, seeded with pointers for
// the synthetic population of pdstest (see the package doc). Like
// httptest.NewServer, which panics when it cannot listen, it panics on an
// invalid option, since a fake's options are written by the test using
// it; NewUnstartedServer returns the error instead.
func NewServer(opts ...Option) *Server { return fake.Started(NewUnstartedServer(opts...)) }

// NewUnstartedServer returns a fake that is not yet listening (call
// Start), or the error of an invalid option. Its Handler may be served
// elsewhere instead.
func NewUnstartedServer(opts ...Option) (*Server, error) {
	s := &Server{
		cfg: config{
			consumerTypes: map[shcrkit.ODSCode]map[string]bool{},
			producerTypes: map[shcrkit.ODSCode]map[string]bool{},
		},
		store: newStore(),
	}
	if err := fake.Apply(&s.cfg, opts); err != nil {
		return nil, err
	}
	s.cfg.Now = s.cfg.Clock()
	for _, r := range synthetic.Regions() {
		s.store.bases[r.ShCR] = r.ShCRBaseURL
	}
	if !s.cfg.noSeed {
		seed, err := buildSeed(s.store.bases)
		if err != nil {
			return nil, err
		}
		for _, p := range seed {
			if err := s.store.put(p); err != nil {
				return nil, err
			}
		}
	}
	s.Identities = &fake.Identities{OrganisationHeader: fhirhttp.HeaderEndUserOrganisation}
	if s.cfg.Resolve != nil {
		s.SetTokenIdentities(s.cfg.Resolve)
	}
	mw := &fake.Middleware{Validate: s.cfg.Validate, Public: isMetadata, Identities: s.Identities,
		DenyIdentity: func(w http.ResponseWriter, _ *http.Request, err error) {
			header := "http." + fhirhttp.HeaderEndUserOrganisation
			if ie, ok := err.(*fake.IdentityError); ok {
				header = "http." + ie.Header
			}
			fail(w, http.StatusForbidden, "ACCESS DENIED", "Access has been denied: "+err.Error(), header)
		}}
	s.Server = fake.New(s.cfg.Settings, fake.Spec{Handler: http.HandlerFunc(s.route), Middleware: mw, EchoIDs: true})
	return s, nil
}

// Client returns a consumer client of the fake, for the end-user
// organisation ConsumerODS, using the server's HTTP client. It panics if
// the server was not started, as a test cannot go on; NewClient returns
// errors instead.
func (s *Server) Client() *nrls.Client { return fake.Must(s.NewClient()) }

// NewClient returns a consumer client of the fake configured like
// Client's, with opts applied after those defaults (they may override
// them).
func (s *Server) NewClient(opts ...nrls.Option) (*nrls.Client, error) {
	if s.URL == "" {
		return nil, fmt.Errorf("%w: the server is not started", shcrkit.ErrInvalidOption)
	}
	base := []nrls.Option{nrls.WithEndUserOrganisation(ConsumerODS), nrls.WithHTTPClient(s.HTTPClient())}
	return nrls.NewClient(s.URL+nrls.ConsumerPath, append(base, opts...)...)
}

// AddPointer files p, which must pass its Validate method; a p without ID gets
// "<custodian>-<n>". It returns the ID. A pointer with the same ID is
// replaced.
func (s *Server) AddPointer(p nrls.Pointer) (string, error) {
	doc := p.Resource
	if ptr.Deref(doc.Id) == "" && doc.Custodian != nil && doc.Custodian.Identifier != nil {
		s.mu.RLock()
		n := len(s.store.byID) + 1
		s.mu.RUnlock()
		doc.Id = ptr.To(fmt.Sprintf("%s-added%06d", ptr.Deref(doc.Custodian.Identifier.Value), n))
	}
	p = nrls.PointerFrom(doc)
	if err := p.Validate(); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.store.put(p); err != nil {
		return "", err
	}
	return p.ID, nil
}

// InjectEntry files a raw resource under nhs, to be returned among the
// pointers of every search for that number: an OperationOutcome (as the
// service sends for a stored pointer it cannot read), a pointer whose
// subject is another patient (a mixed-up index), or anything else. It is
// filtered by custodian and type when it is a pointer naming them, and
// counted by a count.
func (s *Server) InjectEntry(nhs shcrkit.NHSNumber, resource json.RawMessage) error {
	if !nhs.Valid() {
		return fmt.Errorf("%w: a valid NHS number is needed", shcrkit.ErrInvalidRequest)
	}
	if !json.Valid(resource) {
		return fmt.Errorf("%w: the resource must be JSON", shcrkit.ErrInvalidRequest)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store.inject(string(nhs), append([]byte(nil), resource...))
	return nil
}

// Rebase makes the pointers of custodian that lead to its current base
// URL lead to base instead: "<base>/records/<ID>", or ssp://<host and path
// of base>/records/<ID> for SSP pointers. Use it to point them at a fake
// shared care record, before or after the NRL fake has started.
func (s *Server) Rebase(custodian shcrkit.ODSCode, base string) error {
	if err := checkBase(custodian, base); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.rebase(custodian, base)
}

// Pointers returns copies of the pointers filed under nhs, injected
// entries left out.
func (s *Server) Pointers(nhs shcrkit.NHSNumber) []nrls.Pointer {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []nrls.Pointer
	for _, e := range s.store.byNHS[string(nhs)] {
		if e.injected {
			continue
		}
		if p, err := nrls.ParsePointer(e.raw); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Pointer returns a copy of the pointer with this ID.
func (s *Server) Pointer(id string) (nrls.Pointer, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.store.byID[id]
	if e == nil {
		return nrls.Pointer{}, false
	}
	p, err := nrls.ParsePointer(e.raw)
	return p, err == nil
}

// route checks the headers every request needs and hands the request to
// the consumer or producer API.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	var api string
	var rest string
	switch {
	case strings.HasPrefix(r.URL.Path, nrls.ConsumerPath+"/"):
		api, rest = "consumer", strings.TrimPrefix(r.URL.Path, nrls.ConsumerPath)
	case strings.HasPrefix(r.URL.Path, nrls.ProducerPath+"/"):
		api, rest = "producer", strings.TrimPrefix(r.URL.Path, nrls.ProducerPath)
	default:
		fail(w, http.StatusNotFound, "RESOURCE_NOT_FOUND", "No such endpoint", "")
		return
	}
	if rest == "/metadata" {
		serveCapabilities(w, r, api == "producer")
		return
	}
	if !fake.IsUUID(r.Header.Get("X-Request-ID")) {
		fail(w, http.StatusBadRequest, "MISSING_OR_INVALID_HEADER",
			"X-Request-ID is required and must be a UUID", "http.X-Request-ID")
		return
	}
	org, err := shcrkit.ParseODSCode(r.Header.Get(fhirhttp.HeaderEndUserOrganisation))
	if err != nil || string(org) != r.Header.Get(fhirhttp.HeaderEndUserOrganisation) {
		fail(w, http.StatusUnauthorized, "MISSING_OR_INVALID_HEADER",
			"NHSD-End-User-Organisation-ODS is required and must be an ODS code", "http."+fhirhttp.HeaderEndUserOrganisation)
		return
	}
	req := &call{w: w, r: r, org: org, producer: api == "producer"}
	switch {
	case rest == "/DocumentReference":
		switch {
		case r.Method == http.MethodGet:
			s.searchGET(req)
		case r.Method == http.MethodPost && req.producer:
			s.create(req)
		default:
			notAllowed(w)
		}
	case rest == "/DocumentReference/_search":
		if r.Method != http.MethodPost {
			notAllowed(w)
			return
		}
		s.searchPOST(req)
	case strings.HasPrefix(rest, "/DocumentReference/"):
		id := strings.TrimPrefix(rest, "/DocumentReference/")
		if !pathIDPattern.MatchString(id) {
			fail(w, http.StatusBadRequest, "INVALID_PARAMETER", "Invalid path parameter", "id")
			return
		}
		switch {
		case r.Method == http.MethodGet:
			s.read(req, id)
		case r.Method == http.MethodPut && req.producer:
			s.update(req, id)
		case r.Method == http.MethodDelete && req.producer:
			s.delete(req, id)
		default:
			notAllowed(w)
		}
	default:
		fail(w, http.StatusNotFound, "RESOURCE_NOT_FOUND", "No such endpoint", "")
	}
}

var pathIDPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// call is one request being served.
type call struct {
	w        http.ResponseWriter
	r        *http.Request
	org      shcrkit.ODSCode
	producer bool
}

func notAllowed(w http.ResponseWriter) {
	fail(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "Method not allowed", "")
}
