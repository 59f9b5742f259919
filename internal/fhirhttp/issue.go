package fhirhttp

import "net/http"

// SpineErrorSystem is the code system of the Spine error codes in the
// OperationOutcomes PDS, the NRL and GP Connect answer with.
const SpineErrorSystem = "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode"

// IssueType is the FHIR issue type (OperationOutcome.issue.code) that
// goes with an HTTP error status.
func IssueType(status int) string {
	switch {
	case status == http.StatusNotFound:
		return "not-found"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusTooManyRequests:
		return "throttled"
	case status == http.StatusConflict:
		return "conflict"
	case status == http.StatusRequestTimeout || status == http.StatusGatewayTimeout:
		return "timeout"
	case status >= 500:
		return "exception"
	case status == http.StatusPreconditionFailed:
		return "business-rule"
	}
	return "invalid"
}

// IsUUID reports whether s is a UUID in the 8-4-4-4-12 hexadecimal form
// the national services take as an X-Request-ID.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
				return false
			}
		}
	}
	return true
}
