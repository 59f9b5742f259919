package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"golang.org/x/mod/sumdb/tlog"
)

// maxProblems bounds the problems Verify lists.
const maxProblems = 100

// Verify reads every event and checks the log end to end, in one
// read-only snapshot: the sequence numbers run from 1 without a gap; each
// record decodes and is the event its row says; the row's columns (which
// queries use) say what its record says; the stored hashes and frontiers
// are those of the records; every checkpoint in the database is signed
// by the log's key and its root hash is that of the tree at its size; no
// checkpoint covers more events than there are. A changed, deleted,
// inserted or reordered row, or a changed hash or checkpoint, is found.
// Problems are returned together as an *audit.IntegrityError, which
// matches audit.ErrTampered.
//
// Rows deleted from the end, after the latest checkpoint, leave nothing
// behind to find; a checkpoint kept elsewhere (WithCheckpointFunc,
// VerifyCheckpoint) covers that.
func (s *Store) Verify(ctx context.Context) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.inflight.Done()
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return classify("starting to verify", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	v := &verification{}

	var vkey string
	if err := tx.QueryRow(ctx, s.cfg.expand("SELECT verifier_key FROM $s.log_info")).Scan(&vkey); err != nil {
		v.problem("log_info: the log's verifier key cannot be read: %v", err)
	} else if vkey != s.vkey {
		v.problem("log_info: the log's verifier key is not the key this store signs with")
	}

	ckpts, err := s.readCheckpoints(ctx, tx, v)
	if err != nil {
		return err
	}
	// The latest checkpoint this store signed or saw is a copy kept out
	// of the database: rows deleted from the end with the checkpoints
	// that covered them, or rewritten and signed afresh, show against it.
	if known, ok := s.Checkpoint(); ok {
		size := int64(known.Size)
		if c, ok := ckpts[size]; ok && c.Hash != known.Hash {
			v.problem("checkpoints: the checkpoint of size %d is not the one this store holds", size)
		} else if !ok {
			ckpts[size] = known
		}
	}
	if err := s.verifyEvents(ctx, tx, v, ckpts); err != nil {
		return err
	}
	if len(v.problems) > 0 {
		return &audit.IntegrityError{Problems: v.problems}
	}
	return nil
}

type verification struct {
	problems []string
}

func (v *verification) problem(format string, args ...any) {
	if len(v.problems) < maxProblems {
		v.problems = append(v.problems, fmt.Sprintf(format, args...))
	}
}

// readCheckpoints reads and opens every checkpoint, by size.
func (s *Store) readCheckpoints(ctx context.Context, tx pgx.Tx, v *verification) (map[int64]audit.Checkpoint, error) {
	rows, err := tx.Query(ctx, s.sql.checkpoints)
	if err != nil {
		return nil, classify("reading checkpoints", err)
	}
	defer rows.Close()
	out := map[int64]audit.Checkpoint{}
	for rows.Next() {
		var size int64
		var signed []byte
		if err := rows.Scan(&size, &signed); err != nil {
			return nil, classify("reading checkpoints", err)
		}
		c, err := audit.OpenCheckpoint(s.vkey, signed)
		switch {
		case err != nil:
			v.problem("checkpoints: the checkpoint of size %d does not verify: %v", size, err)
		case int64(c.Size) != size:
			v.problem("checkpoints: the checkpoint filed under size %d is of size %d", size, c.Size)
		default:
			out[size] = c
		}
	}
	return out, classify("reading checkpoints", rows.Err())
}

// verifyEvents scans the events in seq order, rebuilding the tree.
func (s *Store) verifyEvents(ctx context.Context, tx pgx.Tx, v *verification, ckpts map[int64]audit.Checkpoint) error {
	rows, err := tx.Query(ctx, s.sql.verifyRows)
	if err != nil {
		return classify("reading events", err)
	}
	defer rows.Close()
	var f frontier
	var r row
	var hs []byte
	treeBroken := false // after a wrong stored hash, every later frontier differs too
	for rows.Next() {
		if err := rows.Scan(&r.seq, &r.timeNS, &r.patient, &r.user, &r.org, &r.custodian, &r.action,
			&r.service, &r.outcome, &r.purpose, &r.correlation, &r.record, &r.hashes, &r.front); err != nil {
			return classify("reading events", err)
		}
		want := f.size + 1
		if r.seq != want {
			// A gap (rows deleted) or a stray row: the tree cannot go
			// on past it, nor can anything after it be checked.
			v.problem("events: event %d is followed by event %d", want-1, r.seq)
			break
		}
		ev, err := audit.DecodeRecord(uint64(r.seq), r.record)
		if err != nil {
			v.problem("events: %v", err)
		} else if col := r.mismatch(&ev); col != "" {
			v.problem("events: event %d: the %s column does not match the record", r.seq, col)
		}
		if hs, err = f.add(tlog.RecordHash(r.record), hs[:0]); err != nil {
			return fmt.Errorf("postgres: verifying: %w", err)
		}
		if string(hs) != string(r.hashes) {
			v.problem("events: event %d: the stored hashes are not those of its record", r.seq)
			treeBroken = true
		}
		if r.front != nil && !treeBroken && string(r.front) != string(f.encode()) {
			v.problem("events: event %d: the stored frontier is not that of the tree", r.seq)
		}
		if c, ok := ckpts[f.size]; ok {
			if root, err := f.root(); err != nil || root != c.Hash {
				v.problem("checkpoints: the checkpoint of size %d does not match the events it covers", f.size)
			}
			delete(ckpts, f.size)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return classify("reading events", err)
	}
	for size := range ckpts {
		v.problem("checkpoints: a checkpoint covers %d events but the log's events run without a gap to %d", size, f.size)
	}
	return nil
}

// row is one row of the events table as Verify reads it.
type row struct {
	seq, timeNS                         int64
	patient, custodian, correlation     *string
	user, org, action, service, outcome string
	purpose                             int16
	record, hashes, front               []byte
}

// mismatch names the first column that does not say what the record
// says, or returns "".
func (r *row) mismatch(e *audit.Event) string {
	switch {
	case r.timeNS != e.Time.UnixNano():
		return "time"
	case ptr.Deref(r.patient) != string(e.Patient) || (r.patient != nil && *r.patient == ""):
		return "patient"
	case r.user != e.Requester.UserID:
		return "user_id"
	case r.org != string(e.Requester.Organisation):
		return "organisation"
	case ptr.Deref(r.custodian) != string(e.Custodian) || (r.custodian != nil && *r.custodian == ""):
		return "custodian"
	case r.action != string(e.Action):
		return "action"
	case r.service != string(e.Service):
		return "service"
	case r.outcome != string(e.Outcome):
		return "outcome"
	case r.purpose != int16(e.Purpose):
		return "purpose"
	case ptr.Deref(r.correlation) != e.CorrelationID || (r.correlation != nil && *r.correlation == ""):
		return "correlation_id"
	}
	return ""
}
