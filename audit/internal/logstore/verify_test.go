package logstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"
)

// plainCodec describes every record as an event with no table fields
// and no index keys.
type plainCodec struct{}

func (plainCodec) Describe([]byte) (Entry, []string, error) { return Entry{}, nil, nil }

func testConfig(dir string) Config {
	return Config{
		Dir:              dir,
		CheckpointEvery:  time.Hour,
		SegmentSize:      1 << 10, // a few events a segment: pairs of leaves straddle segments
		IndexFlushEvents: 1 << 16,
		MaxBatch:         64,
		Now:              func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
		Logger:           slog.New(slog.DiscardHandler),
		Codec:            plainCodec{},
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o600)
	}))
}

// TestEveryStoredHashIsChecked changes each stored hash of a log whose
// segments hold a few events each, one at a time: OpenLog or Verify
// must report it, whether the hash is over two leaves in one segment,
// two leaves in adjacent segments or two hashes below it.
func TestEveryStoredHashIsChecked(t *testing.T) {
	const events = 37
	pristine := t.TempDir()
	st, err := Open(testConfig(pristine))
	require.NoError(t, err)
	for i := range events {
		_, err := st.Append(context.Background(), Pending{Body: fmt.Appendf(nil, `{"n":%d,"pad":"%0200d"}`, i, i)})
		require.NoError(t, err)
	}
	require.NoError(t, st.Close())
	segs, err := os.ReadDir(filepath.Join(pristine, segmentsDir))
	require.NoError(t, err)
	require.Greater(t, len(segs), 5)
	hashes, err := os.ReadFile(filepath.Join(pristine, hashesFile))
	require.NoError(t, err)
	require.Len(t, hashes, int(interiorCount(events))*tlog.HashSize)

	for i := range len(hashes) / tlog.HashSize {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "log")
			copyDir(t, pristine, dir)
			changed := append([]byte(nil), hashes...)
			changed[i*tlog.HashSize+7] ^= 1
			require.NoError(t, os.WriteFile(filepath.Join(dir, hashesFile), changed, 0o600))
			st, err := Open(testConfig(dir))
			if err == nil {
				err = st.Verify(context.Background())
				require.NoError(t, st.Close())
			}
			var ie *IntegrityError
			assert.True(t, errors.As(err, &ie), "hash %d changed: got %v", i, err)
		})
	}

	// Untouched, the log verifies.
	st, err = Open(testConfig(pristine))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Verify(context.Background()))
}

// TestRewrittenRecordIsDetected changes a byte of each record in turn
// and recomputes every checksum (the frame's, its batch's, the
// commit's), as someone who knows the format could: only the Merkle
// tree, checked against the records, can then tell.
func TestRewrittenRecordIsDetected(t *testing.T) {
	const events = 37
	pristine := t.TempDir()
	st, err := Open(testConfig(pristine))
	require.NoError(t, err)
	for i := range events {
		_, err := st.Append(context.Background(), Pending{Body: fmt.Appendf(nil, `{"n":%d,"pad":"%0200d"}`, i, i)})
		require.NoError(t, err)
	}
	require.NoError(t, st.Close())
	segs, err := os.ReadDir(filepath.Join(pristine, segmentsDir))
	require.NoError(t, err)
	require.Greater(t, len(segs), 5)
	seen := 0
	for _, s := range segs {
		rel := filepath.Join(segmentsDir, s.Name())
		data, err := os.ReadFile(filepath.Join(pristine, rel))
		require.NoError(t, err)
		// Each event was written alone: an event frame, then its commit.
		for off := segHeaderSize; off < len(data); {
			n := int(binary.BigEndian.Uint32(data[off:]))
			require.Equal(t, byte(kindEvent), data[off+frameHeaderSize])
			commit := off + frameHeaderSize + n
			seen++
			t.Run(fmt.Sprintf("%s@%d", s.Name(), off), func(t *testing.T) {
				d := append([]byte(nil), data...)
				d[commit-3]++ // a digit of the padding
				binary.BigEndian.PutUint32(d[off+4:], crc(d[off+frameHeaderSize:commit]))
				cp := d[commit+frameHeaderSize : commit+frameHeaderSize+commitPayloadSize]
				binary.BigEndian.PutUint32(cp[17:], crc(d[off:commit]))
				binary.BigEndian.PutUint32(d[commit+4:], crc(cp))
				dir := filepath.Join(t.TempDir(), "log")
				copyDir(t, pristine, dir)
				require.NoError(t, os.WriteFile(filepath.Join(dir, rel), d, 0o600))
				st, err := Open(testConfig(dir))
				if err == nil {
					err = st.Verify(context.Background())
					require.NoError(t, st.Close())
				}
				var ie *IntegrityError
				assert.True(t, errors.As(err, &ie), "got %v", err)
			})
			off = commit + frameHeaderSize + commitPayloadSize
		}
	}
	require.Equal(t, events, seen)
}
