package tlogfrontier_test

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/shcrkit/shcrkit/audit/internal/tlogfrontier"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/mod/sumdb/tlog"
)

// hashes is a whole tree's stored hashes in memory.
type hashes []tlog.Hash

func (h hashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x >= int64(len(h)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = h[x]
	}
	return out, nil
}

// The frontier loaded at each size gives the same root hash as the whole
// tree, and appending through it creates the same stored hashes.
func TestFrontierAgreesWithTheWholeTree(t *testing.T) {
	var all hashes
	for n := int64(0); n < 40; n++ {
		f, err := tlogfrontier.Load(n, all)
		require.NoError(t, err)
		assert.Len(t, f, len(tlogfrontier.Indexes(n)))
		if n > 0 {
			want, err := tlog.TreeHash(n, all)
			require.NoError(t, err)
			got, err := tlog.TreeHash(n, &f)
			require.NoError(t, err)
			assert.Equal(t, want, got, "size %d", n)
		}
		leaf := tlog.RecordHash(fmt.Appendf(nil, "record %d", n))
		want, err := tlog.StoredHashesForRecordHash(n, leaf, all)
		require.NoError(t, err)
		got, err := tlog.StoredHashesForRecordHash(n, leaf, &f)
		require.NoError(t, err)
		assert.Equal(t, want, got, "size %d", n)
		all = append(all, want...)
	}
}

func TestReadHashesOffTheFrontierFails(t *testing.T) {
	f := tlogfrontier.Nodes{{Index: 6, Hash: sha256.Sum256([]byte("x"))}}
	_, err := f.ReadHashes([]int64{5})
	assert.Error(t, err)
	got, err := f.ReadHashes([]int64{6})
	require.NoError(t, err)
	assert.Equal(t, f[0].Hash, got[0])
}
