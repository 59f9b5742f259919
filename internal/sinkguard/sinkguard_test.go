package sinkguard_test

import (
	"context"
	"testing"

	"github.com/shcrkit/shcrkit/internal/sinkguard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sink struct{ got []string }

func (s *sink) Write(_ context.Context, e string) error { s.got = append(s.got, e); return nil }

type panicking struct{}

func (panicking) Write(context.Context, string) error { panic("boom for 9434765919") }

type group []sinkguard.Writer[string]

func (g group) Write(context.Context, string) error { return nil }
func (g group) Members() []sinkguard.Writer[string] { return g }

func TestCheck(t *testing.T) {
	var nilSink *sink
	for name, s := range map[string]sinkguard.Writer[string]{
		"nil": nil, "typed nil": nilSink, "empty group": group{}, "nested typed nil": group{&sink{}, group{nilSink}},
	} {
		assert.ErrorIs(t, sinkguard.Check(s), sinkguard.ErrNoSinks, name)
	}
	// A group refuses to write by itself (audit.Multi does); Write refuses
	// only what it cannot call.
	for name, s := range map[string]sinkguard.Writer[string]{"nil": nil, "typed nil": nilSink} {
		assert.ErrorIs(t, sinkguard.Write(context.Background(), s, "e"), sinkguard.ErrNoSinks, name)
	}
	require.NoError(t, sinkguard.Check[string](group{&sink{}, group{&sink{}}}))
}

func TestWriteRecoversAPanicWithoutTheNHSNumber(t *testing.T) {
	err := sinkguard.Write[string](context.Background(), panicking{}, "e")
	require.ErrorIs(t, err, sinkguard.ErrSinkPanicked)
	assert.Contains(t, err.Error(), "sinkguard_test.panicking")
	assert.NotContains(t, err.Error(), "9434765919")

	s := &sink{}
	require.NoError(t, sinkguard.Write[string](context.Background(), s, "e"))
	assert.Equal(t, []string{"e"}, s.got)
}
