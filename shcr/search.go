package shcr

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/fhirredact"
	"github.com/shcrkit/shcrkit/rbac"
)

// SearchRequest is a FHIR search on a remote ShCR by Remote.Search: the
// resources of one type held for one patient, such as
// AllergyIntolerance?patient.identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919.
type SearchRequest struct {
	// Requester is who searches; the identity token is built from it.
	// Required.
	Requester shcrkit.Requester
	// Purpose is why; it travels in the identity token.
	Purpose shcrkit.Purpose
	// Custodian picks the endpoint searched: the remote ShCR that the
	// directory says serves this custodian. Required.
	Custodian shcrkit.ODSCode
	// ResourceType is the FHIR resource type searched
	// ("AllergyIntolerance", "MedicationStatement", "Condition").
	// Required.
	ResourceType string
	// Patient is whose resources; sent as patient.identifier. Required.
	Patient shcrkit.NHSNumber
	// Params are further search parameters (_count, clinical-status...).
	// Parameters that name a patient or subject, bring in other
	// resources (_include, _revinclude, _has, _contained) or replace the
	// search with another (_query, _filter, _list, _type) are refused,
	// as are names with characters no FHIR parameter has.
	Params url.Values
	// Restricted asks for restricted data too (scope conf/R).
	Restricted bool
	// Timeout bounds the search, every page included; 0 means none beyond
	// ctx's, unless the endpoint sets its own.
	Timeout time.Duration
}

// searchLocation checks req and works out where the search goes and what
// it looks like in the audit trail (the query with the patient as
// audit.QueryPatientPlaceholder).
func (r *Remote) searchLocation(req SearchRequest) (location, string, error) {
	if !validResourceType(req.ResourceType) {
		return location{}, "", fmt.Errorf("%w: %q is not a FHIR resource type", shcrkit.ErrInvalidRequest, clip(shcrkit.Redact(req.ResourceType), 40))
	}
	if !req.Patient.Valid() {
		return location{}, "", fmt.Errorf("%w: %w", shcrkit.ErrInvalidRequest, shcrkit.ErrInvalidNHSNumber)
	}
	for k := range req.Params {
		if !allowedSearchParam(k) {
			return location{}, "", fmt.Errorf("%w: search parameter %q may not be set", shcrkit.ErrInvalidRequest, clip(shcrkit.Redact(k), 40))
		}
	}
	ep, ok := r.dir.byODS[req.Custodian]
	if !ok {
		return location{}, "", fmt.Errorf("%w: %s", ErrUnknownCustodian, shcrkit.MaskNHSNumbers(string(req.Custodian)))
	}
	q := url.Values{}
	for k, vs := range req.Params {
		q[k] = vs
	}
	q.Set("patient.identifier", codesystem.NHSNumber+"|"+string(req.Patient))
	u := *ep.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + req.ResourceType
	u.RawPath = ""
	u.RawQuery = q.Encode()
	q.Set("patient.identifier", codesystem.NHSNumber+"|"+audit.QueryPatientPlaceholder)
	return location{custodian: req.Custodian, url: u.String(), contentType: fhirhttp.MediaFHIRJSON}, q.Encode(), nil
}

// validResourceType accepts a FHIR resource type name: a capital letter
// then letters, at most 64.
func validResourceType(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

// Search runs a FHIR search on the remote ShCR that serves req.Custodian
// and returns the searchset Bundle, its pages (up to the page limit,
// each next link checked against the directory) merged into Content.Resource.
// It goes only to the endpoint's base URL, with the endpoint's
// credentials, a fresh identity token, its timeout and its parallelism
// bound, exactly as a retrieval does; a next link or redirect that leaves
// the endpoint's service root is not followed. An answer that is not a
// searchset Bundle, or that holds a resource of another type (other than
// an OperationOutcome) or one naming another patient, fails with
// shcrkit.ErrMalformedResponse and none of it is handed back.
//
// Search neither decides nor audits: use Client.Search for a search that
// must be authorised and recorded.
func (r *Remote) Search(ctx context.Context, req SearchRequest) (*Content, error) {
	if err := r.ready(ctx); err != nil {
		return nil, err
	}
	if err := req.Requester.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", shcrkit.ErrInvalidRequest, err)
	}
	loc, _, err := r.searchLocation(req)
	if err != nil {
		return nil, err
	}
	return r.search(ctx, loc, fetchParams{requester: req.Requester, purpose: req.Purpose, restricted: req.Restricted, timeout: req.Timeout},
		req.ResourceType, req.Patient, "")
}

// search runs the search at loc and checks its answer: a searchset
// Bundle whose entries are resources of resourceType (or
// OperationOutcomes about the search), none of them naming a patient other
// than patient (or alsoPatient, when set: the other side of a superseded
// number). Anything else was not asked for, nor decided on by the
// policy, and fails the search with shcrkit.ErrMalformedResponse, so that
// none of it is handed back.
func (r *Remote) search(ctx context.Context, loc location, p fetchParams, resourceType string, patient, alsoPatient shcrkit.NHSNumber) (*Content, error) {
	c, err := r.fetch(ctx, loc, p)
	if err != nil {
		return nil, err
	}
	if c.ResourceType != "Bundle" {
		return nil, fmt.Errorf("%w: a search answered %s, not a Bundle [request %s]", shcrkit.ErrMalformedResponse,
			clip(shcrkit.Redact(c.ResourceType), 40), c.RequestID)
	}
	if err := checkSearchset(c.Resource, resourceType, patientNumbers{patient, alsoPatient}); err != nil {
		err = fmt.Errorf("%w [request %s]", err, c.RequestID)
		if len(c.PageRequestIDs) > 0 {
			// The later pages were requests too, and are audited as such.
			return nil, &pagesSentError{err: err, ids: c.PageRequestIDs}
		}
		return nil, err
	}
	return c, nil
}

// deniedSearchParams are the parameters (and, by prefix, their
// modifiers and chains) a caller may not set: those naming the patient,
// which the search sets itself, and those that bring in other resources
// or replace the search with another (_query, _filter, _list, _type).
var deniedSearchParams = []string{"patient", "subject", "_include", "_revinclude", "_has", "_contained",
	"_query", "_filter", "_list", "_type"}

// allowedSearchParam reports whether a caller may set the search
// parameter name: made of the characters FHIR's parameter names,
// modifiers and chains use, and not denied.
func allowedSearchParam(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	low := strings.ToLower(name)
	for _, d := range deniedSearchParams {
		if strings.HasPrefix(low, d) {
			return false
		}
	}
	return true
}

// searchsetAnswer is what checkSearchset reads of a search's Bundle.
type searchsetAnswer struct {
	Type  string `json:"type"`
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

// checkSearchset checks a search's merged Bundle (see Remote.search). Its
// errors quote neither the resources nor the NHS numbers they name.
func checkSearchset(body []byte, resourceType string, patient patientNumbers) error {
	var b searchsetAnswer
	if err := json.Unmarshal(body, &b); err != nil {
		return fmt.Errorf("%w: the search's Bundle does not decode", shcrkit.ErrMalformedResponse)
	}
	if b.Type != "searchset" {
		return fmt.Errorf("%w: a search answered a %q Bundle, not a searchset", shcrkit.ErrMalformedResponse, clip(shcrkit.Redact(b.Type), 40))
	}
	for i, e := range b.Entry {
		if len(e.Resource) == 0 || string(e.Resource) == "null" {
			continue
		}
		var res patientOf
		if err := json.Unmarshal(e.Resource, &res); err != nil {
			return fmt.Errorf("%w: entry %d of the search's Bundle is not a FHIR resource", shcrkit.ErrMalformedResponse, i+1)
		}
		switch res.ResourceType {
		case resourceType:
		case "OperationOutcome":
			// What the server says about the search, not a patient's data.
			continue
		default:
			return fmt.Errorf("%w: a search for %s answered a %s, which was not asked for", shcrkit.ErrMalformedResponse,
				resourceType, clip(shcrkit.Redact(res.ResourceType), 40))
		}
		if !res.namesOnly(patient) {
			return fmt.Errorf("%w: entry %d of the search for %s is for another patient", shcrkit.ErrMalformedResponse, i+1, resourceType)
		}
	}
	return nil
}

// defaultResourceCategories put the FHIR resource types a journey Client
// may search into the data categories of the sample policy the module's
// tests and examples use; Config.ResourceCategories replaces them.
var defaultResourceCategories = map[string]string{
	"AllergyIntolerance":  "clinical-summary",
	"MedicationStatement": "clinical-summary",
	"Condition":           "clinical-summary",
	"Observation":         "observations",
	"CarePlan":            "care-plans",
	"Appointment":         "appointments",
}

// Search is what Client.Search looks for: one resource type at the
// remote ShCR serving a custodian.
type Search struct {
	// Custodian picks the remote ShCR, as in SearchRequest.
	Custodian shcrkit.ODSCode
	// ResourceType is the FHIR resource type searched.
	ResourceType string
	// Params are further search parameters, as in SearchRequest.
	Params url.Values
}

// SearchResult is an allowed, audited search's answer.
type SearchResult struct {
	// Patient is the traced patient.
	Patient Patient
	// Decision is the policy's decision on the resource type's category.
	Decision rbac.Decision
	// Bundle is the searchset Bundle, its pages merged, redacted as the
	// decision obliges.
	Bundle []byte
	// Pages is the number of pages read.
	Pages int
	// RequestID is the X-Request-ID of the first request; the decision's
	// and the search's audit events carry it too.
	RequestID string
	// Redacted lists the elements removed.
	Redacted []string
	// ValidUntil ends the decision's time box, or is zero.
	ValidUntil time.Time
}

// Search runs a FHIR search for req's patient at a remote ShCR, decided
// per resource type: the resource type's data category (from
// Config.ResourceCategories) takes the place of a pointer's record type.
// It traces the patient, makes and records the boundary decision and the
// search's decision, searches, honours the obligations and records the
// search (audit.ActionSearch, with the query and the patient as a
// placeholder), in that order, handing back nothing whose audit event was
// not written. A resource type in no category is refused before any
// request. A refusal fails with a *RefusedError.
func (c *Client) Search(ctx context.Context, req Request, s Search) (*SearchResult, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	ctx, j, err := c.crossBoundary(ctx, req, s.Custodian)
	if err != nil {
		return nil, err
	}
	defer j.endAhead(false)
	sreq := SearchRequest{Requester: req.Requester, Purpose: req.Purpose, Custodian: s.Custodian, ResourceType: s.ResourceType,
		Patient: j.patient.NHSNumber, Params: s.Params, Timeout: c.timeout,
		Restricted: j.patient.Confidentiality.Restricted()}
	loc, query, err := c.remote.searchLocation(sreq)
	if err != nil {
		return nil, err
	}
	d := c.searchDecision(j, s)
	reqID := newID()
	de := j.decisionEvent(stepDecision, audit.ActionSearch, audit.ServiceShCR, s.ResourceType, d)
	de.Custodian = validODS(s.Custodian)
	if err := j.write(ctx, stepDecision, de); err != nil {
		return nil, err
	}
	if !d.Allowed {
		j.endAhead(true)
		return nil, &RefusedError{Decision: d}
	}
	e := j.event(stepRetrieval, audit.ActionSearch, audit.ServiceShCR, audit.OutcomeSuccess, "")
	e.RequestID, e.Resource, e.Query = reqID, s.ResourceType, query
	e.DecisionID = de.DecisionID
	e.Custodian = validODS(s.Custodian)
	e.Endpoint = c.remote.endpointOf(s.Custodian)
	e.ServerAddress = c.remote.serverAddressOf(loc)
	e.Confidentiality = j.patient.Confidentiality
	fail := func(err error, what string, sent bool) (*SearchResult, error) {
		return nil, j.writeFailure(ctx, e, err, what, sent)
	}
	if err := j.honourAlerts(ctx, d, "", s.Custodian); err != nil {
		return fail(err, "withheld before any request", false)
	}
	content, err := c.remote.search(shcrkit.WithRequestID(ctx, reqID), loc, fetchParams{
		requester: req.Requester, purpose: req.Purpose, restricted: sreq.Restricted, timeout: c.timeout, tokens: &j.tokens,
	}, s.ResourceType, sreq.Patient, j.patient.Superseded)
	if err != nil {
		return fail(err, "failed", true)
	}
	res := &SearchResult{Patient: j.patient, Decision: d, Bundle: content.Resource, Pages: content.Pages,
		RequestID: content.RequestID, ValidUntil: validUntil(d, c.now())}
	if ob, fields := redactions(d); len(fields) > 0 {
		red, err := fhirredact.Elements(res.Bundle, fields)
		if err != nil {
			return fail(&ObligationError{Obligation: ob, Problem: "the search answer could not be redacted", Err: err}, "withheld", true)
		}
		res.Bundle, res.Redacted = red, append([]string(nil), fields...)
	}
	if err := j.recordSearch(ctx, e, s.ResourceType, res, content.PageRequestIDs); err != nil {
		return nil, err
	}
	return res, nil
}

// crossBoundary starts a journey for req, traces the patient, and makes,
// records and honours the boundary decision: what Retrieve and Search do
// before deciding on what they open. The identity token for custodian's
// endpoint, when it accepts one per journey, is signed while PDS is
// asked; the caller ends that (endAhead) once the journey is over.
func (c *Client) crossBoundary(ctx context.Context, req Request, custodian shcrkit.ODSCode) (_ context.Context, _ *journey, err error) {
	ctx, j, err := c.start(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	tctx := ctx
	if ep, ok := c.remote.dir.byODS[custodian]; ok && worthSigningAhead(ep) {
		var sent <-chan struct{}
		var end func()
		tctx, sent, end = sentSignal(ctx)
		defer end()
		j.startAhead(ctx, []<-chan struct{}{sent}, []*endpoint{ep})
		defer func() {
			if err != nil {
				j.endAhead(true)
			}
		}()
	}
	if err := j.trace(tctx); err != nil {
		return nil, nil, err
	}
	j.decideBoundary(ctx)
	if err := j.write(ctx, stepBoundary, j.boundaryEvent()); err != nil {
		return nil, nil, err
	}
	if !j.boundary.Allowed {
		return nil, nil, &RefusedError{Decision: j.boundary}
	}
	if err := j.honourAlerts(ctx, j.boundary, "", ""); err != nil {
		return nil, nil, err
	}
	// As in Discover: the demographics handed back (SearchResult.Patient)
	// lose the fields the boundary decision obliges the caller to redact.
	ob, fields := redactions(j.boundary)
	red, err := redactPatient(j.patient.Record, fields)
	if err != nil {
		return nil, nil, &ObligationError{Obligation: ob, Problem: "the demographics could not be redacted", Err: err}
	}
	j.patient.Record = red
	return ctx, j, nil
}

// searchDecision decides on a search by its resource type's data
// category; a type in no category is refused.
func (c *Client) searchDecision(j *journey, s Search) rbac.Decision {
	cat, ok := c.resourceCategories[s.ResourceType]
	if !ok {
		return rbac.Decision{Rule: "categories",
			Reasons: []string{"resource type " + s.ResourceType + " is in no data category"}}
	}
	dr := j.decisionRequest(nil)
	dr.Custodian, dr.Category = s.Custodian, cat
	return j.policy.Decide(dr)
}

// recordSearch records a search that answered: e for its first request
// and one event for each later page, which was a request of its own.
func (j *journey) recordSearch(ctx context.Context, e audit.Event, resourceType string, res *SearchResult, pageIDs []string) error {
	reason := fmt.Sprintf("searched %s, %d pages, %d bytes", resourceType, res.Pages, len(res.Bundle))
	if len(res.Redacted) > 0 {
		reason += ", redacted: " + strings.Join(res.Redacted, ",")
	}
	e.Reason = clip(reason, maxReason)
	if err := j.write(ctx, stepRetrieval, e); err != nil {
		return err
	}
	for i, id := range pageIDs {
		pe := e
		pe.RequestID = id
		pe.Reason = fmt.Sprintf("searched %s, page %d of %d", resourceType, i+2, res.Pages)
		if err := j.write(ctx, stepRetrieval, pe); err != nil {
			return err
		}
	}
	return nil
}
