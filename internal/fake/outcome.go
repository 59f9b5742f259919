package fake

import (
	"encoding/json"
	"net/http"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// SpineErrorSystem is the code system of Spine error codes used by PDS.
const SpineErrorSystem = fhirhttp.SpineErrorSystem

// Outcome describes an OperationOutcome answer.
type Outcome struct {
	Status      int
	Severity    string // default "error"
	IssueType   string // FHIR issue type, e.g. "not-found"; derived from Status when empty
	System      string // coding system of Code; default SpineErrorSystem
	Code        string // Spine error code, e.g. RESOURCE_NOT_FOUND
	Display     string
	Diagnostics string
}

// WriteOutcome answers with an OperationOutcome.
func WriteOutcome(w http.ResponseWriter, o Outcome) {
	if o.Severity == "" {
		o.Severity = "error"
	}
	if o.IssueType == "" {
		o.IssueType = fhirhttp.IssueType(o.Status)
	}
	if o.System == "" {
		o.System = SpineErrorSystem
	}
	issue := map[string]any{"severity": o.Severity, "code": o.IssueType}
	if o.Code != "" {
		coding := map[string]any{"system": o.System, "version": "1", "code": o.Code}
		if o.Display != "" {
			coding["display"] = o.Display
		}
		issue["details"] = map[string]any{"coding": []any{coding}}
	}
	if o.Diagnostics != "" {
		issue["diagnostics"] = o.Diagnostics
	}
	WriteJSON(w, o.Status, map[string]any{"resourceType": "OperationOutcome", "issue": []any{issue}})
}

// WriteJSON answers with v as application/fhir+json.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
