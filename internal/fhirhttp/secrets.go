package fhirhttp

import (
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

// sentSecretsOf is SentSecrets of the request that obtained resp, if it
// is known.
func sentSecretsOf(resp *http.Response) []string {
	if resp == nil || resp.Request == nil {
		return nil
	}
	return SentSecrets(resp.Request.Header)
}

// Secrets are the credentials r's request carried (SentSecrets), for an
// error made from the answer (CheckJSONContentType).
func (r *Response) Secrets() []string { return SentSecrets(r.sent) }

// APIError is the error r's answer stands for (NewAPIError), cleared of
// the credentials its request carried: for an OperationOutcome that came
// with a success status.
func (r *Response) APIError() *shcrkit.APIError {
	return NewAPIError(r.StatusCode, r.Header, r.Body, r.RequestID, r.Secrets()...)
}
