package shcr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
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

// AlertFunc delivers an Alert. An error means the alert was not
// delivered: the access it concerns is then withheld.
type AlertFunc func(ctx context.Context, a Alert) error

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
			err = j.c.alert(ctx, Alert{
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

// fhirElement turns a policy's field name ("general-practitioner",
// "contacts") into the FHIR element it means ("generalPractitioner",
// "contact").
func fhirElement(field string) string {
	switch field {
	case "contacts":
		return "contact"
	case "identifiers":
		return "identifier"
	}
	parts := strings.Split(field, "-")
	for i := 1; i < len(parts); i++ {
		if p := parts[i]; p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

// RedactFHIR removes the named elements (policy field names such as
// "address", "telecom", "contacts", "general-practitioner") from every
// resource in a FHIR JSON document: the resource itself, contained
// resources and a Bundle's entries. A resource that loses an element also
// loses its narrative (text), which would otherwise still show it. It fails with
// shcrkit.ErrMalformedResponse when body is not JSON.
func RedactFHIR(body []byte, fields []string) ([]byte, error) {
	if len(fields) == 0 {
		return body, nil
	}
	drop := make(map[string]bool, len(fields))
	for _, f := range fields {
		drop[fhirElement(f)] = true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: the record is not JSON, so it cannot be redacted", shcrkit.ErrMalformedResponse)
	}
	redactValue(doc, drop)
	return json.Marshal(doc)
}

func redactValue(v any, drop map[string]bool) {
	switch t := v.(type) {
	case map[string]any:
		if _, isResource := t["resourceType"]; isResource {
			removed := false
			for k := range drop {
				// A primitive element's extensions travel in "_<name>".
				for _, key := range []string{k, "_" + k} {
					if _, ok := t[key]; ok {
						delete(t, key)
						removed = true
					}
				}
			}
			if removed {
				// The narrative renders the structured data, removed
				// elements included, so it goes with them.
				delete(t, "text")
			}
		}
		for _, child := range t {
			redactValue(child, drop)
		}
	case []any:
		for _, child := range t {
			redactValue(child, drop)
		}
	}
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
	red, err := RedactFHIR(raw, fields)
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
