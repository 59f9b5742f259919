package investigation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/internal/caseflow"
	"github.com/shcrkit/shcrkit/internal/sinkguard"
	"github.com/shcrkit/shcrkit/internal/textclip"
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
	// ErrOwnAccess: the officer made some of the accesses the case is
	// about; another officer must investigate them.
	ErrOwnAccess = errors.New("audit: a case about the officer's own accesses")
)

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
	// Status is the last step that counts: "opened" or "challenged",
	// "acknowledged", "noted", or "closed" (see audit.Investigation.Step).
	Status string
	// Finding is the outcome of a closed case.
	Finding Finding
	// Steps are the case's own events, in order: who did what, when, with
	// which note.
	Steps []audit.Event
	// Concerns are the sequence numbers of the events the case is about,
	// and Events those events as the trail holds them: NewAccessReport of
	// them answers a patient's challenge (who made those accesses, when
	// and why).
	Concerns []uint64
	Events   []audit.Event
}

// Finding is how a case ended, as Close records it.
type Finding string

// Findings a privacy officer records when closing a case.
const (
	// FindingAppropriate: the accesses were justified.
	FindingAppropriate Finding = caseflow.Appropriate
	// FindingInappropriate: the accesses were not justified; what follows
	// (a disciplinary process, telling the patient) is recorded in the
	// note.
	FindingInappropriate Finding = caseflow.Inappropriate
	// FindingReferred: the case was passed on (to the organisation's
	// Caldicott Guardian, the ICO, another organisation's privacy
	// officer).
	FindingReferred Finding = caseflow.Referred
)

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
	sink  audit.Sink
	src   audit.Reader
	now   func() time.Time
	newID func() string
}

// NewCasebook returns a Casebook writing to sink and reading from src.
func NewCasebook(sink audit.Sink, src audit.Reader) (*Casebook, error) {
	if sinkguard.Check(sink) != nil || src == nil {
		return nil, fmt.Errorf("%w: a casebook needs a sink and a reader", audit.ErrInvalidOption)
	}
	return &Casebook{sink: sink, src: src, now: time.Now, newID: func() string { return "CASE-" + uuid.NewString() }}, nil
}

// ready fails a call on a Casebook not made by NewCasebook (nil, or its
// zero value).
func (b *Casebook) ready() error {
	if b == nil || b.src == nil || b.sink == nil {
		return fmt.Errorf("%w: the investigation.Casebook was not made by NewCasebook", audit.ErrInvalidOption)
	}
	return nil
}

// Open opens a case about the events with the given sequence numbers, all
// about patient, on behalf of officer. It checks that the events exist
// and concern that patient, and returns the case's ID.
func (b *Casebook) Open(ctx context.Context, officer shcrkit.Requester, patient shcrkit.NHSNumber, concerns []uint64, note string) (string, error) {
	return b.open(ctx, officer, patient, concerns, caseflow.Opened, note)
}

// OpenFromFlag opens a case about the events behind a review flag. A flag
// that spans patients (a volume spike) opens one case per patient; such a
// flag must name its user and organisation.
func (b *Casebook) OpenFromFlag(ctx context.Context, officer shcrkit.Requester, f Flag, note string) ([]string, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	byPatient := map[shcrkit.NHSNumber][]uint64{}
	var order []shcrkit.NHSNumber
	switch {
	case f.Patient != "":
		byPatient[f.Patient], order = f.Seqs, []shcrkit.NHSNumber{f.Patient}
	case f.UserID == "" || f.Organisation == "":
		// Without them the search below would read the whole trail.
		return nil, fmt.Errorf("%w: a flag about no one patient names its user and organisation", ErrInvalidCase)
	default:
		for e, err := range b.src.Query(ctx, officer, audit.Filter{UserID: f.UserID, Organisation: f.Organisation}) {
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
		id, err := b.open(ctx, officer, p, byPatient[p], caseflow.Opened, textclip.Cut(string(f.Kind)+": "+note, maxNote))
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
	return b.open(ctx, recordedBy, patient, concerns, caseflow.Challenged, statement)
}

func (b *Casebook) open(ctx context.Context, officer shcrkit.Requester, patient shcrkit.NHSNumber, concerns []uint64, step string, note string) (string, error) {
	if err := b.ready(); err != nil {
		return "", err
	}
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
	if step != caseflow.Challenged {
		if err := notOwn(officer, found); err != nil {
			return "", err
		}
	}
	id := b.newID()
	return id, b.write(ctx, officer, patient, &audit.Investigation{Case: id, Step: step, Concerns: concerns, Note: note})
}

// notOwn refuses a step by an officer who made any of the events the
// case is about: nobody investigates their own accesses. A patient's
// challenge is still taken down by whoever receives it (open skips the
// check for it), so that it is never lost; the steps after it are
// checked.
func notOwn(officer shcrkit.Requester, events []audit.Event) error {
	if strings.TrimSpace(officer.UserID) == "" {
		return nil
	}
	for _, e := range events {
		if e.Requester.UserID == officer.UserID || (e.OnBehalfOf != nil && e.OnBehalfOf.UserID == officer.UserID) {
			return fmt.Errorf("%w: event %d", ErrOwnAccess, e.Seq)
		}
	}
	return nil
}

// Acknowledge records that officer took the case on.
func (b *Casebook) Acknowledge(ctx context.Context, officer shcrkit.Requester, caseID, note string) error {
	return b.step(ctx, officer, caseID, &audit.Investigation{Step: caseflow.Acknowledged, Note: note})
}

// Note records what the investigation found so far.
func (b *Casebook) Note(ctx context.Context, officer shcrkit.Requester, caseID, note string) error {
	if strings.TrimSpace(note) == "" {
		return fmt.Errorf("%w: a note needs words", ErrInvalidCase)
	}
	return b.step(ctx, officer, caseID, &audit.Investigation{Step: caseflow.Noted, Note: note})
}

// Close records the case's finding and closes it.
func (b *Casebook) Close(ctx context.Context, officer shcrkit.Requester, caseID string, finding Finding, note string) error {
	if !caseflow.ValidFinding(string(finding)) {
		return fmt.Errorf("%w: unknown finding %q", ErrInvalidCase, string(finding))
	}
	return b.step(ctx, officer, caseID, &audit.Investigation{Step: caseflow.Closed, Finding: string(finding), Note: note})
}

func (b *Casebook) step(ctx context.Context, officer shcrkit.Requester, caseID string, inv *audit.Investigation) error {
	c, err := b.Case(ctx, officer, caseID)
	if err != nil {
		return err
	}
	if c.Status == caseflow.Closed {
		return fmt.Errorf("%w: %s closed on %s", ErrCaseClosed, c.ID, c.Closed.UTC().Format(time.DateOnly))
	}
	if err := notOwn(officer, c.Events); err != nil {
		return err
	}
	inv.Case = c.ID
	return b.write(ctx, officer, c.Patient, inv)
}

func (b *Casebook) write(ctx context.Context, officer shcrkit.Requester, patient shcrkit.NHSNumber, inv *audit.Investigation) error {
	action := audit.ActionUpdate
	if caseflow.Opens(inv.Step) {
		action = audit.ActionCreate
	}
	e := audit.Event{
		Time: b.now(), Requester: officer, Action: action, Service: audit.ServiceAudit,
		Resource: "Case/" + inv.Case, Patient: patient, Outcome: audit.OutcomeSuccess,
		Reason: "investigation " + string(inv.Step), Investigation: inv,
	}
	if inv.Finding != "" {
		e.Reason += ": " + inv.Finding
	}
	if err := e.Validate(); err != nil {
		return errors.Join(ErrInvalidCase, err)
	}
	return sinkguard.Write(ctx, b.sink, e)
}

// Case reads a case back from the trail: its steps, status and finding,
// and the events it concerns. The read is audited as reader's.
func (b *Casebook) Case(ctx context.Context, reader shcrkit.Requester, caseID string) (*Case, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	var c *Case
	for e, err := range b.src.Query(ctx, reader, audit.Filter{Service: audit.ServiceAudit}) {
		if err != nil {
			return nil, err
		}
		if e.Investigation == nil || e.Investigation.Case != caseID {
			continue
		}
		if c == nil {
			if !caseflow.Opens(e.Investigation.Step) {
				return nil, fmt.Errorf("%w: %s has steps before it opens", audit.ErrTampered, caseID)
			}
			c = &Case{ID: caseID, Patient: e.Patient, Opened: e.Time, Challenge: e.Investigation.Step == caseflow.Challenged,
				Concerns: slices.Clone(e.Investigation.Concerns)}
		}
		c.apply(e)
	}
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrCaseNotFound, textclip.Cut(caseID, 80))
	}
	events, err := b.events(ctx, reader, c.Patient, c.Concerns)
	if err != nil {
		return nil, err
	}
	c.Events = events
	return c, nil
}

// apply adds one of the case's events to its state.
func (c *Case) apply(e audit.Event) {
	c.Steps = append(c.Steps, e)
	if c.Status == caseflow.Closed {
		return // the trail may hold a late step by a second officer
	}
	if inv := e.Investigation; !caseflow.Opens(inv.Step) || c.Status == "" {
		c.Status = inv.Step
	}
	if e.Investigation.Step == caseflow.Closed {
		c.Closed, c.Finding = e.Time, Finding(e.Investigation.Finding)
	}
}

// Cases lists the cases about patient (or every case, when patient is
// zero), oldest first, without the events they concern.
func (b *Casebook) Cases(ctx context.Context, reader shcrkit.Requester, patient shcrkit.NHSNumber) ([]*Case, error) {
	if err := b.ready(); err != nil {
		return nil, err
	}
	byID := map[string]*Case{}
	var order []*Case
	for e, err := range b.src.Query(ctx, reader, audit.Filter{Service: audit.ServiceAudit, Patient: patient}) {
		if err != nil {
			return nil, err
		}
		inv := e.Investigation
		if inv == nil {
			continue
		}
		c := byID[inv.Case]
		if c == nil {
			if !caseflow.Opens(inv.Step) {
				continue
			}
			c = &Case{ID: inv.Case, Patient: e.Patient, Opened: e.Time, Challenge: inv.Step == caseflow.Challenged, Concerns: slices.Clone(inv.Concerns)}
			byID[inv.Case] = c
			order = append(order, c)
		}
		c.apply(e)
	}
	return order, nil
}

// events returns the events about patient with the given sequence
// numbers (sorted), in order.
func (b *Casebook) events(ctx context.Context, reader shcrkit.Requester, patient shcrkit.NHSNumber, seqs []uint64) ([]audit.Event, error) {
	var out []audit.Event
	for e, err := range b.src.Query(ctx, reader, audit.Filter{Patient: patient}) {
		if err != nil {
			return nil, err
		}
		if _, ok := slices.BinarySearch(seqs, e.Seq); ok && e.Investigation == nil && e.Patient == patient {
			out = append(out, e)
		}
	}
	return out, nil
}

// maxNote is the longest note an event takes (audit.Event.Validate).
const maxNote = 1024
