package logstore

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"sync/atomic"

	"golang.org/x/mod/sumdb/tlog"
)

// hashStore keeps the log's Merkle tree as the stored hashes of
// golang.org/x/mod/sumdb/tlog: the file "hashes" holds hash i at offset
// 32*i, in StoredHashIndex order, appended as records are added.
//
// The writer also keeps the frontier: the roots of the complete subtrees
// that make up the current tree (one per set bit of its size). They are
// exactly the hashes tlog.StoredHashes and tlog.TreeHash read, so adding
// a record and computing the root hash never touch the file.
type hashStore struct {
	f        *os.File
	count    atomic.Int64 // hashes written to the file
	frontier []frontierNode
	pending  []byte
	npending int64
}

type frontierNode struct {
	index int64
	hash  tlog.Hash
}

// add computes the stored hashes for leaf n (the record with seq n+1)
// and queues them for the next flush.
func (h *hashStore) add(n int64, data []byte) error {
	return h.addLeaf(n, tlog.RecordHash(data))
}

// addLeaf is add for a record whose leaf hash (tlog.RecordHash) is
// already known.
func (h *hashStore) addLeaf(n int64, leaf tlog.Hash) error {
	hs, err := tlog.StoredHashesForRecordHash(n, leaf, frontierReader{h})
	if err != nil {
		return err
	}
	for _, x := range hs {
		h.pending = append(h.pending, x[:]...)
	}
	h.npending += int64(len(hs))
	h.push(n, hs)
	return nil
}

// push updates the frontier after leaf n: the lowest t roots (t = the
// number of trailing one bits of n) merged into one root at level t.
func (h *hashStore) push(n int64, hs []tlog.Hash) {
	t := bits.TrailingZeros64(^uint64(n))
	h.frontier = h.frontier[:len(h.frontier)-t]
	h.frontier = append(h.frontier, frontierNode{index: tlog.StoredHashIndex(t, n>>t), hash: hs[len(hs)-1]})
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

// take hands over the queued hashes, to be written by writeTaken.
func (h *hashStore) take() ([]byte, int64) {
	b, n := h.pending, h.npending
	h.pending, h.npending = nil, 0
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
	return tlog.TreeHash(size, frontierReader{h})
}

// ReadHashes implements tlog.HashReader from the file, for proofs.
func (h *hashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return readHashesAt(h.f, h.count.Load(), indexes)
}

func readHashesAt(f io.ReaderAt, count int64, indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= count {
			return nil, fmt.Errorf("audit: stored hash %d not written (have %d)", x, count)
		}
		if _, err := f.ReadAt(out[i][:], x*tlog.HashSize); err != nil {
			return nil, fmt.Errorf("audit: reading stored hash %d: %w", x, err)
		}
	}
	return out, nil
}

// frontierReader serves tlog from the frontier alone.
type frontierReader struct{ h *hashStore }

// ReadHashes implements tlog.HashReader; every index asked for must be a
// root on the frontier.
func (r frontierReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		found := false
		for _, n := range r.h.frontier {
			if n.index == x {
				out[i], found = n.hash, true
				break
			}
		}
		if !found {
			return nil, errors.New("audit: internal error: hash not on the frontier")
		}
	}
	return out, nil
}

// frontierIndexes lists the stored-hash indexes of the roots of the
// complete subtrees of a tree of the given size, left to right.
func frontierIndexes(size int64) []int64 {
	var idx []int64
	var start int64
	for level := 62; level >= 0; level-- {
		if size&(1<<level) != 0 {
			idx = append(idx, tlog.StoredHashIndex(level, start>>level))
			start += 1 << level
		}
	}
	return idx
}

// loadFrontier reads the frontier of a tree of the given size.
func loadFrontier(size int64, r tlog.HashReader) ([]frontierNode, error) {
	idx := frontierIndexes(size)
	if len(idx) == 0 {
		return nil, nil
	}
	hs, err := r.ReadHashes(idx)
	if err != nil {
		return nil, err
	}
	nodes := make([]frontierNode, len(idx))
	for i := range idx {
		nodes[i] = frontierNode{index: idx[i], hash: hs[i]}
	}
	return nodes, nil
}
