package audit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memSink records events, optionally failing.
type memSink struct {
	mu     sync.Mutex
	events []Event
	err    error
}

func (m *memSink) Write(_ context.Context, e Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	m.events = append(m.events, e)
	return nil
}

func TestMulti(t *testing.T) {
	ctx := context.Background()
	e := readEvent(t0, clinician(), patientA)

	a, b := &memSink{}, &memSink{}
	require.NoError(t, Multi(a, b).Write(ctx, e))
	assert.Len(t, a.events, 1)
	assert.Len(t, b.events, 1)
	a.events[0].Requester.Activities[0] = "B9999"
	assert.Equal(t, "B0360", b.events[0].Requester.Activities[0], "each sink gets its own copy")
	assert.Equal(t, "B0360", e.Requester.Activities[0])

	boom := errors.New("disk full")
	c := &memSink{err: boom}
	err := Multi(a, c, b).Write(ctx, e)
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "sink 1")
	assert.Len(t, b.events, 2, "the others still record it")

	assert.ErrorIs(t, Multi().Write(ctx, e), ErrNoSinks, "auditing cannot be configured away")
	assert.ErrorIs(t, Multi(a, nil).Write(ctx, e), ErrNoSinks)
	assert.NoError(t, Multi(a).Write(ctx, e))
}

func TestMultiConcurrent(t *testing.T) {
	a, b := &memSink{}, &memSink{}
	m := Multi(a, b)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, m.Write(context.Background(), readEvent(t0, clinician(), patientA)))
		}()
	}
	wg.Wait()
	assert.Len(t, a.events, 50)
	assert.Len(t, b.events, 50)
}

func TestSlogSink(t *testing.T) {
	var buf bytes.Buffer
	s := NewSlogSink(slog.New(slog.NewJSONHandler(&buf, nil)), slog.LevelInfo)
	e := readEvent(t0, clinician(), patientA)
	require.NoError(t, s.Write(context.Background(), e))
	out := buf.String()
	assert.Contains(t, out, `"msg":"audit event"`)
	assert.Contains(t, out, "943****919")
	assert.NotContains(t, out, "9434765919", "no NHS number in a log line")
	assert.Contains(t, out, `"action":"read"`)

	buf.Reset()
	err := NewSlogSink(slog.New(slog.NewJSONHandler(&buf, nil)), slog.LevelWarn).Write(context.Background(), Event{})
	assert.ErrorIs(t, err, ErrInvalidEvent)
	assert.Empty(t, buf.String())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, s.Write(ctx, e), context.Canceled)
}
