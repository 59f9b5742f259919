package fhirhttp

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/textclip"
)

// Outcome is what matters of an OperationOutcome: the Spine error code,
// the FHIR issue type, the diagnostics, and the resource itself when it
// decodes as strict FHIR.
type Outcome struct {
	// Code is the first details.coding code of any issue, whatever its
	// system (services disagree on the system of the same codes).
	Code string
	// IssueType is the first issue's FHIR issue type (e.g. "not-found",
	// "multiple-matches").
	IssueType string
	// Severity is the first issue's severity.
	Severity string
	// Diagnostics is the first issue's diagnostics, details text or
	// coding display.
	Diagnostics string
	// Resource is the outcome as a samply FHIR value, or nil when the
	// body used codes the strict model rejects.
	Resource *fhir.OperationOutcome
}

// lenientOutcome decodes only the fields we read, so that an
// OperationOutcome with an unexpected code still yields its error code.
type lenientOutcome struct {
	ResourceType string `json:"resourceType"`
	Issue        []struct {
		Severity string `json:"severity"`
		Code     string `json:"code"`
		Details  *struct {
			Coding []struct {
				System  string `json:"system"`
				Code    string `json:"code"`
				Display string `json:"display"`
			} `json:"coding"`
			Text string `json:"text"`
		} `json:"details"`
		Diagnostics string `json:"diagnostics"`
	} `json:"issue"`
}

// ParseOutcome decodes body as an OperationOutcome. ok is false when the
// body is not one.
func ParseOutcome(body []byte) (o Outcome, ok bool) {
	var l lenientOutcome
	if err := json.Unmarshal(body, &l); err != nil || l.ResourceType != "OperationOutcome" {
		return Outcome{}, false
	}
	return outcomeOf(&l, body), true
}

func outcomeOf(l *lenientOutcome, body []byte) Outcome {
	var o Outcome
	display := displayOf(l)
	for _, is := range l.Issue {
		if o.IssueType == "" {
			o.IssueType, o.Severity = is.Code, is.Severity
		}
		if is.Details != nil {
			for _, c := range is.Details.Coding {
				if o.Code == "" && c.Code != "" {
					o.Code = c.Code
				}
				if o.Diagnostics == "" && c.Display != "" && is.Diagnostics == "" && is.Details.Text == "" {
					o.Diagnostics = c.Display
				}
			}
			if o.Diagnostics == "" && is.Details.Text != "" {
				o.Diagnostics = is.Details.Text
			}
		}
		if is.Diagnostics != "" && (o.Diagnostics == "" || o.Diagnostics == display) {
			o.Diagnostics = is.Diagnostics
		}
	}
	if oo, err := fhir.UnmarshalOperationOutcome(body); err == nil {
		o.Resource = &oo
	}
	return o
}

func displayOf(l *lenientOutcome) string {
	for _, is := range l.Issue {
		if is.Details != nil {
			for _, c := range is.Details.Coding {
				if c.Display != "" {
					return c.Display
				}
			}
		}
	}
	return ""
}

// NewAPIError builds the error for an error answer: from its
// OperationOutcome when the body is one, from an OAuth-style or plain JSON
// error object, or from a short plain-text body; an HTML page (from a proxy
// or gateway) contributes nothing but its status.
//
// secrets are the credentials the request carried (SentSecrets): a
// service that echoes one, in whatever words, has it removed from Code and
// Diagnostics as well as what Redact recognises by its shape.
func NewAPIError(status int, header http.Header, body []byte, requestID string, secrets ...string) *shcrkit.APIError {
	e := &shcrkit.APIError{StatusCode: status, RequestID: requestID}
	if d, ok := RetryAfter(header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	if o, ok := ParseOutcome(body); ok {
		e.Code, e.Diagnostics, e.Outcome = o.Code, o.Diagnostics, o.Resource
		if e.Code == "" {
			e.Code = strings.ToUpper(strings.ReplaceAll(o.IssueType, "-", "_"))
		}
		e.Code = redactCode(e.Code, secrets)
		e.Diagnostics = errorText(e.Diagnostics, secrets)
		return e
	}
	var other struct {
		Error            any    `json:"error"`
		ErrorDescription string `json:"error_description"`
		Message          string `json:"message"`
		Code             string `json:"code"`
	}
	if json.Unmarshal(body, &other) == nil {
		if s, ok := other.Error.(string); ok {
			e.Code = s
		} else if other.Code != "" {
			e.Code = other.Code
		}
		e.Code = redactCode(e.Code, secrets)
		e.Diagnostics = firstNonEmpty(other.ErrorDescription, other.Message)
		e.Diagnostics = errorText(e.Diagnostics, secrets)
		return e
	}
	mt, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	if mt == "text/plain" || (mt == "" && utf8.Valid(body) && !looksLikeHTML(body)) {
		e.Diagnostics = errorText(strings.Join(strings.Fields(string(body)), " "), secrets)
	}
	return e
}

// errorText is text from elsewhere as an error or an APIError's
// Diagnostics carries it: one readable line of at most 300 bytes, with
// the request's own secrets and whatever Redact recognises removed, and
// NHS numbers masked. It is redacted whole and cut after, as nrls does
// its problems: cut first, an NHS number or a token across the limit
// would be left too short to be recognised, and go out in part. Redact
// reads at most 8 KiB of it.
func errorText(s string, secrets []string) string {
	return textclip.Clip(shcrkit.Redact(WithoutSecrets(s, secrets)), 300)
}

// redactCode keeps an error code short and free of identifiers: a code
// is a word, and a server that echoes a token or an NHS number there gets
// it redacted like any other text.
func redactCode(code string, secrets []string) string {
	const max = 64
	code = shcrkit.Redact(WithoutSecrets(code, secrets))
	if len(code) > max {
		code = textclip.Cut(code, max)
	}
	return code
}

// looksLikeHTML reports whether a body with no declared type is an HTML
// page (a proxy's error page), which contributes nothing to an error.
func looksLikeHTML(body []byte) bool {
	b := bytes.TrimSpace(body)
	return len(b) > 0 && b[0] == '<'
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
