package investigation

import (
	"context"
	"errors"
	"iter"
	"strconv"
	"testing"
	"time"
	_ "time/tzdata" // the default working hours are in Europe/London

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func seqEvents(events ...audit.Event) iter.Seq2[audit.Event, error] {
	return func(yield func(audit.Event, error) bool) {
		for i, e := range events {
			if e.Seq == 0 {
				e.Seq = uint64(i + 1)
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

func flagsOf(flags []Flag, kind FlagKind) []Flag {
	var out []Flag
	for _, f := range flags {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

func utc() ReviewConfig { return ReviewConfig{Hours: WorkingHours{Location: time.UTC}} }

func TestReviewFlags(t *testing.T) {
	ctx := context.Background()
	inHours := t0.Add(time.Hour) // Monday 10:00
	btg := readEvent(inHours, clinician(), patientA)
	btg.Purpose, btg.BreakGlassReason = shcrkit.PurposeBreakGlass, "unconscious"
	emergency := readEvent(inHours, clinician(), patientA)
	emergency.Purpose, emergency.Relationship = shcrkit.PurposeEmergency, shcrkit.RelationshipEmergency
	self := readEvent(inHours, nurse(), patientB)
	self.Relationship, self.RelationshipEvidence = shcrkit.RelationshipSelfClaimed, "covering a colleague's list"
	refused := readEvent(inHours, nurse(), patientC)
	refused.Outcome = audit.OutcomeRefused
	night := readEvent(time.Date(2025, 3, 4, 2, 30, 0, 0, time.UTC), clinician(), patientB)
	weekend := readEvent(time.Date(2025, 3, 8, 11, 0, 0, 0, time.UTC), clinician(), patientB)
	surname := readEvent(inHours, clinician(), patientC)
	surname.UserFamily, surname.PatientFamily = "Lovegood", " lovegood "
	auditRead := readEvent(time.Date(2025, 3, 4, 3, 0, 0, 0, time.UTC), officer(), patientA)
	auditRead.Service, auditRead.Action = audit.ServiceAudit, audit.ActionSearch

	tests := []struct {
		name   string
		events []audit.Event
		kind   FlagKind
		want   []Flag
	}{
		{"break glass", []audit.Event{readEvent(inHours, clinician(), patientA), btg}, FlagBreakGlass,
			[]Flag{{Kind: FlagBreakGlass, UserID: clinician().UserID, Organisation: "RX1", Patient: patientA, Seqs: []uint64{2}, Detail: "emergency access overriding the usual controls"}}},
		{"emergency relationship", []audit.Event{readEvent(inHours, clinician(), patientA), emergency}, FlagBreakGlass,
			[]Flag{{Kind: FlagBreakGlass, UserID: clinician().UserID, Organisation: "RX1", Patient: patientA, Seqs: []uint64{2}, Detail: "emergency access overriding the usual controls"}}},
		{"self-claimed relationship", []audit.Event{self, self}, FlagSelfClaimed,
			[]Flag{{Kind: FlagSelfClaimed, UserID: nurse().UserID, Organisation: "Y12345", Patient: patientB, Seqs: []uint64{1, 2}, Detail: "access on a self-claimed legitimate relationship"}}},
		{"refused", []audit.Event{refused}, FlagRefused,
			[]Flag{{Kind: FlagRefused, UserID: nurse().UserID, Organisation: "Y12345", Patient: patientC, Seqs: []uint64{1}, Detail: "access refused"}}},
		{"out of hours: night and weekend", []audit.Event{readEvent(inHours, clinician(), patientB), night, weekend}, FlagOutOfHours,
			[]Flag{{Kind: FlagOutOfHours, UserID: clinician().UserID, Organisation: "RX1", Patient: patientB, Seqs: []uint64{2, 3}, Detail: "access outside working hours"}}},
		{"same surname", []audit.Event{surname}, FlagSameSurname,
			[]Flag{{Kind: FlagSameSurname, UserID: clinician().UserID, Organisation: "RX1", Patient: patientC, Seqs: []uint64{1}, Detail: "user and patient share a family name"}}},
		{"reading the audit log is not flagged", []audit.Event{auditRead}, FlagOutOfHours, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags, err := review(ctx, seqEvents(tt.events...), utc())
			require.NoError(t, err)
			assert.Equal(t, tt.want, flagsOf(flags, tt.kind))
		})
	}
}

func TestReviewWorkingHoursAreConfigurable(t *testing.T) {
	early := readEvent(time.Date(2025, 3, 3, 7, 30, 0, 0, time.UTC), clinician(), patientA)
	saturday := readEvent(time.Date(2025, 3, 8, 10, 0, 0, 0, time.UTC), clinician(), patientA)
	cfg := ReviewConfig{Hours: WorkingHours{Start: 7 * time.Hour, End: 20 * time.Hour,
		Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}, Location: time.UTC}}
	flags, err := review(context.Background(), seqEvents(early, saturday), cfg)
	require.NoError(t, err)
	assert.Empty(t, flagsOf(flags, FlagOutOfHours))

	flags, err = review(context.Background(), seqEvents(early, saturday), utc())
	require.NoError(t, err)
	assert.Len(t, flagsOf(flags, FlagOutOfHours), 1)

	// The default is Europe/London: 08:30 BST is 07:30 UTC.
	summer := readEvent(time.Date(2025, 7, 7, 7, 30, 0, 0, time.UTC), clinician(), patientA)
	inHours := func(h WorkingHours) bool {
		c, err := ReviewConfig{Hours: h}.withDefaults()
		require.NoError(t, err)
		return c.Hours.inHours(summer.Time)
	}
	assert.True(t, inHours(WorkingHours{}))
	assert.False(t, inHours(WorkingHours{Location: time.UTC}))
}

func TestReviewVolumeSpike(t *testing.T) {
	var events []audit.Event
	day := func(d int) time.Time { return t0.Add(time.Duration(d)*24*time.Hour + time.Hour) }
	patients := testPatients(40)
	patient := func(i int) shcrkit.NHSNumber { return patients[i] }
	// Four ordinary days of 5 patients, then a day of 40.
	for d := 0; d < 4; d++ {
		for i := 0; i < 5; i++ {
			events = append(events, readEvent(day(d), clinician(), patient(i)))
		}
	}
	var spikeSeqs []uint64
	for i := 0; i < 40; i++ {
		events = append(events, readEvent(day(7), clinician(), patient(i)))
		spikeSeqs = append(spikeSeqs, uint64(len(events)))
	}
	// A colleague who always sees 40 a day is not flagged.
	for d := 0; d < 5; d++ {
		for i := 0; i < 40; i++ {
			events = append(events, readEvent(day(d), nurse(), patient(i)))
		}
	}
	flags, err := review(context.Background(), seqEvents(events...), utc())
	require.NoError(t, err)
	spikes := flagsOf(flags, FlagVolumeSpike)
	require.Len(t, spikes, 1)
	assert.Equal(t, clinician().UserID, spikes[0].UserID)
	assert.Equal(t, spikeSeqs, spikes[0].Seqs)
	assert.Equal(t, "40 patients on 2025-03-10 against a usual 5.0 a day", spikes[0].Detail)
	assert.Empty(t, spikes[0].Patient)

	cfg := utc()
	cfg.VolumeFactor = 10
	flags, err = review(context.Background(), seqEvents(events...), cfg)
	require.NoError(t, err)
	assert.Empty(t, flagsOf(flags, FlagVolumeSpike))
}

// testPatients returns n distinct valid NHS numbers in the 9000000xxx
// test range.
func testPatients(n int) []shcrkit.NHSNumber {
	var out []shcrkit.NHSNumber
	for base := 900000000; len(out) < n; base++ {
		s := strconv.Itoa(base)
		sum := 0
		for i := 0; i < 9; i++ {
			sum += int(s[i]-'0') * (10 - i)
		}
		check := (11 - sum%11) % 11
		if check == 10 {
			continue
		}
		out = append(out, shcrkit.NHSNumber(s+strconv.Itoa(check)))
	}
	return out
}

func TestReviewLaterCare(t *testing.T) {
	a1 := readEvent(t0.Add(time.Hour), clinician(), patientA)
	a2 := readEvent(t0.Add(2*time.Hour), clinician(), patientA)
	b := readEvent(t0.Add(time.Hour), clinician(), patientB)
	var asked []audit.Event
	cfg := utc()
	cfg.LaterCare = func(_ context.Context, e audit.Event) (bool, error) {
		asked = append(asked, e)
		return e.Patient == patientB, nil // care was recorded for B only
	}
	flags, err := review(context.Background(), seqEvents(a1, a2, b), cfg)
	require.NoError(t, err)
	got := flagsOf(flags, FlagNoLaterCare)
	require.Len(t, got, 1)
	assert.Equal(t, patientA, got[0].Patient)
	assert.Equal(t, []uint64{1, 2}, got[0].Seqs)
	assert.Len(t, asked, 2, "once per user and patient")
	for _, e := range asked {
		if e.Patient == patientA {
			assert.Equal(t, uint64(1), e.Seq, "with the earliest access")
		}
	}

	boom := errors.New("EPR down")
	cfg.LaterCare = func(context.Context, audit.Event) (bool, error) { return false, boom }
	_, err = review(context.Background(), seqEvents(a1), cfg)
	assert.ErrorIs(t, err, boom)
}

func TestReviewOrderAndErrors(t *testing.T) {
	refused := readEvent(t0.Add(time.Hour), nurse(), patientC)
	refused.Outcome = audit.OutcomeRefused
	btg := readEvent(time.Date(2025, 3, 4, 2, 0, 0, 0, time.UTC), clinician(), patientA)
	btg.Purpose = shcrkit.PurposeBreakGlass
	flags, err := review(context.Background(), seqEvents(refused, btg), utc())
	require.NoError(t, err)
	var kinds []FlagKind
	for _, f := range flags {
		kinds = append(kinds, f.Kind)
	}
	assert.Equal(t, []FlagKind{FlagBreakGlass, FlagRefused, FlagOutOfHours}, kinds)

	boom := errors.New("read failed")
	_, err = review(context.Background(), func(yield func(audit.Event, error) bool) { yield(audit.Event{}, boom) }, utc())
	assert.ErrorIs(t, err, boom)
	_, err = review(context.Background(), seqEvents(), ReviewConfig{VolumeMinimum: -1})
	assert.ErrorIs(t, err, audit.ErrInvalidOption)
}

func TestQueryReviewOfALog(t *testing.T) {
	l := investigationLog(t)
	flags, err := QueryReview(context.Background(), l, officer(), audit.Filter{}, utc())
	require.NoError(t, err)
	kinds := map[FlagKind][]uint64{}
	for _, f := range flags {
		kinds[f.Kind] = append(kinds[f.Kind], f.Seqs...)
	}
	assert.Equal(t, []uint64{6}, kinds[FlagBreakGlass])
	assert.Equal(t, []uint64{4}, kinds[FlagRefused])
	assert.Equal(t, uint64(8), l.Size(), "the review's read was recorded")
}

func TestReviewCloseToHome(t *testing.T) {
	ctx := context.Background()
	at := t0.Add(time.Hour)
	own := readEvent(at, clinician(), patientA)
	relative := readEvent(at.Add(time.Minute), clinician(), patientB)
	relative.PatientFamily = "LOVEGOOD"
	namesake := readEvent(at.Add(2*time.Minute), clinician(), patientC)
	namesake.PatientFamily = "Lovegood"
	stranger := readEvent(at.Add(3*time.Minute), nurse(), patientB)
	stranger.PatientFamily = "Lovegood"
	postcodes := map[shcrkit.NHSNumber]string{patientB: "rx1 1aa", patientC: "ZZ9 9ZZ"}
	staffCalls, postcodeCalls := 0, 0
	cfg := utc()
	cfg.Staff = func(_ context.Context, user string, org shcrkit.ODSCode) (Staff, error) {
		staffCalls++
		if user == clinician().UserID && org == "RX1" {
			return Staff{NHSNumber: patientA, Family: "Lovegood", Postcode: "RX1 1AA"}, nil
		}
		return Staff{}, nil
	}
	cfg.PatientPostcode = func(_ context.Context, p shcrkit.NHSNumber) (string, error) {
		postcodeCalls++
		return postcodes[p], nil
	}
	flags, err := review(ctx, seqEvents(own, relative, namesake, stranger, relative), cfg)
	require.NoError(t, err)
	ownFlags := flagsOf(flags, FlagOwnRecord)
	require.Len(t, ownFlags, 1)
	assert.Equal(t, []uint64{1}, ownFlags[0].Seqs)
	home := flagsOf(flags, FlagSameSurnameAndAddress)
	require.Len(t, home, 1, "same surname at another address, or another user, is not flagged")
	assert.Equal(t, patientB, home[0].Patient)
	assert.Equal(t, []uint64{2, 5}, home[0].Seqs, "the flag names every event behind it")
	assert.Equal(t, 2, staffCalls, "once per user")
	assert.Equal(t, 2, postcodeCalls, "once per patient")

	cfg.Staff = func(context.Context, string, shcrkit.ODSCode) (Staff, error) {
		return Staff{}, errors.New("directory down")
	}
	_, err = review(ctx, seqEvents(own), cfg)
	require.ErrorContains(t, err, "directory down")

	cfg.Staff = nil
	flags, err = review(ctx, seqEvents(own, relative), cfg)
	require.NoError(t, err)
	assert.Empty(t, flagsOf(flags, FlagOwnRecord), "left out without staff demographics")
}

func TestReviewAfterDischarge(t *testing.T) {
	ctx := context.Background()
	discharge := t0.Add(24 * time.Hour)
	var events []audit.Event
	for i, d := range []time.Duration{0, 30 * time.Hour, 50 * time.Hour, 70 * time.Hour} {
		e := readEvent(t0.Add(d), clinician(), patientA)
		e.Seq = uint64(i + 1)
		events = append(events, e)
	}
	once := readEvent(t0.Add(30*time.Hour), nurse(), patientB)
	once.Seq = 5
	events = append(events, once)
	cfg := utc()
	cfg.Discharged = func(_ context.Context, e audit.Event) (time.Time, error) {
		return discharge, nil
	}
	flags, err := review(ctx, seqEvents(events...), cfg)
	require.NoError(t, err)
	after := flagsOf(flags, FlagAfterDischarge)
	require.Len(t, after, 1, "a single look after discharge is expected")
	assert.Equal(t, []uint64{2, 3, 4}, after[0].Seqs)
	assert.Equal(t, patientA, after[0].Patient)
	assert.Contains(t, after[0].Detail, "3 accesses after discharge")

	cfg.Discharged = func(context.Context, audit.Event) (time.Time, error) { return time.Time{}, nil }
	flags, err = review(ctx, seqEvents(events...), cfg)
	require.NoError(t, err)
	assert.Empty(t, flagsOf(flags, FlagAfterDischarge), "still in care")

	cfg.Discharged = func(context.Context, audit.Event) (time.Time, error) { return time.Time{}, errors.New("PAS down") }
	_, err = review(ctx, seqEvents(events...), cfg)
	require.ErrorContains(t, err, "PAS down")

	_, err = review(ctx, seqEvents(), ReviewConfig{AfterDischargeMinimum: -1})
	require.ErrorIs(t, err, audit.ErrInvalidOption)
}

func TestAdHocSharingIsAlwaysFlagged(t *testing.T) {
	e := readEvent(t0, clinician(), patientA)
	e.Kind, e.RequestID, e.DecisionID = audit.KindDecision, "", "d-1"
	e.AdHocSharing = "ad hoc sharing decided by 555000000101: unconscious; basis: ICO data sharing code: emergencies"
	e.Seq = 1
	plain := e
	plain.Seq, plain.AdHocSharing = 2, ""
	flags, err := review(t.Context(), func(yield func(audit.Event, error) bool) {
		for _, ev := range []audit.Event{e, plain} {
			if !yield(ev, nil) {
				return
			}
		}
	}, ReviewConfig{})
	require.NoError(t, err)
	var adHoc []uint64
	for _, f := range flags {
		if f.Kind == FlagAdHocSharing {
			adHoc = append(adHoc, f.Seqs...)
		}
	}
	assert.Equal(t, []uint64{1}, adHoc)
}

func TestReportShowsRelationshipVerification(t *testing.T) {
	e := readEvent(t0, clinician(), patientA)
	e.RelationshipVerification = "not verified by referral: ServiceRequest/sr-9 names organisation RW1, not RX1"
	md := NewAccessReport(patientA, t0.Add(-1), t0.Add(1), []audit.Event{e}).Markdown()
	assert.Contains(t, md, "("+e.RelationshipVerification+")")
}

func TestReviewConfigIsChecked(t *testing.T) {
	for _, cfg := range []ReviewConfig{{VolumeFactor: -1}, {Hours: WorkingHours{Start: 10 * time.Hour, End: 9 * time.Hour}}} {
		_, err := review(context.Background(), seqEvents(), cfg)
		assert.ErrorIs(t, err, audit.ErrInvalidOption)
	}
}
