package audittest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit/internal/fake"
)

// Repository is a fake FHIR audit repository, such as a custodian shared
// care record keeps so that its patients can ask who viewed their
// records. It accepts AuditEvents by PUT /AuditEvent/{id} (and POST
// /AuditEvent), keeping one copy per ID, so a sender that delivers at
// least once is seen to deliver exactly once. It can be told to fail, to
// test senders against a repository that is down.
//
// Differences from a real repository: it checks only that a body is an
// AuditEvent whose id matches the path, and serves no search.
//
// It is built on the same base as the other fakes: URL, Close, Requests
// (every request, duplicates and refusals included), InjectFault,
// ClearFaults and SetLatency.
type Repository struct {
	*fake.Server

	mu     sync.Mutex
	events map[string]fhir.AuditEvent
	order  []string
}

// NewRepository starts a Repository on loopback.
func NewRepository() *Repository {
	r := &Repository{events: map[string]fhir.AuditEvent{}}
	r.Server = fake.New(fake.Settings{}, fake.Spec{Handler: http.HandlerFunc(r.serve)})
	r.Start()
	return r
}

// SetDown makes the repository answer 503 SERVICE_UNAVAILABLE to every
// request while down is true; SetDown(false) clears every injected fault.
func (r *Repository) SetDown(down bool) {
	if !down {
		r.ClearFaults()
		return
	}
	r.InjectFault("", "", -1, fake.Fault{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE",
		Diagnostics: "audit repository unavailable"})
}

// Events returns the AuditEvents received, one per ID, in the order first
// received.
func (r *Repository) Events() []fhir.AuditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]fhir.AuditEvent, 0, len(r.order))
	for _, id := range r.order {
		out = append(out, r.events[id])
	}
	return out
}

func (r *Repository) serve(w http.ResponseWriter, req *http.Request) {
	id, found := strings.CutPrefix(req.URL.Path, "/AuditEvent")
	id = strings.TrimPrefix(id, "/")
	if !found || strings.Contains(id, "/") || (req.Method == http.MethodPut) == (id == "") || (req.Method != http.MethodPut && req.Method != http.MethodPost) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	var (
		ae   fhir.AuditEvent
		kind struct {
			ResourceType string `json:"resourceType"`
		}
	)
	if err == nil {
		err = json.Unmarshal(body, &ae)
	}
	if err == nil {
		// The resource's type, read as JSON: white space may come
		// between a name and its value, as in every published example.
		err = json.Unmarshal(body, &kind)
	}
	if err != nil || kind.ResourceType != "AuditEvent" || ae.Id == nil || (id != "" && *ae.Id != id) {
		http.Error(w, "not an AuditEvent with the id of its URL", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	_, seen := r.events[*ae.Id]
	if !seen {
		r.events[*ae.Id] = ae
		r.order = append(r.order, *ae.Id)
	}
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/fhir+json")
	if seen {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusCreated)
	}
	w.Write(body)
}
