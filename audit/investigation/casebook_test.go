package investigation_test

import (
	"context"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/investigation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	casePatient  shcrkit.NHSNumber = "9434765919"
	otherPatient shcrkit.NHSNumber = "9000000009"
	caseT0                         = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

func caseClinician() shcrkit.Requester {
	return shcrkit.Requester{UserID: "555000111222", Name: "Dr Ada Lovegood", RoleProfileID: "100200300400",
		RoleCode: "S8000:G8000:R8000", Organisation: "RX1", System: shcrkit.System{Name: "Riverside EPR"}}
}

func privacyOfficer() shcrkit.Requester {
	return shcrkit.Requester{UserID: "555000999000", Name: "Cara Privacy", RoleProfileID: "100200300900",
		RoleCode: "S8000:G8000:R5080", Organisation: "RX1", System: shcrkit.System{Name: "Audit Console"}}
}

// caseTrail opens a log holding four accesses, two to each patient, and
// returns it with their sequence numbers.
func caseTrail(t *testing.T) (*audit.Log, []uint64) {
	t.Helper()
	l, err := audit.OpenLog(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	var seqs []uint64
	for i, p := range []shcrkit.NHSNumber{casePatient, otherPatient, casePatient, otherPatient} {
		e := audit.Event{Time: caseT0.Add(time.Duration(i) * time.Hour), Requester: caseClinician(), Action: audit.ActionRead,
			Service: audit.ServiceShCR, Resource: "DocumentReference/RX2-1", Patient: p, Purpose: shcrkit.PurposeDirectCare,
			Relationship: shcrkit.RelationshipSelfClaimed, RelationshipEvidence: "walk-in", Outcome: audit.OutcomeSuccess, Custodian: "RX2"}
		require.NoError(t, l.Write(context.Background(), e))
		seqs = append(seqs, uint64(i+1))
	}
	return l, seqs
}

func TestCaseFromOpeningToFinding(t *testing.T) {
	ctx := context.Background()
	l, seqs := caseTrail(t)
	book, err := investigation.NewCasebook(l, l)
	require.NoError(t, err)
	po := privacyOfficer()

	id, err := book.Open(ctx, po, casePatient, []uint64{seqs[2], seqs[0], seqs[0]}, "self-claimed access to review")
	require.NoError(t, err)
	require.NoError(t, book.Acknowledge(ctx, po, id, ""))
	require.NoError(t, book.Note(ctx, po, id, "spoke to the user: patient was in clinic"))
	require.NoError(t, book.Close(ctx, po, id, investigation.FindingAppropriate, "clinic list confirms attendance"))

	c, err := book.Case(ctx, po, id)
	require.NoError(t, err)
	assert.Equal(t, "closed", c.Status)
	assert.Equal(t, investigation.FindingAppropriate, c.Finding)
	assert.Equal(t, casePatient, c.Patient)
	assert.False(t, c.Challenge)
	assert.Equal(t, []uint64{1, 3}, c.Concerns, "sorted, without duplicates")
	require.Len(t, c.Events, 2)
	for _, e := range c.Events {
		assert.Equal(t, casePatient, e.Patient)
	}
	steps := make([]string, len(c.Steps))
	for i, s := range c.Steps {
		steps[i] = s.Investigation.Step
		assert.Equal(t, audit.ServiceAudit, s.Service)
		assert.Equal(t, "Case/"+id, s.Resource)
		assert.Equal(t, po.UserID, s.Requester.UserID)
	}
	assert.Equal(t, []string{"opened", "acknowledged", "noted", "closed"}, steps)

	require.ErrorIs(t, book.Note(ctx, po, id, "too late"), investigation.ErrCaseClosed)
	require.ErrorIs(t, book.Close(ctx, po, id, investigation.FindingInappropriate, ""), investigation.ErrCaseClosed)

	// The investigation is part of the tamper-evident trail.
	require.NoError(t, l.Verify(ctx))
}

func TestPatientChallengeIsAnsweredFromTheTrail(t *testing.T) {
	ctx := context.Background()
	l, seqs := caseTrail(t)
	book, err := investigation.NewCasebook(l, l)
	require.NoError(t, err)
	po := privacyOfficer()

	id, err := book.Challenge(ctx, po, casePatient, []uint64{seqs[0]}, "I did not expect Dr Lovegood at Riverside to see my record")
	require.NoError(t, err)
	c, err := book.Case(ctx, po, id)
	require.NoError(t, err)
	report := investigation.NewAccessReport(c.Patient, time.Time{}, time.Time{}, c.Events)
	assert.True(t, c.Challenge)
	assert.Equal(t, "challenged", c.Status)
	require.Len(t, report.Accesses, 1)
	assert.Equal(t, "Dr Ada Lovegood", report.Accesses[0].UserName)
	assert.Equal(t, shcrkit.RelationshipSelfClaimed, report.Accesses[0].Relationship)

	require.NoError(t, book.Close(ctx, po, id, investigation.FindingReferred, "to the Caldicott Guardian"))
	cases, err := book.Cases(ctx, po, casePatient)
	require.NoError(t, err)
	require.Len(t, cases, 1)
	assert.Equal(t, investigation.FindingReferred, cases[0].Finding)
	none, err := book.Cases(ctx, po, otherPatient)
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestCaseStepsRefused(t *testing.T) {
	ctx := context.Background()
	l, seqs := caseTrail(t)
	book, err := investigation.NewCasebook(l, l)
	require.NoError(t, err)
	po := privacyOfficer()
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"no events", func() error { _, err := book.Open(ctx, po, casePatient, nil, ""); return err }, investigation.ErrInvalidCase},
		{"an event about another patient", func() error {
			_, err := book.Open(ctx, po, casePatient, []uint64{seqs[1]}, "")
			return err
		}, investigation.ErrInvalidCase},
		{"an event not in the trail", func() error { _, err := book.Open(ctx, po, casePatient, []uint64{99}, ""); return err }, investigation.ErrInvalidCase},
		{"invalid patient", func() error { _, err := book.Open(ctx, po, "123", []uint64{1}, ""); return err }, investigation.ErrInvalidCase},
		{"challenge without a statement", func() error {
			_, err := book.Challenge(ctx, po, casePatient, []uint64{seqs[0]}, " ")
			return err
		}, investigation.ErrInvalidCase},
		{"unknown case", func() error { return book.Acknowledge(ctx, po, "CASE-none", "") }, investigation.ErrCaseNotFound},
		{"unknown finding", func() error { return book.Close(ctx, po, "CASE-none", "fine", "") }, investigation.ErrInvalidCase},
		{"empty note", func() error { return book.Note(ctx, po, "CASE-none", "") }, investigation.ErrInvalidCase},
		{"note with control characters", func() error {
			id, err := book.Open(ctx, po, casePatient, []uint64{seqs[0]}, "")
			require.NoError(t, err)
			return book.Note(ctx, po, id, "bad\x00note")
		}, investigation.ErrInvalidCase},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.do(), tt.want)
		})
	}
	_, err = investigation.NewCasebook(nil, l)
	require.ErrorIs(t, err, audit.ErrInvalidOption)
}

func TestCaseFromAFlagSpanningPatients(t *testing.T) {
	ctx := context.Background()
	l, seqs := caseTrail(t)
	book, err := investigation.NewCasebook(l, l)
	require.NoError(t, err)
	po := privacyOfficer()
	flag := investigation.Flag{Kind: investigation.FlagVolumeSpike, UserID: caseClinician().UserID, Organisation: "RX1", Seqs: seqs, Detail: "many patients in a day"}
	ids, err := book.OpenFromFlag(ctx, po, flag, "")
	require.NoError(t, err)
	require.Len(t, ids, 2, "one case per patient")
	first, err := book.Case(ctx, po, ids[0])
	require.NoError(t, err)
	assert.Equal(t, casePatient, first.Patient)
	assert.Equal(t, []uint64{1, 3}, first.Concerns)
	assert.Contains(t, first.Steps[0].Investigation.Note, "volume-spike")

	one, err := book.OpenFromFlag(ctx, po, investigation.Flag{Kind: investigation.FlagSelfClaimed, Patient: otherPatient, Seqs: []uint64{seqs[1], seqs[3]}}, "check")
	require.NoError(t, err)
	require.Len(t, one, 1)
}

// TestWithoutATrail: the queries given no Reader, and a Casebook not made
// by NewCasebook, fail with audit.ErrInvalidOption instead of panicking.
func TestWithoutATrail(t *testing.T) {
	ctx := context.Background()
	officer := shcrkit.Requester{UserID: "555000000301", Organisation: "RX1"}
	_, err := investigation.QueryAccessReport(ctx, nil, officer, casePatient, time.Time{}, time.Now())
	assert.ErrorIs(t, err, audit.ErrInvalidOption)
	_, err = investigation.QueryReview(ctx, nil, officer, audit.Filter{}, investigation.ReviewConfig{})
	assert.ErrorIs(t, err, audit.ErrInvalidOption)
	for name, b := range map[string]*investigation.Casebook{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			_, err := b.Open(ctx, officer, casePatient, []uint64{1}, "why")
			assert.ErrorIs(t, err, audit.ErrInvalidOption)
			_, err = b.OpenFromFlag(ctx, officer, investigation.Flag{UserID: "u"}, "why")
			assert.ErrorIs(t, err, audit.ErrInvalidOption)
			_, err = b.Case(ctx, officer, "CASE-1")
			assert.ErrorIs(t, err, audit.ErrInvalidOption)
			_, err = b.Cases(ctx, officer, casePatient)
			assert.ErrorIs(t, err, audit.ErrInvalidOption)
			assert.ErrorIs(t, b.Note(ctx, officer, "CASE-1", "words"), audit.ErrInvalidOption)
		})
	}
}
