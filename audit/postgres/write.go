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

// Write appends the event and returns once it is committed and durable:
// in one transaction with the other events written at the same moment by
// this store, whose COMMIT waited for the WAL to reach the disk (see the
// package documentation). The store assigns Seq (the next in the log
// across every instance, with no gap) and Recorded; Time is set to the
// store's clock when zero. See audit.Event.Normalize for the checks.
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

// pipelineDepth is how many batches a store has in flight at once, each
// on a connection of its own: while one holds the append lock and
// commits, the next waits for the lock in the database, already sent, so
// the lock passes from one to the next without a round trip between.
const pipelineDepth = 2

// writer is the state of the goroutine that commits batches (run).
type writer struct {
	free     []*dedicated // connections with no batch in flight
	inflight int          // batches sent and not yet answered
	pending  []*writeReq  // events waiting for a batch, oldest first

	// chain is the tree after every batch in flight, when this store
	// knows it: the next batch is numbered and hashed on from it before
	// it is sent (see commitNext). Nil when it is not known (at the
	// start, after a failure, and while other instances write).
	chain *chainState
	// chainLast is the last batch numbered from the chain.
	chainLast *job
	// lastEnd is where the last batch this store committed ended (-1:
	// none yet).
	lastEnd int64
	// answered is how many writers the last committed batch answered:
	// while a batch is in flight the next waits until as many are
	// queued, as those writers usually write again at once.
	answered int

	wrote, signed  int64     // the last seq this store wrote, and signed a checkpoint of
	lastCheckpoint time.Time // when this store last sent a checkpoint
	checkpointDue  bool      // the ticker found one due while the store was busy
	closing        bool

	// parked are batches that reached the lock before the batch they
	// follow, waiting for its outcome.
	parked []*job
}

// chainState is the tree after a batch: its frontier, and the hashes
// column of its last row, which identify that row.
type chainState struct {
	f    frontier
	last []byte
}

// flushReq is a batch committed (and durable), with what its writers are
// answered and what a lost connection needs to look for it.
type flushReq struct {
	batch []*writeReq
	first uint64
	rec   []byte // the first event's record, to look for after a lost connection
	ckpt  audit.Checkpoint
}

// job is one batch on its way through a connection.
type job struct {
	conn  *dedicated
	batch []*writeReq

	// A batch that follows the chain was numbered and hashed before it
	// was sent (rows, end, and ckpt when one is due): its transaction
	// takes the lock and inserts the rows only if the log still ends
	// where the batch starts (pred). Without pred the transaction reads
	// the log's end under the lock first, and the batch is numbered and
	// hashed then.
	pred       *chainState
	rows       *batchRows
	end        chainState
	ckpt       audit.Checkpoint
	checkpoint bool // sign a checkpoint with the batch (without pred)

	// prev is the batch in flight before this one, which this one
	// follows (nil: none was in flight).
	prev *job
	// The pipeline, when run sent it (see send).
	ctx    context.Context
	cancel context.CancelFunc
	br     pgx.BatchResults
	sent   int // statements in it

	// Outcome.
	head  int64 // where the log ended under the lock
	fr    flushReq
	err   error
	retry bool // the log did not end at pred: nothing was written

	settled bool // run has taken in the outcome
}

// run is the writer goroutine: it groups what is queued into batches,
// so that one transaction (and one WAL flush) serves every writer
// waiting, and keeps up to pipelineDepth batches in flight.
func (s *Store) run() {
	defer close(s.done)
	tick := time.NewTicker(s.cfg.checkpointEvery)
	defer tick.Stop()
	reqs := s.reqs
	for {
		s.dispatch()
		if reqs == nil && len(s.w.pending) == 0 && s.w.inflight == 0 {
			s.shutdown()
			return
		}
		select {
		case r, ok := <-reqs:
			if !ok {
				reqs, s.w.closing = nil, true
				continue
			}
			s.w.pending = append(s.w.pending, r)
		drain:
			for len(s.w.pending) < 2*s.cfg.maxBatch {
				select {
				case r, ok := <-reqs:
					if !ok {
						reqs, s.w.closing = nil, true
						break drain
					}
					s.w.pending = append(s.w.pending, r)
				default:
					break drain
				}
			}
		case j := <-s.results:
			s.finish(j)
		case <-tick.C:
			if s.w.wrote > s.w.signed && s.cfg.now().Sub(s.w.lastCheckpoint) >= s.cfg.checkpointEvery {
				s.w.checkpointDue = true
			}
		}
	}
}

// depth is how many batches may be in flight: one with WithMaxBatch(1),
// the per-event baseline, which commits one event at a time.
func (s *Store) depth() int {
	if s.cfg.maxBatch == 1 {
		return 1
	}
	return pipelineDepth
}

// dispatch sends batches while a connection is free and there is
// something to send.
func (s *Store) dispatch() {
	w := &s.w
	for len(w.free) > 0 {
		if w.chain == nil && w.inflight > 0 {
			// Where the batch in flight will leave the log is not known:
			// the next batch must wait for it.
			return
		}
		if len(w.pending) == 0 {
			if w.checkpointDue && w.inflight == 0 {
				w.checkpointDue = false
				s.send(&job{checkpoint: true})
			}
			return
		}
		if w.inflight > 0 && len(w.pending) < min(w.answered, s.cfg.maxBatch) {
			// The writers the last batch answered are coming back: a
			// batch sent now would wait for the lock all the same, and
			// carry fewer of them.
			return
		}
		n := min(len(w.pending), s.cfg.maxBatch)
		j := &job{batch: w.pending[:n:n]}
		w.pending = w.pending[n:]
		if len(w.pending) == 0 {
			w.pending = nil
		}
		due := w.checkpointDue || s.cfg.now().Sub(w.lastCheckpoint) >= s.cfg.checkpointEvery
		if w.chain != nil && s.cfg.maxBatch > 1 {
			if err := s.follow(j, due); err != nil {
				s.answer(j.batch, err)
				continue
			}
		} else {
			j.checkpoint = due
		}
		if due {
			w.lastCheckpoint = s.cfg.now()
			w.checkpointDue = false
		}
		s.send(j)
	}
}

// follow numbers and hashes the batch on from the chain, and signs a
// checkpoint of the tree after it when one is due; the chain moves on
// past the batch.
func (s *Store) follow(j *job, checkpoint bool) error {
	pred := s.w.chain
	f := pred.f.clone()
	rows, err := s.rowsFor(j.batch, &f)
	if err != nil {
		return err
	}
	j.pred, j.rows = pred, rows
	if s.w.inflight > 0 && s.w.chainLast != nil && !s.w.chainLast.settled {
		j.prev = s.w.chainLast
	}
	s.w.chainLast = j
	j.end = chainState{f: f, last: rows.hashes[len(rows.hashes)-1]}
	if checkpoint {
		if j.ckpt, err = s.sign(f); err != nil {
			return err
		}
	}
	s.w.chain = &j.end
	return nil
}

// send hands the job to a connection of its own. A batch that follows
// the chain is written to its connection here, so that it reaches the
// database after the batch before it, and so (as a rule) waits for the
// lock behind it; the rest happens on a goroutine of the job's own.
func (s *Store) send(j *job) {
	w := &s.w
	j.conn = w.free[len(w.free)-1]
	w.free = w.free[:len(w.free)-1]
	w.inflight++
	if j.pred == nil {
		w.chain = nil
	}
	j.ctx, j.cancel = s.jobContext()
	if j.pred != nil && j.conn.conn != nil && !j.conn.conn.IsClosed() {
		s.sendFollowing(j, j.conn.conn)
	}
	s.start(j)
}

// start commits the job on a goroutine of its own, which answers the
// batch's writers as soon as it is durable and hands the job back to run.
func (s *Store) start(j *job) {
	go func() {
		defer j.cancel()
		s.commitJob(j)
		if j.err == nil && !j.retry {
			s.answerDurable(j.fr)
		}
		s.results <- j
	}()
}

// jobContext bounds a batch's work: the statement timeout, and time to
// connect.
func (s *Store) jobContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.cfg.statementTimeout+5*time.Second)
}

// sendFollowing writes the one-round-trip pipeline of a batch that
// follows the chain.
func (s *Store) sendFollowing(j *job, conn *pgx.Conn) {
	var b pgx.Batch
	b.Queue("BEGIN")
	b.Queue("SELECT pg_advisory_xact_lock($1)", s.sql.appendLock)
	b.Queue(s.sql.insertAfter, append(j.rows.args(), j.pred.f.size, j.pred.last)...)
	if j.ckpt.Size > 0 {
		b.Queue(s.sql.ckptAfter, int64(j.ckpt.Size), j.ckpt.Signed, j.end.last)
	}
	b.Queue(s.sql.size)
	b.Queue("COMMIT")
	j.sent = b.Len()
	j.br = conn.SendBatch(j.ctx, &b)
}

// finish takes a job back from its connection and answers its writers.
func (s *Store) finish(j *job) {
	w := &s.w
	if j.retry && j.prev != nil && j.head == j.prev.pred.f.size {
		// The batch took the lock before the batch it follows (sent
		// first, but on another connection), and committed nothing: it
		// goes again as it is once that one is committed.
		j.retry, j.head = false, 0
		s.resent.Add(1)
		switch {
		case !j.prev.settled:
			w.parked = append(w.parked, j) // keeps its connection
			return
		case j.prev.err == nil && !j.prev.retry && w.chain != nil:
			s.resend(j)
			return
		}
		j.retry = true
	}
	w.inflight--
	w.free = append(w.free, j.conn)
	s.settle(j)
	j.settled = true
	parked := w.parked
	w.parked = nil
	for _, p := range parked {
		switch {
		case p.prev != j:
			w.parked = append(w.parked, p)
		case j.err == nil && !j.retry && w.chain != nil:
			s.resend(p)
		default:
			p.retry = true
			w.inflight--
			w.free = append(w.free, p.conn)
			s.settle(p)
			p.settled = true
		}
	}
}

// resend sends a batch again as it is, on its connection.
func (s *Store) resend(j *job) {
	j.prev = nil
	j.ctx, j.cancel = s.jobContext()
	s.start(j)
}

// settle takes in the outcome of a job that is back for good.
func (s *Store) settle(j *job) {
	w := &s.w
	switch {
	case j.retry:
		// The log did not end where the batch was numbered from: another
		// instance wrote, or the batch before it failed. Nothing was
		// written; the events go again, first, numbered under the lock.
		w.chain = nil
		w.pending = append(j.batch, w.pending...)
		if j.ckpt.Size > 0 {
			w.checkpointDue = true
		}
	case j.err != nil:
		w.chain = nil
		if j.ckpt.Size > 0 || j.checkpoint {
			w.checkpointDue = true
		}
		s.cfg.logger.Warn("audit: postgres batch not committed", "events", len(j.batch), "error", j.err.Error())
		if w.closing {
			s.setCloseErr(j.err)
		}
		s.answer(j.batch, j.err)
	default:
		end := j.end.f.size
		if j.pred == nil && len(j.batch) > 0 && w.inflight == 0 && j.head == w.lastEnd {
			// The batch found the log where this store's last batch left
			// it: no other instance is writing, so the next batches can
			// follow on from this one without reading the log's end.
			w.chain = &j.end
		}
		if len(j.batch) > 0 {
			w.lastEnd = max(w.lastEnd, end)
			w.wrote = max(w.wrote, end)
			w.answered = len(j.batch)
			s.batchCount.Add(1)
		}
		if j.fr.ckpt.Size > 0 {
			w.signed = max(w.signed, int64(j.fr.ckpt.Size))
			s.checkpointed(j.fr.ckpt)
		}
	}
}

// answer fails every writer of the batch with err.
func (s *Store) answer(batch []*writeReq, err error) {
	for _, r := range batch {
		r.done <- writeResult{err: err}
	}
}

// shutdown signs a last checkpoint of what this store wrote and closes
// the writer's connections.
func (s *Store) shutdown() {
	if s.w.wrote > s.w.signed {
		j := &job{checkpoint: true, conn: s.w.free[0]}
		j.ctx, j.cancel = s.jobContext()
		s.commitJob(j)
		j.cancel()
		if j.err != nil {
			s.cfg.logger.Warn("audit: postgres final checkpoint not committed", "error", j.err.Error())
			s.setCloseErr(j.err)
		} else if j.fr.ckpt.Size > 0 {
			s.checkpointed(j.fr.ckpt)
		}
	}
	for _, d := range s.w.free {
		d.drop()
	}
}

// answerDurable answers the writers of a batch now known to be durable.
func (s *Store) answerDurable(fr flushReq) {
	for i, r := range fr.batch {
		r.done <- writeResult{seq: fr.first + uint64(i)}
	}
}

// checkpointed takes in a checkpoint now known to be durable.
func (s *Store) checkpointed(c audit.Checkpoint) {
	s.setCheckpoint(c)
	if s.cfg.onCheckpoint != nil {
		s.cfg.onCheckpoint(c)
	}
}

func (s *Store) setCloseErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeErr == nil {
		s.closeErr = err
	}
}

// commitJob commits the job's batch in one transaction on its connection,
// under the append lock (a transaction-scoped advisory lock that orders
// the writers of every instance), and fills in its outcome.
//
// A batch that follows the chain takes one round trip: BEGIN, the lock,
// an insert of its rows that inserts them only if the log's last row is
// still the one the batch was hashed on from, its checkpoint (likewise),
// and COMMIT, in one pipeline. If the log ended elsewhere nothing is
// inserted, the empty transaction commits, and the job asks to be tried
// again. Any other batch takes two: BEGIN, the lock and the log's last
// row, then (numbered, hashed and signed in between) the insert, the
// checkpoint and COMMIT.
//
// Either way the COMMIT waits for the WAL to reach the disk
// (synchronous_commit on, as on every connection of the store), and the
// lock is let go only after that, so a batch's writers are answered only
// once it is durable, and a batch never builds on one that a crash could
// still take back. (Committing without waiting and flushing from a second
// connection afterwards was tried, and lost acknowledged events when the
// server crashed mid-stream; the test of that fault keeps it out.)
func (s *Store) commitJob(j *job) {
	ctx := j.ctx
	d := j.conn
	if j.pred != nil {
		s.commitFollowing(j)
		return
	}
	conn, err := d.get(ctx)
	if err != nil {
		j.err = classify("connecting", err)
		return
	}
	var b pgx.Batch
	b.Queue("BEGIN")
	b.Queue("SELECT pg_advisory_xact_lock($1)", s.sql.appendLock)
	b.Queue(s.sql.head)
	br := conn.SendBatch(ctx, &b)
	var headFront []byte
	for range b.Len() - 1 {
		if _, err = br.Exec(); err != nil {
			break
		}
	}
	if err == nil {
		if err = br.QueryRow().Scan(&j.head, &headFront); errors.Is(err, pgx.ErrNoRows) {
			err = nil
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		d.abandon()
		j.err = classify("starting a batch", err)
		return
	}
	f, err := s.frontierAt(ctx, conn, j.head, headFront)
	if err != nil {
		d.abandon()
		j.err = err
		return
	}
	rows, err := s.rowsFor(j.batch, &f)
	if err != nil {
		d.abandon()
		j.err = err
		return
	}
	if f.size > 0 && j.checkpoint {
		if j.ckpt, err = s.sign(f); err != nil {
			d.abandon()
			j.err = err
			return
		}
	}
	j.rows = rows
	j.end = chainState{f: f}
	if len(j.batch) > 0 {
		j.end.last = rows.hashes[len(rows.hashes)-1]
	}
	b = pgx.Batch{}
	if len(j.batch) > 0 {
		b.Queue(s.sql.insert, rows.args()...)
	}
	if j.ckpt.Size > 0 {
		b.Queue(s.sql.checkpoint, int64(j.ckpt.Size), j.ckpt.Signed)
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
	s.settleCommit(j, uint64(j.head)+1, tag, err)
}

// commitFollowing commits a batch that follows the chain, sending its
// pipeline first unless run did.
func (s *Store) commitFollowing(j *job) {
	d := j.conn
	if j.br == nil {
		conn, err := d.get(j.ctx)
		if err != nil {
			j.err = classify("connecting", err)
			return
		}
		s.sendFollowing(j, conn)
	}
	br := j.br
	j.br = nil
	var tag, inserted pgconn.CommandTag
	var err error
	for i := range j.sent {
		switch {
		case i == j.sent-2:
			err = br.QueryRow().Scan(&j.head)
		default:
			tag, err = br.Exec()
			if i == 2 {
				inserted = tag
			}
		}
		if err != nil {
			break
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err == nil && tag.String() == "COMMIT" && inserted.RowsAffected() != int64(len(j.batch)) {
		// The log did not end where the batch starts: nothing was
		// inserted, and the transaction committed nothing.
		j.retry = true
		return
	}
	s.settleCommit(j, uint64(j.pred.f.size)+1, tag, err)
}

// settleCommit fills in the outcome of a batch whose last pipeline, ending in
// COMMIT, gave tag and err; first is the batch's first seq.
func (s *Store) settleCommit(j *job, first uint64, tag pgconn.CommandTag, err error) {
	d := j.conn
	rows := j.rows
	var pgErr *pgconn.PgError
	switch {
	case err == nil && tag.String() == "COMMIT":
	case err == nil:
		d.abandon()
		j.err = fmt.Errorf("postgres: the batch was rolled back (%s)", tag)
		return
	case errors.As(err, &pgErr):
		// The server refused a statement: nothing after it ran, so the
		// transaction was not committed.
		d.abandon()
		j.err = classify("writing a batch", err)
		return
	case len(j.batch) == 0:
		d.drop()
		j.err = classify("signing a checkpoint", err)
		return
	default:
		// The connection failed with the COMMIT sent: find out whether
		// it was committed before answering.
		found, ferr := s.findBatches(d, []flushReq{{first: first, rec: rows.record[0]}})
		if ferr != nil {
			j.err = fmt.Errorf("%w: %w", ErrInDoubt, classify("writing a batch", err))
			return
		}
		if !found[0] {
			j.err = classify("writing a batch", err)
			return
		}
	}
	j.fr = flushReq{batch: j.batch, first: first, ckpt: j.ckpt}
	if len(j.batch) > 0 {
		j.fr.rec = rows.record[0]
	}
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

// findBatches looks, on a new connection, for the first record of each
// batch whose connection was lost while it committed (or was flushed),
// and then flushes the WAL so that what it found is durable. It tries for
// up to resolveWindow while the database restarts, and returns whether
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
	found := make([]bool, len(batches))
	for i, fr := range batches {
		var got []byte
		switch err := conn.QueryRow(ctx, s.sql.record, int64(fr.first)).Scan(&got); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return nil, err
		default:
			found[i] = bytes.Equal(got, fr.rec)
		}
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
