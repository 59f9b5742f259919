package nrls

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/textclip"
)

// SearchOption narrows or shapes a search or a count.
type SearchOption func(*searchQuery)

type searchQuery struct {
	custodian  shcrkit.ODSCode
	types      []string
	categories []string
	method     string
	err        error
}

// WithCustodian keeps only the pointers held by one organisation
// (custodian:identifier).
func WithCustodian(ods shcrkit.ODSCode) SearchOption {
	return func(q *searchQuery) {
		if !ods.Valid() {
			q.fail("custodian must be an upper-case ODS code")
			return
		}
		q.custodian = ods
	}
}

// WithTypes keeps only pointers of these record types: SNOMED codes (see
// Types), or "system|code" tokens. Several types are sent as one
// comma-separated parameter.
func WithTypes(codes ...string) SearchOption {
	return func(q *searchQuery) { q.types = q.addTokens(q.types, "type", codes) }
}

// WithCategories keeps only pointers of these record categories: SNOMED
// codes or "system|code" tokens.
func WithCategories(codes ...string) SearchOption {
	return func(q *searchQuery) { q.categories = q.addTokens(q.categories, "category", codes) }
}

func (q *searchQuery) fail(msg string) {
	if q.err == nil {
		q.err = fmt.Errorf("%w: %s", shcrkit.ErrInvalidRequest, msg)
	}
}

func (q *searchQuery) addTokens(dst []string, what string, codes []string) []string {
	if len(codes) == 0 {
		q.fail(what + " option needs at least one code")
	}
	for _, c := range codes {
		c = strings.TrimSpace(c)
		if c == "" || strings.ContainsAny(c, ", \t\r\n") {
			q.fail(what + " codes must be non-empty and hold no comma or space")
			continue
		}
		system, code, ok := strings.Cut(c, "|")
		switch {
		case !ok:
			c = codesystem.SNOMED + "|" + c
		case system == "" || code == "" || strings.Contains(code, "|"):
			q.fail(what + " tokens must be system|code")
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// SearchResult is the whole answer to a search.
type SearchResult struct {
	// Pointers are the patient's pointers, in the service's order.
	Pointers []Pointer
	// Problems are the entries left out: OperationOutcome entries for
	// stored pointers the service could not read, pointers for another
	// patient, unreadable entries. A problem is no failure of the search,
	// but it means the list may be incomplete, and the custodian should
	// hear of it.
	Problems []Problem
	// Total is Bundle.total as the service sent it (entries left out
	// included).
	Total int
	// RequestID is the X-Request-ID of the search.
	RequestID string
}

// Search returns the pointers to a patient's records, narrowed by opts.
// The service sends every match at once (there is no paging). A search
// that finds nothing returns an empty slice and no error, whether the
// service answers with an empty Bundle or with NO_RECORD_FOUND.
//
// Entries that are not this patient's pointers are left out, each logged
// as a warning; SearchAll reports them.
func (c *Client) Search(ctx context.Context, nhs shcrkit.NHSNumber, opts ...SearchOption) ([]Pointer, error) {
	res, err := c.SearchAll(ctx, nhs, opts...)
	if err != nil {
		return nil, err
	}
	return res.Pointers, nil
}

// SearchAll is Search returning the whole result: the pointers, the
// entries left out, the total the service reported and the request ID.
func (c *Client) SearchAll(ctx context.Context, nhs shcrkit.NHSNumber, opts ...SearchOption) (*SearchResult, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	_, req, err := c.searchRequest(nhs, false, opts)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		if noRecord(err) {
			return &SearchResult{Pointers: []Pointer{}, RequestID: requestIDOf(err)}, nil
		}
		return nil, err
	}
	res, err := decodeSearch(resp, nhs)
	if err != nil {
		if noRecord(err) {
			return &SearchResult{Pointers: []Pointer{}, RequestID: resp.RequestID}, nil
		}
		return nil, err
	}
	for _, p := range res.Problems {
		c.logger.LogAttrs(ctx, slog.LevelWarn, "nrls: search entry left out",
			slog.String("problem", p.String()), slog.String("request_id", res.RequestID))
	}
	return res, nil
}

// SearchRequestText returns the request SearchAll sends for nhs and opts
// as it goes out, without scheme and host: the method and path (with the
// query string of a GET) and, for a POST, a blank line and the body. It
// is what an audit record keeps of a search (BALP's entity[query]).
func (c *Client) SearchRequestText(nhs shcrkit.NHSNumber, opts ...SearchOption) (string, error) {
	if err := c.usable(); err != nil {
		return "", err
	}
	q, req, err := c.searchRequest(nhs, false, opts)
	if err != nil {
		return "", err
	}
	path := strings.TrimSuffix(c.http.BaseURL().Path, "/") + req.Path
	if q.method == http.MethodGet {
		return http.MethodGet + " " + path + "?" + req.Query.Encode(), nil
	}
	return q.method + " " + path + "\n\n" + string(req.Body), nil
}

// Count returns how many pointers a search would return
// (_summary=count), without fetching them.
func (c *Client) Count(ctx context.Context, nhs shcrkit.NHSNumber, opts ...SearchOption) (int, error) {
	if err := c.usable(); err != nil {
		return 0, err
	}
	_, req, err := c.searchRequest(nhs, true, opts)
	if err != nil {
		return 0, err
	}
	resp, err := c.http.Do(ctx, req)
	if err != nil {
		if noRecord(err) {
			return 0, nil
		}
		return 0, err
	}
	if err := resp.CheckJSONContentType(); err != nil {
		return 0, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	var b struct {
		ResourceType string            `json:"resourceType"`
		Total        *int              `json:"total"`
		Entry        []json.RawMessage `json:"entry"`
	}
	if err := fhirhttp.DecodeJSON(resp.Body, &b); err != nil {
		return 0, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	if err := bundleOnly(b.ResourceType, resp); err != nil {
		if noRecord(err) {
			return 0, nil
		}
		return 0, err
	}
	if b.Total == nil || *b.Total < 0 {
		return 0, fmt.Errorf("%w: count Bundle has no total [request %s]", shcrkit.ErrMalformedResponse, resp.RequestID)
	}
	return *b.Total, nil
}

// searchBody is the JSON body of POST /DocumentReference/_search.
type searchBody struct {
	Subject   string `json:"subject:identifier"`
	Custodian string `json:"custodian:identifier,omitempty"`
	Type      string `json:"type,omitempty"`
	Category  string `json:"category,omitempty"`
	Summary   string `json:"_summary,omitempty"`
}

func (c *Client) searchRequest(nhs shcrkit.NHSNumber, count bool, opts []SearchOption) (*searchQuery, *fhirhttp.Request, error) {
	if !nhs.Valid() {
		return nil, nil, fmt.Errorf("%w: search needs a valid NHS number", shcrkit.ErrInvalidRequest)
	}
	q := &searchQuery{method: http.MethodPost}
	if c.searchGET {
		q.method = http.MethodGet
	}
	for _, o := range opts {
		if o == nil {
			q.fail("nil search option")
			continue
		}
		o(q)
	}
	if q.err != nil {
		return nil, nil, q.err
	}
	b := searchBody{Subject: codesystem.NHSNumber + "|" + string(nhs), Type: strings.Join(q.types, ","), Category: strings.Join(q.categories, ",")}
	if q.custodian != "" {
		b.Custodian = codesystem.ODS + "|" + string(q.custodian)
	}
	if count {
		b.Summary = "count"
	}
	if q.method == http.MethodGet {
		v := url.Values{"subject:identifier": {b.Subject}}
		for k, s := range map[string]string{"custodian:identifier": b.Custodian, "type": b.Type, "category": b.Category, "_summary": b.Summary} {
			if s != "" {
				v.Set(k, s)
			}
		}
		return q, &fhirhttp.Request{Path: "/DocumentReference", Query: v}, nil
	}
	body, err := json.Marshal(b)
	if err != nil {
		return nil, nil, err
	}
	// A search changes nothing, so its POST may be retried like a GET.
	return q, &fhirhttp.Request{Method: http.MethodPost, Path: "/DocumentReference/_search", Body: body,
		ContentType: fhirhttp.MediaJSON, Idempotent: true}, nil
}

// noRecord reports whether err is the service's NO_RECORD_FOUND answer,
// which a search takes for an empty result: a 404, or an OperationOutcome
// sent with 200 in place of the Bundle.
func noRecord(err error) bool {
	var ae *shcrkit.APIError
	return errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusOK) &&
		strings.EqualFold(strings.ReplaceAll(ae.Code, " ", "_"), "NO_RECORD_FOUND")
}

func requestIDOf(err error) string {
	var ae *shcrkit.APIError
	if errors.As(err, &ae) {
		return ae.RequestID
	}
	return ""
}

// bundleOnly turns an answer that is not a Bundle into an error: an
// OperationOutcome sent with 200 becomes an *shcrkit.APIError carrying its
// code.
func bundleOnly(resourceType string, resp *fhirhttp.Response) error {
	switch resourceType {
	case "Bundle":
		return nil
	case "OperationOutcome":
		return resp.APIError()
	}
	return fmt.Errorf("%w: answer is a %q, not a Bundle [request %s]",
		shcrkit.ErrMalformedResponse, textclip.Clip(shcrkit.Redact(resourceType), 40), resp.RequestID)
}

// fastBundle decodes a search Bundle in one pass when every entry is a
// well-formed DocumentReference, the usual case.
type fastBundle struct {
	ResourceType string `json:"resourceType"`
	Total        *int   `json:"total"`
	Entry        []struct {
		Resource resourceEntry `json:"resource"`
	} `json:"entry"`
}

// rawBundle keeps each entry's resource undecoded, so that one bad entry
// spoils nothing but itself.
type rawBundle struct {
	ResourceType string `json:"resourceType"`
	Total        *int   `json:"total"`
	Entry        []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

func decodeSearch(resp *fhirhttp.Response, nhs shcrkit.NHSNumber) (*SearchResult, error) {
	if err := resp.CheckJSONContentType(); err != nil {
		return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	// Pointers are kept, shown and audited: a service that wrote the
	// consumer's own credentials into one does not get them that far.
	resp.Body = resp.ClearedBody()
	res := &SearchResult{RequestID: resp.RequestID}
	var fb fastBundle
	if err := json.Unmarshal(resp.Body, &fb); err == nil && allPointers(&fb) {
		if err := bundleOnly(fb.ResourceType, resp); err != nil {
			return nil, err
		}
		res.Pointers = make([]Pointer, 0, len(fb.Entry))
		for i := range fb.Entry {
			res.keep(i, &fb.Entry[i].Resource.DocumentReference, nhs)
		}
		res.Total = totalOf(fb.Total, len(fb.Entry))
		return res, nil
	}
	var rb rawBundle
	if err := fhirhttp.DecodeJSON(resp.Body, &rb); err != nil {
		return nil, fmt.Errorf("%w [request %s]", err, resp.RequestID)
	}
	if err := bundleOnly(rb.ResourceType, resp); err != nil {
		return nil, err
	}
	res.Pointers = make([]Pointer, 0, len(rb.Entry))
	for i, e := range rb.Entry {
		res.entry(i, e.Resource, nhs)
	}
	res.Total = totalOf(rb.Total, len(rb.Entry))
	return res, nil
}

func allPointers(b *fastBundle) bool {
	for i := range b.Entry {
		if b.Entry[i].Resource.ResourceType != "DocumentReference" {
			return false
		}
	}
	return true
}

func totalOf(t *int, n int) int {
	if t != nil {
		return *t
	}
	return n
}

// entry sorts one undecoded entry into a pointer or a problem.
func (r *SearchResult) entry(i int, raw json.RawMessage, nhs shcrkit.NHSNumber) {
	var probe struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Custodian    *struct {
			Identifier *struct {
				Value string `json:"value"`
			} `json:"identifier"`
		} `json:"custodian"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &probe) != nil {
		r.problem(Problem{Entry: i, Kind: ProblemMalformed, Detail: "entry has no readable resource"})
		return
	}
	switch probe.ResourceType {
	case "OperationOutcome":
		pr := Problem{Entry: i, Kind: ProblemOutcome, Detail: "the service could not return this pointer"}
		if o, ok := fhirhttp.ParseOutcome(raw); ok {
			pr.Code = o.Code
			if pr.Code == "" {
				pr.Code = strings.ToUpper(strings.ReplaceAll(o.IssueType, "-", "_"))
			}
			if o.Diagnostics != "" {
				pr.Detail = textclip.Clip(shcrkit.Redact(o.Diagnostics), 300)
			}
		}
		r.problem(pr)
	case "DocumentReference":
		doc, err := decodeDocumentReference(raw)
		if err != nil {
			pr := Problem{Entry: i, Kind: ProblemMalformed, PointerID: probe.ID,
				Detail: "pointer does not decode: " + fhirhttp.DescribeJSONError(err)}
			if probe.Custodian != nil && probe.Custodian.Identifier != nil {
				pr.Custodian = shcrkit.ODSCode(probe.Custodian.Identifier.Value)
			}
			r.problem(pr)
			return
		}
		r.keep(i, &doc, nhs)
	default:
		r.problem(Problem{Entry: i, Kind: ProblemMalformed, PointerID: probe.ID,
			Detail: fmt.Sprintf("entry is a %q, not a DocumentReference", textclip.Clip(shcrkit.Redact(probe.ResourceType), 40))})
	}
}

// keep adds a decoded pointer, unless its subject is not the patient
// searched for.
func (r *SearchResult) keep(i int, doc *fhir.DocumentReference, nhs shcrkit.NHSNumber) {
	p := PointerFrom(*doc)
	if p.NHSNumber != nhs {
		detail := "pointer is for another patient"
		if p.NHSNumber == "" {
			detail = "pointer names no valid NHS number"
		}
		r.problem(Problem{Entry: i, Kind: ProblemWrongPatient, PointerID: p.ID, Custodian: p.Custodian, Detail: detail})
		return
	}
	r.Pointers = append(r.Pointers, p)
}

func (r *SearchResult) problem(p Problem) { r.Problems = append(r.Problems, p) }
