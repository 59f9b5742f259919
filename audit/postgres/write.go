package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shcrkit/shcrkit/audit"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// How long the writer keeps trying to learn whether a batch whose commit
// it lost track of was committed, before answering ErrInDoubt.
const resolveWindow = 10 * time.Second

// writeReq is one event on its way to the database.
type writeReq struct {
	ev   audit.Event // normalised
	done chan writeResult
}

type writeResult struct {
	seq uint64
	err error
}

// writer is the state of the goroutine that commits batches.
type writer struct {
	conn           *pgx.Conn
	front          frontier // the tree after the last batch this writer saw committed
	haveFront      bool
	lastCheckpoint time.Time
	dirty          bool // events written since this store last signed
}

// Write appends the event and returns once it is committed: in a
// transaction with synchronous commit, together with the other events
// written at the same moment by this store (one transaction per batch).
// The store assigns Seq (the next in the log across every instance, with
// no gap) and Recorded; Time is set to the store's clock when zero. See
// audit.Event.Normalize for the checks.
//
// On error the event was not written, except that with ErrInDoubt it may
// have been, and when ctx ends first Write returns ctx.Err() and the
// event may or may not be written. Either way the caller must treat it as
// not recorded (fail closed). A failed write does not stop the store:
// later writes try again, on a new connection if need be.
func (s *Store) Write(ctx context.Context, e audit.Event) error {
	_, err := s.Append(ctx, e)
	return err
}

// Append is Write that also returns the sequence number the log gave the
// event.
func (s *Store) Append(ctx context.Context, e audit.Event) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := e.Normalize(s.cfg.now())
	if err != nil {
		return 0, err
	}
	req := &writeReq{ev: n, done: make(chan writeResult, 1)}
	if err := s.enter(); err != nil {
		return 0, err
	}
	select {
	case s.reqs <- req:
		s.inflight.Done()
	case <-ctx.Done():
		s.inflight.Done()
		return 0, ctx.Err()
	}
	select {
	case r := <-req.done:
		return r.seq, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// run is the writer goroutine: it commits what is queued, in batches, so
// that one transaction (and one WAL flush) serves every writer waiting.
func (s *Store) run() {
	defer close(s.done)
	tick := time.NewTicker(s.cfg.checkpointEvery)
	defer tick.Stop()
	batch := make([]*writeReq, 0, s.cfg.maxBatch)
	for {
		select {
		case r, ok := <-s.reqs:
			if !ok {
				s.shutdown()
				return
			}
			batch = append(batch[:0], r)
			open := true
		drain:
			for len(batch) < s.cfg.maxBatch {
				select {
				case r, ok := <-s.reqs:
					if !ok {
						open = false
						break drain
					}
					batch = append(batch, r)
				default:
					break drain
				}
			}
			s.commit(batch, false)
			clear(batch)
			if !open {
				s.shutdown()
				return
			}
		case <-tick.C:
			if s.w.dirty && s.cfg.now().Sub(s.w.lastCheckpoint) >= s.cfg.checkpointEvery {
				s.commit(nil, true)
			}
		}
	}
}

// shutdown signs a last checkpoint of what this store wrote and closes
// the writer's connection.
func (s *Store) shutdown() {
	var err error
	if s.w.dirty {
		_, err = s.commitBatch(nil, true)
	}
	if s.w.conn != nil {
		s.w.conn.Close(context.Background())
	}
	if err != nil {
		s.mu.Lock()
		s.closeErr = fmt.Errorf("postgres: signing the last checkpoint: %w", err)
		s.mu.Unlock()
	}
}

// commit commits one batch and answers its writers.
func (s *Store) commit(batch []*writeReq, checkpoint bool) {
	first, err := s.commitBatch(batch, checkpoint)
	if err != nil {
		s.cfg.logger.Warn("audit: postgres batch not committed", "events", len(batch), "error", err.Error())
	}
	for i, r := range batch {
		if err != nil {
			r.done <- writeResult{err: err}
		} else {
			r.done <- writeResult{seq: first + uint64(i)}
		}
	}
}

// commitBatch writes the batch in one transaction: under the append lock
// (a transaction-scoped advisory lock that orders the writers of every
// instance), it reads the last row, numbers the events after it, hashes
// them into the tree, inserts them with their stored hashes (and, when
// one is due, a signed checkpoint of the new tree) and commits. Two
// round trips: BEGIN, lock and head in one pipeline; insert, checkpoint
// and COMMIT in the other. It returns the first event's seq.
func (s *Store) commitBatch(batch []*writeReq, checkpoint bool) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.statementTimeout+5*time.Second)
	defer cancel()
	conn, err := s.writerConn(ctx)
	if err != nil {
		return 0, classify("connecting", err)
	}

	var b pgx.Batch
	b.Queue("BEGIN")
	b.Queue("SELECT pg_advisory_xact_lock($1)", s.sql.appendLock)
	b.Queue(s.sql.head)
	br := conn.SendBatch(ctx, &b)
	var head int64
	var headFront []byte
	_, err = br.Exec()
	if err == nil {
		_, err = br.Exec()
	}
	if err == nil {
		if err = br.QueryRow().Scan(&head, &headFront); errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.abandon(conn)
		return 0, classify("starting a batch", err)
	}

	f, err := s.frontierAt(ctx, conn, head, headFront)
	if err != nil {
		s.abandon(conn)
		return 0, err
	}
	rows, err := s.rowsFor(batch, &f)
	if err != nil {
		s.abandon(conn)
		return 0, err
	}
	var ckpt audit.Checkpoint
	if f.size > 0 && (checkpoint || s.cfg.now().Sub(s.w.lastCheckpoint) >= s.cfg.checkpointEvery) {
		if ckpt, err = s.sign(f); err != nil {
			s.abandon(conn)
			return 0, err
		}
	}

	b = pgx.Batch{}
	if len(batch) > 0 {
		b.Queue(s.sql.insert, rows.args()...)
	}
	if ckpt.Size > 0 {
		b.Queue(s.sql.checkpoint, int64(ckpt.Size), ckpt.Signed)
	}
	b.Queue("COMMIT")
	br = conn.SendBatch(ctx, &b)
	var tag pgconn.CommandTag
	for range b.Len() {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	var pgErr *pgconn.PgError
	switch {
	case err == nil && tag.String() == "COMMIT":
	case err == nil:
		s.abandon(conn)
		return 0, fmt.Errorf("postgres: the batch was rolled back (%s)", tag)
	case errors.As(err, &pgErr):
		// The server refused a statement: nothing after it ran, so the
		// transaction was not committed.
		s.abandon(conn)
		return 0, classify("writing a batch", err)
	case len(batch) == 0:
		s.dropConn()
		return 0, classify("signing a checkpoint", err)
	default:
		// The connection failed with the COMMIT sent: find out whether
		// it was committed before answering.
		committed, rerr := s.resolve(int64(head)+1, rows.record[0])
		if rerr != nil {
			return 0, fmt.Errorf("%w: %w", ErrInDoubt, classify("writing a batch", err))
		}
		if !committed {
			return 0, classify("writing a batch", err)
		}
	}
	s.w.front, s.w.haveFront = f, true
	if len(batch) > 0 {
		s.w.dirty = true
	}
	if ckpt.Size > 0 {
		s.w.lastCheckpoint = s.cfg.now()
		s.w.dirty = false
		s.setCheckpoint(ckpt)
		if s.cfg.onCheckpoint != nil {
			s.cfg.onCheckpoint(ckpt)
		}
	}
	return uint64(head) + 1, nil
}

// frontierAt returns the tree's frontier at size head: from the writer's
// own last batch when no other instance wrote since, else from the last
// row's frontier column, else (a last row without one) from the stored
// hashes.
func (s *Store) frontierAt(ctx context.Context, conn *pgx.Conn, head int64, col []byte) (frontier, error) {
	if s.w.haveFront && s.w.front.size == head {
		return s.w.front.clone(), nil
	}
	if f, ok := decodeFrontier(head, col); ok && col != nil {
		return f, nil
	}
	f, err := loadFrontier(head, dbHashes{ctx: ctx, q: conn, sql: s.sql.hashes})
	if err != nil {
		return frontier{}, fmt.Errorf("postgres: reading the tree's frontier: %w", err)
	}
	return f, nil
}

// batchRows holds a batch's columns, as the insert's arrays.
type batchRows struct {
	seq, timeNS                         []int64
	patient, custodian, correlation     []*string
	user, org, action, service, outcome []string
	purpose                             []int16
	record, hashes, front               [][]byte
}

func (r *batchRows) args() []any {
	return []any{r.seq, r.timeNS, r.patient, r.user, r.org, r.custodian, r.action, r.service,
		r.outcome, r.purpose, r.correlation, r.record, r.hashes, r.front}
}

// rowsFor numbers the batch after f's size, encodes each event's record
// and adds it to the tree; the last row carries the new frontier.
func (s *Store) rowsFor(batch []*writeReq, f *frontier) (*batchRows, error) {
	n := len(batch)
	r := &batchRows{
		seq: make([]int64, n), timeNS: make([]int64, n),
		patient: make([]*string, n), custodian: make([]*string, n), correlation: make([]*string, n),
		user: make([]string, n), org: make([]string, n), action: make([]string, n),
		service: make([]string, n), outcome: make([]string, n), purpose: make([]int16, n),
		record: make([][]byte, n), hashes: make([][]byte, n), front: make([][]byte, n),
	}
	recorded := s.cfg.now()
	for i, q := range batch {
		e := &q.ev
		seq := uint64(f.size) + 1
		r.seq[i] = int64(seq)
		r.timeNS[i] = e.Time.UnixNano()
		r.patient[i] = optional(string(e.Patient))
		r.custodian[i] = optional(string(e.Custodian))
		r.correlation[i] = optional(e.CorrelationID)
		r.user[i] = e.Requester.UserID
		r.org[i] = string(e.Requester.Organisation)
		r.action[i], r.service[i], r.outcome[i] = string(e.Action), string(e.Service), string(e.Outcome)
		r.purpose[i] = int16(e.Purpose)
		r.record[i] = audit.AppendRecord(make([]byte, 0, 1024), seq, recorded, e)
		hs, err := f.add(tlog.RecordHash(r.record[i]), make([]byte, 0, 2*tlog.HashSize))
		if err != nil {
			return nil, fmt.Errorf("postgres: hashing event %d: %w", seq, err)
		}
		r.hashes[i] = hs
	}
	if n > 0 {
		r.front[n-1] = f.encode()
	}
	return r, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// sign signs a checkpoint of the tree f, in the embedded log's format.
func (s *Store) sign(f frontier) (audit.Checkpoint, error) {
	root, err := f.root()
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("postgres: computing the root hash: %w", err)
	}
	c := audit.Checkpoint{Origin: s.signer.Name(), Size: uint64(f.size), Hash: root}
	c.Signed, err = note.Sign(&note.Note{Text: c.Text()}, s.signer)
	if err != nil {
		return audit.Checkpoint{}, fmt.Errorf("postgres: signing a checkpoint: %w", err)
	}
	return c, nil
}

// writerConn returns the writer's connection, connecting if it has none.
func (s *Store) writerConn(ctx context.Context) (*pgx.Conn, error) {
	if s.w.conn != nil && !s.w.conn.IsClosed() {
		return s.w.conn, nil
	}
	s.w.conn = nil
	conn, err := pgx.ConnectConfig(ctx, s.connCfg)
	if err != nil {
		return nil, err
	}
	s.w.conn = conn
	return conn, nil
}

// abandon rolls back the writer's transaction, or drops the connection
// when it cannot.
func (s *Store) abandon(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		s.dropConn()
	}
}

func (s *Store) dropConn() {
	if s.w.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s.w.conn.Close(ctx)
		cancel()
		s.w.conn = nil
	}
}

// resolve finds out whether the batch whose first event is seq first,
// with record rec, was committed, reconnecting (for up to resolveWindow)
// if the database is restarting.
func (s *Store) resolve(first int64, rec []byte) (bool, error) {
	s.dropConn()
	deadline := time.Now().Add(resolveWindow)
	wait := 20 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := s.writerConn(ctx)
		if err == nil {
			var got []byte
			err = conn.QueryRow(ctx, s.sql.record, first).Scan(&got)
			cancel()
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return false, nil
			case err == nil:
				return bytes.Equal(got, rec), nil
			}
			s.dropConn()
		} else {
			cancel()
		}
		if time.Now().Add(wait).After(deadline) {
			return false, err
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}
