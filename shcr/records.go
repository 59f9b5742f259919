package shcr

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/fhirredact"
	"github.com/shcrkit/shcrkit/internal/telemetry"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/shcr/internal/auditfield"
	"go.opentelemetry.io/otel/attribute"
)

// Records runs the whole journey: Discover's steps, then the retrieval
// of every allowed pointer, concurrently, each bounded by the custodian's
// timeout and by its endpoint's parallelism bound (per endpoint, not
// global), so a slow or failing remote ShCR holds up or fails no other.
// A streamed document holds its endpoint's place until its body is
// closed; when a journey has more records at one endpoint than its bound,
// that endpoint's documents are read into memory (up to the document size
// cap) so that their places free up for the rest. Obligations are honoured (alerts sent,
// fields redacted, time boxes set) and every decision and retrieval is
// audited, refused and failed ones too, before its record is handed back.
//
// The Result carries the records, the refusals with the policy's reasons
// and the per-pointer failures side by side. Records fails as a whole
// only when a step before the retrievals fails: the patient cannot be
// traced, the boundary is refused (*RefusedError), the NRL cannot be
// searched, or the audit sink does not take a step's event (*AuditError).
// The caller must Close the Result to release attachment streams.
func (c *Client) Records(ctx context.Context, req Request) (res *Result, err error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	ctx, done := c.tel.JourneySpan(ctx, "shcr.journey")
	defer func() {
		var d *Discovery
		if res != nil {
			d = &res.Discovery
		}
		done(err, d.found())
	}()
	return c.records(ctx, req)
}

func (c *Client) records(ctx context.Context, req Request) (*Result, error) {
	ctx, j, err := c.start(ctx, req)
	if err != nil {
		return nil, err
	}
	j.signsAhead = true
	f, err := j.discover(ctx)
	if err != nil {
		j.endAhead(true)
		return nil, err
	}
	defer j.endAhead(false)
	j.crowded = c.remote.crowded(f.allowedCustodians)
	j.settle(ctx, f)
	return j.result(f), nil
}

// settle records every pointer's decision and retrieves the allowed
// ones. Each endpoint's retrievals run on workers of their own, taking
// its pointers in the NRL's order: twice the endpoint's bound of them
// (fewer when it has fewer pointers), so that while the bound's worth
// hold its places, as many more have recorded their pointers' decisions
// and wait for a place, and a place given back is taken at once. A
// retrieval waits for its place as the request is made (Remote.fetch),
// so a slow custodian holds up none of the others; with a cancelled
// context, open still records the decision and the retrieval that it
// prevents. The pointers no request is made for (refused, or not
// retrievable by this client) are recorded alongside, up to
// maxAuditFanOut at once.
//
// Workers rather than a goroutine per pointer: a journey with hundreds
// of pointers would otherwise do every pointer's work before the first
// answers are read, and grow a stack per pointer.
func (j *journey) settle(ctx context.Context, f *found) {
	// lane is one endpoint's pointers and its workers' place among them.
	type lane struct {
		ep      *endpoint
		q       []*outcome
		next    atomic.Int64
		workers int
	}
	lanes := make(map[*endpoint]*lane)
	var order []*lane // in the order the NRL first names the endpoints
	var rest []*outcome
	for i := range f.outcomes {
		o := &f.outcomes[i]
		ep, ok := j.c.remote.dir.byODS[o.Pointer.Custodian]
		if !o.Decision.Allowed || o.Unavailable != nil || !ok {
			rest = append(rest, o)
			continue
		}
		l := lanes[ep]
		if l == nil {
			l = &lane{ep: ep}
			lanes[ep] = l
			order = append(order, l)
		}
		l.q = append(l.q, o)
	}
	used := make(map[*endpoint]bool, len(lanes))
	for ep := range lanes {
		used[ep] = true
	}
	j.c.remote.ahead.observe(used)
	var wg sync.WaitGroup
	wg.Go(func() {
		fanOut(len(rest), maxAuditFanOut, func(i int) {
			if o := rest[i]; o.Decision.Allowed {
				j.open(ctx, o)
			} else {
				j.recordDecision(ctx, o)
			}
		})
	})
	most := 0
	for _, l := range order {
		l.workers = min(len(l.q), 2*j.c.remote.bound(l.ep))
		most = max(most, l.workers)
	}
	// The workers start round by round over the endpoints, so that the
	// first requests to every endpoint go out first.
	for round := range most {
		for _, l := range order {
			if round >= l.workers {
				continue
			}
			wg.Go(func() {
				for i := int(l.next.Add(1) - 1); i < len(l.q); i = int(l.next.Add(1) - 1) {
					j.open(ctx, l.q[i])
				}
			})
		}
	}
	wg.Wait()
}

// result sorts the settled outcomes into the public shape: the pointers
// whose decision was recorded as Discover lists them, with the records
// retrieved and the failures, in the order of the pointers. A pointer
// whose decision was not recorded is a failure only.
func (j *journey) result(f *found) *Result {
	res := &Result{Discovery: *j.discovery(f)}
	if n := len(res.Pointers); n > 0 {
		res.Records = make([]*Record, 0, n)
	}
	for i := range f.outcomes {
		o := &f.outcomes[i]
		switch {
		case o.err != nil:
			res.Failures = append(res.Failures, &RetrievalError{Pointer: o.Pointer, Custodian: o.Pointer.Custodian, Err: o.err})
		case o.rec != nil:
			res.Records = append(res.Records, o.rec)
		}
	}
	return res
}

// Retrieve opens one pointer for the request: it traces the patient,
// makes and records the boundary and the pointer's decisions, retrieves
// the record, honours the obligations and records the retrieval, in that
// order, handing back nothing whose audit event was not written. A
// refusal fails with a *RefusedError carrying the policy's reasons.
func (c *Client) Retrieve(ctx context.Context, req Request, p nrls.Pointer) (*Record, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	ctx, j, err := c.crossBoundary(ctx, req, p.Custodian)
	if err != nil {
		return nil, err
	}
	defer j.endAhead(false)
	o := outcome{Candidate: Candidate{Pointer: p, Decision: j.decidePointer(p)}}
	if !o.Decision.Allowed {
		j.endAhead(true)
		if _, ok := j.recordDecision(ctx, &o); !ok {
			return nil, o.err
		}
		return nil, &RefusedError{Decision: o.Decision, PointerID: p.ID}
	}
	o.Unavailable = c.remote.Check(p)
	j.open(ctx, &o)
	return o.rec, o.err
}

// open records an allowed pointer's decision, honours its obligations,
// retrieves the record and records the retrieval, settling o.
func (j *journey) open(ctx context.Context, o *outcome) {
	o.rec, o.err = j.retrieve(ctx, o)
}

// retrieve is open's work: the record, or why there is none.
func (j *journey) retrieve(ctx context.Context, o *outcome) (rec *Record, err error) {
	cand := o.Candidate
	p := cand.Pointer
	ctx, span := j.c.tel.Step(ctx, "shcr.retrieve", attribute.String("shcrkit.custodian", string(validODS(p.Custodian))),
		attribute.String("shcrkit.record_type", telemetry.Clean(p.Type.Code)))
	start := time.Now()
	defer func() {
		reqID := ""
		if rec != nil {
			reqID = rec.RequestID
		}
		j.c.tel.Retrieved(ctx, span, start, validODS(p.Custodian), reqID, err)
	}()
	// The retrieval names the decision that authorises it by the
	// decision's ID; the request ID is the retrieval's own.
	decisionID, ok := j.recordDecision(ctx, o)
	if !ok {
		return nil, o.err
	}
	reqID := newID()
	e := j.retrievalEvent(p, reqID, decisionID)
	fail := func(err error, what string, sent bool) (*Record, error) {
		return nil, j.writeFailure(ctx, e, err, what, sent)
	}
	if err := j.honourAlerts(ctx, cand.Decision, p.ID, p.Custodian); err != nil {
		return fail(err, "withheld before any request", false)
	}
	if cand.Unavailable != nil {
		return fail(cand.Unavailable, "refused before any connection", false)
	}
	ob, fields := redactions(cand.Decision)
	if len(fields) > 0 && !isFHIRType(p.ContentType) {
		return fail(&ObligationError{Obligation: ob, Problem: "the record is a document, not structured data, so fields cannot be removed from it"},
			"withheld before any request", false)
	}
	restricted := j.patient.Confidentiality.Restricted() || p.Confidentiality.Restricted()
	var buffer bool
	if ep, ok := j.c.remote.dir.byODS[p.Custodian]; ok {
		buffer = j.crowded[ep]
	}
	loc := locationOf(p)
	// A superseded number and its surviving one are the same patient's.
	switch {
	case j.patient.Superseded == "":
	case loc.patient == j.patient.Superseded:
		loc.alsoPatient = j.patient.NHSNumber
	case loc.patient == j.patient.NHSNumber:
		loc.alsoPatient = j.patient.Superseded
	}
	content, err := j.c.remote.fetch(shcrkit.WithRequestID(ctx, reqID), loc, fetchParams{
		requester: j.req.Requester, purpose: j.req.Purpose, restricted: restricted, timeout: j.c.timeout,
		buffer: buffer, tokens: &j.tokens,
	})
	if err != nil {
		return fail(err, "failed", true)
	}
	rec = &Record{
		Pointer: p, Decision: cand.Decision, ContentType: content.ContentType, ResourceType: content.ResourceType,
		Resource: content.Resource, Pages: content.Pages, Body: content.Body, Size: content.Size,
		ValidUntil: validUntil(cand.Decision, j.c.now()), RequestID: content.RequestID, ViaSSP: content.ViaSSP,
	}
	if len(fields) > 0 {
		red, err := fhirredact.Elements(rec.Resource, fields)
		if err != nil {
			rec.Close()
			return fail(&ObligationError{Obligation: ob, Problem: "the record could not be redacted", Err: err}, "withheld", true)
		}
		rec.Resource, rec.Size, rec.Redacted = red, int64(len(red)), append([]string(nil), fields...)
	}
	if err := j.writeRetrieved(ctx, e, rec, content.PageRequestIDs); err != nil {
		rec.Close()
		return nil, err
	}
	return rec, nil
}

// retrievalEvent is the audit event of the retrieval of p, a successful
// one until it is known otherwise.
func (j *journey) retrievalEvent(p nrls.Pointer, reqID, decisionID string) audit.Event {
	e := j.event(stepRetrieval, audit.ActionRead, audit.ServiceShCR, audit.OutcomeSuccess, "")
	e.RequestID, e.DecisionID = reqID, decisionID
	e.Resource = "DocumentReference/" + p.ID
	e.Custodian = validODS(p.Custodian)
	e.Endpoint = j.c.remote.endpointOf(p.Custodian)
	e.ServerAddress = j.c.remote.serverAddressOf(locationOf(p))
	e.Confidentiality = p.Confidentiality
	return e
}

// writeFailure records a retrieval that failed or was withheld, and
// returns err with any failure to record it; when no request was sent, the
// event is the SDK's decision to withhold it.
func (j *journey) writeFailure(ctx context.Context, e audit.Event, err error, what string, sent bool) error {
	e.Outcome, e.ErrorCode = outcomeOf(err)
	e.Reason = clip(what+": "+errText(err), maxReason)
	if !sent {
		e = withheldEvent(e, "withheld/"+e.ErrorCode)
	}
	werr := j.write(ctx, stepRetrieval, e)
	// The later pages of a Bundle asked for before the failure were
	// requests too.
	for i, id := range pagesSent(err) {
		if werr != nil {
			break
		}
		pe := e
		pe.RequestID = id
		pe.Reason = clip("page "+strconv.Itoa(i+2)+": "+e.Reason, maxReason)
		werr = j.write(ctx, stepRetrieval, pe)
	}
	return errors.Join(err, werr)
}

// writeRetrieved records a successful retrieval of rec, and each later
// page of a Bundle as a request of its own.
func (j *journey) writeRetrieved(ctx context.Context, e audit.Event, rec *Record, pageRequestIDs []string) error {
	e.Reason = clip(describe(rec), maxReason)
	if err := j.write(ctx, stepRetrieval, e); err != nil {
		return err
	}
	for i, id := range pageRequestIDs {
		pe := e
		pe.RequestID = id
		pe.Reason = "retrieved page " + strconv.Itoa(i+2) + " of " + strconv.Itoa(rec.Pages)
		if err := j.write(ctx, stepRetrieval, pe); err != nil {
			return err
		}
	}
	return nil
}

// describe summarises a record for its audit event: identifiers and
// sizes, never content.
func describe(r *Record) string {
	var b strings.Builder
	b.WriteString("retrieved ")
	b.WriteString(r.ContentType)
	if r.ResourceType != "" {
		b.WriteString(" " + r.ResourceType)
	}
	if r.Pages > 1 {
		b.WriteString(", " + strconv.Itoa(r.Pages) + " pages")
	}
	if r.Size >= 0 {
		b.WriteString(", " + strconv.FormatInt(r.Size, 10) + " bytes")
	}
	if r.Body != nil {
		b.WriteString(", streamed")
	}
	if r.ViaSSP {
		b.WriteString(", via SSP")
	}
	if len(r.Redacted) > 0 {
		b.WriteString(", redacted: " + strings.Join(r.Redacted, ","))
	}
	if enhancedAudit(r.Decision) {
		b.WriteString("; flagged for review (enhanced audit)")
	}
	return b.String()
}

func isFHIRType(ct string) bool {
	mt := strings.TrimSpace(strings.ToLower(ct))
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = strings.TrimSpace(mt[:i])
	}
	return isJSONType(mt)
}

// endpointOf names the service root of a custodian's endpoint, for audit.
func (r *Remote) endpointOf(custodian shcrkit.ODSCode) string {
	if ep, ok := r.dir.byODS[custodian]; ok {
		return auditfield.Endpoint(ep.base)
	}
	return ""
}

// crowded returns the endpoints that the retrievals from custodians
// would ask more of than their bound allows at once.
func (r *Remote) crowded(custodians iter.Seq[shcrkit.ODSCode]) map[*endpoint]bool {
	n := make(map[*endpoint]int)
	var out map[*endpoint]bool
	for c := range custodians {
		ep, ok := r.dir.byODS[c]
		if !ok {
			continue
		}
		if n[ep]++; n[ep] > r.bound(ep) {
			if out == nil {
				out = make(map[*endpoint]bool)
			}
			out[ep] = true
		}
	}
	return out
}
