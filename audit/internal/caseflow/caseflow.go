// Package caseflow holds the words of an investigation as the trail
// records them (audit.Investigation's Step and Finding): package audit
// checks them, audit/investigation writes and reads them.
package caseflow

// Steps of an investigation, in the order they usually come.
const (
	Opened       = "opened"
	Challenged   = "challenged"
	Acknowledged = "acknowledged"
	Noted        = "noted"
	Closed       = "closed"
)

// Findings a privacy officer records when closing a case.
const (
	Appropriate   = "appropriate"
	Inappropriate = "inappropriate"
	Referred      = "referred"
)

// ValidStep reports whether s is one of the steps.
func ValidStep(s string) bool {
	switch s {
	case Opened, Challenged, Acknowledged, Noted, Closed:
		return true
	}
	return false
}

// Opens reports whether step s starts a case.
func Opens(s string) bool { return s == Opened || s == Challenged }

// ValidFinding reports whether f is one of the findings.
func ValidFinding(f string) bool {
	return f == Appropriate || f == Inappropriate || f == Referred
}
