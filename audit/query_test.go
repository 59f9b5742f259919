package audit

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// investigationLog holds a small, varied history: two organisations,
// three patients, refused and failed attempts, break-glass access, over
// two days.
func investigationLog(t *testing.T, opts ...LogOption) *Log {
	t.Helper()
	l := openTestLog(t, t.TempDir(), opts...)
	refused := readEvent(t0.Add(3*time.Hour), nurse(), patientA)
	refused.Outcome, refused.Reason, refused.Rule = OutcomeRefused, "no legitimate relationship", "lr-required"
	failed := readEvent(t0.Add(4*time.Hour), clinician(), patientB)
	failed.Outcome, failed.ErrorCode = OutcomeFailed, "503"
	btg := readEvent(t0.Add(26*time.Hour), clinician(), patientC)
	btg.Purpose, btg.BreakGlassReason = shcrkit.PurposeBreakGlass, "unconscious in ED"
	other := readEvent(t0.Add(27*time.Hour), nurse(), patientB)
	other.Custodian = "Y88888"
	writeAll(t, l,
		searchEvent(t0, clinician(), patientA),                // 1
		readEvent(t0.Add(time.Hour), clinician(), patientA),   // 2
		readEvent(t0.Add(2*time.Hour), clinician(), patientB), // 3
		refused, // 4
		failed,  // 5
		btg,     // 6
		other,   // 7
	)
	return l
}

func TestQueryFilters(t *testing.T) {
	tests := []struct {
		name string
		f    Filter
		want []uint64
	}{
		{"patient", Filter{Patient: patientA}, []uint64{1, 2, 4}},
		{"user", Filter{UserID: nurse().UserID}, []uint64{4, 7}},
		{"organisation", Filter{Organisation: "RX1"}, []uint64{1, 2, 3, 5, 6}},
		{"custodian", Filter{Custodian: "Y88888"}, []uint64{7}},
		{"time range", Filter{From: t0.Add(time.Hour), To: t0.Add(4 * time.Hour)}, []uint64{2, 3, 4}},
		{"outcome", Filter{Outcome: OutcomeRefused}, []uint64{4}},
		{"purpose", Filter{Purpose: shcrkit.PurposeBreakGlass}, []uint64{6}},
		{"action and service", Filter{Action: ActionSearch, Service: ServiceNRL}, []uint64{1}},
		{"patient and user", Filter{Patient: patientB, UserID: clinician().UserID}, []uint64{3, 5}},
		{"patient and time", Filter{Patient: patientB, From: t0.Add(24 * time.Hour)}, []uint64{7}},
		{"correlation and outcome", Filter{CorrelationID: readEvent(t0, clinician(), patientA).CorrelationID, Outcome: OutcomeSuccess}, []uint64{2, 3, 6, 7}},
		{"limit", Filter{Organisation: "RX1", Limit: 2}, []uint64{1, 2}},
		{"everything", Filter{}, []uint64{1, 2, 3, 4, 5, 6, 7}},
		{"from long ago", Filter{From: time.Date(2, 1, 1, 0, 0, 0, 0, time.UTC)}, []uint64{1, 2, 3, 4, 5, 6, 7}},
		{"to far ahead", Filter{To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, []uint64{1, 2, 3, 4, 5, 6, 7}},
		{"from far ahead", Filter{From: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"to long ago", Filter{To: time.Date(2, 1, 1, 0, 0, 0, 0, time.UTC)}, nil},
		{"nothing", Filter{Patient: "9000000017"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := investigationLog(t)
			got := queryAll(t, l, officer(), tt.f)
			assert.Equal(t, tt.want, nilIfEmpty(seqsOf(got)))
			assert.Equal(t, uint64(8), l.Size(), "the query itself was recorded")
		})
	}
}

func TestQueryIsAudited(t *testing.T) {
	l := investigationLog(t)
	ctx := shcrkit.WithCorrelationID(shcrkit.WithRequestID(context.Background(), "rid-1"), "cid-1")
	before := l.Size()
	var got []Event
	for e, err := range l.Query(ctx, officer(), Filter{Patient: patientA, Outcome: OutcomeRefused}) {
		require.NoError(t, err)
		if len(got) == 0 {
			assert.Equal(t, before+1, l.Size(), "the read was recorded before the first result")
		}
		got = append(got, e)
	}
	require.Len(t, got, 1)
	reads := queryAll(t, l, officer(), Filter{Service: ServiceAudit})
	require.NotEmpty(t, reads)
	r := reads[0]
	assert.Equal(t, before+1, r.Seq)
	assert.Equal(t, officer().UserID, r.Requester.UserID)
	assert.Equal(t, ActionSearch, r.Action)
	assert.Equal(t, "AuditEvent", r.Resource)
	assert.Equal(t, patientA, r.Patient, "the patient learns who searched their audit trail")
	assert.Equal(t, "outcome=refused&patient={patient}", r.Query)
	assert.Equal(t, "rid-1", r.RequestID)
	assert.Equal(t, "cid-1", r.CorrelationID)

	// The query does not see its own record.
	for _, e := range got {
		assert.NotEqual(t, ServiceAudit, e.Service)
	}
}

func TestQueryRejectsBadInput(t *testing.T) {
	l := investigationLog(t)
	size := l.Size()
	for name, f := range map[string]Filter{
		"bad patient":  {Patient: "123"},
		"bad org":      {Organisation: "x"},
		"reversed":     {From: t0.Add(time.Hour), To: t0},
		"bad outcome":  {Outcome: "maybe"},
		"bad action":   {Action: "peek"},
		"bad service":  {Service: "fax"},
		"bad purpose":  {Purpose: 9},
		"negative cap": {Limit: -1},
		"control char": {UserID: "a\nb"},
	} {
		for _, err := range l.Query(context.Background(), officer(), f) {
			assert.ErrorIs(t, err, ErrInvalidFilter, name)
		}
	}
	for _, err := range l.Query(context.Background(), Requester0(), Filter{}) {
		assert.ErrorIs(t, err, ErrInvalidEvent, "an anonymous reader is refused")
	}
	assert.Equal(t, size, l.Size(), "a refused query writes nothing")
}

// Requester0 is a reader with no identity.
func Requester0() shcrkit.Requester { return shcrkit.Requester{} }

func TestQueryAcrossIndexRuns(t *testing.T) {
	l := openTestLog(t, t.TempDir(), WithTuning(Tuning{IndexFlushEvents: 5}))
	patients := []shcrkit.NHSNumber{patientA, patientB, patientC}
	want := map[shcrkit.NHSNumber][]uint64{}
	for i := 1; i <= 123; i++ {
		p := patients[i%3]
		want[p] = append(want[p], uint64(i))
		writeAll(t, l, readEvent(t0.Add(time.Duration(i)*time.Minute), clinician(), p))
	}
	for _, p := range patients {
		got := queryAll(t, l, officer(), Filter{Patient: p, Service: ServiceShCR})
		assert.Equal(t, want[p], seqsOf(got))
	}
	runs, _ := filepath.Glob(filepath.Join(l.st.Dir(), indexDir, "run-*"))
	assert.Less(t, len(runs), 10, "runs are merged")
	require.NoError(t, l.Verify(context.Background()))
}

// A patient query reads only that patient's events, not the log.
func TestQueryUsesTheIndex(t *testing.T) {
	l := openTestLog(t, t.TempDir(), WithTuning(Tuning{IndexFlushEvents: 64}))
	for i := 0; i < 500; i++ {
		p := patientB
		if i%50 == 0 {
			p = patientA
		}
		writeAll(t, l, readEvent(t0, clinician(), p))
	}
	before := l.st.RecordReads()
	got := queryAll(t, l, officer(), Filter{Patient: patientA})
	assert.Len(t, got, 10)
	assert.Equal(t, int64(10), l.st.RecordReads()-before)
}

func nilIfEmpty(s []uint64) []uint64 {
	if len(s) == 0 {
		return nil
	}
	return s
}

// A query still reading when the log is closed ends with ErrClosed, not
// with a false report of tampering.
func TestQueryInterruptedByClose(t *testing.T) {
	l := openTestLog(t, t.TempDir())
	for i := 0; i < 5; i++ {
		writeAll(t, l, readEvent(t0.Add(time.Duration(i)*time.Minute), clinician(), patientA))
	}
	var errs []error
	n := 0
	for _, err := range l.Query(context.Background(), officer(), Filter{Patient: patientA}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if n++; n == 2 {
			require.NoError(t, l.Close())
		}
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrClosed)
	assert.NotErrorIs(t, errs[0], ErrTampered)
}
