package shcr

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/rbac"
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

const maxReason = 1000

func newID() string { return uuid.NewString() }

// event starts an audit event of the journey with who, about whom and
// why.
func (j *journey) event(step string, action audit.Action, service audit.Service, outcome audit.Outcome, reason string) audit.Event {
	r := j.req.Relationship
	e := audit.Event{
		Time:          j.c.now(),
		Requester:     j.req.Requester,
		UserFamily:    lastWord(j.req.Requester.Name),
		Action:        action,
		Service:       service,
		Patient:       j.patient.NHSNumber,
		PatientFamily: j.family,
		Purpose:       j.req.Purpose,
		Outcome:       outcome,
		CorrelationID: j.corr,
		ClientAddress: j.c.clientAddr,
	}
	e.Relationship = r.Kind
	if r.Kind == shcrkit.RelationshipEmergency || j.req.Purpose == shcrkit.PurposeBreakGlass {
		e.BreakGlassReason = clip(r.Reason, maxReason)
	}
	e.RelationshipEvidence = clip(r.Evidence, maxReason)
	if e.RelationshipEvidence == "" && r.Kind == shcrkit.RelationshipSelfClaimed {
		// A self-claimed relationship rests on the reason given; its
		// absence is recorded as such (the policy refuses it).
		e.RelationshipEvidence = clip(r.Reason, maxReason)
		if strings.TrimSpace(r.Reason) == "" {
			e.RelationshipEvidence = "no reason given"
		}
	}
	e.Reason = clip(reason, maxReason)
	return e
}

// decisionEvent records a decision: allowed (success) or refused. It
// sends nothing, so it carries no request ID; its DecisionID is what the
// interaction it authorises names.
func (j *journey) decisionEvent(step string, action audit.Action, service audit.Service, resource string, d rbac.Decision) audit.Event {
	outcome := audit.OutcomeSuccess
	verb := "allowed"
	if !d.Allowed {
		outcome, verb = audit.OutcomeRefused, "refused"
	}
	reason := verb + ": " + d.Reason()
	if len(d.Obligations) > 0 {
		obs := make([]string, len(d.Obligations))
		for i, o := range d.Obligations {
			obs[i] = o.String()
		}
		reason += "; obligations: " + strings.Join(obs, ", ")
	}
	if enhancedAudit(d) {
		reason += "; flagged for review (enhanced audit)"
	}
	adHoc := j.req.AdHoc != nil && (d.AdHoc || d.Rule == rbac.RuleAdHocSharing)
	if adHoc {
		reason += "; ad hoc sharing outside any agreement, flagged for review"
	}
	e := j.event(step, action, service, outcome, reason)
	if adHoc {
		e.AdHocSharing = clip(shcrkit.Redact(j.req.AdHoc.String()), maxReason)
	}
	e.Kind, e.DecisionID = audit.KindDecision, newID()
	e.Resource = resource
	e.Rule = clip(d.Rule, maxReason)
	e.Policy = clip(j.policy.Name(), maxReason)
	e.Confidentiality = j.patient.Confidentiality
	if j.c.verifier != nil || d.Verification.Status != rbac.VerificationNone {
		e.RelationshipVerification = clip(d.Verification.String(), maxReason)
	}
	if !d.Allowed {
		e.ErrorCode = "ACCESS_DENIED"
	}
	return e
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
	// the journey: the process goes on and the data is withheld.
	if err = audit.WriteSafely(wctx, j.c.sink, e); err != nil {
		return &AuditError{Step: step, Err: err}
	}
	return nil
}

// outcomeOf classifies a failed call for the audit trail: refused by the
// other side (or by our own host checks), or failed.
func outcomeOf(err error) (audit.Outcome, string) {
	var api *shcrkit.APIError
	switch {
	case errors.Is(err, ErrHostNotAllowed):
		return audit.OutcomeRefused, "HOST_NOT_ALLOWED"
	case errors.Is(err, ErrUnknownCustodian):
		return audit.OutcomeRefused, "UNKNOWN_CUSTODIAN"
	case errors.Is(err, shcrkit.ErrRedirectRefused):
		return audit.OutcomeRefused, "REDIRECT_REFUSED"
	case errors.Is(err, ErrObligation):
		return audit.OutcomeRefused, "OBLIGATION_NOT_HONOURED"
	case errors.Is(err, ErrInvalidPointer):
		return audit.OutcomeFailed, "INVALID_POINTER"
	case errors.Is(err, ErrUnsupportedContent):
		return audit.OutcomeFailed, "UNSUPPORTED_CONTENT"
	case errors.As(err, &api):
		outcome := audit.OutcomeFailed
		if api.StatusCode == 401 || api.StatusCode == 403 {
			outcome = audit.OutcomeRefused
		}
		if api.Code != "" {
			return outcome, clip(shcrkit.Redact(api.Code), 100)
		}
		return outcome, strconv.Itoa(api.StatusCode)
	case errors.Is(err, context.DeadlineExceeded):
		return audit.OutcomeFailed, "TIMEOUT"
	case errors.Is(err, context.Canceled):
		return audit.OutcomeFailed, "CANCELLED"
	case errors.Is(err, shcrkit.ErrResponseTooLarge):
		return audit.OutcomeFailed, "TOO_LARGE"
	case errors.Is(err, shcrkit.ErrMalformedResponse):
		return audit.OutcomeFailed, "MALFORMED_RESPONSE"
	case errors.Is(err, shcrkit.ErrUnavailable):
		return audit.OutcomeFailed, "UNAVAILABLE"
	}
	return audit.OutcomeFailed, "ERROR"
}

// errText is an error's text fit for an audit reason.
func errText(err error) string { return shcrkit.Redact(err.Error()) }

// withheldEvent turns the event of an interaction that never took place
// (refused or failed before any request was sent) into the decision the
// SDK made instead: it names no request ID, under a rule of its own.
func withheldEvent(e audit.Event, rule string) audit.Event {
	e.Kind, e.RequestID, e.DecisionID = audit.KindDecision, "", newID()
	e.ServerAddress, e.Rule = "", rule
	return e
}

// addressOf is the host name or IP address of a URL, for
// Event.ServerAddress.
func addressOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// serverAddressOf is the host a request for loc connects to: the proxy
// for a route through the Spine Secure Proxy, the provider otherwise.
func (r *Remote) serverAddressOf(loc location) string {
	rt, _, err := r.check(loc)
	if err != nil {
		return ""
	}
	return rt.request.Hostname()
}

// defaultClientAddress is this host's name, when the operating system
// tells it.
func defaultClientAddress() string {
	h, err := os.Hostname()
	if err != nil || strings.ContainsAny(h, "/?#@ ") {
		return ""
	}
	return h
}

// endpointOf is a URL without query or fragment, for Event.Endpoint.
func endpointOf(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return c.String()
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}
