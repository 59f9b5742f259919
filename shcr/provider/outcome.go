package provider

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// Error codes the Guard answers with.
const (
	CodeAccessDenied    = "ACCESS_DENIED"     // 401, 403
	CodeNoRecordFound   = "NO_RECORD_FOUND"   // 404
	CodeBadRequest      = "BAD_REQUEST"       // 400
	CodeTooManyRequests = "TOO_MANY_REQUESTS" // 429
	CodeUnavailable     = "SERVICE_UNAVAILABLE"
)

// refusal is an answer the Guard gives instead of calling the handler.
type refusal struct {
	status      int
	code        string
	diagnostics string
	retryAfter  time.Duration
}

// WriteOutcome answers with a FHIR OperationOutcome of one issue coded in
// the Spine error code system that PDS, the NRL and GP Connect use, as
// the Guard does; handlers behind it can use it for
// their own errors so that a consumer sees one shape.
func WriteOutcome(w http.ResponseWriter, status int, code, diagnostics string) {
	issue := map[string]any{
		"severity": "error",
		"code":     fhirhttp.IssueType(status),
		"details": map[string]any{"coding": []any{map[string]any{
			"system": fhirhttp.SpineErrorSystem, "version": "1", "code": code,
		}}},
	}
	if diagnostics != "" {
		issue["diagnostics"] = diagnostics
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "OperationOutcome", "issue": []any{issue}})
	h := w.Header()
	h.Set("Content-Type", "application/fhir+json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
