package audit_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
)

// TestLogNotMadeByOpenLog: a nil Log, or its zero value, takes no event
// (ErrClosed, as a closed log) and answers its other calls with an error
// or a zero value instead of panicking.
func TestLogNotMadeByOpenLog(t *testing.T) {
	ctx := context.Background()
	for name, l := range map[string]*audit.Log{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, l.Write(ctx, audit.Event{}), audit.ErrClosed)
			_, err := l.Append(ctx, audit.Event{})
			assert.ErrorIs(t, err, audit.ErrClosed)
			for _, err := range l.Query(ctx, shcrkit.Requester{}, audit.Filter{}) {
				assert.ErrorIs(t, err, audit.ErrClosed)
			}
			_, err = l.Prove(ctx, 1)
			assert.ErrorIs(t, err, audit.ErrClosed)
			_, err = l.ProveConsistency(ctx, 1)
			assert.ErrorIs(t, err, audit.ErrClosed)
			_, err = l.SignCheckpoint(ctx)
			assert.ErrorIs(t, err, audit.ErrClosed)
			assert.ErrorIs(t, l.Verify(ctx), audit.ErrClosed)
			assert.ErrorIs(t, l.VerifyCheckpoint(ctx, nil), audit.ErrClosed)
			assert.ErrorIs(t, l.Close(), audit.ErrClosed)
			assert.Zero(t, l.Size())
			assert.Empty(t, l.VerifierKey())
			_, ok := l.Checkpoint()
			assert.False(t, ok)
			assert.Zero(t, l.Recovered())
		})
	}
}

// TestSinksRefuseANilContext: no sink takes an event with a nil context;
// each says so with shcrkit.ErrInvalidRequest instead of panicking.
func TestSinksRefuseANilContext(t *testing.T) {
	var ctx context.Context
	e := audit.Event{Action: audit.ActionRead, Service: audit.ServicePDS, Outcome: audit.OutcomeSuccess,
		Requester: shcrkit.Requester{UserID: "555000000201", Organisation: "RX1"}}
	hs, err := audit.NewHTTPSink("https://127.0.0.1:1/fhir", audit.HTTPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	logged := audit.NewSlogSink(slog.New(slog.DiscardHandler), slog.LevelInfo)
	for name, s := range map[string]audit.Sink{"http": hs, "slog": logged, "multi": audit.Multi(logged, logged)} {
		assert.ErrorIs(t, s.Write(ctx, e), shcrkit.ErrInvalidRequest, name)
	}
}
