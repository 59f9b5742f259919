package fhirhttp

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// SentSecrets returns the credentials h carried: the credential of an
// Authorization header, and the values of headers named for a key, a
// token, an assertion, a secret, a password or a cookie (an API key, an
// identity token). Redact knows the shapes of tokens and of named keys;
// these let an answer's text be cleared of the request's own credentials
// however a service echoes them.
func SentSecrets(h http.Header) []string {
	var out []string
	for name, values := range h {
		n := strings.ToLower(name)
		if !credentialHeader(n) {
			continue
		}
		for _, v := range values {
			v = strings.TrimSpace(v)
			if n == "authorization" || n == "proxy-authorization" {
				if _, cred, ok := strings.Cut(v, " "); ok {
					out = append(out, strings.TrimSpace(cred))
				}
			}
			out = append(out, v)
		}
	}
	return out
}

// credentialHeader reports whether a header, by its lower-case name,
// carries a credential.
func credentialHeader(name string) bool {
	for _, w := range []string{"authorization", "key", "token", "assertion", "secret", "password", "cookie"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// WithoutSecrets replaces each of secrets in s, as written or
// URL-encoded, with "[redacted]". Those shorter than four bytes are left:
// they would shred the text and hide nothing.
func WithoutSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[redacted]")
		if q := url.QueryEscape(sec); q != sec {
			s = strings.ReplaceAll(s, q, "[redacted]")
		}
	}
	return s
}

// sentHeader is the header of the request that obtained resp, if it is
// known.
func sentHeader(resp *http.Response) http.Header {
	if resp.Request == nil {
		return nil
	}
	return resp.Request.Header
}

// Secrets are the credentials r's request carried (SentSecrets), for an
// error made from the answer (CheckJSONContentType, APIError).
func (r *Response) Secrets() []string { return SentSecrets(r.sent) }

// APIError is the error r's answer stands for (NewAPIError), cleared of
// the credentials its request carried: for an OperationOutcome that came
// with a success status.
func (r *Response) APIError() *shcrkit.APIError {
	return NewAPIError(r.StatusCode, r.Header, r.Body, r.RequestID, r.Secrets()...)
}

// minBodySecret is the shortest credential ClearedBody replaces: a
// shorter one could be ordinary text, and real keys and tokens are far
// longer.
const minBodySecret = 12

// ClearedBody returns r's body with the credentials its request carried
// replaced by "[redacted]", as written or URL-encoded. It is for what a
// service sends back to be kept and shown (an NRL's pointers), which goes
// on into errors and audit records where Redact would not know a bare
// token; a body holding none is returned as it is, not copied. The
// replacement holds no quote or backslash, so JSON stays JSON.
func (r *Response) ClearedBody() []byte {
	body := r.Body
	for _, sec := range r.Secrets() {
		if len(sec) < minBodySecret {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec)} {
			if bytes.Contains(body, []byte(form)) {
				body = bytes.ReplaceAll(body, []byte(form), []byte("[redacted]"))
			}
		}
	}
	return body
}
