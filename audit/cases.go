package audit

import (
	"fmt"
	"slices"
	"strings"
)

// CaseStep is one step of an investigation, as recorded in the trail.
type CaseStep string

// Steps of an investigation, in the order they usually come.
const (
	// CaseOpened: a privacy officer opened a case about some events (a
	// review flag, or any set of accesses).
	CaseOpened CaseStep = "opened"
	// CaseChallenged: a patient challenged accesses to their record ("I
	// did not expect Dr X at Y to see my record"); this opens a case too.
	CaseChallenged CaseStep = "challenged"
	// CaseAcknowledged: a privacy officer took the case on.
	CaseAcknowledged CaseStep = "acknowledged"
	// CaseNoted: a note of what the investigation found so far.
	CaseNoted CaseStep = "noted"
	// CaseClosed: the finding was recorded; the case is over.
	CaseClosed CaseStep = "closed"
)

func (s CaseStep) valid() bool {
	switch s {
	case CaseOpened, CaseChallenged, CaseAcknowledged, CaseNoted, CaseClosed:
		return true
	}
	return false
}

// opens reports whether s starts a case.
func (s CaseStep) opens() bool { return s == CaseOpened || s == CaseChallenged }

// Finding is how a case ended.
type Finding string

// Findings a privacy officer records when closing a case.
const (
	// FindingAppropriate: the accesses were justified.
	FindingAppropriate Finding = "appropriate"
	// FindingInappropriate: the accesses were not justified; what follows
	// (a disciplinary process, telling the patient) is recorded in the
	// note.
	FindingInappropriate Finding = "inappropriate"
	// FindingReferred: the case was passed on (to the organisation's
	// Caldicott Guardian, the ICO, another organisation's privacy
	// officer).
	FindingReferred Finding = "referred"
)

func (f Finding) valid() bool {
	return f == FindingAppropriate || f == FindingInappropriate || f == FindingReferred
}

// Investigation is what an event records about a case: which case, which
// step, which events of the trail it concerns (by sequence number), and
// the officer's or patient's words. Notes must hold no clinical content,
// like every audit field.
type Investigation struct {
	// Case is the case's ID ("CASE-" and a UUID).
	Case string `json:"case"`
	// Step is what this event records.
	Step CaseStep `json:"step"`
	// Concerns are the sequence numbers of the events the case is about,
	// given when it opens.
	Concerns []uint64 `json:"concerns,omitempty"`
	// Finding is the outcome, given when the case closes.
	Finding Finding `json:"finding,omitempty"`
	// Note is the officer's note, or the patient's challenge in their own
	// words.
	Note string `json:"note,omitempty"`
}

const maxConcerns = 1000

// problems lists what is wrong with inv, for Event.Validate.
func (inv *Investigation) problems() []string {
	var out []string
	if !strings.HasPrefix(inv.Case, "CASE-") || len(inv.Case) > 64 || !cleanText(inv.Case) {
		out = append(out, "case ID must be CASE- and an identifier")
	}
	if !inv.Step.valid() {
		out = append(out, fmt.Sprintf("unknown step %q", string(inv.Step)))
	}
	if inv.Step.opens() && len(inv.Concerns) == 0 {
		out = append(out, "a case opens about at least one event")
	}
	if !inv.Step.opens() && len(inv.Concerns) > 0 {
		out = append(out, "only the step that opens a case names the events it concerns")
	}
	if len(inv.Concerns) > maxConcerns {
		out = append(out, fmt.Sprintf("a case concerns at most %d events", maxConcerns))
	}
	if slices.Contains(inv.Concerns, 0) {
		out = append(out, "sequence numbers start at 1")
	}
	if (inv.Step == CaseClosed) != (inv.Finding != "") {
		out = append(out, "a finding is given exactly when the case closes")
	}
	if inv.Finding != "" && !inv.Finding.valid() {
		out = append(out, fmt.Sprintf("unknown finding %q", string(inv.Finding)))
	}
	if len(inv.Note) > maxField || !cleanText(inv.Note) {
		out = append(out, fmt.Sprintf("note must be at most %d bytes of text", maxField))
	}
	return out
}
