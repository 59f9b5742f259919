package investigation

import (
	"context"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewAccessReport(t *testing.T) {
	read := readEvent(t0.Add(time.Hour), clinician(), patientA)
	read.Seq = 2
	search := searchEvent(t0, clinician(), patientA)
	search.Seq = 1
	refused := readEvent(t0.Add(2*time.Hour), nurse(), patientA)
	refused.Seq, refused.Outcome, refused.Reason = 3, audit.OutcomeRefused, "no relationship"
	other := readEvent(t0, nurse(), patientB)
	other.Seq = 4
	r := NewAccessReport(patientA, time.Time{}, time.Time{}, []audit.Event{read, refused, other, search})

	assert.Equal(t, patientA, r.Patient)
	assert.Equal(t, 1, r.Refused)
	require.Len(t, r.Accesses, 3, "only this patient's events")
	assert.Equal(t, []uint64{1, 2, 3}, []uint64{r.Accesses[0].Seq, r.Accesses[1].Seq, r.Accesses[2].Seq})
	assert.Equal(t, "Clinical Practitioner Access Role", r.Accesses[1].Role)
	assert.Equal(t, "Riverside EPR 4.2", r.Accesses[1].System)
	assert.Equal(t, []OrganisationAccess{
		{Organisation: "RX1", Name: "Riverside Hospital", Accesses: 2, Users: 1, First: t0, Last: t0.Add(time.Hour)},
		{Organisation: "Y12345", Name: "Hilltop Practice", Accesses: 1, Refused: 1, Users: 1, First: t0.Add(2 * time.Hour), Last: t0.Add(2 * time.Hour)},
	}, r.Organisations)
}

func TestAccessReportMarkdown(t *testing.T) {
	read := readEvent(t0.Add(time.Hour), clinician(), patientA)
	read.Seq = 2
	read.OnBehalfOf = &audit.Authority{UserID: "555000777888", Name: "Dr Sup"}
	search := searchEvent(t0, clinician(), patientA)
	search.Seq = 1
	refused := readEvent(t0.Add(2*time.Hour), nurse(), patientA)
	refused.Seq, refused.Outcome, refused.Reason, refused.Purpose = 3, audit.OutcomeRefused, "no relationship | none", shcrkit.PurposeBreakGlass
	refused.BreakGlassReason, refused.Relationship = "collapsed", shcrkit.RelationshipNone
	from, to := t0, t0.Add(24*time.Hour)
	got := NewAccessReport(patientA, from, to, []audit.Event{search, read, refused}).Markdown()
	want := `# Access to the record of NHS number 943 476 5919

Period: 2025-03-03 09:00 to 2025-03-04 09:00.

3 accesses by 2 organisations; 1 refused attempt.

## By organisation

| Organisation | Accesses | Refused | Users | First | Last |
|---|---|---|---|---|---|
| Riverside Hospital (RX1) | 2 | 0 | 1 | 2025-03-03 09:00 | 2025-03-03 10:00 |
| Hilltop Practice (Y12345) | 1 | 1 | 1 | 2025-03-03 11:00 | 2025-03-03 11:00 |

## Accesses

| Seq | When (UTC) | Who | Organisation | Why | What | Outcome |
|---|---|---|---|---|---|---|
| 1 | 2025-03-03 09:00 | Dr Ada Lovegood (Clinical Practitioner Access Role, user 555000111222) | Riverside Hospital (RX1) | direct-care | searched the National Record Locator for DocumentReference | success |
| 2 | 2025-03-03 10:00 | Dr Ada Lovegood (Clinical Practitioner Access Role, user 555000111222) for Dr Sup | Riverside Hospital (RX1) | direct-care; relationship: encounter | read DocumentReference/Y99999-care-plan-1 from the shared care record held by Y99999 | success |
| 3 | 2025-03-03 11:00 | Ben Carter (Nurse Access Role, user 555000333444) | Hilltop Practice (Y12345) | break-glass; emergency reason: collapsed | read DocumentReference/Y99999-care-plan-1 from the shared care record held by Y99999 | refused: no relationship \| none |
`
	assert.Equal(t, want, got)

	empty := NewAccessReport(patientB, time.Time{}, time.Time{}, nil).Markdown()
	assert.Equal(t, "# Access to the record of NHS number 900 000 0009\n\nPeriod: all recorded accesses.\n\n0 accesses by 0 organisations; 0 refused attempts.\n", empty)
	assert.Contains(t, NewAccessReport(patientB, from, time.Time{}, nil).Markdown(), "Period: from 2025-03-03 09:00.")
	assert.Contains(t, NewAccessReport(patientB, time.Time{}, to, nil).Markdown(), "Period: until 2025-03-04 09:00.")
}

func TestPatientAccessReportFromLog(t *testing.T) {
	l := investigationLog(t)
	ctx := context.Background()
	r, err := QueryAccessReport(ctx, l, officer(), patientA, time.Time{}, time.Time{})
	require.NoError(t, err)
	assert.Len(t, r.Accesses, 3)
	assert.Equal(t, 1, r.Refused)
	md := r.Markdown()
	assert.Contains(t, md, "3 accesses by 2 organisations; 1 refused attempt.")
	for _, seq := range []string{"1", "2", "4"} {
		assert.Contains(t, md, "\n| "+seq+" | ", "a row for event %s", seq)
	}

	// The report's own read appears in the next report.
	r2, err := QueryAccessReport(ctx, l, officer(), patientA, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, r2.Accesses, 4)
	assert.Equal(t, "searched the audit log", r2.Accesses[3].what())
	assert.Equal(t, officer().UserID, r2.Accesses[3].UserID)

	_, err = QueryAccessReport(ctx, l, officer(), "123", time.Time{}, time.Time{})
	assert.ErrorIs(t, err, audit.ErrInvalidFilter)
}

func TestQueryAccessReportAndReviewTakeAnyReader(t *testing.T) {
	l := openTestLog(t, t.TempDir())
	writeAll(t, l, readEvent(t0, clinician(), patientA), readEvent(t0.Add(20*time.Hour), nurse(), patientA))
	var src audit.Reader = l
	r, err := QueryAccessReport(context.Background(), src, officer(), patientA, time.Time{}, time.Time{})
	require.NoError(t, err)
	assert.Len(t, r.Accesses, 2)
	flags, err := QueryReview(context.Background(), src, officer(), audit.Filter{Patient: patientA}, ReviewConfig{})
	require.NoError(t, err)
	assert.NotEmpty(t, flags, "an access at 05:00 is out of hours")
	_, err = QueryAccessReport(context.Background(), src, officer(), "", time.Time{}, time.Time{})
	require.ErrorIs(t, err, audit.ErrInvalidFilter)
}
