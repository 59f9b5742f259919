package nrls

import (
	"strconv"
	"strings"

	"github.com/shcrkit/shcrkit"
)

// ProblemKind says why a search entry was not returned as a pointer.
type ProblemKind string

// Kinds of search problems.
const (
	// ProblemOutcome: the service put an OperationOutcome among the
	// pointers, for a stored pointer it could not read.
	ProblemOutcome ProblemKind = "outcome"
	// ProblemWrongPatient: the entry is a pointer whose subject is not the
	// NHS number searched for (or no valid NHS number at all). It is never
	// returned as the patient's.
	ProblemWrongPatient ProblemKind = "wrong-patient"
	// ProblemMalformed: the entry is not a readable DocumentReference.
	ProblemMalformed ProblemKind = "malformed"
)

// Problem is one search entry that was left out of the pointers returned.
type Problem struct {
	// Entry is the entry's index in the search Bundle.
	Entry int
	// Kind says what was wrong.
	Kind ProblemKind
	// PointerID is the entry's ID, when it had one.
	PointerID string
	// Custodian is the entry's custodian, when it named one: the
	// organisation to tell about a broken pointer.
	Custodian shcrkit.ODSCode
	// Code is the Spine error code of an OperationOutcome entry.
	Code string
	// Detail explains the problem, with NHS numbers masked.
	Detail string
}

// String describes the problem without identifying the patient.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString("entry ")
	b.WriteString(strconv.Itoa(p.Entry))
	b.WriteString(": ")
	b.WriteString(string(p.Kind))
	if p.PointerID != "" {
		b.WriteString(" pointer ")
		b.WriteString(p.PointerID)
	}
	if p.Custodian != "" {
		b.WriteString(" custodian ")
		b.WriteString(string(p.Custodian))
	}
	if p.Code != "" {
		b.WriteString(" (" + p.Code + ")")
	}
	if p.Detail != "" {
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	return shcrkit.Redact(b.String())
}
