package rbac

import (
	"strings"
	"time"
)

// ObligationKind is what an Obligation asks the caller to do. Its value
// is the kind's name, as it appears in JSON and in descriptions.
type ObligationKind string

// Obligation kinds.
const (
	// ObligationAlertPrivacyOfficer: alert the Privacy Officers of the
	// requester's organisation, that is the holders of Obligation.Activity
	// (B0016 Receive Self Claimed LR Alerts, B0015 Receive Legal Override
	// and Emergency View Alerts, B0018 Receive Sealing Alerts).
	ObligationAlertPrivacyOfficer ObligationKind = "alert-privacy-officer"
	// ObligationEnhancedAudit: record the access in the audit log with the
	// relationship, reason and evidence, flagged for review.
	ObligationEnhancedAudit ObligationKind = "enhanced-audit"
	// ObligationRedact: remove Obligation.Fields (e.g. "address",
	// "telecom") from what is shown.
	ObligationRedact ObligationKind = "redact"
	// ObligationTimeBox: the access is valid for Obligation.Duration only;
	// a later access needs a fresh decision.
	ObligationTimeBox ObligationKind = "time-box"
)

// Obligation is something the caller must do when it acts on an allowed
// Decision. Obligations are not optional: a caller that cannot honour one
// must not release the data.
type Obligation struct {
	// Kind of obligation.
	Kind ObligationKind `json:"kind"`
	// Activity is, for ObligationAlertPrivacyOfficer, the activity code
	// (B0016, B0015, ...) of the people to alert.
	Activity string `json:"activity,omitempty"`
	// Fields are, for ObligationRedact, the fields to remove.
	Fields []string `json:"fields,omitempty"`
	// Duration is, for ObligationTimeBox, how long the access stands.
	Duration time.Duration `json:"duration,omitempty"`
	// Rule names the policy rule that imposed the obligation.
	Rule string `json:"rule"`
}

// String describes the obligation, e.g. "alert-privacy-officer B0016" or
// "redact address,telecom".
func (o Obligation) String() string {
	switch o.Kind {
	case ObligationAlertPrivacyOfficer:
		return string(o.Kind) + " " + o.Activity
	case ObligationRedact:
		return string(o.Kind) + " " + strings.Join(o.Fields, ",")
	case ObligationTimeBox:
		return string(o.Kind) + " " + o.Duration.String()
	}
	return string(o.Kind)
}

// obligationSet is the obligations a rule of the policy imposes, compiled
// from an obligationsSpec.
type obligationSet struct {
	alert    string
	audit    bool
	redact   []string
	timeBox  time.Duration
	rule     string
	nonEmpty bool
}

// mergeObligations adds the obligations of each set to out, combining them
// so that each kind appears once (one alert per activity code): redactions
// are united, and the shortest time box wins.
func mergeObligations(out []Obligation, sets ...*obligationSet) []Obligation {
	for _, s := range sets {
		if s == nil || !s.nonEmpty {
			continue
		}
		if s.alert != "" {
			found := false
			for _, o := range out {
				if o.Kind == ObligationAlertPrivacyOfficer && o.Activity == s.alert {
					found = true
				}
			}
			if !found {
				out = append(out, Obligation{Kind: ObligationAlertPrivacyOfficer, Activity: s.alert, Rule: s.rule})
			}
		}
		if s.audit && indexOfKind(out, ObligationEnhancedAudit) < 0 {
			out = append(out, Obligation{Kind: ObligationEnhancedAudit, Rule: s.rule})
		}
		if len(s.redact) > 0 {
			if i := indexOfKind(out, ObligationRedact); i >= 0 {
				fields := append([]string(nil), out[i].Fields...)
				for _, f := range s.redact {
					if !contains(fields, f) {
						fields = append(fields, f)
					}
				}
				out[i].Fields = fields
			} else {
				out = append(out, Obligation{Kind: ObligationRedact, Fields: append([]string(nil), s.redact...), Rule: s.rule})
			}
		}
		if s.timeBox > 0 {
			if i := indexOfKind(out, ObligationTimeBox); i >= 0 {
				if s.timeBox < out[i].Duration {
					out[i].Duration, out[i].Rule = s.timeBox, s.rule
				}
			} else {
				out = append(out, Obligation{Kind: ObligationTimeBox, Duration: s.timeBox, Rule: s.rule})
			}
		}
	}
	return out
}

func indexOfKind(obs []Obligation, k ObligationKind) int {
	for i, o := range obs {
		if o.Kind == k {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
