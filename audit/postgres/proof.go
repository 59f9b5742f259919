package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shcrkit/shcrkit/audit"
	"golang.org/x/mod/sumdb/tlog"
)

// Checkpoint returns the latest signed checkpoint this store has seen
// (signed itself, found at Open or by SignCheckpoint), and false when it
// has seen none.
func (s *Store) Checkpoint() (audit.Checkpoint, bool) {
	if !s.opened() {
		return audit.Checkpoint{}, false
	}
	s.ckptMu.RLock()
	defer s.ckptMu.RUnlock()
	return s.ckpt, s.ckpt.Size > 0
}

// setCheckpoint keeps c if it is newer than the one kept.
func (s *Store) setCheckpoint(c audit.Checkpoint) {
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	if c.Size > s.ckpt.Size {
		s.ckpt = c
	}
}

// SignCheckpoint signs a checkpoint covering every event committed so
// far, by every instance (unless the latest checkpoint in the database
// already does), stores it and returns it.
func (s *Store) SignCheckpoint(ctx context.Context) (audit.Checkpoint, error) {
	if err := s.enter(); err != nil {
		return audit.Checkpoint{}, err
	}
	defer s.inflight.Done()
	size, err := s.Size(ctx)
	if err != nil {
		return audit.Checkpoint{}, err
	}
	if size == 0 {
		return audit.Checkpoint{}, fmt.Errorf("%w: the log is empty", audit.ErrNotFound)
	}
	if c, err := s.latestCheckpoint(ctx); err != nil || c.Size >= size {
		return c, err
	}
	f, err := loadFrontier(int64(size), dbHashes{ctx: ctx, q: s.pool, sql: s.sql.hashes})
	if err != nil {
		return audit.Checkpoint{}, err
	}
	if err := s.extendsKnown(ctx, s.pool, f); err != nil {
		return audit.Checkpoint{}, err
	}
	c, err := s.sign(f)
	if err != nil {
		return audit.Checkpoint{}, err
	}
	if _, err := s.pool.Exec(ctx, s.sql.checkpoint, int64(c.Size), c.Signed); err != nil {
		return audit.Checkpoint{}, classify("storing a checkpoint", err)
	}
	s.setCheckpoint(c)
	if s.cfg.onCheckpoint != nil {
		s.cfg.onCheckpoint(c)
	}
	return c, nil
}

// latestCheckpoint reads the latest checkpoint in the database (signed by
// any instance), checking its signature.
func (s *Store) latestCheckpoint(ctx context.Context) (audit.Checkpoint, error) {
	var signed []byte
	err := s.pool.QueryRow(ctx, s.sql.latestCkpt).Scan(&signed)
	if errors.Is(err, pgx.ErrNoRows) {
		return audit.Checkpoint{}, nil
	}
	if err != nil {
		return audit.Checkpoint{}, classify("reading the latest checkpoint", err)
	}
	c, err := audit.OpenCheckpoint(s.vkey, signed)
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("%w: the latest checkpoint: %w", audit.ErrTampered, err)
	}
	if known, ok := s.Checkpoint(); !ok || c.Size > known.Size {
		// Another instance's batch signed it and may not be durable
		// yet: never hand out a checkpoint that a crash could take back.
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return audit.Checkpoint{}, fmt.Errorf("%w: no connection free in the pool: %w", ErrUnavailable, err)
		}
		err = s.flushWAL(ctx, conn.Conn())
		conn.Release()
		if err != nil {
			return audit.Checkpoint{}, classify("flushing the WAL", err)
		}
	}
	s.setCheckpoint(c)
	return c, nil
}

// checkpointCovering returns a checkpoint of at least size events,
// signing one when none does yet.
func (s *Store) checkpointCovering(ctx context.Context, size uint64) (audit.Checkpoint, error) {
	if c, ok := s.Checkpoint(); ok && c.Size >= size {
		return c, nil
	}
	c, err := s.latestCheckpoint(ctx)
	if err != nil || c.Size >= size {
		return c, err
	}
	return s.SignCheckpoint(ctx)
}

// Prove returns an inclusion proof of the event seq against a signed
// checkpoint that covers it (the latest, or a new one when the latest
// does not cover seq yet). audit.VerifyInclusion checks it with the
// verifier key alone.
//
// A proof carries the event's record: Prove is for the log's operator;
// investigations go through Query, which is audited.
func (s *Store) Prove(ctx context.Context, seq uint64) (*audit.InclusionProof, error) {
	size, err := s.Size(ctx)
	if err != nil {
		return nil, err
	}
	if seq == 0 || seq > size {
		return nil, fmt.Errorf("%w: seq %d", audit.ErrNotFound, seq)
	}
	c, err := s.checkpointCovering(ctx, seq)
	if err != nil {
		return nil, err
	}
	var rec []byte
	if err := s.pool.QueryRow(ctx, s.sql.record, int64(seq)).Scan(&rec); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, integrity(fmt.Sprintf("event %d is missing", seq))
		}
		return nil, classify("reading an event", err)
	}
	p, err := tlog.ProveRecord(int64(c.Size), int64(seq-1), dbHashes{ctx: ctx, q: s.pool, sql: s.sql.hashes})
	if err != nil {
		return nil, fmt.Errorf("postgres: proving event %d: %w", seq, err)
	}
	return &audit.InclusionProof{Seq: seq, Record: rec, Hashes: p, Checkpoint: c.Signed}, nil
}

// ProveConsistency returns a proof that the log of oldSize events is a
// prefix of the log as it is now, at a checkpoint of everything committed
// (signed first if the latest checkpoint is older). audit.VerifyConsistency
// checks it with the verifier key alone.
func (s *Store) ProveConsistency(ctx context.Context, oldSize uint64) (*audit.ConsistencyProof, error) {
	size, err := s.Size(ctx)
	if err != nil {
		return nil, err
	}
	if oldSize > size {
		return nil, fmt.Errorf("%w: the log holds fewer than %d events", audit.ErrNotFound, oldSize)
	}
	if size == 0 {
		return nil, fmt.Errorf("%w: the log is empty", audit.ErrNotFound)
	}
	c, err := s.checkpointCovering(ctx, size)
	if err != nil {
		return nil, err
	}
	var p tlog.TreeProof
	if oldSize > 0 && oldSize < c.Size {
		if p, err = tlog.ProveTree(int64(c.Size), int64(oldSize), dbHashes{ctx: ctx, q: s.pool, sql: s.sql.hashes}); err != nil {
			return nil, fmt.Errorf("postgres: proving consistency: %w", err)
		}
	}
	return &audit.ConsistencyProof{OldSize: oldSize, Hashes: p, Checkpoint: c.Signed}, nil
}

// VerifyCheckpoint checks a checkpoint this log signed earlier, kept
// elsewhere, against the log as it is now: the signature must verify and
// the log must still hold exactly the events it covered.
func (s *Store) VerifyCheckpoint(ctx context.Context, signed []byte) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	old, err := audit.OpenCheckpoint(s.vkey, signed)
	if err != nil {
		return err
	}
	size, err := s.Size(ctx)
	if err != nil {
		return err
	}
	if old.Size > size {
		return integrity(fmt.Sprintf("a checkpoint covers %d events but the log holds %d", old.Size, size))
	}
	p, err := s.ProveConsistency(ctx, old.Size)
	if err != nil {
		return err
	}
	if _, err := audit.VerifyConsistency(s.vkey, signed, p); err != nil {
		return integrity(fmt.Sprintf("the log is not consistent with a checkpoint of %d events: %v", old.Size, err))
	}
	return nil
}

// integrity returns an *audit.IntegrityError with one problem.
func integrity(problem string) error {
	return &audit.IntegrityError{Problems: []string{problem}}
}
