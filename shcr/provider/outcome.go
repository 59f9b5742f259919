package provider

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// SpineErrorSystem is the code system of the error codes in the Guard's
// OperationOutcomes, the one PDS, the NRL and GP Connect use, so that a
// consumer (package shcr among them) reads them as it reads theirs.
const SpineErrorSystem = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"

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

func issueType(status int) string {
	switch {
	case status == http.StatusNotFound:
		return "not-found"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusTooManyRequests:
		return "throttled"
	case status >= 500:
		return "exception"
	}
	return "invalid"
}

// WriteOutcome answers with a FHIR OperationOutcome of one issue coded in
// SpineErrorSystem, as the Guard does; handlers behind it can use it for
// their own errors so that a consumer sees one shape.
func WriteOutcome(w http.ResponseWriter, status int, code, diagnostics string) {
	issue := map[string]any{
		"severity": "error",
		"code":     issueType(status),
		"details": map[string]any{"coding": []any{map[string]any{
			"system": SpineErrorSystem, "version": "1", "code": code,
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
