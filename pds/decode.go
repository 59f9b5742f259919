package pds

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

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
	apiErr := resp.APIError()
	o, _ := fhirhttp.ParseOutcome(resp.Body)
	if o.Code == "TOO_MANY_MATCHES" || o.IssueType == "multiple-matches" {
		return &tooManyMatchesError{api: apiErr}
	}
	return apiErr
}

// classify adds to an error answer the pds sentinel its Spine code means,
// whatever HTTP status it came with: TOO_MANY_MATCHES is
// ErrTooManyMatches even when sent with 400.
func classify(err error) error {
	var apiErr *shcrkit.APIError
	if err == nil || !errors.As(err, &apiErr) || errors.Is(err, ErrTooManyMatches) {
		return err
	}
	if strings.EqualFold(strings.TrimSpace(apiErr.Code), "TOO_MANY_MATCHES") {
		return &tooManyMatchesError{api: apiErr}
	}
	return err
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
	if err := resp.CheckJSONContentType(); err != nil {
		return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	var env patientEnvelope
	if err := fhirhttp.DecodeJSON(resp.Body, &env); err != nil {
		fixed, ok := lenientVersionID(resp.Body)
		if !ok {
			return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
		}
		env = patientEnvelope{}
		if err := fhirhttp.DecodeJSON(fixed, &env); err != nil {
			return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
		}
	}
	switch env.ResourceType {
	case "Patient":
	case "OperationOutcome":
		return nil, outcomeError(resp)
	default:
		return nil, malformed(resp, "want a Patient, got resource type %q", clipType(env.ResourceType))
	}
	p := newPatient(env.Patient, resp.Header.Get("ETag"), asked)
	if p.NHSNumber() == "" {
		return nil, malformed(resp, "the patient carries no valid NHS number")
	}
	return p, nil
}

// unmarshalPatient decodes a Patient resource, reading a meta.versionId
// sent as a JSON number as the string FHIR has it.
func unmarshalPatient(raw []byte, env *patientEnvelope) error {
	err := json.Unmarshal(raw, env)
	if err == nil {
		return nil
	}
	fixed, ok := lenientVersionID(raw)
	if !ok {
		return err
	}
	*env = patientEnvelope{}
	return json.Unmarshal(fixed, env)
}

// lenientVersionID rewrites a resource whose meta.versionId is not a JSON
// string: a number (as one of NHS England's sandboxes sends) becomes its
// string; anything else is dropped, so that the version comes from the
// ETag instead. ok is false when there was nothing to rewrite.
func lenientVersionID(raw []byte) ([]byte, bool) {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return nil, false
	}
	var meta map[string]json.RawMessage
	if json.Unmarshal(top["meta"], &meta) != nil {
		return nil, false
	}
	v, has := meta["versionId"]
	if !has {
		return nil, false
	}
	var str string
	if json.Unmarshal(v, &str) == nil {
		return nil, false // already a string: the fault is elsewhere
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		if i, err := n.Int64(); err == nil && i >= 0 {
			meta["versionId"], _ = json.Marshal(strconv.FormatInt(i, 10))
		} else {
			delete(meta, "versionId")
		}
	} else {
		delete(meta, "versionId")
	}
	var err error
	if top["meta"], err = json.Marshal(meta); err != nil {
		return nil, false
	}
	out, err := json.Marshal(top)
	return out, err == nil
}

// decodeBundle reads a searchset Bundle answer.
func decodeBundle(resp *fhirhttp.Response) (*bundle, error) {
	if err := resp.CheckJSONContentType(); err != nil {
		return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	var b bundle
	if err := fhirhttp.DecodeJSON(resp.Body, &b); err != nil {
		return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	switch b.ResourceType {
	case "Bundle":
		// PDS answers with a searchset; a Bundle of another type (a
		// history, a transaction) is no answer to the request. One that
		// does not say is read, as the sandbox's older mocks leave it out.
		if b.Type != "" && b.Type != "searchset" {
			return nil, malformed(resp, "want a searchset Bundle, got a Bundle of type %q", clipType(b.Type))
		}
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
