// Package tlogfrontier is the right edge of a tlog Merkle tree, the roots
// of its complete subtrees: all that appending a leaf and computing the
// root hash read. The embedded log and the PostgreSQL store both keep
// one.
package tlogfrontier

import (
	"errors"

	"golang.org/x/mod/sumdb/tlog"
)

// Node is one root of a complete subtree.
type Node struct {
	Index int64 // tlog stored-hash index
	Hash  tlog.Hash
}

// Nodes is a tree's frontier, left to right.
type Nodes []Node

// ReadHashes implements tlog.HashReader from the frontier alone: every
// index asked for must be one of its roots. The receiver is a pointer so
// that passing a frontier as a tlog.HashReader does not allocate.
func (f *Nodes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		found := false
		for _, n := range *f {
			if n.Index == x {
				out[i], found = n.Hash, true
				break
			}
		}
		if !found {
			return nil, errors.New("audit: internal error: hash not on the frontier")
		}
	}
	return out, nil
}

// Indexes lists the stored-hash indexes of the roots of the complete
// subtrees of a tree of the given size, left to right.
func Indexes(size int64) []int64 {
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

// Load reads the frontier of a tree of the given size from r.
func Load(size int64, r tlog.HashReader) (Nodes, error) {
	idx := Indexes(size)
	if len(idx) == 0 {
		return nil, nil
	}
	hs, err := r.ReadHashes(idx)
	if err != nil {
		return nil, err
	}
	nodes := make(Nodes, len(idx))
	for i := range idx {
		nodes[i] = Node{Index: idx[i], Hash: hs[i]}
	}
	return nodes, nil
}
