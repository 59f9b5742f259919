package pds

import (
	"encoding/json"
	"fmt"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
)

// patientEnvelope decodes a Patient and its resourceType in one pass.
type patientEnvelope struct {
	ResourceType string `json:"resourceType"`
	fhir.Patient
}

// bundle is what this package reads of a searchset Bundle: the entries
// are decoded one by one, so that a Bundle of the wrong resources is
// reported as such.
type bundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Entry        []bundleEntry `json:"entry"`
}

type bundleEntry struct {
	FullURL string `json:"fullUrl"`
	Search  *struct {
		Score *json.Number `json:"score"`
	} `json:"search"`
	Resource json.RawMessage `json:"resource"`
}

// malformed describes an answer that is not what the service sends.
func malformed(resp *fhirhttp.Response, format string, args ...any) error {
	return fmt.Errorf("%w: "+format+" [request %s]", append([]any{shcrkit.ErrMalformedResponse}, append(args, resp.RequestID)...)...)
}

// outcomeError turns an OperationOutcome sent with a success status into
// an error: ErrTooManyMatches for a search that matched too many, else the
// outcome as an *shcrkit.APIError.
func outcomeError(resp *fhirhttp.Response) error {
	apiErr := fhirhttp.NewAPIError(resp.StatusCode, resp.Header, resp.Body, resp.RequestID)
	o, _ := fhirhttp.ParseOutcome(resp.Body)
	if o.Code == "TOO_MANY_MATCHES" || o.IssueType == "multiple-matches" {
		return &tooManyMatchesError{api: apiErr}
	}
	return apiErr
}

// tooManyMatchesError is ErrTooManyMatches with the answer that said so.
// Its text is made when asked for, so that it reflects the redaction of
// the answer's diagnostics.
type tooManyMatchesError struct{ api *shcrkit.APIError }

func (e *tooManyMatchesError) Error() string { return ErrTooManyMatches.Error() + ": " + e.api.Error() }

func (e *tooManyMatchesError) Unwrap() []error { return []error{ErrTooManyMatches, e.api} }

// decodePatient reads a Patient answer. asked is the NHS number requested,
// so that a superseded number can be reported.
func decodePatient(resp *fhirhttp.Response, asked shcrkit.NHSNumber) (*Patient, error) {
	if err := fhirhttp.CheckJSONContentType(resp.Header, resp.Body); err != nil {
		return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	var env patientEnvelope
	if err := fhirhttp.DecodeJSON(resp.Body, &env); err != nil {
		return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	switch env.ResourceType {
	case "Patient":
	case "OperationOutcome":
		return nil, outcomeError(resp)
	default:
		return nil, malformed(resp, "want a Patient, got resource type %q", clipType(env.ResourceType))
	}
	p := newPatient(env.Patient, resp.Header.Get("ETag"), asked)
	if p.NHSNumber().IsZero() {
		return nil, malformed(resp, "the patient carries no valid NHS number")
	}
	return p, nil
}

// decodeBundle reads a searchset Bundle answer.
func decodeBundle(resp *fhirhttp.Response) (*bundle, error) {
	if err := fhirhttp.CheckJSONContentType(resp.Header, resp.Body); err != nil {
		return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	var b bundle
	if err := fhirhttp.DecodeJSON(resp.Body, &b); err != nil {
		return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	switch b.ResourceType {
	case "Bundle":
		return &b, nil
	case "OperationOutcome":
		return nil, outcomeError(resp)
	}
	return nil, malformed(resp, "want a Bundle, got resource type %q", clipType(b.ResourceType))
}

// clipType keeps a resource type read from an answer short and printable
// before it goes into an error.
func clipType(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'A' || (c > 'Z' && c < 'a') || c > 'z' {
			return "?"
		}
	}
	return s
}
