package logstore

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"
)

// memHashes is tlog's full list of stored hashes, level 0 included.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m[x]
	}
	return out, nil
}

func TestSplitStoredIndex(t *testing.T) {
	for n := int64(0); n < 600; n++ {
		for level := 0; level < 10; level++ {
			x := tlog.StoredHashIndex(level, n)
			gotLevel, gotN := splitStoredIndex(x)
			require.Equal(t, [2]int64{int64(level), n}, [2]int64{int64(gotLevel), gotN}, "index %d", x)
		}
	}
}

// TestHashStoreMatchesTlog builds a tree with addLeaf and checks, for
// every size, the file's interior hashes, the root hash and inclusion
// and consistency proofs against tlog's own stored hashes.
func TestHashStoreMatchesTlog(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), hashesFile))
	require.NoError(t, err)
	defer f.Close()
	records := func(n int64) []byte { return fmt.Appendf(nil, `{"seq":%d}`, n+1) }
	h := &hashStore{f: f, leaf: func(n int64) (tlog.Hash, error) { return tlog.RecordHash(records(n)), nil }}
	var all memHashes
	const size = 300
	for n := int64(0); n < size; n++ {
		hs, err := tlog.StoredHashes(n, records(n), all)
		require.NoError(t, err)
		all = append(all, hs...)
		h.add(n, records(n))
		require.NoError(t, h.flush())
		require.Equal(t, interiorCount(n+1), h.count.Load())

		want, err := tlog.TreeHash(n+1, all)
		require.NoError(t, err)
		got, err := h.treeHash(n + 1)
		require.NoError(t, err)
		require.Equal(t, want, got, "root of %d", n+1)
		got, err = tlog.TreeHash(n+1, h)
		require.NoError(t, err)
		require.Equal(t, want, got, "root of %d read from the file", n+1)
	}
	for x := range int64(len(all)) {
		level, n := splitStoredIndex(x)
		got, err := h.ReadHashes([]int64{x})
		require.NoError(t, err)
		require.Equal(t, all[x], got[0], "stored hash %d (level %d, node %d)", x, level, n)
	}
	root, err := h.treeHash(size)
	require.NoError(t, err)
	for n := range int64(size) {
		p, err := tlog.ProveRecord(size, n, h)
		require.NoError(t, err)
		require.NoError(t, tlog.CheckRecord(p, size, root, n, tlog.RecordHash(records(n))))
	}
	for old := int64(1); old < size; old += 7 {
		oldRoot, err := tlog.TreeHash(old, all)
		require.NoError(t, err)
		p, err := tlog.ProveTree(size, old, h)
		require.NoError(t, err)
		require.NoError(t, tlog.CheckTree(p, size, root, old, oldRoot))
	}
	_, err = h.ReadHashes([]int64{tlog.StoredHashIndex(1, size)})
	require.Error(t, err, "a hash not yet written")
}
