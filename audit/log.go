package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/shcrkit/shcrkit/audit/internal/logstore"
	"github.com/shcrkit/shcrkit/internal/nilctx"
)

// Log is the embedded, tamper-evident audit log: the Sink a vendor gets
// with no infrastructure. See the package documentation for its layout
// and guarantees. A Log is safe for concurrent use; one directory can be
// open in one Log at a time.
//
// A Log turns events into records and back; its storage engine
// (audit/internal/logstore) keeps them, commits them in groups, proves
// and verifies them. Everything in a Log is fixed when it opens except
// what the engine holds, whose concurrency design the engine's Store
// documents.
type Log struct {
	st  *logstore.Store
	cfg logConfig
}

// Recovery reports what OpenLog found and repaired: TornBytes,
// TornEvents, TornSegment, TornReason and SavedTo describe a torn tail
// (an unfinished batch of a crash, never acknowledged) that was cut and
// where its bytes were saved; Replayed is how many events after the last
// checkpoint were read back; NoCheckpoint is set when the log held
// events but had never stored a checkpoint.
type Recovery = logstore.Recovery

// OpenLog opens the log in dir, creating it (and a signing key, unless
// WithSigningKey is given) when dir holds none.
//
// Opening checks the log without reading all of it: the latest checkpoint
// must verify with the log's key, the stored hashes must give its root
// hash, and every event after it must be intact. A torn tail, the
// unfinished batch of a crash that was never acknowledged, is cut (and
// saved under torn/), logged and reported by Recovered. Anything else
// that does not match (a changed byte in a record, a hash, the
// checkpoint, the keys, an index header; acknowledged events, the stored
// checkpoint or an index run missing) makes OpenLog fail with an
// *IntegrityError matching ErrTampered, before it changes any file.
// Verify checks everything.
func OpenLog(dir string, opts ...LogOption) (*Log, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: empty directory", ErrInvalidOption)
	}
	cfg := defaultLogConfig()
	for _, o := range opts {
		if o == nil {
			return nil, fmt.Errorf("%w: nil option", ErrInvalidOption)
		}
		if err := o.applyLog(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.checkpointEachCommit && cfg.onCheckpoint == nil {
		return nil, fmt.Errorf("%w: WithCheckpointEveryCommit needs WithCheckpointFunc", ErrInvalidOption)
	}
	st, err := logstore.Open(logstore.Config{
		Dir:                  dir,
		SigningKey:           cfg.signingKey,
		Origin:               cfg.origin,
		CheckpointEvery:      cfg.checkpointEvery,
		CheckpointEachCommit: cfg.checkpointEachCommit,
		SyncEach:             cfg.syncEach,
		SegmentSize:          cfg.segmentSize,
		IndexFlushEvents:     cfg.indexFlushEvents,
		MaxBatch:             cfg.maxBatch,
		Now:                  cfg.now,
		Logger:               cfg.logger,
		OnCheckpoint:         cfg.onCheckpoint,
		Codec:                eventCodec{},
	})
	if err != nil {
		return nil, err
	}
	return &Log{st: st, cfg: cfg}, nil
}

// Recovered reports what OpenLog repaired when it opened the log.
func (l *Log) Recovered() Recovery {
	if !l.opened() {
		return Recovery{}
	}
	return l.st.Recovered()
}

// VerifierKey returns the public key that verifies the log's checkpoints
// and proofs, as a golang.org/x/mod/sumdb/note verifier key. Publish it.
func (l *Log) VerifierKey() string {
	if !l.opened() {
		return ""
	}
	return l.st.VerifierKey()
}

// Size returns the number of events durably written, which is also the
// Seq of the last one.
func (l *Log) Size() uint64 {
	if !l.opened() {
		return 0
	}
	return l.st.Size()
}

// Checkpoint returns the latest signed checkpoint stored in the
// directory, and false when none has been signed yet.
func (l *Log) Checkpoint() (Checkpoint, bool) {
	if !l.opened() {
		return Checkpoint{}, false
	}
	return l.st.Checkpoint()
}

// Write appends the event to the log and returns once it is on disk:
// written and fsynced, together with the other events written at the
// same moment (group commit). The log assigns Seq and Recorded; Time is
// set to the log's clock when zero. See Normalize for the checks.
//
// When ctx ends while the event is queued, Write returns ctx.Err() and
// the event may or may not be written. After a failed write or fsync the
// log accepts no more events (ErrLogFailed): reopen it.
func (l *Log) Write(ctx context.Context, e Event) error {
	_, err := l.Append(ctx, e)
	return err
}

// Append is Write that also returns the sequence number the log gave the
// event, for a caller that wants to cite it (in a response header, say).
func (l *Log) Append(ctx context.Context, e Event) (uint64, error) {
	if err := l.usable(ctx); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	// One reading of the clock stamps both Recorded and, when it is zero,
	// Time; a clock outside the times an event may have (broken, or set
	// wrong) is refused before anything is written, since a record
	// stamped with it could not be read back.
	now := l.cfg.now()
	if now.Before(minEventTime) || !now.Before(maxEventTime) {
		return 0, fmt.Errorf("%w: the log's clock reads %s, outside the years %d to %d",
			ErrInvalidEvent, now.UTC().Format(time.RFC3339), minEventTime.Year(), maxEventTime.Year()-1)
	}
	// The event is only read until Append returns: normalised in place,
	// without Normalize's deep copy.
	n, err := e.normalize(now)
	if err != nil {
		return 0, err
	}
	buf := bodyPool.Get().(*[]byte)
	body := appendEventBody((*buf)[:0], &n)
	var keys [4]string
	seq, err := l.st.Append(ctx, logstore.Pending{Body: body, Keys: appendEventKeys(keys[:0], &n), Entry: entryFor(&n), Recorded: now})
	// The store has copied the body into its frame.
	if cap(body) <= 16<<10 {
		*buf = body
		bodyPool.Put(buf)
	}
	if err == logstore.ErrTooLarge {
		return 0, fmt.Errorf("%w: event too large", ErrInvalidEvent)
	}
	return seq, err
}

// bodyPool holds the buffers events are encoded in.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// SignCheckpoint signs a checkpoint covering every event written so far
// (unless the latest already does), stores it and returns it.
func (l *Log) SignCheckpoint(ctx context.Context) (Checkpoint, error) {
	if err := l.usable(ctx); err != nil {
		return Checkpoint{}, err
	}
	return l.st.SignCheckpoint(ctx)
}

// Close waits for the events being written, flushes the index, signs a
// final checkpoint and closes the files. Writes after Close fail with
// ErrClosed. Close is idempotent.
func (l *Log) Close() error {
	if !l.opened() {
		return errNotOpened
	}
	return l.st.Close()
}

// Verify checks the whole log against itself and its latest checkpoint:
// the checkpoint file's signature and canonical form; every segment
// header, frame checksum, commit and sequence number; every stored hash,
// recomputed from the records; the root hash at the checkpoint's size;
// every table entry; every index run, against what the records say it
// should hold; and the key and state files. Any changed, removed,
// reordered or inserted byte shows as an *IntegrityError matching
// ErrTampered, which lists what was found.
//
// Verify reads every file in full. It runs alongside writes and checks
// the events written when it started.
func (l *Log) Verify(ctx context.Context) error { return l.VerifyProgress(ctx, nil) }

// VerifyProgress is Verify reporting its progress to progress, if not
// nil: how many of the total events it checks have had their records
// checked, after each segment file, done never going down and reaching
// total when every record was read (the interior hashes, checkpoint and
// index checks follow). progress is called from one goroutine at a time
// and should return quickly; a long log's check can show a progress line.
func (l *Log) VerifyProgress(ctx context.Context, progress func(done, total uint64)) error {
	if err := l.usable(ctx); err != nil {
		return err
	}
	return l.st.VerifyProgress(ctx, progress)
}

// errNotOpened is the error of a Log not made by OpenLog (nil, or its
// zero value): like a closed log, it takes no events.
var errNotOpened = fmt.Errorf("%w: the audit.Log was not made by OpenLog", ErrClosed)

// opened reports whether l was made by OpenLog.
func (l *Log) opened() bool { return l != nil && l.st != nil }

// usable fails a call on a Log not made by OpenLog, or with a nil
// context.
func (l *Log) usable(ctx context.Context) error {
	if !l.opened() {
		return errNotOpened
	}
	return nilctx.Check(ctx)
}

// eventCodec tells the storage engine what it needs of a record.
type eventCodec struct{}

// Describe returns a record's table entry fields and index keys.
func (eventCodec) Describe(rec []byte) (logstore.Entry, []string, error) {
	return describeRecord(rec)
}

// entryFor fills the parts of a table entry that come from the event.
func entryFor(e *Event) logstore.Entry {
	return logstore.Entry{
		Time:    e.Time.UnixNano(),
		Action:  e.Action.code(),
		Service: e.Service.code(),
		Outcome: e.Outcome.code(),
		Purpose: uint8(e.Purpose),
	}
}

// Index key prefixes.
const (
	keyPatient   = "p"
	keyUser      = "u"
	keyOrg       = "o"
	keyCustodian = "c"
)

// eventKeys returns the index keys of an event.
func eventKeys(e *Event) []string { return appendEventKeys(make([]string, 0, 4), e) }

// appendEventKeys appends the index keys of an event to dst, all of them
// slices of one string: one allocation per event on the write path.
func appendEventKeys(dst []string, e *Event) []string {
	parts := [...]struct{ prefix, v string }{
		{keyPatient, string(e.Patient)},
		{keyUser, e.Requester.UserID},
		{keyOrg, string(e.Requester.Organisation)},
		{keyCustodian, string(e.Custodian)},
	}
	size := 0
	for _, p := range parts {
		if p.v != "" {
			size += len(p.prefix) + len(p.v)
		}
	}
	var b strings.Builder
	b.Grow(size)
	for _, p := range parts {
		if p.v != "" {
			b.WriteString(p.prefix)
			b.WriteString(p.v)
		}
	}
	all, off := b.String(), 0
	for _, p := range parts {
		if p.v != "" {
			n := len(p.prefix) + len(p.v)
			dst = append(dst, all[off:off+n])
			off += n
		}
	}
	return dst
}

// decodeRecord decodes a record.
func decodeRecord(rec []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(rec, &e); err != nil {
		return Event{}, fmt.Errorf("decoding event: %w", err)
	}
	return e, nil
}

// event reads and decodes the event with the given seq.
func (l *Log) event(seq uint64) (Event, error) {
	e, err := l.st.Entry(seq)
	if err != nil {
		return Event{}, err
	}
	rec, err := l.st.Record(seq, e)
	if err != nil {
		return Event{}, err
	}
	ev, err := decodeRecord(rec)
	if err != nil {
		return Event{}, tampered(fmt.Sprintf("event %d: %v", seq, err))
	}
	return ev, nil
}
