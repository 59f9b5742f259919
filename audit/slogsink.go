package audit

import (
	"context"
	"log/slog"
	"time"
)

// SlogSink writes each event as one structured log record, for operations
// teams that collect logs centrally.
//
// Durability: a slog.Handler reports no errors, so Write succeeds once the
// handler has been called; the record is as durable as the handler's
// writer makes it (often not at all until a buffer is flushed). And since
// no log line may carry a patient identifier, the NHS number appears
// masked: a SlogSink alone is not an audit trail that can be investigated.
// Pair it with a Log (or an HTTPSink) through Multi.
type SlogSink struct {
	logger *slog.Logger
	level  slog.Level
	now    func() time.Time
}

// NewSlogSink returns a sink that logs events at level to logger. A nil
// logger means slog.Default().
func NewSlogSink(logger *slog.Logger, level slog.Level) *SlogSink {
	if logger == nil {
		logger = slog.Default()
	}
	return &SlogSink{logger: logger, level: level, now: time.Now}
}

// Write validates the event and logs it with the message "audit event"
// and its identifiers as attributes (see Event.LogValue).
func (s *SlogSink) Write(ctx context.Context, e Event) error {
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
