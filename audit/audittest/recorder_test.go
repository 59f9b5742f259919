package audittest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	t0      = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	patient = shcrkit.NHSNumber("9434765919")
	doctor  = shcrkit.Requester{
		UserID: "555000111222", Name: "Dr Ada Lovegood", RoleProfileID: "100200300400", RoleCode: "R8000",
		Activities: []string{"B0360"}, Organisation: "RX1", System: shcrkit.System{Name: "Riverside EPR"},
	}
)

func read() audit.Event {
	return audit.Event{
		Time: t0, Requester: doctor, Action: audit.ActionRead, Service: audit.ServiceShCR,
		Resource: "DocumentReference/Y99999-1", Patient: patient, Purpose: shcrkit.PurposeDirectCare,
		Outcome: audit.OutcomeSuccess, RequestID: "req-1", Custodian: "Y99999",
	}
}

func TestRecorder(t *testing.T) {
	clock := t0.Add(time.Minute)
	r := NewRecorder(WithClock(func() time.Time { return clock }))
	ctx := context.Background()
	require.NoError(t, r.Write(ctx, read()))
	search := read()
	search.Action, search.Service, search.Resource, search.Query = audit.ActionSearch, audit.ServiceNRL, "DocumentReference", "subject=9434765919"
	require.NoError(t, r.Write(ctx, search))

	events := r.Events()
	require.Len(t, events, 2)
	assert.Equal(t, []uint64{1, 2}, []uint64{events[0].Seq, events[1].Seq})
	assert.Equal(t, clock, events[0].Recorded)
	assert.Equal(t, "subject={patient}", events[1].Query, "normalised as a log would")
	assert.Equal(t, 2, len(r.Events()))

	events[0].Requester.Activities[0] = "B9999"
	assert.Equal(t, "B0360", r.Events()[0].Requester.Activities[0], "copies are handed out")

	assert.ErrorIs(t, r.Write(ctx, audit.Event{}), audit.ErrInvalidEvent)
	assert.Equal(t, 2, len(r.Events()))

	boom := errors.New("audit store down")
	r.FailWith(boom)
	assert.ErrorIs(t, r.Write(ctx, read()), boom)
	assert.Equal(t, 2, len(r.Events()), "a failed write keeps nothing")
	r.FailWith(nil)
	require.NoError(t, r.Write(ctx, read()))
	assert.Equal(t, uint64(3), r.Events()[2].Seq)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, r.Write(cancelled, read()), context.Canceled)

	r.Reset()
	assert.Zero(t, len(r.Events()))
	require.NoError(t, NewRecorder().Write(ctx, read()), "the system clock by default")
	var zero Recorder
	require.NoError(t, zero.Write(ctx, read()), "the zero value works")
}

func TestRecorderFind(t *testing.T) {
	r := NewRecorder()
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		require.NoError(t, r.Write(ctx, read()))
	}
	refused := read()
	refused.Outcome, refused.Rule = audit.OutcomeRefused, "no-lr"
	require.NoError(t, r.Write(ctx, refused))

	assert.Len(t, r.Find(audit.Filter{Patient: patient}), 4)
	assert.Len(t, r.Find(audit.Filter{Patient: patient, Limit: 2}), 2)
	assert.Len(t, r.Find(audit.Filter{Outcome: audit.OutcomeRefused}), 1)
	require.NoError(t, r.Expect(audit.Filter{Limit: 1}, 4), "Expect ignores the limit")
	require.NoError(t, r.Expect(audit.Filter{Outcome: audit.OutcomeSuccess}, 3))
	err := r.Expect(audit.Filter{Patient: patient, Outcome: audit.OutcomeFailed}, 1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "want 1 events matching {patient=943****919 outcome=failed}, got 0")
	assert.Contains(t, err.Error(), "4 read shcr")
	assert.NotContains(t, err.Error(), "9434765919")
}

func TestNewRecorderOptions(t *testing.T) {
	assert.Panics(t, func() { NewRecorder(WithClock(nil)) })
	assert.Panics(t, func() { NewRecorder(nil) })
}

func TestCheckEvent(t *testing.T) {
	tests := []struct {
		name   string
		change func(*audit.Event)
		want   string
	}{
		{"complete", func(*audit.Event) {}, ""},
		{"no role profile", func(e *audit.Event) { e.Requester.RoleProfileID = "" }, "role profile"},
		{"no request ID", func(e *audit.Event) { e.RequestID = "" }, "no request ID"},
		{"no purpose", func(e *audit.Event) { e.Purpose = shcrkit.PurposeUnspecified }, "without a purpose"},
		{"break glass without reason", func(e *audit.Event) { e.Purpose = shcrkit.PurposeBreakGlass }, "break-glass"},
		{"self-claimed without reason", func(e *audit.Event) { e.Relationship = shcrkit.RelationshipSelfClaimed }, "self-claimed"},
		{"bare refusal", func(e *audit.Event) { e.Outcome = audit.OutcomeRefused }, "refusal"},
		{"bare failure", func(e *audit.Event) { e.Outcome = audit.OutcomeFailed }, "failure"},
		{"remote read without custodian", func(e *audit.Event) { e.Custodian = "" }, "custodian"},
		{"invalid too", func(e *audit.Event) { e.Action = "" }, "unknown action"},
		{"an audit read needs no request ID or purpose", func(e *audit.Event) {
			e.Service, e.Action, e.RequestID, e.Purpose = audit.ServiceAudit, audit.ActionSearch, "", 0
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := read()
			tt.change(&e)
			err := CheckEvent(e)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.want)
		})
	}
	r := NewRecorder()
	bad := read()
	bad.RequestID = ""
	require.NoError(t, r.Write(context.Background(), read()))
	require.NoError(t, r.Write(context.Background(), bad))
	err := r.Check()
	assert.ErrorIs(t, err, ErrIncomplete)
	assert.True(t, strings.HasPrefix(err.Error(), "event 2: "))
}

func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorder()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 25; j++ {
				assert.NoError(t, r.Write(context.Background(), read()))
				_ = r.Events()
			}
		}()
	}
	wg.Wait()
	events := r.Events()
	require.Len(t, events, 500)
	for i, e := range events {
		assert.Equal(t, uint64(i+1), e.Seq)
	}
}

func TestRecorderRefusesANilContext(t *testing.T) {
	r := NewRecorder()
	var ctx context.Context
	assert.ErrorIs(t, r.Write(ctx, audit.Event{}), shcrkit.ErrInvalidRequest)
	assert.Empty(t, r.Events())
}
