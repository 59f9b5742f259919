package audit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAppendRecordIsTheRecordALogStores(t *testing.T) {
	l := openTestLog(t, t.TempDir(), WithClock(func() time.Time { return t0 }))
	events := []Event{readEvent(t0, clinician(), patientA), searchEvent(t0, nurse(), patientB)}
	writeAll(t, l, events...)
	for i, e := range events {
		seq := uint64(i + 1)
		p, err := l.Prove(context.Background(), seq)
		require.NoError(t, err)
		n, err := e.Normalize(t0)
		require.NoError(t, err)
		assert.Equal(t, string(p.Record), string(AppendRecord([]byte("prefix"), seq, t0, &n)[len("prefix"):]))

		got, err := DecodeRecord(seq, p.Record)
		require.NoError(t, err)
		assert.Equal(t, seq, got.Seq)
		assert.Equal(t, n.Patient, got.Patient)
	}
}

func TestDecodeRecordRefusesAnotherEventsRecord(t *testing.T) {
	n, err := readEvent(t0, clinician(), patientA).Normalize(t0)
	require.NoError(t, err)
	rec := AppendRecord(nil, 7, t0, &n)
	for _, tc := range []struct {
		name string
		seq  uint64
		rec  []byte
	}{
		{"other seq", 8, rec},
		{"not JSON after the seq", 7, append(append([]byte(nil), rec[:len(rec)-1]...), ',')},
		{"no seq", 7, []byte(`{"recorded":"x"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeRecord(tc.seq, tc.rec)
			require.ErrorIs(t, err, ErrTampered)
		})
	}
}
