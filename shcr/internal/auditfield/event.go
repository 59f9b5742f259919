package auditfield

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/textclip"
	"github.com/shcrkit/shcrkit/rbac"
)

// MaxText bounds a free-text field of an event.
const MaxText = 1000

// Who is who asks, about whom and why: what every event of one journey
// shares.
type Who struct {
	Time          time.Time
	Requester     shcrkit.Requester
	Patient       shcrkit.NHSNumber
	PatientFamily string
	Purpose       shcrkit.Purpose
	Relationship  rbac.Relationship
	CorrelationID string
	ClientAddress string
}

// Event starts an event with who, about whom and why, the action, its
// outcome and a reason. The relationship's reason is recorded as a break
// glass reason for emergency access, and as the evidence of a
// self-claimed relationship that has none (or as "no reason given").
func (w Who) Event(action audit.Action, service audit.Service, outcome audit.Outcome, reason string) audit.Event {
	r := w.Relationship
	e := audit.Event{
		Time:          w.Time,
		Requester:     w.Requester,
		UserFamily:    LastWord(w.Requester.Name),
		Action:        action,
		Service:       service,
		Patient:       w.Patient,
		PatientFamily: w.PatientFamily,
		Purpose:       w.Purpose,
		Outcome:       outcome,
		CorrelationID: w.CorrelationID,
		ClientAddress: w.ClientAddress,
		Relationship:  r.Kind,
	}
	if r.Kind == shcrkit.RelationshipEmergency || w.Purpose == shcrkit.PurposeBreakGlass {
		e.BreakGlassReason = Clip(r.Reason, MaxText)
	}
	e.RelationshipEvidence = Clip(r.Evidence, MaxText)
	if e.RelationshipEvidence == "" && r.Kind == shcrkit.RelationshipSelfClaimed {
		// A self-claimed relationship rests on the reason given; its
		// absence is recorded as such (the policy refuses it).
		e.RelationshipEvidence = Clip(r.Reason, MaxText)
		if strings.TrimSpace(r.Reason) == "" {
			e.RelationshipEvidence = "no reason given"
		}
	}
	e.Reason = Clip(reason, MaxText)
	return e
}

// Decision is what an event of a decision records beside the decision
// itself.
type Decision struct {
	// Resource is what was decided on.
	Resource string
	// AdHoc is the ad hoc sharing asked for, or nil.
	AdHoc *rbac.AdHoc
	// Policy names the policy that decided.
	Policy string
	// Confidentiality is the patient's label.
	Confidentiality shcrkit.Confidentiality
	// Verifying is true when a relationship verifier is configured: its
	// verdict is recorded even when it had none.
	Verifying bool
}

// DecisionEvent records decision d: allowed (success) or refused, with
// its reasons, obligations and review flags. It sends nothing, so it
// carries no request ID; its DecisionID is what the interaction it
// authorises names.
func (w Who) DecisionEvent(action audit.Action, service audit.Service, d rbac.Decision, info Decision) audit.Event {
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
	if _, ok := d.Obligation(rbac.ObligationEnhancedAudit); ok {
		reason += "; flagged for review (enhanced audit)"
	}
	adHoc := info.AdHoc != nil && (d.AdHoc || d.Rule == rbac.RuleAdHocSharing)
	if adHoc {
		reason += "; ad hoc sharing outside any agreement, flagged for review"
	}
	e := w.Event(action, service, outcome, reason)
	if adHoc {
		e.AdHocSharing = Clip(shcrkit.Redact(info.AdHoc.String()), MaxText)
	}
	e.Kind, e.DecisionID = audit.KindDecision, uuid.NewString()
	e.Resource = info.Resource
	e.Rule = Clip(d.Rule, MaxText)
	e.Policy = Clip(info.Policy, MaxText)
	e.Confidentiality = info.Confidentiality
	if info.Verifying || d.Verification.Status != rbac.VerificationNone {
		e.RelationshipVerification = Clip(d.Verification.String(), MaxText)
	}
	if !d.Allowed {
		e.ErrorCode = "ACCESS_DENIED"
	}
	return e
}

// Withheld turns the event of an interaction that never took place
// (refused or failed before any request was sent) into the decision the
// SDK made instead: it names no request ID, under a rule of its own.
func Withheld(e audit.Event, rule string) audit.Event {
	e.Kind, e.RequestID, e.DecisionID = audit.KindDecision, "", uuid.NewString()
	e.ServerAddress, e.Rule = "", rule
	return e
}

// Clip cuts s to at most n bytes, on a character boundary, marking the
// cut with "...".
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimSpace(textclip.Cut(s, n)) + "..."
}
