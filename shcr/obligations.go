package shcr

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/fhirredact"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/rbac"
)

// Alert is a notice to the Privacy Officers of the requester's
// organisation that an access needing their attention was made: a
// self-claimed relationship, emergency access.
type Alert struct {
	// Activity is the activity code of the people to alert (B0016
	// Receive Self Claimed LR Alerts, B0015 Receive Legal Override and
	// Emergency View Alerts).
	Activity string
	// Requester is who made the access.
	Requester shcrkit.Requester
	// Patient is whose record.
	Patient shcrkit.NHSNumber
	// Purpose and Relationship are what the requester claimed, with the
	// reason they recorded.
	Purpose      shcrkit.Purpose
	Relationship rbac.Relationship
	// Rule and Reasons are the decision's.
	Rule    string
	Reasons []string
	// Custodian and PointerID name the record, for a record decision.
	Custodian shcrkit.ODSCode
	PointerID string
	// Time is when the access was decided.
	Time time.Time
	// CorrelationID ties the alert to the journey's audit events.
	CorrelationID string
}

// alertSet sends each activity's alert at most once per journey.
type alertSet struct {
	mu   sync.Mutex
	sent map[string]error
}

// honourAlerts sends the alerts a decision obliges, once per activity.
func (j *journey) honourAlerts(ctx context.Context, d rbac.Decision, pointerID string, custodian shcrkit.ODSCode) error {
	for _, o := range d.Obligations {
		if o.Kind != rbac.ObligationAlertPrivacyOfficer {
			continue
		}
		if j.c.alert == nil {
			return &ObligationError{Obligation: o, Problem: "no alert hook is configured"}
		}
		j.alerts.mu.Lock()
		err, done := j.alerts.sent[o.Activity]
		if !done {
			err = callAlert(ctx, j.c.alert, Alert{
				Activity: o.Activity, Requester: j.req.Requester, Patient: j.patient.NHSNumber,
				Purpose: j.req.Purpose, Relationship: j.req.Relationship, Rule: d.Rule,
				Reasons: append([]string(nil), d.Reasons...), Custodian: custodian, PointerID: pointerID,
				Time: j.c.now(), CorrelationID: j.corr,
			})
			if j.alerts.sent == nil {
				j.alerts.sent = make(map[string]error)
			}
			j.alerts.sent[o.Activity] = err
		}
		j.alerts.mu.Unlock()
		if err != nil {
			return &ObligationError{Obligation: o, Problem: "the alert was not delivered", Err: err}
		}
	}
	return nil
}

// callAlert calls the alert hook, a panic in it counting as an alert not
// delivered: the data is withheld and the process goes on (the hook runs
// on the journey's own goroutines too, where nobody could recover it),
// and the journey's alert lock is not left held.
func callAlert(ctx context.Context, hook func(context.Context, Alert) error, a Alert) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the alert hook panicked: %s", shcrkit.Redact(fmt.Sprint(p)))
		}
	}()
	return hook(ctx, a)
}

// redactions returns the fields a decision obliges the caller to remove.
func redactions(d rbac.Decision) (rbac.Obligation, []string) {
	var fields []string
	var ob rbac.Obligation
	for _, o := range d.Obligations {
		if o.Kind == rbac.ObligationRedact {
			ob = o
			fields = append(fields, o.Fields...)
		}
	}
	return ob, fields
}

// validUntil is the end of the shortest time box of a decision, or zero.
func validUntil(d rbac.Decision, now time.Time) time.Time {
	var until time.Time
	for _, o := range d.Obligations {
		if o.Kind == rbac.ObligationTimeBox && o.Duration > 0 {
			if t := now.Add(o.Duration); until.IsZero() || t.Before(until) {
				until = t
			}
		}
	}
	return until
}

// enhancedAudit reports whether a decision asks for enhanced audit.
func enhancedAudit(d rbac.Decision) bool {
	_, ok := d.Obligation(rbac.ObligationEnhancedAudit)
	return ok
}

// redactPatient returns a copy of p with the fields removed.
func redactPatient(p *pds.Patient, fields []string) (*pds.Patient, error) {
	if p == nil || len(fields) == 0 {
		return p, nil
	}
	raw, err := json.Marshal(p.Resource)
	if err != nil {
		return nil, err
	}
	red, err := fhirredact.Elements(raw, fields)
	if err != nil {
		return nil, err
	}
	var res fhir.Patient
	if err := json.Unmarshal(red, &res); err != nil {
		return nil, err
	}
	cp := *p
	cp.Resource = res
	return &cp, nil
}
