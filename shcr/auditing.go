package shcr

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/sinkguard"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr/internal/auditfield"
	"go.opentelemetry.io/otel/attribute"
)

// Steps of the journey, as named in AuditError.Step.
const (
	stepTrace     = "pds trace"
	stepBoundary  = "boundary decision"
	stepSearch    = "nrl search"
	stepDecision  = "record decision"
	stepRetrieval = "retrieval"
)

// auditTimeout bounds one audit write. The write is detached from the
// caller's context: a journey cut short must still leave its record.
const auditTimeout = 10 * time.Second

const maxReason = auditfield.MaxText

func newID() string { return uuid.NewString() }

// event starts an audit event of the journey with who, about whom and
// why.
func (j *journey) event(step string, action audit.Action, service audit.Service, outcome audit.Outcome, reason string) audit.Event {
	return j.who().Event(action, service, outcome, reason)
}

// who is what every event of the journey records of who asks, about
// whom and why.
func (j *journey) who() auditfield.Who {
	return auditfield.Who{
		Time: j.c.now(), Requester: j.req.Requester, Patient: j.patient.NHSNumber, PatientFamily: j.family,
		Purpose: j.req.Purpose, Relationship: j.req.Relationship, CorrelationID: j.corr, ClientAddress: j.c.clientAddr,
	}
}

// decisionEvent records a decision: allowed (success) or refused. It
// sends nothing, so it carries no request ID; its DecisionID is what the
// interaction it authorises names.
func (j *journey) decisionEvent(step string, action audit.Action, service audit.Service, resource string, d rbac.Decision) audit.Event {
	return j.who().DecisionEvent(action, service, d, auditfield.Decision{
		Resource: resource, AdHoc: j.req.AdHoc, Policy: j.policy.Name(),
		Confidentiality: j.patient.Confidentiality, Verifying: j.c.verifier != nil,
	})
}

// write hands e to the sink, detached from ctx's cancellation but with its
// values, and turns a failure into an *AuditError.
func (j *journey) write(ctx context.Context, step string, e audit.Event) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	wctx, span := j.c.tel.Step(wctx, "shcr.audit.write", attribute.String("shcrkit.step", step))
	start := time.Now()
	var err error
	defer func() { j.c.tel.AuditWritten(wctx, span, start, step, err) }()
	// A panicking sink is a failed write, here as in every goroutine of
	// the journey: the process goes on and the data is withheld. A sink
	// that ignores its context and blocks fails the write at the
	// timeout all the same, rather than holding the journey for ever.
	if err = sinkguard.WriteWithin(wctx, j.c.sink, e); err != nil {
		return &AuditError{Step: step, Err: err}
	}
	return nil
}

// knownFailures are the journey's own errors as the audit trail records
// them.
var knownFailures = []auditfield.Known{
	{Err: ErrHostNotAllowed, Outcome: audit.OutcomeRefused, Code: "HOST_NOT_ALLOWED"},
	{Err: ErrUnknownCustodian, Outcome: audit.OutcomeRefused, Code: "UNKNOWN_CUSTODIAN"},
	{Err: shcrkit.ErrRedirectRefused, Outcome: audit.OutcomeRefused, Code: "REDIRECT_REFUSED"},
	{Err: ErrObligation, Outcome: audit.OutcomeRefused, Code: "OBLIGATION_NOT_HONOURED"},
	{Err: ErrInvalidPointer, Outcome: audit.OutcomeFailed, Code: "INVALID_POINTER"},
	{Err: ErrUnsupportedContent, Outcome: audit.OutcomeFailed, Code: "UNSUPPORTED_CONTENT"},
}

// outcomeOf classifies a failed call for the audit trail: refused by the
// other side (or by our own host checks), or failed.
func outcomeOf(err error) (audit.Outcome, string) {
	o, code := auditfield.Outcome(err, knownFailures)
	return o, clip(code, 100)
}

// errText is an error's text fit for an audit reason.
func errText(err error) string { return shcrkit.Redact(err.Error()) }

// withheldEvent turns the event of an interaction that never took place
// into the decision the SDK made instead (see auditfield.Withheld).
func withheldEvent(e audit.Event, rule string) audit.Event { return auditfield.Withheld(e, rule) }

// serverAddressOf is the host a request for loc connects to: the proxy
// for a route through the Spine Secure Proxy, the provider otherwise.
func (r *Remote) serverAddressOf(loc location) string {
	rt, _, err := r.check(loc)
	if err != nil {
		return ""
	}
	return rt.request.Hostname()
}
