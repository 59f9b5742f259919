package shcr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/shcr/internal/fhirbundle"
)

// acceptFHIR is the Accept header of FHIR JSON retrievals.
const acceptFHIR = fhirhttp.MediaFHIRJSON + ", " + fhirhttp.MediaJSON + ";q=0.9"

// fetchFHIR reads a FHIR resource, following a Bundle's next links up to
// the page limit. Every next link is checked against the directory like
// the pointer itself, so a Bundle cannot send us to another host.
//
// A failure after the first page matches nothing new but carries the
// request IDs of the later pages asked for (see pagesSent), so that each
// request sent can be audited.
func (r *Remote) fetchFHIR(ctx context.Context, rt *route, loc location, p fetchParams) (*Content, error) {
	var later []string
	c, err := r.fetchPages(ctx, rt, loc, p, &later)
	if err == nil && loc.patient != "" {
		// A pointer's record is its patient's: one naming another patient
		// is not handed back.
		if perr := checkRecordPatient(c.Resource, loc.patient, loc.alsoPatient); perr != nil {
			c, err = nil, fmt.Errorf("%s: %w [request %s]", rt.ep.Name, perr, c.RequestID)
		}
	}
	if err != nil && len(later) > 0 {
		return nil, &pagesSentError{err: err, ids: later}
	}
	return c, err
}

// pagesSentError is a failure of a Bundle read after its first page,
// with the X-Request-IDs of the later pages asked for.
type pagesSentError struct {
	err error
	ids []string
}

func (e *pagesSentError) Error() string { return e.err.Error() }
func (e *pagesSentError) Unwrap() error { return e.err }

// pagesSent returns the X-Request-IDs of the later Bundle pages asked for
// before err.
func pagesSent(err error) []string {
	var ps *pagesSentError
	if errors.As(err, &ps) {
		return ps.ids
	}
	return nil
}

func (r *Remote) fetchPages(ctx context.Context, rt *route, loc location, p fetchParams, later *[]string) (*Content, error) {
	var (
		first    map[string]json.RawMessage
		entries  []json.RawMessage
		total    int64
		pages    int
		firstID  string
		resource string
		cur      = rt
		seen     = make(map[string]bool)
	)
	for cur != nil {
		if pages == r.opts.maxPages {
			return nil, fmt.Errorf("%w: %s has more than %d pages [request %s]", ErrTooManyPages, rt.ep.Name, r.opts.maxPages, firstID)
		}
		resp, err := r.getPage(ctx, cur, p, pages, later)
		if err != nil {
			return nil, err
		}
		if pages == 0 {
			firstID = resp.RequestID
		}
		pages++
		total += int64(len(resp.Body))
		if total > r.opts.base.MaxResponseBytes {
			return nil, fmt.Errorf("%w: %s's Bundle pages exceed %d bytes together [request %s]",
				shcrkit.ErrResponseTooLarge, rt.ep.Name, r.opts.base.MaxResponseBytes, firstID)
		}
		pg, err := decodePage(resp, rt)
		if err != nil {
			return nil, err
		}
		if pages == 1 {
			resource = pg.ResourceType
			if pg.ResourceType != "Bundle" {
				return &Content{ContentType: fhirbundle.MediaType(resp.Header), ResourceType: resource, Resource: resp.Body,
					Pages: 1, Size: int64(len(resp.Body)), RequestID: firstID, ViaSSP: rt.ssp != nil}, nil
			}
			if err := json.Unmarshal(resp.Body, &first); err != nil {
				return nil, fmt.Errorf("%w: Bundle does not decode [request %s]", shcrkit.ErrMalformedResponse, resp.RequestID)
			}
		} else if pg.ResourceType != "Bundle" {
			return nil, fmt.Errorf("%w: a next page is a %q, not a Bundle [request %s]", shcrkit.ErrMalformedResponse, clip(shcrkit.Redact(pg.ResourceType), 60), resp.RequestID)
		}
		entries = append(entries, pg.Entry...)
		seen[cur.request.String()] = true
		if cur, err = r.nextPage(rt, cur, loc, &pg); err != nil {
			return nil, err
		}
		if cur != nil && seen[cur.request.String()] {
			// The same page again would be read until the page limit.
			return nil, fmt.Errorf("%w: %s's next link leads back to a page already read [request %s]", ErrTooManyPages, rt.ep.Name, firstID)
		}
	}
	merged, err := fhirbundle.Merge(first, entries)
	if err != nil {
		return nil, err
	}
	return &Content{ContentType: fhirhttp.MediaFHIRJSON, ResourceType: resource, Resource: merged, Pages: pages,
		Size: int64(len(merged)), RequestID: firstID, PageRequestIDs: *later, ViaSSP: rt.ssp != nil}, nil
}

// getPage sends the request for one page, pages being the number of pages
// already fetched; each page after the first gets a request ID of its
// own, added to later.
func (r *Remote) getPage(ctx context.Context, cur *route, p fetchParams, pages int, later *[]string) (*fhirhttp.Response, error) {
	client, req, err := r.request(cur, p, acceptFHIR)
	if err != nil {
		return nil, err
	}
	reqCtx := ctx
	if pages > 0 {
		// A request ID in the context is for the first request only;
		// each later page is a request of its own.
		id := uuid.NewString()
		*later = append(*later, id)
		reqCtx = shcrkit.WithRequestID(ctx, id)
	}
	resp, err := client.Do(reqCtx, req)
	if err != nil {
		return nil, err
	}
	if err := checkRedirect(resp.StatusCode, cur, resp.RequestID); err != nil {
		return nil, err
	}
	return resp, nil
}

// decodePage checks that a page is FHIR JSON and decodes it.
func decodePage(resp *fhirhttp.Response, rt *route) (fhirbundle.Page, error) {
	if mt, err := answeredType(resp.Header, resp.RequestID); err == nil && !isJSONType(mt) {
		// The pointer declared JSON; an HTML page (a portal's login
		// form, a proxy's error page) or anything else is not it.
		return fhirbundle.Page{}, fmt.Errorf("%w: asked for FHIR JSON, %s answered %s [request %s]",
			ErrUnsupportedContent, rt.ep.Name, clip(shcrkit.Redact(mt), 60), resp.RequestID)
	}
	if err := resp.CheckJSONContentType(); err != nil {
		return fhirbundle.Page{}, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	var pg fhirbundle.Page
	if err := fhirhttp.DecodeJSON(resp.Body, &pg); err != nil {
		return fhirbundle.Page{}, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	if pg.ResourceType == "" {
		return fhirbundle.Page{}, fmt.Errorf("%w: the answer is not a FHIR resource [request %s]", shcrkit.ErrMalformedResponse, resp.RequestID)
	}
	return pg, nil
}

// nextPage routes a page's next link, made absolute against the provider
// URL of the page, or returns nil when there is none. When the first page
// was asked for within the endpoint's service root (as a search always
// is), every next link must stay within it too: another path on the
// same origin is not the FHIR service the request and its identity token
// were meant for.
func (r *Remote) nextPage(first, cur *route, loc location, pg *fhirbundle.Page) (*route, error) {
	next := pg.Next()
	if next == "" {
		return nil, nil
	}
	u, err := url.Parse(next)
	if err != nil {
		return nil, fmt.Errorf("%w: a next link does not parse", shcrkit.ErrMalformedResponse)
	}
	abs := cur.target.ResolveReference(u)
	abs.Fragment, abs.RawFragment = "", ""
	if base := first.ep.base; withinRoot(first.target, base) && !withinRoot(abs, base) {
		return nil, fmt.Errorf("next page link: %w: the link leaves the service root of %s", ErrHostNotAllowed, first.ep.Name)
	}
	var rt *route
	if cur.ssp != nil {
		// A page that came through the proxy links to the provider's
		// own URL; the next one goes through the proxy too.
		rt, err = r.dir.viaSSP(cur.ep, loc.custodian, abs, cur.providerASID)
	} else {
		rt, err = r.dir.route(loc.custodian, abs.String(), "")
	}
	if err != nil {
		return nil, fmt.Errorf("next page link: %w", err)
	}
	return rt, nil
}

// withinRoot reports whether u is on base's origin and its path is base's
// path or below it, both as written and decoded, with no dot segment (nor
// a backslash, which some servers take for a slash) that a server could
// resolve to somewhere else.
func withinRoot(u, base *url.URL) bool {
	if u == nil || base == nil || originOf(u) != originOf(base) {
		return false
	}
	if strings.Contains(u.Path, "\\") {
		return false
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	under := func(p, root string) bool {
		root = strings.TrimRight(root, "/")
		return p == root || strings.HasPrefix(p, root+"/") || (root == "" && p == "")
	}
	return under(u.Path, base.Path) && under(u.EscapedPath(), base.EscapedPath())
}
