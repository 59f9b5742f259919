package attack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// answer is a hostile way to answer a request, text being what the
// attacker wants to smuggle into an error, a log line or an audit field.
type answer struct {
	name  string
	serve func(w http.ResponseWriter, text string)
}

func writeJSON(w http.ResponseWriter, status int, ct string, v any) {
	if ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func outcome(issue map[string]any) map[string]any {
	return map[string]any{"resourceType": "OperationOutcome", "issue": []any{issue}}
}

// headerSafe keeps text usable as a header value.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
}

func answers() []answer {
	const fhir = "application/fhir+json"
	var out []answer
	for _, status := range []int{400, 401, 403, 404, 409, 422, 429, 500, 503} {
		out = append(out,
			answer{fmt.Sprintf("OperationOutcome diagnostics %d", status), func(w http.ResponseWriter, text string) {
				writeJSON(w, status, fhir, outcome(map[string]any{"severity": "error", "code": "processing", "diagnostics": text}))
			}},
			answer{fmt.Sprintf("OperationOutcome details.coding.code %d", status), func(w http.ResponseWriter, text string) {
				writeJSON(w, status, fhir, outcome(map[string]any{"severity": "error", "code": "processing",
					"details": map[string]any{"coding": []any{map[string]any{"system": "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode", "code": text, "display": text}}}}))
			}},
		)
	}
	out = append(out,
		answer{"OperationOutcome details.text", func(w http.ResponseWriter, text string) {
			writeJSON(w, 422, fhir, outcome(map[string]any{"severity": "error", "code": "invalid", "details": map[string]any{"text": text}}))
		}},
		answer{"OperationOutcome display only", func(w http.ResponseWriter, text string) {
			writeJSON(w, 404, fhir, outcome(map[string]any{"severity": "error", "code": "not-found",
				"details": map[string]any{"coding": []any{map[string]any{"code": "NOT_FOUND", "display": text}}}}))
		}},
		answer{"OperationOutcome issue code", func(w http.ResponseWriter, text string) {
			writeJSON(w, 400, fhir, outcome(map[string]any{"severity": "error", "code": text}))
		}},
		answer{"OAuth error_description", func(w http.ResponseWriter, text string) {
			writeJSON(w, 400, "application/json", map[string]any{"error": "invalid_request", "error_description": text, "message_id": text})
		}},
		answer{"OAuth error code", func(w http.ResponseWriter, text string) {
			writeJSON(w, 401, "application/json", map[string]any{"error": text})
		}},
		answer{"OAuth error in a 200", func(w http.ResponseWriter, text string) {
			writeJSON(w, 200, "application/json", map[string]any{"error": text, "error_description": text})
		}},
		answer{"JSON message", func(w http.ResponseWriter, text string) {
			writeJSON(w, 500, "application/json", map[string]any{"message": text, "code": text})
		}},
		answer{"plain text", func(w http.ResponseWriter, text string) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(503)
			_, _ = io.WriteString(w, text+"\nsecond line "+text)
		}},
		answer{"HTML error page", func(w http.ResponseWriter, text string) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			_, _ = io.WriteString(w, "<html><body><h1>Bad gateway</h1><p>"+text+"</p></body></html>")
		}},
		answer{"untyped body", func(w http.ResponseWriter, text string) {
			w.Header()["Content-Type"] = nil
			w.WriteHeader(400)
			_, _ = io.WriteString(w, text)
		}},
		answer{"untyped HTML", func(w http.ResponseWriter, text string) {
			w.Header()["Content-Type"] = nil
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "<p>"+text+"</p>")
		}},
		answer{"echoed Content-Type on success", func(w http.ResponseWriter, text string) {
			w.Header().Set("Content-Type", "application/x-"+headerSafe(text))
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"resourceType":"Patient"}`)
		}},
		answer{"Content-Type parameter on success", func(w http.ResponseWriter, text string) {
			w.Header().Set("Content-Type", `text/plain; note="`+headerSafe(strings.ReplaceAll(text, `"`, ""))+`"`)
			w.WriteHeader(200)
			_, _ = io.WriteString(w, text)
		}},
		answer{"resourceType on success", func(w http.ResponseWriter, text string) {
			writeJSON(w, 200, fhir, map[string]any{"resourceType": text, "id": text, "access_token": ""})
		}},
		answer{"Bundle of strangers", func(w http.ResponseWriter, text string) {
			writeJSON(w, 200, fhir, map[string]any{"resourceType": "Bundle", "type": "searchset",
				"entry": []any{map[string]any{"resource": map[string]any{"resourceType": text}}},
				"link":  []any{map[string]any{"relation": "next", "url": "https://evil.example/next?" + text}}})
		}},
		answer{"truncated JSON", func(w http.ResponseWriter, text string) {
			w.Header().Set("Content-Type", fhir)
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"resourceType":"`+text)
		}},
		answer{"wrong-typed field", func(w http.ResponseWriter, text string) {
			writeJSON(w, 200, fhir, map[string]any{"resourceType": "Patient", "id": map[string]any{text: text},
				"access_token": map[string]any{text: text}, "expires_in": text})
		}},
		answer{"HTML where JSON was declared", func(w http.ResponseWriter, text string) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(200)
			_, _ = io.WriteString(w, "<html>"+text+"</html>")
		}},
		answer{"token of the wrong type", func(w http.ResponseWriter, text string) {
			writeJSON(w, 200, "application/json", map[string]any{"access_token": "x", "token_type": text, "expires_in": 599})
		}},
		answer{"Retry-After holding text", func(w http.ResponseWriter, text string) {
			w.Header().Set("Retry-After", headerSafe(text))
			writeJSON(w, 429, fhir, outcome(map[string]any{"severity": "error", "code": "throttled", "diagnostics": text}))
		}},
	)
	return out
}

// TestHostileAnswers: every kind of hostile answer, from PDS, the NRL, a
// remote ShCR, the token endpoint, the CIS2 exchange and an audit FHIR
// server, carrying NHS numbers in every written form, the caller's own
// credentials as the server received them, other tokens and a URL with a
// query. None of it may reach the error or a log line.
func TestHostileAnswers(t *testing.T) {
	const promise = "hostile answers leak nothing into errors or logs"
	for _, tg := range targets() {
		for _, a := range answers() {
			t.Run(tg.name+"/"+a.name, func(t *testing.T) {
				got := &received{}
				srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
					a.serve(w, hostileText(got.add(r)))
				})
				logger, logs := newLogger()
				err := tg.call(context.Background(), t, srv.URL, logger)
				leaked := append(leaks(errText(err), got.all()...), leaks(logs.String(), got.all()...)...)
				attempt(promise, len(leaked) == 0)
				assert.Empty(t, leaked, "error: %v", err)
			})
		}
	}
	report(t, promise)
}
