package fhirhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/nilctx"
	"github.com/shcrkit/shcrkit/internal/version"
)

// Media types of FHIR exchanges.
const (
	MediaFHIRJSON  = "application/fhir+json"
	MediaJSON      = "application/json"
	MediaJSONPatch = "application/json-patch+json"
)

// Client sends FHIR requests with the shared headers, retry policy,
// redirect policy (CheckRedirect) and response checks. It is safe for
// concurrent use.
type Client struct {
	cfg       Config
	retry     *retryablehttp.Client
	logger    *slog.Logger
	userAgent string
}

// New returns a Client for cfg, filling in defaults. cfg.BaseURL is
// required.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == nil {
		return nil, fmt.Errorf("%w: base URL is required", ErrInvalidOption)
	}
	// Every client gets the redirect policy, on a copy when the caller
	// supplied the *http.Client.
	cfg.HTTPClient = GuardHTTPClient(cfg.HTTPClient)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxResponseBytes == 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.RetryWaitMin == 0 {
		cfg.RetryWaitMin = DefaultRetryWaitMin
	}
	if cfg.RetryWaitMax == 0 {
		cfg.RetryWaitMax = max(DefaultRetryWaitMax, cfg.RetryWaitMin)
	}
	if cfg.MaxRetryAfter == 0 {
		cfg.MaxRetryAfter = DefaultMaxRetryAfter
	}
	ins, err := newInstruments(cfg.TracerProvider, cfg.MeterProvider)
	if err != nil {
		return nil, fmt.Errorf("%w: telemetry: %v", ErrInvalidOption, err)
	}
	// Every attempt is traced and measured, over whatever transport the
	// caller's client has (the SDK's pooled one, or the caller's own).
	base := cfg.HTTPClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	if cfg.Wrap != nil {
		base = cfg.Wrap(base)
	}
	// The client that sends is a copy: cfg (and so Config) keeps the
	// transport as given, to build other clients from.
	sender := *cfg.HTTPClient
	sender.Transport = &tracingTransport{base: base, ins: ins}
	c := &Client{cfg: cfg, logger: cfg.Logger}
	c.userAgent = "shcrkit/" + version.SDK
	if cfg.UserAgent != "" {
		c.userAgent = cfg.UserAgent + " " + c.userAgent
	}
	c.retry = &retryablehttp.Client{
		HTTPClient:   &sender,
		Logger:       nil, // go-retryablehttp would log to stderr by default
		RetryWaitMin: cfg.RetryWaitMin,
		RetryWaitMax: cfg.RetryWaitMax,
		RetryMax:     cfg.MaxAttempts - 1,
		CheckRetry:   checkRetry,
		Backoff:      newBackoff(cfg.MaxRetryAfter, time.Now),
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, r *http.Request, attempt int) {
			ins.countRetry(r.Context(), r, attempt)
			if !c.logger.Enabled(r.Context(), slog.LevelDebug) {
				return
			}
			c.logger.LogAttrs(r.Context(), slog.LevelDebug, "shcrkit request",
				slog.String("method", r.Method), slog.String("url", RedactURL(r.URL)),
				slog.String("request_id", r.Header.Get("X-Request-ID")), slog.Int("attempt", attempt+1))
		},
	}
	return c, nil
}

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	return t
}

// Config returns a copy of the client's configuration, defaults filled in.
func (c *Client) Config() Config { return c.cfg }

// BaseURL returns the service root.
func (c *Client) BaseURL() *url.URL { u := *c.cfg.BaseURL; return &u }

// Request is one logical request: one X-Request-ID, however many attempts.
type Request struct {
	// Method is the HTTP method; "" means GET.
	Method string
	// Path is joined to the base URL ("/Patient/9000000009"). Ignored when
	// URL is set.
	Path string
	// URL is an absolute URL to use instead of base URL + Path (a Bundle's
	// next link, a pointer's content URL). The caller is responsible for it
	// being a host it means to send credentials to.
	URL *url.URL
	// Query is added to the URL.
	Query url.Values
	// Header holds extra headers for this request.
	Header http.Header
	// Body is sent as is with ContentType.
	Body        []byte
	ContentType string
	// Accept overrides the Accept header (default application/fhir+json).
	Accept string
	// Idempotent allows retries of a write: set it when the service
	// de-duplicates requests by X-Request-ID.
	Idempotent bool
	// NoAuth sends no Authorization header even when a token source is set.
	NoAuth bool
}

// Response is a successful answer, its body read whole.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// RequestID is the X-Request-ID that was sent.
	RequestID string
	// sent is the header the request went with, for Secrets.
	sent http.Header
}

// Do sends r and reads the answer. A status of 400 or above becomes a
// *shcrkit.APIError; a body over the cap fails with
// shcrkit.ErrResponseTooLarge; a redirect to another origin fails with a
// *shcrkit.RedirectError, nothing having been sent there.
func (c *Client) Do(ctx context.Context, r *Request) (*Response, error) {
	resp, reqID, u, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := ReadCapped(resp.Body, c.cfg.MaxResponseBytes, resp.ContentLength)
	if err != nil {
		return nil, c.bodyError(ctx, r, u, reqID, err)
	}
	out := &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body, RequestID: reqID, sent: sentHeader(resp)}
	if resp.StatusCode >= 400 {
		return nil, out.APIError()
	}
	return out, nil
}

// DoJSON is Do followed by a check that the answer is JSON and its decoding
// into out. A truncated or invalid body fails with
// shcrkit.ErrMalformedResponse.
func (c *Client) DoJSON(ctx context.Context, r *Request, out any) (*Response, error) {
	resp, err := c.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := resp.CheckJSONContentType(); err != nil {
		return resp, withRequestID(err, resp.RequestID)
	}
	if err := DecodeJSON(resp.Body, out); err != nil {
		return resp, withRequestID(err, resp.RequestID)
	}
	return resp, nil
}

// Stream is an answer whose body the caller reads. Body fails with
// shcrkit.ErrResponseTooLarge once more than the cap has been read, and
// must be closed.
type Stream struct {
	StatusCode int
	Header     http.Header
	Body       io.ReadCloser
	RequestID  string
}

// Open sends r and hands back the body unread, for large or binary
// content. Error statuses are read (up to the cap) and returned as
// *shcrkit.APIError. maxBytes caps the body; 0 means the client's cap.
func (c *Client) Open(ctx context.Context, r *Request, maxBytes int64) (*Stream, error) {
	if maxBytes <= 0 {
		maxBytes = c.cfg.MaxResponseBytes
	}
	resp, reqID, u, err := c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		body, err := ReadCapped(resp.Body, c.cfg.MaxResponseBytes, resp.ContentLength)
		if err != nil {
			return nil, c.bodyError(ctx, r, u, reqID, err)
		}
		return nil, NewAPIError(resp.StatusCode, resp.Header, body, reqID, SentSecrets(sentHeader(resp))...)
	}
	if resp.ContentLength > maxBytes {
		resp.Body.Close()
		return nil, &tooLargeError{limit: maxBytes, requestID: reqID}
	}
	return &Stream{
		StatusCode: resp.StatusCode,
		Header:     resp.Header,
		Body:       &cappedBody{rc: resp.Body, left: maxBytes, limit: maxBytes, requestID: reqID},
		RequestID:  reqID,
	}, nil
}

// send builds the HTTP request and runs it through the retry loop.
func (c *Client) send(ctx context.Context, r *Request) (*http.Response, string, *url.URL, error) {
	if err := nilctx.Check(ctx); err != nil {
		return nil, "", nil, err
	}
	u, err := c.resolve(r)
	if err != nil {
		return nil, "", nil, err
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	reqID, err := requestID(ctx)
	if err != nil {
		return nil, "", u, err
	}
	if id := shcrkit.CorrelationID(ctx); id != "" && !shcrkit.ValidCorrelationID(id) {
		// net/http would refuse a line break only when sending, as if the
		// service were unreachable, and send any length.
		return nil, reqID, u, fmt.Errorf("%w: the correlation ID set with shcrkit.WithCorrelationID must be 1 to 200 visible ASCII characters",
			shcrkit.ErrInvalidRequest)
	}
	ci, err := c.identity(ctx)
	if err != nil {
		return nil, reqID, u, err
	}
	retryOK := method == http.MethodGet || method == http.MethodHead || r.Idempotent
	var body any
	if r.Body != nil {
		body = r.Body
	}
	req, err := retryablehttp.NewRequestWithContext(withRetry(ctx, retryOK), method, u.String(), body)
	if err != nil {
		return nil, reqID, u, fmt.Errorf("shcrkit: building request %s %s: %w", method, RedactURL(u), errors.Unwrap(err))
	}
	c.setHeaders(ctx, req.Header, r, ci, reqID)
	var accessToken string
	if c.cfg.TokenSource != nil && !r.NoAuth {
		auth, tok, err := c.accessToken(ctx, ci)
		if err != nil {
			return nil, reqID, u, fmt.Errorf("shcrkit: obtaining an access token for %s: %w", RedactURL(u), err)
		}
		req.Header.Set("Authorization", auth)
		accessToken = tok
	}
	resp, err := c.retry.Do(req)
	if err != nil {
		if resp != nil {
			// The context ended as an answer came in: it is not used, and
			// its connection must not be held open.
			resp.Body.Close()
		}
		return nil, reqID, u, c.transportError(ctx, method, u, reqID, err)
	}
	if resp != nil && resp.StatusCode == http.StatusUnauthorized && accessToken != "" {
		// A cached token the service no longer takes (revoked, or expired
		// early) must not be offered again.
		c.invalidate(ci, accessToken)
	}
	if resp == nil {
		return nil, reqID, u, &TransportError{Method: method, URL: RedactURL(u), RequestID: reqID, Err: errors.New("no response")}
	}
	if c.logger.Enabled(ctx, slog.LevelDebug) {
		c.logger.LogAttrs(ctx, slog.LevelDebug, "shcrkit response",
			slog.String("method", method), slog.String("url", RedactURL(u)),
			slog.String("request_id", reqID), slog.Int("status", resp.StatusCode))
	}
	return resp, reqID, u, nil
}

// requestID returns the request ID set on ctx, or a new one.
func requestID(ctx context.Context) (string, error) {
	reqID := shcrkit.RequestID(ctx)
	if reqID == "" {
		return uuid.NewString(), nil
	}
	if !IsUUID(reqID) {
		// The services refuse any other X-Request-ID; say so before sending.
		return "", fmt.Errorf("%w: the request ID set with shcrkit.WithRequestID must be a UUID (8-4-4-4-12 hexadecimal digits)",
			shcrkit.ErrInvalidRequest)
	}
	return reqID, nil
}

// setHeaders sets the request's headers, other than Authorization: the
// configured and per-request headers, the identity headers, the request
// and correlation IDs, Accept, User-Agent and Content-Type.
func (c *Client) setHeaders(ctx context.Context, h http.Header, r *Request, ci callIdentity, reqID string) {
	for k, v := range c.cfg.Header {
		h[k] = v
	}
	for k, v := range r.Header {
		h[k] = v
	}
	c.setIdentityHeaders(h, ci)
	h.Set("X-Request-ID", reqID)
	if id := shcrkit.CorrelationID(ctx); id != "" {
		h.Set("X-Correlation-ID", id)
	} else if c.cfg.CorrelationID != "" {
		h.Set("X-Correlation-ID", c.cfg.CorrelationID)
	}
	if r.Accept != "" {
		h.Set("Accept", r.Accept)
	} else if h.Get("Accept") == "" {
		h.Set("Accept", MediaFHIRJSON)
	}
	h.Set("User-Agent", c.userAgent)
	if r.Body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = MediaFHIRJSON
		}
		h.Set("Content-Type", ct)
	}
}

func (c *Client) resolve(r *Request) (*url.URL, error) {
	var u url.URL
	if r.URL != nil {
		u = *r.URL
		if !u.IsAbs() || u.Host == "" {
			return nil, fmt.Errorf("%w: request URL must be absolute", shcrkit.ErrInvalidRequest)
		}
	} else {
		u = *c.cfg.BaseURL
		p := r.Path
		if p != "" && !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		u.Path = c.cfg.BaseURL.Path + p
		u.RawPath = ""
	}
	if len(r.Query) > 0 {
		q := u.Query()
		for k, vs := range r.Query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	return &u, nil
}

// transportError turns a failure with no HTTP answer into an error that
// names the request without its query and matches shcrkit.ErrUnavailable
// (or the context's error when that is what ended it).
func (c *Client) transportError(ctx context.Context, method string, u *url.URL, reqID string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &TransportError{Method: method, URL: RedactURL(u), RequestID: reqID, Err: ctxErr, ctxDone: true}
	}
	if re, ok := redirectError(err); ok {
		out := *re
		out.RequestID = reqID
		return &out
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error's text repeats the full URL
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "shcrkit request failed",
		slog.String("method", method), slog.String("url", RedactURL(u)), slog.String("request_id", reqID))
	return &TransportError{Method: method, URL: RedactURL(u), RequestID: reqID, Err: err}
}

// bodyError describes a failure to read an answer's body: too large,
// cut short, or a transport failure, which is the context's error when
// the caller's deadline or cancellation ended the read (as transportError
// has it for the wait for the headers), not the service being unavailable.
func (c *Client) bodyError(ctx context.Context, r *Request, u *url.URL, reqID string, err error) error {
	var tl *tooLargeError
	if errors.As(err, &tl) {
		tl.requestID = reqID
		return tl
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s %s: body ended early [request %s]", shcrkit.ErrMalformedResponse, method, RedactURL(u), reqID)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return &TransportError{Method: method, URL: RedactURL(u), RequestID: reqID, Err: ctxErr, ctxDone: true}
	}
	return &TransportError{Method: method, URL: RedactURL(u), RequestID: reqID, Err: err}
}

// TransportError is a request that got no usable HTTP answer: a refused
// connection, a reset, a timeout. It matches shcrkit.ErrUnavailable, or the
// context error that ended it.
type TransportError struct {
	Method, URL, RequestID string
	Err                    error
	ctxDone                bool
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("shcrkit: %s %s: %v [request %s]", e.Method, e.URL, redactErr(e.Err), e.RequestID)
}

// Unwrap gives the cause and, unless the context ended the request,
// shcrkit.ErrUnavailable.
func (e *TransportError) Unwrap() []error {
	if e.ctxDone {
		return []error{e.Err}
	}
	return []error{shcrkit.ErrUnavailable, e.Err}
}

// Timeout reports whether the failure was a timeout.
func (e *TransportError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &ne) && ne.Timeout())
}

func redactErr(err error) string {
	if err == nil {
		return "unknown error"
	}
	return shcrkit.Redact(err.Error())
}

// withRequestID adds the request ID to a decoding error's text.
func withRequestID(err error, reqID string) error {
	return fmt.Errorf("%w [request %s]", err, reqID)
}

// CheckJSONContentType fails with shcrkit.ErrMalformedResponse unless the
// answer is declared JSON (application/json, application/fhir+json or any
// +json type). An answer with no Content-Type is accepted when its body
// looks like a JSON object. The type quoted in the error is cleared of
// the credentials the request carried (Secrets).
func (r *Response) CheckJSONContentType() error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if b := bytes.TrimSpace(r.Body); len(b) > 0 && b[0] == '{' {
			return nil
		}
		return fmt.Errorf("%w: no content type and the body is not JSON", shcrkit.ErrMalformedResponse)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("%w: content type %q", shcrkit.ErrMalformedResponse, errorText(ct, r.Secrets()))
	}
	if IsJSONMediaType(mt) {
		return nil
	}
	return fmt.Errorf("%w: content type %q, want JSON", shcrkit.ErrMalformedResponse, errorText(mt, r.Secrets()))
}

// IsJSONMediaType reports whether mt is a JSON media type.
func IsJSONMediaType(mt string) bool {
	return mt == MediaJSON || mt == MediaFHIRJSON || strings.HasSuffix(mt, "+json")
}

// DecodeJSON decodes body into out, describing a truncated or invalid body
// as shcrkit.ErrMalformedResponse without quoting it.
func DecodeJSON(body []byte, out any) error {
	if err := json.Unmarshal(body, out); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case len(bytes.TrimSpace(body)) == 0:
			return fmt.Errorf("%w: empty body", shcrkit.ErrMalformedResponse)
		case errors.As(err, &syn) && strings.Contains(err.Error(), "unexpected end"):
			return fmt.Errorf("%w: JSON body is truncated after %d bytes", shcrkit.ErrMalformedResponse, len(body))
		case errors.As(err, &syn):
			return fmt.Errorf("%w: invalid JSON at byte %d", shcrkit.ErrMalformedResponse, syn.Offset)
		case errors.As(err, &typ):
			return fmt.Errorf("%w: JSON field %q has the wrong type", shcrkit.ErrMalformedResponse, typ.Field)
		default:
			return fmt.Errorf("%w: %s", shcrkit.ErrMalformedResponse, errorText(err.Error(), nil))
		}
	}
	return nil
}
