package pdstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/pds"
)

// Outcomes the fake answers with, coded as the service codes them.
func outcome(status int, issueType, code, display, diagnostics string) fake.Outcome {
	return fake.Outcome{Status: status, IssueType: issueType, Code: code, Display: display, Diagnostics: diagnostics}
}

func missingValue(diag string) fake.Outcome {
	return outcome(http.StatusBadRequest, "required", "MISSING_VALUE", "Required value is missing", diag)
}

func invalidValue(diag string) fake.Outcome {
	return outcome(http.StatusBadRequest, "value", "INVALID_VALUE", "Provided value is invalid", diag)
}

func invalidSearch(diag string) fake.Outcome {
	return outcome(http.StatusBadRequest, "value", "INVALID_SEARCH_DATA", "Search data is invalid", diag)
}

func invalidUpdate(diag string) fake.Outcome {
	return outcome(http.StatusBadRequest, "structure", "INVALID_UPDATE", "Update is invalid", "Invalid update with error - "+diag)
}

var (
	invalidResourceID = outcome(http.StatusBadRequest, "value", "INVALID_RESOURCE_ID", "Resource Id is invalid", "")
	unsupported       = outcome(http.StatusBadRequest, "processing", "UNSUPPORTED_SERVICE", "Unsupported Service", "")
	notFound          = fake.Outcome{Status: http.StatusNotFound, Severity: "information", IssueType: "not-found",
		Code: "RESOURCE_NOT_FOUND", Display: "Resource not found"}
	invalidated = outcome(http.StatusNotFound, "processing", "INVALIDATED_RESOURCE",
		"Resource that has been marked as invalid was requested - invalid resources cannot be retrieved", "")
	versionMismatch = outcome(http.StatusConflict, "conflict", "RESOURCE_VERSION_MISMATCH",
		"Resource version supplied does not match actual version", "")
	tooManyMatches = fake.Outcome{Status: http.StatusOK, Severity: "information", IssueType: "multiple-matches",
		Code: "TOO_MANY_MATCHES", Display: "Too Many Matches"}
)

// serve is the service behind the middleware.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, basePath)
	if ok && rest == "/metadata" {
		serveCapabilities(w, r)
		return
	}
	if !ok || (rest != "/Patient" && !strings.HasPrefix(rest, "/Patient/")) {
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusNotFound, IssueType: "not-found", Diagnostics: "Invalid URL"})
		return
	}
	if o, ok := s.checkHeaders(r); !ok {
		fake.WriteOutcome(w, o)
		return
	}
	if rest == "/Patient" {
		switch r.Method {
		case http.MethodGet:
			s.search(w, r)
		case http.MethodPost:
			fake.WriteOutcome(w, outcome(http.StatusNotImplemented, "not-supported", "UNSUPPORTED_SERVICE",
				"Unsupported Service", "Creating patients is not implemented by this fake"))
		default:
			methodNotAllowed(w)
		}
		return
	}
	id, sub, _ := strings.Cut(strings.TrimPrefix(rest, "/Patient/"), "/")
	if id == "" {
		fake.WriteOutcome(w, unsupported)
		return
	}
	switch {
	case sub == "" && r.Method == http.MethodGet:
		s.get(w, id)
	case sub == "" && r.Method == http.MethodPatch:
		s.patch(w, r, id)
	case sub == "RelatedPerson" && r.Method == http.MethodGet:
		s.relatedPersons(w, r, id, "")
	case strings.HasPrefix(sub, "RelatedPerson/") && !strings.Contains(sub[len("RelatedPerson/"):], "/") && r.Method == http.MethodGet:
		s.relatedPersons(w, r, id, sub[len("RelatedPerson/"):])
	case sub == "" || sub == "RelatedPerson" || strings.HasPrefix(sub, "RelatedPerson/"):
		methodNotAllowed(w)
	default:
		fake.WriteOutcome(w, fake.Outcome{Status: http.StatusNotFound, IssueType: "not-found", Diagnostics: "Invalid URL"})
	}
}

func methodNotAllowed(w http.ResponseWriter) {
	fake.WriteOutcome(w, outcome(http.StatusMethodNotAllowed, "not-supported", "INVALID_METHOD",
		"Method not allowed", "This method is not supported on this resource"))
}

// checkHeaders validates the request headers as the service does.
func (s *Server) checkHeaders(r *http.Request) (fake.Outcome, bool) {
	id := r.Header.Get("X-Request-ID")
	if id == "" {
		return missingValue("Invalid request with error - X-Request-ID header must be supplied to access this resource"), false
	}
	if !fake.IsUUID(id) {
		return invalidValue("Invalid value - X-Request-ID header must be a UUID"), false
	}
	// The service ignores the session URID of an application-restricted
	// caller, which has no session.
	if u := r.Header.Get(fhirhttp.HeaderSessionURID); u != "" && !isDigits(u) && s.cfg.mode != pds.AccessApplicationRestricted {
		return invalidValue("Invalid value - NHSD-Session-URID header must be digits"), false
	}
	euo := r.Header.Get(fhirhttp.HeaderEndUserOrganisation)
	if euo == "" && s.cfg.requireEUO {
		return missingValue("Invalid request with error - NHSD-End-User-Organisation-ODS header must be supplied"), false
	}
	if euo != "" && !shcrkit.ODSCode(euo).Valid() {
		return invalidValue("Invalid value - NHSD-End-User-Organisation-ODS header must be an ODS code"), false
	}
	return fake.Outcome{}, true
}

// lookup resolves a requested id to a record, following a superseded
// number to the surviving record.
func (s *Server) lookup(id string) (*record, shcrkit.NHSNumber, fake.Outcome, bool) {
	if !shcrkit.NHSNumber(id).Valid() {
		return nil, "", invalidResourceID, false
	}
	nhs := shcrkit.NHSNumber(id)
	for hops := 0; hops < 8; hops++ {
		if s.invalidated[nhs] {
			return nil, "", invalidated, false
		}
		next, ok := s.superseded[nhs]
		if !ok {
			break
		}
		nhs = next
	}
	rec, ok := s.records[nhs]
	if !ok || rec.redacted {
		return nil, "", notFound, false
	}
	return rec, nhs, fake.Outcome{}, true
}

func (s *Server) get(w http.ResponseWriter, id string) {
	s.mu.Lock()
	rec, _, o, ok := s.lookup(id)
	if !ok {
		s.mu.Unlock()
		fake.WriteOutcome(w, o)
		return
	}
	body, err := rec.render()
	etag := rec.etag()
	s.mu.Unlock()
	if err != nil {
		fake.WriteOutcome(w, outcome(http.StatusInternalServerError, "exception", "", "", "rendering failed"))
		return
	}
	writeBody(w, http.StatusOK, etag, body)
}

// render returns the get answer of the current version, cached.
func (r *record) render() ([]byte, error) {
	if r.rendered == nil {
		b, err := json.Marshal(r.view())
		if err != nil {
			return nil, err
		}
		r.rendered = b
	}
	return r.rendered, nil
}

func (r *record) etag() string { return fmt.Sprintf(`W/"%d"`, r.version) }

func writeBody(w http.ResponseWriter, status int, etag string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/fhir+json")
	if etag != "" {
		h.Set("ETag", etag)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// relatedPersons answers GET /Patient/{id}/RelatedPerson with a Bundle of
// the patient's related people, or, given one's id, that RelatedPerson
// alone (where the Bundle's fullUrls lead); either carries the patient
// record's ETag.
func (s *Server) relatedPersons(w http.ResponseWriter, r *http.Request, id, one string) {
	s.mu.RLock()
	rec, nhs, o, ok := s.lookup(id)
	var (
		related []fhir.RelatedPerson
		etag    string
	)
	if ok {
		related, etag = rec.relatedView(), rec.etag()
	}
	s.mu.RUnlock()
	if !ok {
		fake.WriteOutcome(w, o)
		return
	}
	if one != "" {
		for _, rp := range related {
			if ptr.Deref(rp.Id) == one {
				res, err := json.Marshal(rp)
				if err != nil {
					fake.WriteOutcome(w, outcome(http.StatusInternalServerError, "exception", "", "", "rendering failed"))
					return
				}
				writeBody(w, http.StatusOK, etag, res)
				return
			}
		}
		fake.WriteOutcome(w, notFound)
		return
	}
	b := searchset{ResourceType: "Bundle", Type: "searchset", Timestamp: s.timestamp(), Total: len(related)}
	for _, rp := range related {
		res, err := json.Marshal(rp)
		if err != nil {
			fake.WriteOutcome(w, outcome(http.StatusInternalServerError, "exception", "", "", "rendering failed"))
			return
		}
		b.Entry = append(b.Entry, searchEntry{
			FullURL:  baseURL(r) + "/Patient/" + nhs.String() + "/RelatedPerson/" + ptr.Deref(rp.Id),
			Resource: res,
		})
	}
	body, err := json.Marshal(b)
	if err != nil {
		fake.WriteOutcome(w, outcome(http.StatusInternalServerError, "exception", "", "", "rendering failed"))
		return
	}
	writeBody(w, http.StatusOK, etag, body)
}

// searchset is a searchset Bundle as the service writes it.
type searchset struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Timestamp    string        `json:"timestamp"`
	Total        int           `json:"total"`
	Entry        []searchEntry `json:"entry,omitempty"`
}

type searchEntry struct {
	FullURL string `json:"fullUrl"`
	Search  *struct {
		Score float64 `json:"score"`
	} `json:"search,omitempty"`
	Resource json.RawMessage `json:"resource"`
}

func (s *Server) timestamp() string { return s.cfg.Now().UTC().Format("2006-01-02T15:04:05+00:00") }

// baseURL is the service root as the caller reached it, through any
// reverse proxy that says so in X-Forwarded-Proto and X-Forwarded-Host.
func baseURL(r *http.Request) string { return fake.CalledOrigin(r) + basePath }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
