package logstore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestZeroFillNeverCoversData writes data below, across and past the
// zeroed mark between fills, and checks that the file holds the data
// followed by zeros only, and the data alone once trimmed.
func TestZeroFillNeverCoversData(t *testing.T) {
	s, err := createSegment(t.TempDir(), 1)
	require.NoError(t, err)
	defer s.f.Close()
	var want bytes.Buffer
	want.Write(segmentHeader(1))
	write := func(n int) {
		t.Helper()
		data := bytes.Repeat([]byte{byte(0x41 + want.Len()%26)}, n)
		require.NoError(t, s.writeData(data, s.size))
		s.size += int64(n)
		want.Write(data)
	}
	check := func(step string) {
		t.Helper()
		got, err := os.ReadFile(s.path)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(got), want.Len(), step)
		assert.Equal(t, want.Bytes(), got[:want.Len()], "%s: the data is intact", step)
		assert.Equal(t, make([]byte, len(got)-want.Len()), got[want.Len():], "%s: only zeros after it", step)
		assert.GreaterOrEqual(t, s.zeroed.Load(), s.size, "%s: the mark is never below the data", step)
	}

	write(100) // past the mark: it moves to the data's end
	check("data past the mark")
	assert.Equal(t, s.size, s.zeroed.Load())
	s.fill(8192)
	check("filled")
	assert.Equal(t, int64(8192), s.zeroed.Load(), "filled to the limit, on a page")
	write(3000) // below the mark
	check("data below the mark")
	write(6000) // across it
	check("data across the mark")
	assert.Equal(t, s.size, s.zeroed.Load())
	s.fill(1 << 20)
	check("filled again")
	assert.Equal(t, int64(1<<20), s.zeroed.Load())
	s.fill(1 << 20)
	check("nothing left to fill up to the limit")

	require.NoError(t, s.trim())
	got, err := os.ReadFile(s.path)
	require.NoError(t, err)
	assert.Equal(t, want.Bytes(), got, "trimmed to the data")
	s.fill(2 << 20)
	got, err = os.ReadFile(s.path)
	require.NoError(t, err)
	assert.Len(t, got, want.Len(), "a trimmed segment is not filled again")
}

// TestZeroFillStartsAtTheFileEnd checks that a fill never starts below
// the end of the file, whatever the mark says.
func TestZeroFillStartsAtTheFileEnd(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, segmentName(1))
	data := append(segmentHeader(1), bytes.Repeat([]byte("x"), 5000)...)
	require.NoError(t, os.WriteFile(path, data, 0o600))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()
	s := &segment{first: 1, name: segmentName(1), path: path, f: f, size: int64(len(data))}
	s.fill(1 << 20) // the mark is 0, as it never should be
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, data, got[:len(data)], "the data is intact")
	assert.Len(t, got, 1<<20)
}
