package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shcrkit/shcrkit/audit/internal/caseflow"
)

// Investigation is what an event records about a case: which case, which
// step, which events of the trail it concerns (by sequence number), and
// the officer's or patient's words. Notes must hold no clinical content,
// like every audit field.
type Investigation struct {
	// Case is the case's ID ("CASE-" and a UUID).
	Case string `json:"case"`
	// Step is what this event records: "opened" (a privacy officer
	// opened a case about some events: a review flag, or any set of
	// accesses), "challenged" (a patient challenged accesses to their
	// record, "I did not expect Dr X at Y to see my record", which opens
	// a case too), "acknowledged" (a privacy officer took the case on),
	// "noted" (a note of what the investigation found so far) or "closed"
	// (the finding was recorded; the case is over). The Casebook of
	// audit/investigation writes them.
	Step string `json:"step"`
	// Concerns are the sequence numbers of the events the case is about,
	// given when it opens.
	Concerns []uint64 `json:"concerns,omitempty"`
	// Finding is the outcome, given when the case closes: "appropriate",
	// "inappropriate" or "referred" (investigation.Finding).
	Finding string `json:"finding,omitempty"`
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
	if !caseflow.ValidStep(inv.Step) {
		out = append(out, fmt.Sprintf("unknown step %q", string(inv.Step)))
	}
	if caseflow.Opens(inv.Step) && len(inv.Concerns) == 0 {
		out = append(out, "a case opens about at least one event")
	}
	if !caseflow.Opens(inv.Step) && len(inv.Concerns) > 0 {
		out = append(out, "only the step that opens a case names the events it concerns")
	}
	if len(inv.Concerns) > maxConcerns {
		out = append(out, fmt.Sprintf("a case concerns at most %d events", maxConcerns))
	}
	if slices.Contains(inv.Concerns, 0) {
		out = append(out, "sequence numbers start at 1")
	}
	if (inv.Step == caseflow.Closed) != (inv.Finding != "") {
		out = append(out, "a finding is given exactly when the case closes")
	}
	if inv.Finding != "" && !caseflow.ValidFinding(inv.Finding) {
		out = append(out, fmt.Sprintf("unknown finding %q", string(inv.Finding)))
	}
	if len(inv.Note) > maxField || !cleanText(inv.Note) {
		out = append(out, fmt.Sprintf("note must be at most %d bytes of text", maxField))
	}
	return out
}
