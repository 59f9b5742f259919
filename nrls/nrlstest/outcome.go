package nrlstest

import (
	"net/http"
	"strings"

	"github.com/shcrkit/shcrkit/internal/fake"
	"github.com/shcrkit/shcrkit/nrls"
)

// Code systems of the service's answers. The service uses several systems
// for the same codes; clients match on the code.
const (
	spineErrorSystem = "https://fhir.nhs.uk/ValueSet/Spine-ErrorOrWarningCode-1"
	responseSystem   = "https://fhir.nhs.uk/ValueSet/NRL-ResponseCode"
)

// displays of the Spine error codes the service answers with.
var displays = map[string]string{
	"ACCESS DENIED":             "Access has been denied to process this request",
	"ACCESS_DENIED":             "Access Denied",
	"AUTHOR_CREDENTIALS_ERROR":  "Author credentials error",
	"BAD_REQUEST":               "Bad request",
	"INVALID_CODE_SYSTEM":       "Invalid code system",
	"INVALID_CODE_VALUE":        "Invalid code value",
	"INVALID_IDENTIFIER_SYSTEM": "Invalid identifier system",
	"INVALID_IDENTIFIER_VALUE":  "Invalid identifier value",
	"INVALID_NHS_NUMBER":        "Invalid NHS number",
	"INVALID_PARAMETER":         "Invalid parameter",
	"INVALID_RESOURCE":          "Invalid validation of resource",
	"MESSAGE_NOT_WELL_FORMED":   "Message not well formed",
	"MISSING_OR_INVALID_HEADER": "There is a required header missing or invalid",
	"NO_RECORD_FOUND":           "No record found",
	"METHOD_NOT_ALLOWED":        "Method not allowed",
	"INTERNAL_SERVER_ERROR":     "Unexpected internal server error",
	"RESOURCE_CREATED":          "Resource created",
	"RESOURCE_SUPERSEDED":       "Resource created and resource(s) deleted",
	"RESOURCE_UPDATED":          "Resource updated",
	"RESOURCE_REMOVED":          "Resource removed",
}

// issue is one OperationOutcome issue.
type issue struct {
	severity, code string // FHIR severity and issue type
	spine          string // Spine error code
	system         string
	diagnostics    string
	expression     string
}

func (i issue) json() map[string]any {
	m := map[string]any{"severity": i.severity, "code": i.code}
	if i.spine != "" {
		system := i.system
		if system == "" {
			system = spineErrorSystem
		}
		m["details"] = map[string]any{"coding": []any{map[string]any{
			"system": system, "code": i.spine, "display": displays[i.spine],
		}}}
	}
	if i.diagnostics != "" {
		m["diagnostics"] = i.diagnostics
	}
	if i.expression != "" {
		m["expression"] = []string{i.expression}
	}
	return m
}

// writeIssues answers with an OperationOutcome of several issues.
func writeIssues(w http.ResponseWriter, status int, issues ...issue) {
	list := make([]any, len(issues))
	for i, is := range issues {
		list[i] = is.json()
	}
	fake.WriteJSON(w, status, map[string]any{"resourceType": "OperationOutcome", "issue": list})
}

// fail answers with one error issue.
func fail(w http.ResponseWriter, status int, spine, diagnostics, expression string) {
	writeIssues(w, status, issue{severity: "error", code: issueType(status, spine), spine: spine,
		diagnostics: diagnostics, expression: expression})
}

// inform answers a successful write with an informational outcome.
func inform(w http.ResponseWriter, status int, code, diagnostics string) {
	writeIssues(w, status, issue{severity: "information", code: "informational", spine: code,
		system: responseSystem, diagnostics: diagnostics})
}

func issueType(status int, spine string) string {
	switch {
	case status == http.StatusNotFound:
		return "not-found"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "forbidden"
	case spine == "INVALID_CODE_SYSTEM":
		return "code-invalid"
	case status == http.StatusMethodNotAllowed:
		return "not-supported"
	case status >= 500:
		return "exception"
	}
	return "invalid"
}

// validationIssues turns a pointer's broken rules into the issues the
// service answers a create or update with.
func validationIssues(v *nrls.ValidationError) []issue {
	out := make([]issue, 0, len(v.Errors))
	for _, fe := range v.Errors {
		spine, code := "INVALID_RESOURCE", "invalid"
		switch {
		case strings.HasSuffix(fe.Field, ".identifier.system"):
			spine = "INVALID_IDENTIFIER_SYSTEM"
		case strings.HasPrefix(fe.Field, "context.related[") || strings.HasPrefix(fe.Field, "relatesTo["):
			spine, code = "INVALID_IDENTIFIER_VALUE", "value"
		case strings.HasPrefix(fe.Field, "subject.identifier.value"):
			spine = "INVALID_NHS_NUMBER"
		case strings.Contains(fe.Problem, "is required"):
			code = "required"
		}
		out = append(out, issue{severity: "error", code: code, spine: spine,
			diagnostics: fe.Field + " " + fe.Problem, expression: fe.Field})
	}
	return out
}
