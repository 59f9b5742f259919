package audit

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/shcrkit/shcrkit/audit/internal/logstore"
	"golang.org/x/mod/sumdb/note"
)

// LogOption configures OpenLog.
type LogOption interface {
	applyLog(*logConfig) error
}

type logOptionFunc func(*logConfig) error

func (f logOptionFunc) applyLog(c *logConfig) error { return f(c) }

// WithLogger sets the logger for warnings (a torn tail truncated, say).
// The default discards. Log lines carry no NHS number.
func WithLogger(l *slog.Logger) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if l == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		c.logger = l
		return nil
	})
}

type logConfig struct {
	signingKey       string
	origin           string
	checkpointEvery  time.Duration
	syncEach         bool
	segmentSize      int64
	indexFlushEvents int
	maxBatch         int
	now              func() time.Time
	logger           *slog.Logger
	onCheckpoint     func(Checkpoint)
	// checkpointEachCommit: sign a checkpoint for every group commit.
	checkpointEachCommit bool
}

func defaultLogConfig() logConfig {
	return logConfig{
		origin:           "", // the signing key's name; "shcrkit.audit" for a new key
		checkpointEvery:  time.Second,
		segmentSize:      64 << 20,
		indexFlushEvents: 1 << 16,
		maxBatch:         4096,
		now:              time.Now,
		logger:           slog.New(slog.DiscardHandler),
	}
}

// WithSigningKey sets the Ed25519 key that signs checkpoints, as a
// golang.org/x/mod/sumdb/note signer key ("PRIVATE+KEY+name+hash+key", see
// GenerateSigningKey). The key is not written to the directory. Without
// this option OpenLog uses the key kept in the directory's signing.key
// file, generating one when it creates a new log.
func WithSigningKey(skey string) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if _, err := note.NewSigner(skey); err != nil {
			return fmt.Errorf("%w: signing key: %v", ErrInvalidOption, err)
		}
		c.signingKey = skey
		return nil
	})
}

// WithOrigin sets the name of the log that its checkpoints carry on their
// first line, which is also the name of a generated signing key. It must
// be a valid note key name: non-empty, no spaces, no '+'. A log keeps
// its origin for life: reopening with another origin fails.
func WithOrigin(origin string) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if !logstore.ValidKeyName(origin) {
			return fmt.Errorf("%w: origin %q must be non-empty printable text without spaces or '+'", ErrInvalidOption, origin)
		}
		c.origin = origin
		return nil
	})
}

// WithCheckpointInterval sets how often a log being written to signs a
// checkpoint (default one second). Events written since
// the last checkpoint are durable but not yet covered by a signature.
func WithCheckpointInterval(d time.Duration) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if d < time.Millisecond || d > 24*time.Hour {
			return fmt.Errorf("%w: checkpoint interval %v outside 1ms..24h", ErrInvalidOption, d)
		}
		c.checkpointEvery = d
		return nil
	})
}

// withSyncEveryEvent turns group commit off: every event gets its own
// write and fsync. It exists for the benchmark that measures what group
// commit gains; it is much slower under concurrent load and no safer.
func withSyncEveryEvent() LogOption {
	return logOptionFunc(func(c *logConfig) error {
		c.syncEach = true
		return nil
	})
}

// Tuning sets the sizes of a log's storage engine. A zero field keeps
// its default.
type Tuning struct {
	// SegmentSize is the size in bytes at which the log starts a new
	// segment file (default 64 MiB, at least 4 KiB, at most 1 GiB).
	SegmentSize int64
	// IndexFlushEvents is how many events are indexed in memory before
	// the index is written to disk (default 65536, at most 16M). It also
	// bounds how much of the log OpenLog reads back after a crash.
	IndexFlushEvents int
	// MaxBatch is the most events one group commit writes (default 4096,
	// at most 65536).
	MaxBatch int
}

// WithTuning sets the sizes of the log's storage engine; the defaults
// suit most logs.
func WithTuning(t Tuning) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		switch {
		case t.SegmentSize != 0 && (t.SegmentSize < 4<<10 || t.SegmentSize > 1<<30):
			return fmt.Errorf("%w: segment size %d outside 4KiB..1GiB", ErrInvalidOption, t.SegmentSize)
		case t.IndexFlushEvents < 0 || t.IndexFlushEvents > 1<<24:
			return fmt.Errorf("%w: index flush size %d outside 1..16M", ErrInvalidOption, t.IndexFlushEvents)
		case t.MaxBatch < 0 || t.MaxBatch > 1<<16:
			return fmt.Errorf("%w: batch size %d outside 1..65536", ErrInvalidOption, t.MaxBatch)
		}
		if t.SegmentSize != 0 {
			c.segmentSize = t.SegmentSize
		}
		if t.IndexFlushEvents != 0 {
			c.indexFlushEvents = t.IndexFlushEvents
		}
		if t.MaxBatch != 0 {
			c.maxBatch = t.MaxBatch
		}
		return nil
	})
}

// WithClock sets the clock that stamps Event.Recorded (and Event.Time when
// the caller left it zero). The default is time.Now.
func WithClock(now func() time.Time) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if now == nil {
			return fmt.Errorf("%w: nil clock", ErrInvalidOption)
		}
		c.now = now
		return nil
	})
}

// WithCheckpointFunc sets a function called with every new checkpoint
// the log signs, so that a copy can be kept elsewhere (a copy held out of
// reach of whoever can write the log's directory is what makes a later
// change detectable). It is called from one of the log's goroutines and
// must return quickly, without calling the Log's methods (which wait for
// that goroutine).
func WithCheckpointFunc(f func(Checkpoint)) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if f == nil {
			return fmt.Errorf("%w: nil checkpoint func", ErrInvalidOption)
		}
		c.onCheckpoint = f
		return nil
	})
}

// WithCheckpointEveryCommit makes the log sign a checkpoint of every
// group commit and hand it to the function given with WithCheckpointFunc
// (which it requires) before any event of the commit is acknowledged, so
// that a witness kept elsewhere holds a signed statement of every
// acknowledged event. These checkpoints are not stored in the directory;
// the checkpoint file is still written every checkpoint interval. It
// costs one Ed25519 signature per commit (see BenchmarkGroupCommit).
func WithCheckpointEveryCommit() LogOption {
	return logOptionFunc(func(c *logConfig) error {
		c.checkpointEachCommit = true
		return nil
	})
}
