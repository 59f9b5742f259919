package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/textclip"
	"github.com/shcrkit/shcrkit/internal/version"
)

// Form values of the grants this package makes.
const (
	grantClientCredentials = "client_credentials"
	grantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantRefreshToken      = "refresh_token"
	assertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	tokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
)

// maxTokenResponseBytes bounds a token endpoint's answer; a real one is
// well under a kilobyte.
const maxTokenResponseBytes = 1 << 20

// maxLifetimeSeconds bounds expires_in: a larger value is a broken server.
const maxLifetimeSeconds = 100 * 365 * 24 * 3600

// defaultHTTPTimeout bounds a token request made without a deadline of the
// caller's (oauth2.TokenSource.Token takes no context).
const defaultHTTPTimeout = 30 * time.Second

// endpoint posts grants to one token URL and decodes the answers.
type endpoint struct {
	tokenURL string
	client   *http.Client
	now      func() time.Time
	// secrets are the client's own (API key, client secret), removed
	// from every error text along with each request's.
	secrets []string
}

// errorResponse is the OAuth 2.0 error answer (RFC 6749 section 5.2), with
// the NHS API platform's message_id.
type errorResponse struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	MessageID        string `json:"message_id"`
}

// tokenResponse is a successful answer (RFC 6749 section 5.1, RFC 8693
// section 2.2.1); a server may still put an error in it.
type tokenResponse struct {
	errorResponse
	AccessToken           string  `json:"access_token"`
	TokenType             string  `json:"token_type"`
	ExpiresIn             seconds `json:"expires_in"`
	RefreshToken          string  `json:"refresh_token"`
	RefreshTokenExpiresIn seconds `json:"refresh_token_expires_in"`
}

// grantResult is a decoded successful answer.
type grantResult struct {
	token *oauth2.Token
	// refreshExpiry is when the refresh token stops working, or zero when
	// the server did not say.
	refreshExpiry time.Time
}

// post sends form and decodes the answer. secrets are values sent in the
// form that must never appear in an error text.
func (e *endpoint) post(ctx context.Context, form url.Values, secrets ...string) (grantResult, error) {
	secrets = append(secrets[:len(secrets):len(secrets)], e.secrets...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return grantResult{}, fmt.Errorf("auth: building token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "shcrkit/"+version.SDK)

	start := e.now()
	resp, err := e.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return grantResult{}, fmt.Errorf("auth: token request: %w", ctxErr)
		}
		var re *shcrkit.RedirectError
		if errors.As(err, &re) {
			return grantResult{}, fmt.Errorf("auth: token request: %w", re)
		}
		return grantResult{}, fmt.Errorf("auth: token request failed: %w: %s", shcrkit.ErrUnavailable, sanitise(transportText(err), secrets))
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponseBytes+1))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return grantResult{}, fmt.Errorf("auth: reading token response: %w", ctxErr)
		}
		return grantResult{}, fmt.Errorf("auth: reading token response (HTTP %d): %w: %s", resp.StatusCode, shcrkit.ErrUnavailable, sanitise(transportText(err), secrets))
	}
	if len(body) > maxTokenResponseBytes {
		return grantResult{}, fmt.Errorf("auth: token response (HTTP %d): %w: more than %d bytes", resp.StatusCode, shcrkit.ErrResponseTooLarge, maxTokenResponseBytes)
	}
	return decodeGrant(resp, body, start, secrets)
}

// decodeGrant reads the token endpoint's answer body, received for a
// request sent at start: a token, or the error the server gave.
func decodeGrant(resp *http.Response, body []byte, start time.Time, secrets []string) (grantResult, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		te := &TokenError{StatusCode: resp.StatusCode}
		var er errorResponse
		if json.Unmarshal(body, &er) == nil {
			te.Code = sanitise(er.Error, secrets)
			te.Description = sanitise(er.ErrorDescription, secrets)
			te.MessageID = sanitise(er.MessageID, secrets)
		}
		return grantResult{}, te
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if jsonErr != nil {
		return grantResult{}, fmt.Errorf("auth: token response (HTTP %d, %s): %w: %s", resp.StatusCode, sanitise(contentType(resp), secrets), shcrkit.ErrMalformedResponse, sanitise(fhirhttp.DescribeJSONError(jsonErr), secrets))
	}
	if tr.AccessToken == "" {
		if tr.Error != "" {
			return grantResult{}, &TokenError{StatusCode: resp.StatusCode, Code: sanitise(tr.Error, secrets),
				Description: sanitise(tr.ErrorDescription, secrets), MessageID: sanitise(tr.MessageID, secrets)}
		}
		return grantResult{}, fmt.Errorf("auth: token response: %w: no access_token", shcrkit.ErrMalformedResponse)
	}
	// The token travels as "Authorization: Bearer <token>" (RFC 6750
	// section 2.1): one that holds a space or a control character cannot,
	// and cached, it would fail every request until it expired.
	if strings.IndexFunc(tr.AccessToken, isSpaceOrControl) >= 0 {
		return grantResult{}, fmt.Errorf("auth: token response: %w: access_token holds spaces or control characters", shcrkit.ErrMalformedResponse)
	}
	switch {
	case tr.TokenType == "", strings.EqualFold(tr.TokenType, "bearer"):
		tr.TokenType = "Bearer"
	default:
		return grantResult{}, fmt.Errorf("auth: token response: %w: token_type %q is not Bearer", shcrkit.ErrMalformedResponse, sanitise(tr.TokenType, secrets))
	}

	tok := &oauth2.Token{
		AccessToken:  tr.AccessToken,
		TokenType:    tr.TokenType,
		RefreshToken: tr.RefreshToken,
	}
	if tr.ExpiresIn.set {
		tok.ExpiresIn = tr.ExpiresIn.n
		// Expiry counts from when the request was sent, so that a slow
		// answer errs on the early side, and from this machine's clock
		// rather than issued_at, so that clock skew does not matter.
		tok.Expiry = start.Add(time.Duration(tr.ExpiresIn.n) * time.Second)
	}
	var extra map[string]any
	if json.Unmarshal(body, &extra) == nil {
		tok = tok.WithExtra(extra)
	}
	res := grantResult{token: tok}
	if tr.RefreshTokenExpiresIn.set {
		res.refreshExpiry = start.Add(time.Duration(tr.RefreshTokenExpiresIn.n) * time.Second)
	}
	return res, nil
}

// seconds is a duration in whole seconds that arrives as a JSON number or
// as a string holding one: the NHS API platform sends "599".
type seconds struct {
	n   int64
	set bool
}

// UnmarshalJSON accepts 599, 599.0, "599" and null.
func (s *seconds) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*s = seconds{}
		return nil
	}
	text := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		text = strings.TrimSpace(text)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(text, 64)
		if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("not a number of seconds: %q", textclip.Clip(text, 20))
		}
		n = int64(math.Floor(f))
		if f > maxLifetimeSeconds {
			n = maxLifetimeSeconds + 1
		}
	}
	if n < 0 {
		return fmt.Errorf("negative number of seconds: %d", n)
	}
	if n > maxLifetimeSeconds {
		return fmt.Errorf("implausible number of seconds: %d", n)
	}
	*s = seconds{n: n, set: true}
	return nil
}

func contentType(resp *http.Response) string {
	ct := resp.Header.Get("Content-Type")
	if ct == "" {
		return "no content type"
	}
	return textclip.Clip(ct, 60)
}

// transportText describes a transport failure. A *url.Error names the
// token URL, which holds no secret; its inner error is kept.
func transportText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + " " + redactURL(ue.URL) + ": " + ue.Err.Error()
	}
	return err.Error()
}

// redactURL drops the query and any user information from a URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(token URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// defaultClient is used when a config names no HTTP client. It never
// follows redirects: a redirected POST turns into a GET and would lose the
// grant, and the client assertion must not travel to another host.
func defaultClient() *http.Client {
	return &http.Client{
		Timeout: defaultHTTPTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
