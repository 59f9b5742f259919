package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit"
)

// Errors of the investigation workflow.
var (
	// ErrCaseNotFound: no case has the ID given.
	ErrCaseNotFound = errors.New("audit: no such case")
	// ErrCaseClosed: the case already has its finding; a closed case takes
	// no further steps (open a new case that refers to the same events).
	ErrCaseClosed = errors.New("audit: case closed")
	// ErrInvalidCase: a step is missing something it needs (a note, a
	// finding, the events it concerns) or names what does not exist.
	ErrInvalidCase = errors.New("audit: invalid case step")
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

// Case is an investigation as the trail tells it.
type Case struct {
	// ID is the case's ID.
	ID string
	// Patient is the patient whose record the case is about.
	Patient shcrkit.NHSNumber
	// Challenge is true when the patient opened the case.
	Challenge bool
	// Opened and Closed are when the case opened and closed (zero while
	// open).
	Opened, Closed time.Time
	// Status is the last step that counts: opened or challenged,
	// acknowledged, noted, or closed.
	Status CaseStep
	// Finding is the outcome of a closed case.
	Finding Finding
	// Steps are the case's own events, in order: who did what, when, with
	// which note.
	Steps []Event
	// Concerns are the sequence numbers of the events the case is about,
	// and Events those events as the trail holds them.
	Concerns []uint64
	Events   []Event
}

// Casebook records privacy officers' investigations and patients'
// challenges as audit events written to a Sink, linked by sequence number
// to the events they concern, so that the trail of an investigation is as
// tamper-evident as the accesses themselves; and it reads cases back from
// any Reader. Sink and Reader are usually the same store (an *audit.Log or
// a *postgres.Store). Every read through a Casebook is itself audited, as
// every Query is.
//
// A Casebook is safe for concurrent use. Two officers who step on the same
// case at once both have their steps recorded; a case's status is decided
// by the trail's order, and steps after the first close are refused only
// when the closure was already readable.
type Casebook struct {
	sink  Sink
	src   Reader
	now   func() time.Time
	newID func() string
}

// NewCasebook returns a Casebook writing to sink and reading from src.
func NewCasebook(sink Sink, src Reader) (*Casebook, error) {
	if CheckSink(sink) != nil || src == nil {
		return nil, fmt.Errorf("%w: a casebook needs a sink and a reader", ErrInvalidOption)
	}
	return &Casebook{sink: sink, src: src, now: time.Now, newID: func() string { return "CASE-" + uuid.NewString() }}, nil
}

// Open opens a case about the events with the given sequence numbers, all
// about patient, on behalf of officer. It checks that the events exist
// and concern that patient, and returns the case's ID.
func (b *Casebook) Open(ctx context.Context, officer shcrkit.Requester, patient shcrkit.NHSNumber, concerns []uint64, note string) (string, error) {
	return b.open(ctx, officer, patient, concerns, CaseOpened, note)
}

// OpenFromFlag opens a case about the events behind a review flag. A flag
// that spans patients (a volume spike) opens one case per patient.
func (b *Casebook) OpenFromFlag(ctx context.Context, officer shcrkit.Requester, f Flag, note string) ([]string, error) {
	byPatient := map[shcrkit.NHSNumber][]uint64{}
	var order []shcrkit.NHSNumber
	if f.Patient != "" {
		byPatient[f.Patient], order = f.Seqs, []shcrkit.NHSNumber{f.Patient}
	} else {
		for e, err := range b.src.Query(ctx, officer, Filter{UserID: f.UserID, Organisation: f.Organisation}) {
			if err != nil {
				return nil, err
			}
			if !slices.Contains(f.Seqs, e.Seq) || e.Patient == "" {
				continue
			}
			if _, seen := byPatient[e.Patient]; !seen {
				order = append(order, e.Patient)
			}
			byPatient[e.Patient] = append(byPatient[e.Patient], e.Seq)
		}
	}
	if len(order) == 0 {
		return nil, fmt.Errorf("%w: the flag names no event about a patient", ErrInvalidCase)
	}
	if note == "" {
		note = f.Detail
	}
	var ids []string
	for _, p := range order {
		id, err := b.open(ctx, officer, p, byPatient[p], CaseOpened, clipText(string(f.Kind)+": "+note, maxField))
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Challenge records a patient's challenge of accesses to their record, in
// their words, taken down by recordedBy (the privacy officer or the
// patient-facing service that received it), and opens a case about it.
func (b *Casebook) Challenge(ctx context.Context, recordedBy shcrkit.Requester, patient shcrkit.NHSNumber, concerns []uint64, statement string) (string, error) {
	if strings.TrimSpace(statement) == "" {
		return "", fmt.Errorf("%w: a challenge records the patient's statement", ErrInvalidCase)
	}
	return b.open(ctx, recordedBy, patient, concerns, CaseChallenged, statement)
}

func (b *Casebook) open(ctx context.Context, officer shcrkit.Requester, patient shcrkit.NHSNumber, concerns []uint64, step CaseStep, note string) (string, error) {
	if !patient.Valid() {
		return "", fmt.Errorf("%w: a case needs the patient's valid NHS number", ErrInvalidCase)
	}
	concerns = slices.Clone(concerns)
	slices.Sort(concerns)
	concerns = slices.Compact(concerns)
	if len(concerns) == 0 {
		return "", fmt.Errorf("%w: a case opens about at least one event", ErrInvalidCase)
	}
	found, err := b.events(ctx, officer, patient, concerns)
	if err != nil {
		return "", err
	}
	if len(found) != len(concerns) {
		return "", fmt.Errorf("%w: %d of the %d events named are not in the trail about this patient", ErrInvalidCase, len(concerns)-len(found), len(concerns))
	}
	id := b.newID()
	return id, b.write(ctx, officer, patient, &Investigation{Case: id, Step: step, Concerns: concerns, Note: note})
}

// Acknowledge records that officer took the case on.
func (b *Casebook) Acknowledge(ctx context.Context, officer shcrkit.Requester, caseID, note string) error {
	return b.step(ctx, officer, caseID, &Investigation{Step: CaseAcknowledged, Note: note})
}

// Note records what the investigation found so far.
func (b *Casebook) Note(ctx context.Context, officer shcrkit.Requester, caseID, note string) error {
	if strings.TrimSpace(note) == "" {
		return fmt.Errorf("%w: a note needs words", ErrInvalidCase)
	}
	return b.step(ctx, officer, caseID, &Investigation{Step: CaseNoted, Note: note})
}

// Close records the case's finding and closes it.
func (b *Casebook) Close(ctx context.Context, officer shcrkit.Requester, caseID string, finding Finding, note string) error {
	if !finding.valid() {
		return fmt.Errorf("%w: unknown finding %q", ErrInvalidCase, string(finding))
	}
	return b.step(ctx, officer, caseID, &Investigation{Step: CaseClosed, Finding: finding, Note: note})
}

func (b *Casebook) step(ctx context.Context, officer shcrkit.Requester, caseID string, inv *Investigation) error {
	c, err := b.Case(ctx, officer, caseID)
	if err != nil {
		return err
	}
	if c.Status == CaseClosed {
		return fmt.Errorf("%w: %s closed on %s", ErrCaseClosed, c.ID, c.Closed.UTC().Format(time.DateOnly))
	}
	inv.Case = c.ID
	return b.write(ctx, officer, c.Patient, inv)
}

func (b *Casebook) write(ctx context.Context, officer shcrkit.Requester, patient shcrkit.NHSNumber, inv *Investigation) error {
	action := ActionUpdate
	if inv.Step.opens() {
		action = ActionCreate
	}
	e := Event{
		Time: b.now(), Requester: officer, Action: action, Service: ServiceAudit,
		Resource: "Case/" + inv.Case, Patient: patient, Outcome: OutcomeSuccess,
		Reason: "investigation " + string(inv.Step), Investigation: inv,
	}
	if inv.Finding != "" {
		e.Reason += ": " + string(inv.Finding)
	}
	if err := e.Validate(); err != nil {
		return errors.Join(ErrInvalidCase, err)
	}
	return WriteSafely(ctx, b.sink, e)
}

// Case reads a case back from the trail: its steps, status and finding,
// and the events it concerns. The read is audited as reader's.
func (b *Casebook) Case(ctx context.Context, reader shcrkit.Requester, caseID string) (*Case, error) {
	var c *Case
	for e, err := range b.src.Query(ctx, reader, Filter{Service: ServiceAudit}) {
		if err != nil {
			return nil, err
		}
		if e.Investigation == nil || e.Investigation.Case != caseID {
			continue
		}
		if c == nil {
			if !e.Investigation.Step.opens() {
				return nil, fmt.Errorf("%w: %s has steps before it opens", ErrTampered, caseID)
			}
			c = &Case{ID: caseID, Patient: e.Patient, Opened: e.Time, Challenge: e.Investigation.Step == CaseChallenged,
				Concerns: slices.Clone(e.Investigation.Concerns)}
		}
		c.apply(e)
	}
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrCaseNotFound, clipText(caseID, 80))
	}
	events, err := b.events(ctx, reader, c.Patient, c.Concerns)
	if err != nil {
		return nil, err
	}
	c.Events = events
	return c, nil
}

// apply adds one of the case's events to its state.
func (c *Case) apply(e Event) {
	c.Steps = append(c.Steps, e)
	if c.Status == CaseClosed {
		return // the trail may hold a late step by a second officer
	}
	if inv := e.Investigation; !inv.Step.opens() || c.Status == "" {
		c.Status = inv.Step
	}
	if e.Investigation.Step == CaseClosed {
		c.Closed, c.Finding = e.Time, e.Investigation.Finding
	}
}

// Cases lists the cases about patient (or every case, when patient is
// zero), oldest first, without the events they concern.
func (b *Casebook) Cases(ctx context.Context, reader shcrkit.Requester, patient shcrkit.NHSNumber) ([]*Case, error) {
	byID := map[string]*Case{}
	var order []*Case
	for e, err := range b.src.Query(ctx, reader, Filter{Service: ServiceAudit, Patient: patient}) {
		if err != nil {
			return nil, err
		}
		inv := e.Investigation
		if inv == nil {
			continue
		}
		c := byID[inv.Case]
		if c == nil {
			if !inv.Step.opens() {
				continue
			}
			c = &Case{ID: inv.Case, Patient: e.Patient, Opened: e.Time, Challenge: inv.Step == CaseChallenged, Concerns: slices.Clone(inv.Concerns)}
			byID[inv.Case] = c
			order = append(order, c)
		}
		c.apply(e)
	}
	return order, nil
}

// Answer builds the access report that answers a case, a patient's
// challenge above all: the accesses it concerns, who made them, when and
// why, from the same trail.
func (b *Casebook) Answer(ctx context.Context, reader shcrkit.Requester, caseID string) (*AccessReport, *Case, error) {
	c, err := b.Case(ctx, reader, caseID)
	if err != nil {
		return nil, nil, err
	}
	return NewAccessReport(c.Patient, time.Time{}, time.Time{}, c.Events), c, nil
}

// events returns the events about patient with the given sequence
// numbers (sorted), in order.
func (b *Casebook) events(ctx context.Context, reader shcrkit.Requester, patient shcrkit.NHSNumber, seqs []uint64) ([]Event, error) {
	var out []Event
	for e, err := range b.src.Query(ctx, reader, Filter{Patient: patient}) {
		if err != nil {
			return nil, err
		}
		if _, ok := slices.BinarySearch(seqs, e.Seq); ok && e.Investigation == nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// clipText cuts s to at most n bytes on a rune boundary.
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(c byte) bool { return c&0xC0 != 0x80 }
