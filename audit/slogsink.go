package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/shcrkit/shcrkit/internal/nilctx"
)

// slogSink is the Sink NewSlogSink returns.
type slogSink struct {
	logger *slog.Logger
	level  slog.Level
	now    func() time.Time
}

// NewSlogSink returns a sink that writes each event as one structured log
// record at level to logger (slog.Default() when nil), for operations
// teams that collect logs centrally.
//
// Durability: a slog.Handler reports no errors, so Write succeeds once the
// handler has been called; the record is as durable as the handler's
// writer makes it (often not at all until a buffer is flushed). And since
// no log line may carry a patient identifier, the NHS number appears
// masked: this sink alone is not an audit trail that can be investigated.
// Pair it with a Log (or the sink of NewHTTPSink) through Multi.
func NewSlogSink(logger *slog.Logger, level slog.Level) Sink {
	if logger == nil {
		logger = slog.Default()
	}
	return &slogSink{logger: logger, level: level, now: time.Now}
}

// Write validates the event and logs it with the message "audit event"
// and its identifiers as attributes (see Event.LogValue).
func (s *slogSink) Write(ctx context.Context, e Event) error {
	if err := nilctx.Check(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n, err := e.Normalize(s.now())
	if err != nil {
		return err
	}
	s.logger.LogAttrs(ctx, s.level, "audit event", slog.Any("event", n))
	return nil
}
