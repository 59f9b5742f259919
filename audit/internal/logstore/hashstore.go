package logstore

import (
	"fmt"
	"math/bits"
	"os"
	"sync/atomic"

	"github.com/shcrkit/shcrkit/audit/internal/tlogfrontier"
	"golang.org/x/mod/sumdb/tlog"
)

// hashStore keeps the log's Merkle tree as the stored hashes of
// golang.org/x/mod/sumdb/tlog, less those of level 0 (the leaf hashes),
// which the records give: the file "hashes" holds the hashes of the
// interior nodes, each at offset 32*i where i is its tlog stored-hash
// index less the leaves up to and including its last one
// (interiorIndex), appended as records are added. A reader that asks
// for a leaf hash (a proof, a root hash at an odd size) gets it from the
// record, through leaf.
//
// The writer also keeps the frontier: the roots of the complete subtrees
// that make up the current tree (one per set bit of its size). They are
// exactly the hashes tlog.StoredHashes and tlog.TreeHash read, so adding
// a record and computing the root hash never touch the file.
type hashStore struct {
	f        *os.File
	count    atomic.Int64 // interior hashes written to the file
	frontier tlogfrontier.Nodes
	pending  []byte
	npending int64
	// leaf returns the leaf hash of leaf n from its record.
	leaf func(n int64) (tlog.Hash, error)
}

// interiorIndex is the position in the hashes file of the stored hash of
// node n at level (>= 1): its tlog stored-hash index less the leaf
// hashes stored before it, one for each of the leaves up to its last.
func interiorIndex(level int, n int64) int64 {
	return tlog.StoredHashIndex(level, n) - (n+1)<<level
}

// interiorCount is how many interior hashes a tree of size leaves
// stores.
func interiorCount(size int64) int64 { return tlog.StoredHashCount(size) - size }

// splitStoredIndex returns the level and node of a tlog stored-hash
// index.
func splitStoredIndex(x int64) (level int, n int64) {
	// The leaf k after whose level-0 hash x is stored: the last k with
	// StoredHashIndex(0, k) = StoredHashCount(k) <= x.
	lo, hi := int64(0), x
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if tlog.StoredHashCount(mid) <= x {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	level = int(x - tlog.StoredHashCount(lo))
	return level, lo >> level
}

// add computes the stored hashes for leaf n (the record with seq n+1)
// and queues them for the next flush.
func (h *hashStore) add(n int64, data []byte) { h.addLeaf(n, tlog.RecordHash(data)) }

// addLeaf is add for a record whose leaf hash (tlog.RecordHash) is
// already known: it merges the lowest t roots of the frontier (t = the
// number of trailing one bits of n) with the leaf into one root at level
// t, queueing the t interior hashes that it computes on the way.
func (h *hashStore) addLeaf(n int64, leaf tlog.Hash) {
	t := bits.TrailingZeros64(^uint64(n))
	x := leaf
	for i := range t {
		x = tlog.NodeHash(h.frontier[len(h.frontier)-1-i].Hash, x)
		h.pending = append(h.pending, x[:]...)
	}
	h.npending += int64(t)
	h.frontier = h.frontier[:len(h.frontier)-t]
	h.frontier = append(h.frontier, tlogfrontier.Node{Index: tlog.StoredHashIndex(t, n>>t), Hash: x})
}

// flush appends the queued hashes to the file.
func (h *hashStore) flush() error {
	if len(h.pending) == 0 {
		return nil
	}
	if _, err := h.f.WriteAt(h.pending, h.count.Load()*tlog.HashSize); err != nil {
		return err
	}
	h.count.Add(h.npending)
	h.pending, h.npending = h.pending[:0], 0
	return nil
}

// take hands over the queued hashes, to be written by writeTaken, and
// continues in buf (empty) for the next.
func (h *hashStore) take(buf []byte) ([]byte, int64) {
	b, n := h.pending, h.npending
	h.pending, h.npending = buf, 0
	return b, n
}

// writeTaken appends n hashes taken from the queue to the file.
func (h *hashStore) writeTaken(b []byte, n int64) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := h.f.WriteAt(b, h.count.Load()*tlog.HashSize); err != nil {
		return err
	}
	h.count.Add(n)
	return nil
}

// treeHash returns the root hash of the tree of the given size, which
// must be the size the frontier describes.
func (h *hashStore) treeHash(size int64) (tlog.Hash, error) {
	return tlog.TreeHash(size, &h.frontier)
}

// ReadHashes implements tlog.HashReader, for proofs and root hashes:
// interior hashes from the file, leaf hashes from the records.
func (h *hashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	count := h.count.Load()
	for i, x := range indexes {
		if x < 0 {
			return nil, fmt.Errorf("audit: stored hash %d does not exist", x)
		}
		level, n := splitStoredIndex(x)
		if level == 0 {
			leaf, err := h.leaf(n)
			if err != nil {
				return nil, err
			}
			out[i] = leaf
			continue
		}
		j := interiorIndex(level, n)
		if j >= count {
			return nil, fmt.Errorf("audit: stored hash %d not written (have %d interior hashes)", x, count)
		}
		if _, err := h.f.ReadAt(out[i][:], j*tlog.HashSize); err != nil {
			return nil, hashReadError(err)
		}
	}
	return out, nil
}
