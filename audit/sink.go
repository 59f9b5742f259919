package audit

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/shcrkit/shcrkit"
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

// CheckSink reports whether s can record events: it fails, matching
// ErrNoSinks, for a nil sink, a typed nil (a nil *Log in the interface,
// whose Write could only panic), and a Multi with no sinks or holding such
// a sink at any depth. Constructors that take a Sink call it, so that a
// misconfigured trail is found at start-up rather than at the first
// access.
func CheckSink(s Sink) error {
	if isNilSink(s) {
		return fmt.Errorf("%w: the sink is nil (%T)", ErrNoSinks, s)
	}
	if m, ok := s.(*multiSink); ok {
		if len(m.sinks) == 0 {
			return fmt.Errorf("%w: Multi of no sinks", ErrNoSinks)
		}
		for i, inner := range m.sinks {
			if err := CheckSink(inner); err != nil {
				return fmt.Errorf("Multi sink %d: %w", i, err)
			}
		}
	}
	return nil
}

// isNilSink reports whether s is nil or holds a nil pointer, map, slice,
// channel or function.
func isNilSink(s Sink) bool {
	if s == nil {
		return true
	}
	switch v := reflect.ValueOf(s); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// WriteSafely calls s.Write and turns a panic in it into an error matching
// ErrSinkPanicked (and a nil or typed-nil sink into one matching
// ErrNoSinks), so that a broken sink fails the write, as the rule "no
// audit record, no data" needs, instead of taking the process down. The
// SDK calls every sink it is given this way.
func WriteSafely(ctx context.Context, s Sink, e Event) (err error) {
	if isNilSink(s) {
		return fmt.Errorf("%w: the sink is nil (%T)", ErrNoSinks, s)
	}
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{sink: fmt.Sprintf("%T", s), value: shcrkit.Redact(clipPanic(fmt.Sprint(v)))}
		}
	}()
	return s.Write(ctx, e)
}

// panicError is a recovered panic of a sink.
type panicError struct {
	sink, value string
}

func (e *panicError) Error() string {
	return fmt.Sprintf("%v: %s: %s", ErrSinkPanicked, e.sink, e.value)
}

func (e *panicError) Is(target error) bool { return target == ErrSinkPanicked }

func clipPanic(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

type multiSink struct {
	sinks []Sink
}

// Write writes e to every sink concurrently and waits for all of them.
func (m *multiSink) Write(ctx context.Context, e Event) error {
	if len(m.sinks) == 0 {
		return ErrNoSinks
	}
	for i, s := range m.sinks {
		if isNilSink(s) {
			return fmt.Errorf("%w: sink %d is nil", ErrNoSinks, i)
		}
	}
	if len(m.sinks) == 1 {
		return WriteSafely(ctx, m.sinks[0], e.Clone())
	}
	errs := make([]error, len(m.sinks))
	var wg sync.WaitGroup
	for i, s := range m.sinks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := WriteSafely(ctx, s, e.Clone()); err != nil {
				errs[i] = fmt.Errorf("audit: sink %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
