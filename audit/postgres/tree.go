package postgres

import (
	"context"
	"fmt"
	"math/bits"

	"github.com/jackc/pgx/v5"
	"github.com/shcrkit/shcrkit/audit/internal/tlogfrontier"
	"golang.org/x/mod/sumdb/tlog"
)

// The Merkle tree is kept as golang.org/x/mod/sumdb/tlog's stored hashes,
// in the events table: the row of leaf n (seq n+1) holds, in its hashes
// column, the stored hashes that adding leaf n creates. Those have
// consecutive indexes, from tlog.StoredHashIndex(0, n) up, one per level
// (the leaf, then each subtree that leaf completes), so stored hash x
// lives in the row of leaf ((k+1)<<level)-1 at position level, where
// level, k = tlog.SplitStoredHashIndex(x).
//
// The last row of each batch also holds the frontier after it (the roots
// of the complete subtrees that make up the tree, as tlog.TreeHash reads
// them), so the next batch, in any instance, starts from one row.

// hashLocation returns the seq of the row holding stored hash x and the
// hash's position in that row's hashes column.
func hashLocation(x int64) (seq int64, pos int) {
	level, k := tlog.SplitStoredHashIndex(x)
	return (k + 1) << level, level
}

// frontier is the right edge of a tree of size leaves.
type frontier struct {
	size  int64
	nodes tlogfrontier.Nodes
}

// add appends leaf f.size with the given leaf hash and returns the stored
// hashes it creates (appended to dst, as the hashes column holds them).
func (f *frontier) add(leaf tlog.Hash, dst []byte) ([]byte, error) {
	n := f.size
	hs, err := tlog.StoredHashesForRecordHash(n, leaf, &f.nodes)
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		dst = append(dst, h[:]...)
	}
	t := bits.TrailingZeros64(^uint64(n)) // subtrees leaf n completes
	f.nodes = append(f.nodes[:len(f.nodes)-t], tlogfrontier.Node{Index: tlog.StoredHashIndex(t, n>>t), Hash: hs[len(hs)-1]})
	f.size++
	return dst, nil
}

// root returns the tree's root hash.
func (f *frontier) root() (tlog.Hash, error) { return tlog.TreeHash(f.size, &f.nodes) }

// encode gives the frontier column's value.
func (f *frontier) encode() []byte {
	b := make([]byte, 0, len(f.nodes)*tlog.HashSize)
	for _, n := range f.nodes {
		b = append(b, n.Hash[:]...)
	}
	return b
}

// decodeFrontier reads a frontier column for a tree of the given size.
func decodeFrontier(size int64, b []byte) (frontier, bool) {
	idx := tlogfrontier.Indexes(size)
	if len(b) != len(idx)*tlog.HashSize {
		return frontier{}, false
	}
	f := frontier{size: size, nodes: make(tlogfrontier.Nodes, len(idx))}
	for i, x := range idx {
		f.nodes[i].Index = x
		copy(f.nodes[i].Hash[:], b[i*tlog.HashSize:])
	}
	return f, true
}

// querier is what hash reads run on: a pooled connection, a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// dbHashes implements tlog.HashReader from the events table.
type dbHashes struct {
	ctx context.Context
	q   querier
	sql string // SELECT seq, hashes FROM events WHERE seq = ANY($1)
}

// ReadHashes implements tlog.HashReader.
func (r dbHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	seqs := make([]int64, len(indexes))
	for i, x := range indexes {
		seqs[i], _ = hashLocation(x)
	}
	rows, err := r.q.Query(r.ctx, r.sql, seqs)
	if err != nil {
		return nil, classify("reading stored hashes", err)
	}
	byseq := make(map[int64][]byte, len(seqs))
	for rows.Next() {
		var seq int64
		var hs []byte
		if err := rows.Scan(&seq, &hs); err != nil {
			rows.Close()
			return nil, classify("reading stored hashes", err)
		}
		byseq[seq] = hs
	}
	if err := rows.Err(); err != nil {
		return nil, classify("reading stored hashes", err)
	}
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		seq, pos := hashLocation(x)
		hs, ok := byseq[seq]
		if !ok || len(hs) < (pos+1)*tlog.HashSize {
			return nil, integrity(fmt.Sprintf("event %d: stored hash %d is missing", seq, x))
		}
		copy(out[i][:], hs[pos*tlog.HashSize:])
	}
	return out, nil
}

// loadFrontier reads the frontier of a tree of the given size from the
// stored hashes.
func loadFrontier(size int64, r tlog.HashReader) (frontier, error) {
	nodes, err := tlogfrontier.Load(size, r)
	if err != nil {
		return frontier{}, err
	}
	return frontier{size: size, nodes: nodes}, nil
}
