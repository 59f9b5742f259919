package shcr

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"golang.org/x/oauth2"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/shcr/internal/remotehttp"
)

// Remote retrieves what NRL pointers point at from remote ShCRs, with
// each endpoint's credentials and a fresh identity token per request. It
// only ever connects to hosts in its Directory. Remote neither decides nor
// audits: the journey Client does both around it. It is safe for
// concurrent use.
type Remote struct {
	dir     *Directory
	opts    options
	clients map[*endpoint]*fhirhttp.Client
	slots   map[*endpoint]remotehttp.Slots
	ssp     *fhirhttp.Client
	logger  *slog.Logger
	// ahead is the share of recent journeys that retrieved from each
	// endpoint, for signing ahead (see startAhead).
	ahead aheadStats
}

// NewRemote returns a Remote for the endpoints of dir, configured by opts
// in order: a RemoteConfig, the shared With options, or both (no option
// takes every default). A nil option or a field out of its range is an
// error matching shcrkit.ErrInvalidOption.
func NewRemote(dir *Directory, opts ...Option) (*Remote, error) {
	if dir == nil {
		return nil, fmt.Errorf("%w: nil directory", shcrkit.ErrInvalidOption)
	}
	var cfg RemoteConfig
	for _, opt := range opts {
		if opt == nil {
			return nil, fmt.Errorf("%w: nil option", shcrkit.ErrInvalidOption)
		}
		opt.apply(&cfg)
	}
	o, err := cfg.options()
	if err != nil {
		return nil, err
	}
	r := &Remote{dir: dir, opts: o, clients: make(map[*endpoint]*fhirhttp.Client), slots: make(map[*endpoint]remotehttp.Slots)}
	r.logger = o.base.Logger
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	total := 0
	for _, ep := range dir.endpoints {
		bound := r.bound(ep)
		total += bound
		r.slots[ep] = make(remotehttp.Slots, bound)
		c, err := r.newClient(ep.base, ep.Certificate, ep.RootCAs, bound, sameRootRedirect(ep.base), func(cfg *fhirhttp.Config) error {
			if ts := r.tokenSourceOf(ep.TokenSource); ts != nil {
				return cfg.SetTokenSource(ts)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ep.Name, err)
		}
		r.clients[ep] = c
	}
	if s := dir.ssp; s != nil {
		// Every path on the proxy names a provider of its own, so the proxy's
		// redirects are not followed at all, even to its own origin.
		c, err := r.newClient(s.proxy, s.Certificate, s.RootCAs, max(total, 1), remotehttp.NoRedirect, func(cfg *fhirhttp.Config) error {
			if ts := r.tokenSourceOf(s.TokenSource); ts != nil {
				return cfg.SetTokenSource(ts)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("ssp: %w", err)
		}
		r.ssp = c
	}
	return r, nil
}

// tokenSourceOf is the access-token source of an endpoint (or the SSP)
// whose own is own: its own, or the Remote's default.
func (r *Remote) tokenSourceOf(own oauth2.TokenSource) oauth2.TokenSource {
	if own != nil {
		return own
	}
	return r.opts.tokens
}

// bound is the number of requests an endpoint may have in flight.
func (r *Remote) bound(ep *endpoint) int {
	if ep.Parallelism > 0 {
		return ep.Parallelism
	}
	return r.opts.parallelism
}

func (r *Remote) newClient(base *url.URL, cert *tls.Certificate, roots *x509.CertPool, idle int,
	redirects func(*http.Request, []*http.Request) error, auth func(*fhirhttp.Config) error) (*fhirhttp.Client, error) {
	cfg := r.opts.base
	cfg.BaseURL = base
	hc, err := remotehttp.GuardedClient(cfg.HTTPClient, cert, roots, idle, redirects)
	if err != nil {
		return nil, err
	}
	cfg.HTTPClient = hc
	if err := auth(&cfg); err != nil {
		return nil, err
	}
	return fhirhttp.New(cfg)
}

// sameOriginRedirect follows a redirect only within the origin first
// asked; one elsewhere fails with a *shcrkit.RedirectError before anything
// is sent there, so no header of ours (the identity token least of all)
// reaches the other host.
var sameOriginRedirect = fhirhttp.CheckRedirect

// sameRootRedirect is sameOriginRedirect for an endpoint whose service
// root is base, which also keeps a request sent within the root (a
// search, or a pointer to the FHIR service) there: a redirect elsewhere on
// the origin is handed back unfollowed, and refused as
// shcrkit.ErrRedirectRefused, since the identity token made for the
// service would go with it.
func sameRootRedirect(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if err := sameOriginRedirect(req, via); err != nil {
			return err
		}
		if len(via) > 0 && withinRoot(via[0].URL, base) && !withinRoot(req.URL, base) {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

// location is what a retrieval needs to know of a pointer.
type location struct {
	id          string
	custodian   shcrkit.ODSCode
	url         string
	contentType string
	asid        string
	// patient, when set, is the patient the record must be about: a
	// pointer's subject (a search checks its own answer); alsoPatient,
	// when set, is another number of the same patient that the record
	// may name instead (in a journey, the other side of a superseded
	// number).
	patient, alsoPatient shcrkit.NHSNumber
}

// fetchParams are the per-retrieval settings.
type fetchParams struct {
	requester  shcrkit.Requester
	purpose    shcrkit.Purpose
	restricted bool
	timeout    time.Duration
	// buffer reads a document into memory before its slot is given back,
	// for a journey with more documents at one endpoint than its bound
	// (whose streams, held open until the caller closes them, would
	// otherwise hold every slot).
	buffer bool
	// tokens, when set, holds the journey's identity tokens for endpoints
	// that accept one token per journey.
	tokens *tokenCache
	// ahead, when set, is the identity token made for the first request
	// before it waited for its place.
	ahead *aheadToken
}

// Content is what a remote ShCR answered for one pointer: a FHIR resource
// (a Bundle's pages merged into one Bundle) or an attachment to stream.
type Content struct {
	// ContentType is the media type the remote ShCR answered with.
	ContentType string
	// ResourceType is the FHIR resource type of Resource, or "".
	ResourceType string
	// Resource is the FHIR JSON answer. For a Bundle, the entries of every
	// page followed are gathered into it and its next link is dropped.
	Resource []byte
	// Pages is the number of Bundle pages read (1 for a plain resource).
	Pages int
	// Body streams an attachment (PDF, HTML...). It fails with
	// shcrkit.ErrResponseTooLarge past the size cap and must be closed. It
	// is nil for FHIR JSON, which Resource holds.
	Body io.ReadCloser
	// Size is the attachment's declared length, or -1 when unknown.
	Size int64
	// RequestID is the X-Request-ID of the (first) request.
	RequestID string
	// PageRequestIDs are the X-Request-IDs of the requests for a Bundle's
	// later pages, in order: each was a request of its own.
	PageRequestIDs []string
	// ViaSSP reports whether the content came through the Spine Secure
	// Proxy.
	ViaSSP bool
}

// Close closes Body, if any. A nil Content closes too.
func (c *Content) Close() error {
	if c == nil || c.Body == nil {
		return nil
	}
	return c.Body.Close()
}

// check makes every test that needs no connection: the custodian is in
// the directory, the URL's host is registered for it, the content type is
// accepted.
func (r *Remote) check(loc location) (*route, string, error) {
	mt, err := r.declaredType(loc.contentType)
	if err != nil {
		return nil, "", err
	}
	rt, err := r.dir.route(loc.custodian, loc.url, loc.asid)
	if err != nil {
		return nil, "", err
	}
	return rt, mt, nil
}

func (r *Remote) declaredType(ct string) (string, error) {
	if strings.TrimSpace(ct) == "" {
		return "", fmt.Errorf("%w: the pointer declares no content type", ErrUnsupportedContent)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Errorf("%w: the pointer's content type does not parse", ErrUnsupportedContent)
	}
	if !r.opts.contentTypes[mt] {
		return "", fmt.Errorf("%w: %s is not retrieved by this client", ErrUnsupportedContent, mt)
	}
	return mt, nil
}

// fetch retrieves one pointer's content. The per-retrieval timeout covers
// the whole of a FHIR answer and, for an attachment, everything up to the
// stream being handed back; reading the stream then runs under ctx.
func (r *Remote) fetch(ctx context.Context, loc location, p fetchParams) (*Content, error) {
	if o := r.opts.organisation; o != "" && p.requester.Organisation != o {
		return nil, &shcrkit.IdentityMismatchError{Field: "organisation", Want: string(p.requester.Organisation), Got: string(o),
			Source: "the Remote's WithEndUserOrganisation"}
	}
	rt, mt, err := r.check(loc)
	if err != nil {
		return nil, err
	}
	timeout := p.timeout
	if rt.ep.Timeout > 0 {
		timeout = rt.ep.Timeout
	}
	// The identity token is made before the wait for a slot (see
	// aheadToken), unless the retrieval is already called off.
	if ctx.Err() == nil {
		tok, issued, err := r.identityToken(rt.ep, p)
		if err != nil {
			return nil, err
		}
		p.ahead = &aheadToken{token: tok, issued: issued}
	}
	// The wait for a slot is not part of the endpoint's timeout: it is
	// time spent on this side.
	slot := r.slots[rt.ep]
	if err := slot.Acquire(ctx); err != nil {
		return nil, err
	}
	c, err := r.fetchInSlot(ctx, rt, loc, mt, p, timeout)
	if err != nil || c.Body == nil {
		slot.Release()
		return c, err
	}
	if p.buffer {
		err := c.buffer(r.opts.maxDocumentBytes)
		slot.Release()
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	c.Body = &remotehttp.SlotBody{ReadCloser: c.Body, Release: slot.Release}
	return c, nil
}

// fetchInSlot is fetch once a slot is held.
func (r *Remote) fetchInSlot(ctx context.Context, rt *route, loc location, mt string, p fetchParams, timeout time.Duration) (*Content, error) {
	ctx, cancel := context.WithCancel(ctx)
	var timer *time.Timer
	if timeout > 0 {
		timer = time.AfterFunc(timeout, cancel)
	}
	timedOut := func(err error) error {
		if timer != nil && !timer.Stop() && errors.Is(err, context.Canceled) {
			te := fmt.Errorf("%w: %s did not answer within %v: %w", shcrkit.ErrUnavailable, rt.ep.Name, timeout, context.DeadlineExceeded)
			if ids := pagesSent(err); ids != nil {
				return &pagesSentError{err: te, ids: ids}
			}
			return te
		}
		return err
	}
	if isJSONType(mt) {
		defer cancel()
		c, err := r.fetchFHIR(ctx, rt, loc, p)
		if err != nil {
			return nil, timedOut(err)
		}
		if timer != nil && !timer.Stop() {
			return nil, timedOut(context.Canceled)
		}
		return c, nil
	}
	c, err := r.fetchDocument(ctx, rt, mt, p)
	if err != nil {
		cancel()
		return nil, timedOut(err)
	}
	if timer != nil && !timer.Stop() {
		c.Body.Close()
		cancel()
		return nil, timedOut(context.Canceled)
	}
	c.Body = &remotehttp.CancelOnClose{ReadCloser: c.Body, Cancel: cancel}
	return c, nil
}

// request builds the HTTP request for rt with the identity token and, via
// SSP, the proxy's headers.
func (r *Remote) request(rt *route, p fetchParams, accept string) (*fhirhttp.Client, *fhirhttp.Request, error) {
	tok, err := r.requestToken(rt.ep, p)
	if err != nil {
		return nil, nil, err
	}
	h := make(http.Header)
	client := r.clients[rt.ep]
	hasAccessToken := r.tokenSourceOf(rt.ep.TokenSource) != nil
	if rt.ssp != nil {
		client = r.ssp
		hasAccessToken = r.tokenSourceOf(rt.ssp.TokenSource) != nil
		h.Set("Ssp-TraceID", uuid.NewString())
		h.Set("Ssp-From", rt.ssp.ConsumerASID)
		h.Set("Ssp-To", rt.providerASID)
		h.Set("Ssp-InteractionID", rt.ssp.InteractionID)
	}
	if hasAccessToken {
		h.Set(rt.ep.Identity.HeaderName(), tok)
	} else {
		h.Set("Authorization", "Bearer "+tok)
	}
	if p.requester.Organisation != "" {
		h.Set("NHSD-End-User-Organisation-ODS", string(p.requester.Organisation))
	}
	return client, &fhirhttp.Request{URL: rt.request, Header: h, Accept: accept}, nil
}

// fetchDocument opens an attachment as a capped stream.
func (r *Remote) fetchDocument(ctx context.Context, rt *route, mt string, p fetchParams) (*Content, error) {
	client, req, err := r.request(rt, p, mt)
	if err != nil {
		return nil, err
	}
	s, err := client.Open(ctx, req, r.opts.maxDocumentBytes)
	if err != nil {
		return nil, err
	}
	if err := checkRedirect(s.StatusCode, rt, s.RequestID); err != nil {
		s.Body.Close()
		return nil, err
	}
	got, err := answeredType(s.Header, s.RequestID)
	if err == nil && got != mt {
		err = fmt.Errorf("%w: asked for %s, %s answered %s [request %s]", ErrUnsupportedContent, mt, rt.ep.Name, got, s.RequestID)
	}
	if err != nil {
		s.Body.Close()
		return nil, err
	}
	size := int64(-1)
	if n, err := strconv.ParseInt(strings.TrimSpace(s.Header.Get("Content-Length")), 10, 64); err == nil && n >= 0 {
		size = n
	}
	return &Content{ContentType: got, Body: s.Body, Size: size, RequestID: s.RequestID, ViaSSP: rt.ssp != nil}, nil
}

// checkRedirect turns an unfollowed redirect into an error.
func checkRedirect(status int, rt *route, reqID string) error {
	if status >= 300 && status < 400 {
		return fmt.Errorf("%w: %s answered %d [request %s]", shcrkit.ErrRedirectRefused, rt.ep.Name, status, reqID)
	}
	return nil
}

func answeredType(h http.Header, reqID string) (string, error) {
	ct := h.Get("Content-Type")
	if ct == "" {
		return "", fmt.Errorf("%w: the answer has no content type [request %s]", ErrUnsupportedContent, reqID)
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", fmt.Errorf("%w: the answer's content type does not parse [request %s]", ErrUnsupportedContent, reqID)
	}
	return mt, nil
}

func isJSONType(mt string) bool { return fhirhttp.IsJSONMediaType(mt) }
