package audit

import (
	"context"
	"testing"

	"github.com/shcrkit/shcrkit/internal/sinkguard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// panickingSink panics in Write with a value that holds an NHS number.
type panickingSink struct{}

func (panickingSink) Write(context.Context, Event) error { panic("boom at Patient/9434765919") }

func TestSinkCheckRefusesNilsAtAnyDepth(t *testing.T) {
	var nilLog *Log
	var nilMem *memSink
	bad := map[string]Sink{
		"nil":                   nil,
		"typed nil *Log":        nilLog,
		"typed nil other":       nilMem,
		"Multi of nothing":      Multi(),
		"Multi with a nil *Log": Multi(&memSink{}, nilLog),
		"nested Multi":          Multi(&memSink{}, Multi(nilMem)),
	}
	for name, s := range bad {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, sinkguard.Check[Event](s), ErrNoSinks)
			assert.ErrorIs(t, sinkguard.Write[Event](context.Background(), s, readEvent(t0, clinician(), patientA)), ErrNoSinks,
				"writing fails too, without a panic")
		})
	}
	require.NoError(t, sinkguard.Check[Event](Multi(&memSink{}, Multi(&memSink{}))))
}

func TestPanickingSinkIsAFailedWrite(t *testing.T) {
	e := readEvent(t0, clinician(), patientA)
	err := sinkguard.Write[Event](context.Background(), panickingSink{}, e)
	require.ErrorIs(t, err, ErrSinkPanicked)
	assert.NotContains(t, err.Error(), "9434765919")

	// Inside Multi's own goroutines too, beside a sink that works.
	ok := &memSink{}
	err = Multi(ok, panickingSink{}).Write(context.Background(), e)
	require.ErrorIs(t, err, ErrSinkPanicked)
	err = Multi(panickingSink{}).Write(context.Background(), e)
	require.ErrorIs(t, err, ErrSinkPanicked)
}
