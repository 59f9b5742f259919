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
	dedicated
	lastCheckpoint time.Time // on the monotonic clock, not the store's (WithClock), which may step back
	dirty          bool      // events written since this store last signed
	committed      uint64    // the last seq this store committed
	closing        bool
	expect         int           // events expected in the next batch (cohort.go)
	commitAvg      time.Duration // moving average of a batch's commit
	cohortTimer    *time.Timer
}

// flushReq is a batch committed (and durable), with what its writers are
// answered and what a lost connection needs to look for it.
type flushReq struct {
	batch []*writeReq
	first uint64
	rec   []byte // the first event's record, to look for after a lost connection
	ckpt  audit.Checkpoint
	final bool // the checkpoint Close signs: its failure is Close's
}

// Write appends the event and returns once it is committed and durable:
// in one transaction with the other events written at the same moment by
// this store, and with the WAL flushed to disk past that transaction's
// commit (see the package documentation). The store assigns Seq (the
// next in the log across every instance, with no gap) and Recorded; Time
// is set to the store's clock when zero. See audit.Event.Normalize for
// the checks.
//
// On error the event was not written, except that with ErrInDoubt it may
// have been, and when ctx ends first Write returns ctx.Err() and the
// event may or may not be written. audit.ErrTampered says the log holds
// fewer events than this store knows were committed (rows deleted from
// its end): the store numbers no event over them. Either way the caller
// must treat it as not recorded (fail closed). A failed write does not stop the store:
// later writes try again, on a new connection if need be.
func (s *Store) Write(ctx context.Context, e audit.Event) error {
	_, err := s.Append(ctx, e)
	return err
}

// Append is Write that also returns the sequence number the log gave the
// event.
func (s *Store) Append(ctx context.Context, e audit.Event) (uint64, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
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
		s.queued()
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
	for {
		select {
		case r, ok := <-s.reqs:
			if !ok {
				s.shutdown()
				return
			}
			s.awaitCohort(1)
			batch := append(make([]*writeReq, 0, min(s.cfg.maxBatch, 1+len(s.reqs))), r)
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
			start := time.Now()
			s.commit(batch, false)
			s.w.commitAvg += (time.Since(start) - s.w.commitAvg) / 8
			s.w.expect = len(batch) + len(s.reqs)
			if !open {
				s.shutdown()
				return
			}
		case <-tick.C:
			if s.w.dirty && time.Since(s.w.lastCheckpoint) >= s.cfg.checkpointEvery {
				s.commit(nil, true)
			}
		}
	}
}

// shutdown signs a last checkpoint of what this store wrote and closes
// the writer's connection.
func (s *Store) shutdown() {
	s.w.closing = true
	if s.w.dirty {
		s.commit(nil, true)
	}
	s.w.drop()
}

// commit commits one batch and answers its writers: with their sequence
// numbers once it is durable, or with its error.
func (s *Store) commit(batch []*writeReq, checkpoint bool) {
	fr, err := s.commitBatch(batch, checkpoint)
	switch {
	case err != nil:
		s.cfg.logger.Warn("audit: postgres batch not committed", "events", len(batch), "error", err.Error())
		if s.w.closing {
			s.setCloseErr(err)
		}
		for _, r := range batch {
			r.done <- writeResult{err: err}
		}
	default:
		// The batch's COMMIT waited for the WAL to reach the disk
		// (synchronous_commit on), so the batch is durable now.
		s.durable(fr)
	}
}

// durable answers the writers of a batch now known to be durable.
func (s *Store) durable(fr flushReq) {
	for i, r := range fr.batch {
		r.done <- writeResult{seq: fr.first + uint64(i)}
	}
	if fr.ckpt.Size > 0 {
		s.setCheckpoint(fr.ckpt)
		if s.cfg.onCheckpoint != nil {
			s.cfg.onCheckpoint(fr.ckpt)
		}
	}
}

func (s *Store) setCloseErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeErr == nil {
		s.closeErr = err
	}
}

// commitBatch writes the batch in one transaction: under the append lock
// (a transaction-scoped advisory lock that orders the writers of every
// instance), it reads the last row, numbers the events after it, hashes
// them into the tree and inserts them with their stored hashes (and, when
// one is due, a signed checkpoint of the new tree). Two round trips:
// BEGIN, lock and head in one pipeline; insert, checkpoint and COMMIT in
// the other.
//
// The COMMIT waits for the WAL to reach the disk (synchronous_commit on,
// as on every connection of the store), so a batch's writers are answered
// only once it is durable: one disk flush serves every event of the
// batch. (Committing without waiting and flushing from a second
// connection afterwards was tried, and lost acknowledged events when the
// server crashed mid-stream; the test of that fault keeps it out.)
func (s *Store) commitBatch(batch []*writeReq, checkpoint bool) (flushReq, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.statementTimeout+5*time.Second)
	defer cancel()
	conn, err := s.w.get(ctx)
	if err != nil {
		return flushReq{}, classify("connecting", err)
	}
	head, headFront, err := s.beginBatch(ctx, conn)
	if err != nil {
		s.w.abandon()
		return flushReq{}, classify("starting a batch", err)
	}
	if known := s.knownSize(); uint64(head) < known {
		// Events committed (acknowledged, or covered by a signed
		// checkpoint) are gone: numbering new events over them would
		// cover the deletion up.
		s.w.abandon()
		return flushReq{}, integrity(fmt.Sprintf("the log holds %d events but %d were committed", head, known))
	}
	f, err := s.frontierAt(ctx, conn, head, headFront)
	if err != nil {
		s.w.abandon()
		return flushReq{}, err
	}
	due := f.size+int64(len(batch)) > 0 && (checkpoint || time.Since(s.w.lastCheckpoint) >= s.cfg.checkpointEvery)
	if due {
		switch err := s.extendsKnown(ctx, conn, f); {
		case errors.Is(err, audit.ErrTampered):
			// The events still go in; the store only refuses to sign
			// over a log that was rewritten, which would launder the
			// change. Verify reports it.
			s.cfg.logger.Error("audit: postgres log does not extend the last checkpoint: not signing", "error", err.Error())
			due = false
			s.w.lastCheckpoint = time.Now()
		case err != nil:
			s.w.abandon()
			return flushReq{}, err
		}
	}
	rows, err := s.rowsFor(batch, &f)
	if err != nil {
		s.w.abandon()
		return flushReq{}, err
	}
	var ckpt audit.Checkpoint
	if due {
		if ckpt, err = s.sign(f); err != nil {
			s.w.abandon()
			return flushReq{}, err
		}
	}
	fr := flushReq{batch: batch, first: uint64(head) + 1, ckpt: ckpt, final: s.w.closing}
	if len(batch) > 0 {
		fr.rec = rows.record[0]
	}
	tag, err := s.sendBatch(ctx, conn, batch, rows, ckpt)
	if err = s.settle(fr, tag, err); err != nil {
		return flushReq{}, err
	}
	if len(batch) > 0 {
		s.w.dirty = true
		s.w.committed = max(s.w.committed, fr.first+uint64(len(batch))-1)
		s.batchCount.Add(1)
	}
	if ckpt.Size > 0 {
		s.w.lastCheckpoint = time.Now()
		s.w.dirty = false
	}
	return fr, nil
}

// knownSize is the size below which the log can never legitimately
// fall: the last event this store committed, or the latest checkpoint it
// has seen, whichever is larger. Only the writer goroutine calls it.
func (s *Store) knownSize() uint64 {
	c, _ := s.Checkpoint()
	return max(c.Size, s.w.committed)
}

// beginBatch is the first round trip: BEGIN, the append lock and the last
// row's sequence number and frontier (0 and nil in an empty log).
func (s *Store) beginBatch(ctx context.Context, conn *pgx.Conn) (head int64, headFront []byte, err error) {
	var b pgx.Batch
	b.Queue("BEGIN")
	b.Queue("SELECT pg_advisory_xact_lock($1)", s.sql.appendLock)
	b.Queue(s.sql.head)
	br := conn.SendBatch(ctx, &b)
	for range b.Len() - 1 {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if err == nil {
		if err = br.QueryRow().Scan(&head, &headFront); errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return head, headFront, err
}

// sendBatch is the second round trip: the insert, the checkpoint when one
// is due, and COMMIT. It returns the last statement's tag.
func (s *Store) sendBatch(ctx context.Context, conn *pgx.Conn, batch []*writeReq, rows *batchRows, ckpt audit.Checkpoint) (pgconn.CommandTag, error) {
	var b pgx.Batch
	if len(batch) > 0 {
		b.Queue(s.sql.insert, rows.args()...)
	}
	if ckpt.Size > 0 {
		b.Queue(s.sql.checkpoint, int64(ckpt.Size), ckpt.Signed)
	}
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, &b)
	var tag pgconn.CommandTag
	var err error
	for range b.Len() {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

// settle decides from the second round trip's outcome whether the batch
// fr was committed: nil when it was, the error to give its writers when
// it was not or cannot be known.
func (s *Store) settle(fr flushReq, tag pgconn.CommandTag, err error) error {
	var pgErr *pgconn.PgError
	switch {
	case err == nil && tag.String() == "COMMIT":
		return nil
	case err == nil:
		s.w.abandon()
		return fmt.Errorf("postgres: the batch was rolled back (%s)", tag)
	case errors.As(err, &pgErr):
		// The server refused a statement: nothing after it ran, so the
		// transaction was not committed.
		s.w.abandon()
		return classify("writing a batch", err)
	case len(fr.batch) == 0:
		s.w.drop()
		return classify("signing a checkpoint", err)
	}
	// The connection failed with the COMMIT sent: find out whether it was
	// committed before answering.
	found, ferr := s.findBatches(&s.w.dedicated, []flushReq{{first: fr.first, rec: fr.rec}})
	if ferr != nil {
		return fmt.Errorf("%w: %w", ErrInDoubt, classify("writing a batch", err))
	}
	if !found[0] {
		return classify("writing a batch", err)
	}
	return nil
}

// frontierAt returns the tree's frontier at size head: from the last
// row's frontier column, or (a last row without one) from the stored
// hashes. It is never taken from memory: after a crash, another
// instance's batch may stand where this store's last one was.
func (s *Store) frontierAt(ctx context.Context, conn *pgx.Conn, head int64, col []byte) (frontier, error) {
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
	if y := recorded.UTC().Year(); y < 1900 || y >= 2200 {
		// A record stamped so could not be read back: every query that
		// reached it would report tampering.
		return nil, fmt.Errorf("%w: the store's clock reads %s, outside the years 1900 to 2199",
			audit.ErrInvalidEvent, recorded.UTC().Format(time.RFC3339))
	}
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

// extendsKnown checks that the tree f (read from the database) extends
// the latest checkpoint this store signed or saw, with a consistency
// proof from the stored hashes: the store signs nothing over events that
// were changed, deleted or rewritten, tree and all, after a checkpoint
// covered them. An error matching audit.ErrTampered says they were.
func (s *Store) extendsKnown(ctx context.Context, q querier, f frontier) error {
	known, ok := s.Checkpoint()
	if !ok {
		return nil
	}
	if uint64(f.size) < known.Size {
		return integrity(fmt.Sprintf("the log holds %d events but a checkpoint covers %d", f.size, known.Size))
	}
	root, err := f.root()
	if err != nil {
		return fmt.Errorf("postgres: computing the root hash: %w", err)
	}
	if uint64(f.size) == known.Size {
		if root != known.Hash {
			return integrity(fmt.Sprintf("the log of %d events is not the one its checkpoint covers", f.size))
		}
		return nil
	}
	p, err := tlog.ProveTree(f.size, int64(known.Size), dbHashes{ctx: ctx, q: q, sql: s.sql.hashes})
	if err != nil {
		return fmt.Errorf("postgres: proving consistency with the last checkpoint: %w", err)
	}
	if err := tlog.CheckTree(p, f.size, root, int64(known.Size), known.Hash); err != nil {
		return integrity(fmt.Sprintf("the log of %d events does not extend the checkpoint of %d: %v", f.size, known.Size, err))
	}
	return nil
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

// dedicated is a connection of the writer's own, made
// again after it fails.
type dedicated struct {
	cfg  *pgx.ConnConfig
	conn *pgx.Conn
}

// get returns the connection, connecting if there is none.
func (d *dedicated) get(ctx context.Context) (*pgx.Conn, error) {
	if d.conn != nil && !d.conn.IsClosed() {
		return d.conn, nil
	}
	d.conn = nil
	conn, err := pgx.ConnectConfig(ctx, d.cfg)
	if err != nil {
		return nil, err
	}
	d.conn = conn
	return conn, nil
}

// drop closes the connection; the next get makes a new one.
func (d *dedicated) drop() {
	if d.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		d.conn.Close(ctx)
		cancel()
		d.conn = nil
	}
}

// abandon rolls back the transaction on d, or drops the connection when
// it cannot.
func (d *dedicated) abandon() {
	if d.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := d.conn.Exec(ctx, "ROLLBACK"); err != nil {
		d.drop()
	}
}

// findBatches looks, on a new connection and once the lost transaction
// has ended (lookFor takes the append lock it held), for the first record
// of each batch whose connection was lost while it committed (or was
// flushed), and then flushes the WAL so that what it found is durable.
// It tries for up to resolveWindow while the database restarts, and returns whether
// each batch is in the log, or an error when it could not tell.
func (s *Store) findBatches(d *dedicated, batches []flushReq) ([]bool, error) {
	d.drop()
	deadline := time.Now().Add(resolveWindow)
	wait := 20 * time.Millisecond
	for {
		found, err := s.lookFor(d, batches)
		if err == nil {
			return found, nil
		}
		d.drop()
		if time.Now().Add(wait).After(deadline) {
			return nil, err
		}
		time.Sleep(wait)
		wait = min(2*wait, time.Second)
	}
}

func (s *Store) lookFor(d *dedicated, batches []flushReq) ([]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.statementTimeout)
	defer cancel()
	conn, err := d.get(ctx)
	if err != nil {
		return nil, err
	}
	// The lost connection's transaction may still be running on the
	// server (its COMMIT waiting for the disk or a standby, the cancel
	// request pgx sends lost or too late): not finding its batch yet
	// says nothing. It holds the append lock until it ends, so taking
	// the lock waits for it to commit or roll back.
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", s.sql.appendLock); err != nil {
		return nil, err
	}
	found := make([]bool, len(batches))
	for i, fr := range batches {
		var got []byte
		switch err := tx.QueryRow(ctx, s.sql.record, int64(fr.first)).Scan(&got); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return nil, err
		default:
			found[i] = bytes.Equal(got, fr.rec)
		}
	}
	if err := tx.Rollback(ctx); err != nil {
		return nil, err
	}
	return found, s.flushWAL(ctx, conn)
}

// flushWAL returns once everything in the WAL before it is on disk: it
// commits, synchronously, a transaction that writes one small WAL record
// (a logical decoding message, which needs no table and no privilege), and
// a synchronous commit flushes the WAL up to its own commit record, so
// also every commit before it, by any session. With synchronous standbys
// configured it waits for them too.
func (s *Store) flushWAL(ctx context.Context, conn *pgx.Conn) error {
	var b pgx.Batch
	b.Queue("BEGIN")
	b.Queue("SELECT pg_logical_emit_message(true, 'shcrkit-audit', '')")
	b.Queue("COMMIT")
	br := conn.SendBatch(ctx, &b)
	var err error
	var tag pgconn.CommandTag
	for range b.Len() {
		if tag, err = br.Exec(); err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() != "COMMIT" {
		err = fmt.Errorf("postgres: the flush was rolled back (%s)", tag)
	}
	return err
}
