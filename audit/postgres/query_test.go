package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/investigation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mixedEvents varies every field a filter selects on.
func mixedEvents() []audit.Event {
	var out []audit.Event
	nurse := clinician()
	nurse.UserID, nurse.Organisation = "555000333444", "Y12345"
	for i := range 24 {
		e := readEvent(t0.Add(time.Duration(i)*time.Hour), patientA)
		if i%2 == 1 {
			e.Patient = patientB
		}
		if i%3 == 1 {
			e.Requester = nurse
		}
		if i%4 == 1 {
			e.Outcome, e.ErrorCode = audit.OutcomeRefused, "ACCESS_DENIED"
		}
		if i%5 == 1 {
			e.Purpose, e.Relationship, e.BreakGlassReason = shcrkit.PurposeEmergency, shcrkit.RelationshipEmergency, "unconscious in ED"
		}
		if i%6 == 1 {
			e.Action, e.Service, e.Resource = audit.ActionSearch, audit.ServiceNRL, "DocumentReference"
			e.Custodian = ""
		}
		if i%7 == 1 {
			e.Custodian = "RX2"
		}
		e.CorrelationID = fmt.Sprintf("c0ffee00-1234-4abc-8def-%012d", i%3)
		out = append(out, e)
	}
	return out
}

// Every filter selects in SQL exactly what audit.Filter.Match selects.
func TestQueryMatchesTheFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "", WithCheckpointInterval(24*time.Hour))
	var written []audit.Event
	for _, e := range mixedEvents() {
		seq, err := s.Append(ctx, e)
		require.NoError(t, err)
		n, err := e.Normalize(t0)
		require.NoError(t, err)
		n.Seq = seq
		written = append(written, n)
	}
	for _, f := range []audit.Filter{
		{Patient: patientA},
		{Patient: patientB, Outcome: audit.OutcomeRefused},
		{UserID: "555000333444"},
		{Organisation: "RX1"},
		{Custodian: "RX2"},
		{From: t0.Add(5 * time.Hour), To: t0.Add(9 * time.Hour)},
		{From: t0.Add(20 * time.Hour)},
		{To: t0.Add(time.Hour + time.Nanosecond)},
		{Purpose: shcrkit.PurposeEmergency},
		{Action: audit.ActionSearch, Service: audit.ServiceNRL},
		{CorrelationID: "c0ffee00-1234-4abc-8def-000000000002"},
		{Patient: patientA, Limit: 3},
		{From: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(audit.ReadEvent(context.Background(), shcrkit.Requester{}, f, time.Time{}).Query, func(t *testing.T) {
			var want []uint64
			for _, e := range written {
				if f.Match(e) && (f.Limit == 0 || len(want) < f.Limit) {
					want = append(want, e.Seq)
				}
			}
			var got []uint64
			for e, err := range s.Query(ctx, officer(), f) {
				require.NoError(t, err)
				if e.Service != audit.ServiceAudit {
					got = append(got, e.Seq)
				}
			}
			assert.Equal(t, want, got)
		})
	}
}

// Queries page through long results without holding a connection while
// the caller reads, and stop when the caller does.
func TestQueryPagesAndStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "", WithMaxConns(1))
	const n = queryPage + 5
	reqs := make([]*writeReq, n)
	for i := range reqs {
		e, err := readEvent(t0, patientA).Normalize(t0)
		require.NoError(t, err)
		reqs[i] = &writeReq{ev: e, done: make(chan writeResult, 1)}
	}
	for _, r := range reqs {
		s.reqs <- r
	}
	for _, r := range reqs {
		require.NoError(t, (<-r.done).err)
	}
	count := 0
	for e, err := range s.Query(ctx, officer(), audit.Filter{Patient: patientA, Service: audit.ServiceShCR}) {
		require.NoError(t, err)
		count++
		assert.Equal(t, uint64(count), e.Seq)
		if count == queryPage {
			// Between pages the pool's one connection is free.
			require.NoError(t, s.Write(ctx, readEvent(t0, patientB)))
			_, err := s.Size(ctx)
			require.NoError(t, err)
		}
	}
	assert.Equal(t, n, count)

	count = 0
	for range s.Query(ctx, officer(), audit.Filter{Patient: patientA}) {
		count++
		if count == 3 {
			break
		}
	}
	assert.Equal(t, 3, count)
}

// A bad filter is refused before anything is read or recorded.
func TestQueryRefusesABadFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t, "")
	for _, err := range s.Query(ctx, officer(), audit.Filter{Patient: "1234567890"}) {
		require.ErrorIs(t, err, audit.ErrInvalidFilter)
	}
	size, err := s.Size(ctx)
	require.NoError(t, err)
	assert.Zero(t, size)
}

// The access report and review flags come out the same from the
// embedded log and from the store given the same events: the
// investigation works unchanged over either Reader.
func TestReportAndReviewSameAsTheEmbeddedLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := func() time.Time { return t0.Add(48 * time.Hour) }
	log, err := audit.OpenLog(t.TempDir(), audit.WithClock(clock))
	require.NoError(t, err)
	t.Cleanup(func() { log.Close() })
	s := openStore(t, "", WithClock(clock))
	for _, e := range mixedEvents() {
		require.NoError(t, log.Write(ctx, e))
		require.NoError(t, s.Write(ctx, e))
	}
	want, err := investigation.QueryAccessReport(ctx, log, officer(), patientA, time.Time{}, time.Time{})
	require.NoError(t, err)
	got, err := investigation.QueryAccessReport(ctx, s, officer(), patientA, time.Time{}, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, want.Markdown(), got.Markdown())

	wantFlags, err := investigation.QueryReview(ctx, log, officer(), audit.Filter{}, investigation.ReviewConfig{})
	require.NoError(t, err)
	gotFlags, err := investigation.QueryReview(ctx, s, officer(), audit.Filter{}, investigation.ReviewConfig{})
	require.NoError(t, err)
	assert.NotEmpty(t, gotFlags)
	assert.Equal(t, wantFlags, gotFlags)
}
