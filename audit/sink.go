package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/shcrkit/shcrkit/internal/nilctx"
	"github.com/shcrkit/shcrkit/internal/sinkguard"
)

// Sink receives audit events.
//
// Write returns nil only once the event is durable in the sink, as far as
// that sink can make it durable (each implementation documents how far).
// A caller that gets an error must not hand back the data the event
// describes: no audit record, no data. Implementations are safe for
// concurrent use, and do not keep or change the event passed in.
//
// There is deliberately no no-op Sink: auditing cannot be switched off.
type Sink interface {
	Write(ctx context.Context, e Event) error
}

var (
	_ Sink = (*Log)(nil)
	_ Sink = (*multiSink)(nil)
	_ Sink = (*slogSink)(nil)
	_ Sink = (*httpSink)(nil)
)

// Multi returns a Sink that writes each event to every one of sinks, at
// the same time, and succeeds only when all of them succeed. Its error
// joins the failures, each naming the sink's position. With no sinks (or
// a nil one, typed nils such as a nil *Log included) every Write fails: an
// audit trail cannot be configured away. A sink that panics is recovered
// and counts as failed (ErrSinkPanicked).
func Multi(sinks ...Sink) Sink {
	return &multiSink{sinks: append([]Sink(nil), sinks...)}
}

type multiSink struct {
	sinks []Sink
}

// Members lists the sinks, so that the SDK's check of a sink it is given
// (sinkguard.Check) looks inside a Multi.
func (m *multiSink) Members() []sinkguard.Writer[Event] {
	out := make([]sinkguard.Writer[Event], len(m.sinks))
	for i, s := range m.sinks {
		out[i] = s
	}
	return out
}

// Write writes e to every sink concurrently and waits for all of them.
func (m *multiSink) Write(ctx context.Context, e Event) error {
	if err := nilctx.Check(ctx); err != nil {
		return err
	}
	if len(m.sinks) == 0 {
		return ErrNoSinks
	}
	for i, s := range m.sinks {
		if sinkguard.IsNil[Event](s) {
			return fmt.Errorf("%w: sink %d is nil", ErrNoSinks, i)
		}
	}
	if len(m.sinks) == 1 {
		return sinkguard.Write[Event](ctx, m.sinks[0], e.Clone())
	}
	errs := make([]error, len(m.sinks))
	var wg sync.WaitGroup
	for i, s := range m.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := sinkguard.Write[Event](ctx, s, e.Clone()); err != nil {
				errs[i] = fmt.Errorf("audit: sink %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
