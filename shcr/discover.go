package shcr

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/shcrkit/shcrkit/internal/patientquery"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr/internal/auditfield"
	"github.com/shcrkit/shcrkit/shcr/internal/journeytel"
	"go.opentelemetry.io/otel/attribute"
)

// journey is the state of one request as it goes through the steps.
type journey struct {
	c        *Client
	req      Request
	corr     string
	patient  Patient
	family   string
	boundary rbac.Decision
	alerts   alertSet
	tokens   tokenCache
	// crowded are the endpoints with more retrievals in this journey than
	// their bound: their documents are read in before the slot is given
	// back.
	crowded map[*endpoint]bool
	// policy decides every step of the journey: the one in force when
	// it started.
	policy *rbac.Policy
	// verification is the outcome of checking the claimed relationship.
	verification rbac.Verification
	// decisionWrites bounds the pointers' decision writes in flight at
	// once to maxAuditFanOut.
	decisionWrites chan struct{}
	// signsAhead says that the journey retrieves, so discover starts
	// signing identity tokens ahead (startAhead); aheadDone is closed
	// when that is over.
	signsAhead bool
	aheadDone  chan struct{}
	stopAhead  context.CancelFunc
}

// outcome is what became of one pointer the NRL returned: the decision
// on it, whether that decision was recorded, and, in a journey that
// retrieves, the record or why there is none. Discover and Records build
// their answers from the same outcomes, each pointer's settled once.
type outcome struct {
	// Candidate is the pointer and its decision; for an allowed pointer,
	// Unavailable says whether this client can retrieve it.
	Candidate
	// recorded reports whether the decision's audit event was written:
	// only then is the pointer listed, as a candidate or a refusal.
	recorded bool
	// rec is the record retrieved.
	rec *Record
	// err is why the decision was not recorded, or the retrieval failed.
	err error
}

// refusal is the outcome of a refused pointer in the public shape.
func (o *outcome) refusal() Candidate { return Candidate{Pointer: o.Pointer, Decision: o.Decision} }

// found is what steps 1 to 4 produce: each pointer decided, in the order
// the NRL returned them.
type found struct {
	outcomes []outcome
	problems []nrls.Problem
}

// allowedCustodians yields the custodian of each allowed pointer.
func (f *found) allowedCustodians(yield func(shcrkit.ODSCode) bool) {
	for i := range f.outcomes {
		if o := &f.outcomes[i]; o.Decision.Allowed && !yield(o.Pointer.Custodian) {
			return
		}
	}
}

// searchResult is an NRL search as made, for its audit event.
type searchResult struct {
	nhs   shcrkit.NHSNumber
	res   *nrls.SearchResult
	err   error
	reqID string
	// request is the search as it went out (see
	// nrls.Client.SearchRequestText).
	request string
}

func (c *Client) start(ctx context.Context, req Request) (context.Context, *journey, error) {
	if err := req.validate(); err != nil {
		return ctx, nil, err
	}
	sess, err := c.session(ctx, req.Requester)
	if err != nil {
		return ctx, nil, err
	}
	ctx = shcrkit.WithSession(ctx, sess)
	ctx, corr := c.journeyCtx(ctx)
	return ctx, &journey{c: c, req: req, corr: corr, policy: c.currentPolicy(),
		decisionWrites: make(chan struct{}, maxAuditFanOut)}, nil
}

// Discover traces the patient, decides whether the requester may look
// across the boundary, searches the NRL and decides per pointer: what
// exists and what this requester may open. Every step is audited before
// anything is handed back. A refused boundary fails with a *RefusedError
// (matching ErrRefused); a sink failure with an *AuditError (matching
// ErrAudit).
func (c *Client) Discover(ctx context.Context, req Request) (d *Discovery, err error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	ctx, done := c.tel.JourneySpan(ctx, "shcr.discover")
	defer func() { done(err, d.found()) }()
	return c.discoverOnly(ctx, req)
}

// found is what d found, for the journey's span; nil when d is.
func (d *Discovery) found() *journeytel.Found {
	if d == nil {
		return nil
	}
	return &journeytel.Found{Pointers: len(d.Pointers), Refused: len(d.Refused)}
}

// startDiscovery starts a journey for req and discovers the patient's
// pointers and their decisions: the first part of Discover and Records.
func (c *Client) startDiscovery(ctx context.Context, req Request) (context.Context, *journey, *found, error) {
	ctx, j, err := c.start(ctx, req)
	if err != nil {
		return ctx, nil, nil, err
	}
	f, err := j.discover(ctx)
	if err != nil {
		return ctx, nil, nil, err
	}
	return ctx, j, f, nil
}

func (c *Client) discoverOnly(ctx context.Context, req Request) (*Discovery, error) {
	ctx, j, f, err := c.startDiscovery(ctx, req)
	if err != nil {
		return nil, err
	}
	// Every decision is recorded before the list is handed back; the
	// writes go out together, up to maxAuditFanOut at once, so a slow
	// sink costs a round trip per maxAuditFanOut pointers.
	fanOut(len(f.outcomes), maxAuditFanOut, func(i int) { j.recordDecision(ctx, &f.outcomes[i]) })
	var errs []error
	for _, o := range f.outcomes {
		errs = append(errs, o.err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	d := j.discovery(f)
	for i := range d.Pointers {
		cand := &d.Pointers[i]
		if err := j.honourAlerts(ctx, cand.Decision, cand.Pointer.ID, cand.Pointer.Custodian); err != nil && cand.Unavailable == nil {
			cand.Unavailable = err
		}
	}
	return d, nil
}

// maxAuditFanOut bounds the writes of a journey's pointer decisions in
// flight at once, in Discover and Records alike.
const maxAuditFanOut = 32

// fanOut calls fn(0) to fn(n-1) on at most limit goroutines at once and
// returns when every call has.
func fanOut(n, limit int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, limit) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// discovery sorts the pointers whose decision was recorded into the
// public shape.
func (j *journey) discovery(f *found) *Discovery {
	d := &Discovery{Patient: j.patient, Boundary: j.boundary, Problems: f.problems,
		ValidUntil: validUntil(j.boundary, j.c.now()), CorrelationID: j.corr}
	allowed, refused := 0, 0
	for i := range f.outcomes {
		if o := &f.outcomes[i]; o.recorded && o.Decision.Allowed {
			allowed++
		} else if o.recorded {
			refused++
		}
	}
	if allowed > 0 {
		d.Pointers = make([]Candidate, 0, allowed)
	}
	if refused > 0 {
		d.Refused = make([]Candidate, 0, refused)
	}
	for i := range f.outcomes {
		o := &f.outcomes[i]
		switch {
		case !o.recorded:
		case o.Decision.Allowed:
			d.Pointers = append(d.Pointers, o.Candidate)
		default:
			d.Refused = append(d.Refused, o.refusal())
		}
	}
	return d
}

// firstRequests starts the journey's first requests: the NRL search
// beside the PDS trace when the NHS number is known (its answer comes on
// early, nil otherwise; cancelEarly calls it off), and, for a journey
// that signs ahead, startAhead once they have been written. The trace
// is to be made with tctx; end is for when the first steps are over.
func (j *journey) firstRequests(ctx context.Context) (tctx context.Context, early chan searchResult, cancelEarly, end func()) {
	var sent []<-chan struct{}
	watch := func(ctx context.Context) (context.Context, func()) {
		if !j.signsAhead {
			return ctx, func() {}
		}
		ctx, ch, end := sentSignal(ctx)
		sent = append(sent, ch)
		return ctx, end
	}
	cancelEarly = func() {}
	if j.req.NHSNumber != "" {
		sctx, cancel := context.WithCancel(ctx)
		cancelEarly = cancel
		early = make(chan searchResult, 1)
		sctx, searched := watch(sctx)
		go func() {
			defer searched()
			early <- j.search(sctx, j.req.NHSNumber)
		}()
	}
	tctx, end = watch(ctx)
	if j.signsAhead {
		j.startAhead(ctx, sent, j.c.remote.ahead.candidates())
	}
	return tctx, early, cancelEarly, end
}

// discover runs steps 1 to 4. When the NHS number is known the NRL
// search runs alongside the PDS trace; its answer is held back until the
// boundary decision allows it, and dropped for a fresh search when PDS
// says the number was superseded.
func (j *journey) discover(ctx context.Context) (*found, error) {
	tctx, early, cancelEarly, endFirst := j.firstRequests(ctx)
	defer endFirst()
	defer cancelEarly()
	// settleEarly records the early search when its answer is not used.
	settleEarly := func(why string) error {
		if early == nil {
			return nil
		}
		cancelEarly()
		sr := <-early
		early = nil
		return j.auditSearch(ctx, sr, why)
	}

	if err := j.trace(tctx); err != nil {
		return nil, errors.Join(err, settleEarly("results withheld: the patient was not traced"))
	}
	j.decideBoundary(ctx)
	if err := j.write(ctx, stepBoundary, j.boundaryEvent()); err != nil {
		return nil, errors.Join(err, settleEarly("results withheld: the boundary decision was not recorded"))
	}
	if !j.boundary.Allowed {
		return nil, errors.Join(&RefusedError{Decision: j.boundary}, settleEarly("results withheld: the boundary decision refused access"))
	}
	if err := j.honourAlerts(ctx, j.boundary, "", ""); err != nil {
		return nil, errors.Join(err, settleEarly("results withheld: an obligation of the boundary decision was not honoured"))
	}
	ob, fields := redactions(j.boundary)
	red, err := redactPatient(j.patient.Record, fields)
	if err != nil {
		return nil, errors.Join(&ObligationError{Obligation: ob, Problem: "the demographics could not be redacted", Err: err},
			settleEarly("results withheld: the demographics could not be redacted"))
	}
	j.patient.Record = red

	var sr searchResult
	switch {
	case early != nil && j.patient.Superseded == "":
		sr = <-early
		early = nil
	default:
		if err := settleEarly("results discarded: the NHS number searched was superseded, so the surviving number is searched"); err != nil {
			return nil, err
		}
		sr = j.search(ctx, j.patient.NHSNumber)
	}
	if err := j.auditSearch(ctx, sr, ""); err != nil {
		return nil, err
	}
	if sr.err != nil {
		return nil, sr.err
	}
	f := &found{problems: sr.res.Problems, outcomes: make([]outcome, len(sr.res.Pointers))}
	for i, p := range sr.res.Pointers {
		f.outcomes[i] = j.decide(ctx, p)
	}
	return f, nil
}

// trace is step 1: the patient in PDS, by NHS number or demographics.
func (j *journey) trace(ctx context.Context) (traceErr error) {
	ctx, span := j.c.tel.Step(ctx, "shcr.trace")
	defer func() { j.c.tel.End(span, traceErr) }()
	reqID := newID()
	cctx := shcrkit.WithRequestID(ctx, reqID)
	var (
		p     *pds.Patient
		err   error
		e     audit.Event
		query string
	)
	if nhs := j.req.NHSNumber; nhs != "" {
		p, err = j.c.pds.Get(cctx, nhs)
		j.patient.NHSNumber = nhs
		e = j.event(stepTrace, audit.ActionRead, audit.ServicePDS, audit.OutcomeSuccess, "patient traced by NHS number")
		e.Resource = "Patient/" + string(nhs)
	} else {
		q := *j.req.Demographics
		query = auditfield.PDSQuery(q.Values())
		var matches []pds.Match
		matches, err = j.c.pds.Search(cctx, q)
		switch {
		case err != nil:
		case len(matches) == 0:
			err = fmt.Errorf("%w: no patient matches the demographics", ErrPatientNotFound)
		case len(matches) > 1:
			err = fmt.Errorf("%w: %d patients match the demographics; exactly one must", ErrPatientNotFound, len(matches))
		default:
			p = matches[0].Patient
		}
		e = j.event(stepTrace, audit.ActionSearch, audit.ServicePDS, audit.OutcomeSuccess, "patient traced by demographics")
		e.Resource = "Patient"
		e.Query = query
	}
	e.Endpoint = j.c.pdsEndpoint
	e.ServerAddress = auditfield.Host(j.c.pdsEndpoint)
	e.RequestID = reqID
	if e.Action == audit.ActionSearch {
		e.Request = "GET " + strings.TrimSuffix(fhirhttp.Of(j.c.pds).BaseURL().Path, "/") + "/Patient?" + query
	}
	if err == nil && (p == nil || !p.NHSNumber().Valid()) {
		err = fmt.Errorf("%w: PDS returned a record with no valid NHS number", ErrPatientNotFound)
	}
	if err != nil {
		e.Outcome, e.ErrorCode = outcomeOf(err)
		e.Reason = clip("failed: "+errText(err), maxReason)
		if errors.Is(err, shcrkit.ErrNotFound) && !errors.Is(err, ErrPatientNotFound) {
			err = fmt.Errorf("%w: %w", ErrPatientNotFound, err)
		}
		return errors.Join(err, j.write(ctx, stepTrace, e))
	}
	j.patient.NHSNumber = p.NHSNumber()
	j.patient.Superseded = p.Superseded()
	j.patient.Record = p
	j.patient.Confidentiality = p.Confidentiality()
	e.Confidentiality = j.patient.Confidentiality
	if n, ok := p.UsualName(); ok {
		j.family = n.Family
	}
	e.Patient, e.PatientFamily = j.patient.NHSNumber, j.family
	if e.Action == audit.ActionRead {
		e.Resource = "Patient/" + string(j.patient.NHSNumber)
	}
	if j.patient.Superseded != "" {
		e.Reason += "; the number asked for is superseded by the record's"
	}
	if j.patient.Confidentiality != shcrkit.ConfidentialityUnrestricted {
		e.Reason += "; patient is " + j.patient.Confidentiality.String()
	}
	return j.write(ctx, stepTrace, e)
}

// search is step 3: the patient's pointers in the NRL.
func (j *journey) search(ctx context.Context, nhs shcrkit.NHSNumber) searchResult {
	reqID := newID()
	var opts []nrls.SearchOption
	if len(j.req.RecordTypes) > 0 {
		opts = append(opts, nrls.WithTypes(j.req.RecordTypes...))
	}
	text, _ := j.c.nrl.SearchRequestText(nhs, opts...)
	ctx, span := j.c.tel.Step(ctx, "shcr.search", attribute.String("shcrkit.request_id", reqID))
	res, err := j.c.nrl.SearchAll(shcrkit.WithRequestID(ctx, reqID), nhs, opts...)
	if res != nil {
		span.SetAttributes(attribute.Int("shcrkit.pointers", len(res.Pointers)))
	}
	j.c.tel.End(span, err)
	return searchResult{nhs: nhs, res: res, err: err, reqID: reqID, request: text}
}

// auditSearch records an NRL search. withheld, when set, says why its
// results were not used.
func (j *journey) auditSearch(ctx context.Context, sr searchResult, withheld string) error {
	e := j.event(stepSearch, audit.ActionSearch, audit.ServiceNRL, audit.OutcomeSuccess, "")
	e.Patient = sr.nhs
	if sr.nhs != j.patient.NHSNumber {
		e.PatientFamily = ""
	}
	e.Resource = "DocumentReference"
	e.Endpoint = j.c.nrlEndpoint
	e.ServerAddress = auditfield.Host(j.c.nrlEndpoint)
	e.RequestID = sr.reqID
	e.Request = patientquery.Redact(sr.request, sr.nhs)
	e.Confidentiality = j.patient.Confidentiality
	q := "subject:identifier=" + codesystem.NHSNumber + "|" + audit.QueryPatientPlaceholder
	if len(j.req.RecordTypes) > 0 {
		q += "&type=" + strings.Join(j.req.RecordTypes, ",")
	}
	e.Query = q
	var reason string
	if sr.err != nil {
		e.Outcome, e.ErrorCode = outcomeOf(sr.err)
		reason = "failed: " + errText(sr.err)
	} else {
		reason = strconv.Itoa(len(sr.res.Pointers)) + " pointer(s) found"
		if n := len(sr.res.Problems); n > 0 {
			reason += ", " + strconv.Itoa(n) + " entry(ies) left out as unreadable"
		}
	}
	if withheld != "" {
		reason += "; " + withheld
	}
	e.Reason = clip(reason, maxReason)
	return j.write(ctx, stepSearch, e)
}

// boundaryEvent records the boundary decision.
func (j *journey) boundaryEvent() audit.Event {
	return j.decisionEvent(stepBoundary, audit.ActionSearch, audit.ServiceNRL, "", j.boundary)
}

// decisionRequest is the rbac request of the boundary (p nil) or of a
// pointer.
func (j *journey) decisionRequest(p *nrls.Pointer) rbac.Request {
	r := rbac.Request{
		Requester: j.req.Requester,
		Patient: rbac.Subject{NHSNumber: j.patient.NHSNumber, Confidentiality: j.patient.Confidentiality,
			Dissent: j.req.Dissent},
		Relationship: j.req.Relationship,
		Purpose:      j.req.Purpose,
		Time:         j.c.now(),
		Verification: j.verification,
	}
	if p != nil {
		r.Custodian = p.Custodian
		r.RecordType = p.Type.Code
		r.RecordConfidentiality = p.Confidentiality
		if j.req.AdHoc.Covers(p.ID) {
			r.AdHoc = j.req.AdHoc
		}
	}
	return r
}

// decidePointer is step 4 for one pointer.
func (j *journey) decidePointer(p nrls.Pointer) rbac.Decision {
	if p.NHSNumber != j.patient.NHSNumber {
		return rbac.Decision{Rule: "patient",
			Reasons: []string{"the pointer is not for the traced patient"}}
	}
	if p.Custodian == "" || p.Type.Code == "" {
		return rbac.Decision{Rule: "pointer",
			Reasons: []string{"the pointer names no custodian or record type"}}
	}
	return j.policy.Decide(j.decisionRequest(&p))
}

// decide is step 4 for one pointer, with its telemetry: its outcome,
// decided but not yet recorded.
func (j *journey) decide(ctx context.Context, p nrls.Pointer) outcome {
	d := j.decidePointer(p)
	j.c.tel.Decided(ctx, d, &p)
	o := outcome{Candidate: Candidate{Pointer: p, Decision: d}}
	if d.Allowed {
		o.Unavailable = j.c.remote.Check(p)
	}
	return o
}

// recordDecision records a pointer's decision and returns its ID, which
// the retrieval it authorises names. A failed write is the outcome's
// error.
func (j *journey) recordDecision(ctx context.Context, o *outcome) (string, bool) {
	e := j.decisionEvent(stepDecision, audit.ActionRead, audit.ServiceShCR, "DocumentReference/"+o.Pointer.ID, o.Decision)
	e.Custodian = validODS(o.Pointer.Custodian)
	e.Confidentiality = o.Pointer.Confidentiality
	// The write is detached from ctx (see write), so is the wait for
	// its turn.
	j.decisionWrites <- struct{}{}
	o.err = j.write(ctx, stepDecision, e)
	<-j.decisionWrites
	if o.err != nil {
		return "", false
	}
	o.recorded = true
	return e.DecisionID, true
}

// validODS keeps a custodian code only when the audit trail can take it.
func validODS(c shcrkit.ODSCode) shcrkit.ODSCode {
	if c.Valid() {
		return c
	}
	return ""
}
