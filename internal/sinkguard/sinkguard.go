// Package sinkguard calls the audit sinks the SDK is given so that a
// broken one fails the write, as the rule "no audit record, no data"
// needs, instead of taking the process down or being found only at the
// first access. It is generic over the event type so that it sits below
// package audit, which re-exports its sentinel errors; audit, the journey
// in shcr, the provider's guard and the casebook all call sinks through
// it.
package sinkguard

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/textclip"
)

// Sentinel errors, re-exported by package audit.
var (
	// ErrNoSinks: a sink is nil, a typed nil or a group of no sinks.
	ErrNoSinks = errors.New("audit: no sinks")
	// ErrSinkPanicked: a sink panicked in Write.
	ErrSinkPanicked = errors.New("audit: sink panicked")
)

// Writer is a sink of events of type E.
type Writer[E any] interface {
	Write(ctx context.Context, e E) error
}

// Group is implemented by a sink that writes each event to other sinks
// (audit.Multi), so that Check looks inside it.
type Group[E any] interface {
	Members() []Writer[E]
}

// Check reports whether s can record events: it fails, matching
// ErrNoSinks, for a nil sink, a typed nil (a nil pointer in the
// interface, whose Write could only panic), and a Group with no members
// or holding such a sink at any depth.
func Check[E any](s Writer[E]) error {
	if IsNil(s) {
		return fmt.Errorf("%w: the sink is nil (%T)", ErrNoSinks, s)
	}
	if g, ok := s.(Group[E]); ok {
		members := g.Members()
		if len(members) == 0 {
			return fmt.Errorf("%w: Multi of no sinks", ErrNoSinks)
		}
		for i, inner := range members {
			if err := Check(inner); err != nil {
				return fmt.Errorf("member %d of a Multi sink: %w", i, err)
			}
		}
	}
	return nil
}

// IsNil reports whether s is nil or holds a nil pointer, map, slice,
// channel, function or interface.
func IsNil[E any](s Writer[E]) bool {
	if s == nil {
		return true
	}
	switch v := reflect.ValueOf(s); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// Write calls s.Write and turns a panic in it into an error matching
// ErrSinkPanicked (and a nil or typed-nil sink into one matching
// ErrNoSinks). The panic's value is clipped and has NHS numbers and
// secrets redacted, for it may end up in a log.
func Write[E any](ctx context.Context, s Writer[E], e E) (err error) {
	if IsNil(s) {
		return fmt.Errorf("%w: the sink is nil (%T)", ErrNoSinks, s)
	}
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{sink: fmt.Sprintf("%T", s), value: textclip.Clip(shcrkit.Redact(fmt.Sprint(v)), 200)}
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

// WriteWithin is Write bounded by ctx even when the sink ignores it: a
// sink that has not returned by the time ctx ends fails the write with
// ctx's error (the caller, failing closed, withholds what the event
// covers). The sink's call goes on in the background until it returns.
func WriteWithin[E any](ctx context.Context, s Writer[E], e E) error {
	if _, ok := ctx.Deadline(); !ok && ctx.Done() == nil {
		return Write(ctx, s, e)
	}
	done := make(chan error, 1)
	go func() { done <- Write(ctx, s, e) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		// A write that finished just as ctx ended counts.
		select {
		case err := <-done:
			return err
		default:
		}
		return fmt.Errorf("audit: the sink did not answer in time: %w", ctx.Err())
	}
}
