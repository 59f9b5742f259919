package audit

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/internal/logstore"
	"golang.org/x/mod/sumdb/note"
)

// LogOption configures OpenLog.
type LogOption interface {
	applyLog(*logConfig) error
}

// HTTPOption configures NewHTTPSink.
type HTTPOption interface {
	applyHTTP(*httpConfig) error
}

type logOptionFunc func(*logConfig) error

func (f logOptionFunc) applyLog(c *logConfig) error { return f(c) }

type httpOptionFunc func(*httpConfig) error

func (f httpOptionFunc) applyHTTP(c *httpConfig) error { return f(c) }

// LoggerOption sets the logger of a Log or an HTTPSink; it is both a
// LogOption and an HTTPOption.
type LoggerOption struct{ logger *slog.Logger }

// WithLogger sets the logger for warnings (a torn tail truncated, a retry).
// The default discards. Log lines carry no NHS number.
func WithLogger(l *slog.Logger) LoggerOption { return LoggerOption{logger: l} }

func (o LoggerOption) applyLog(c *logConfig) error {
	if o.logger == nil {
		return fmt.Errorf("%w: nil logger", ErrInvalidOption)
	}
	c.logger = o.logger
	return nil
}

func (o LoggerOption) applyHTTP(c *httpConfig) error {
	if o.logger == nil {
		return fmt.Errorf("%w: nil logger", ErrInvalidOption)
	}
	c.logger = o.logger
	return nil
}

// Defaults of a Log.
const (
	// DefaultOrigin is the checkpoint origin (and the name of a generated
	// signing key) when WithOrigin is not given.
	DefaultOrigin = logstore.DefaultOrigin
	// DefaultCheckpointInterval is how often a Log that is being written
	// to signs a checkpoint.
	DefaultCheckpointInterval = time.Second
	// DefaultSegmentSize is the size at which a Log starts a new segment
	// file.
	DefaultSegmentSize = 64 << 20
	// DefaultIndexFlushEvents is how many events a Log indexes in memory
	// before it writes them to an index file.
	DefaultIndexFlushEvents = 1 << 16
	// DefaultMaxBatch is the most events one group commit writes.
	DefaultMaxBatch = 4096
)

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
	review           ReviewConfig
	onCheckpoint     func(Checkpoint)
	// checkpointEachCommit: sign a checkpoint for every group commit.
	checkpointEachCommit bool
}

func defaultLogConfig() logConfig {
	return logConfig{
		origin:           "", // the signing key's name; DefaultOrigin for a new key
		checkpointEvery:  DefaultCheckpointInterval,
		segmentSize:      DefaultSegmentSize,
		indexFlushEvents: DefaultIndexFlushEvents,
		maxBatch:         DefaultMaxBatch,
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
// checkpoint (default DefaultCheckpointInterval). Events written since
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

// WithSyncEveryEvent turns group commit off: every event gets its own
// write and fsync. It exists to measure what group commit gains; it is
// much slower under concurrent load and no safer.
func WithSyncEveryEvent() LogOption {
	return logOptionFunc(func(c *logConfig) error {
		c.syncEach = true
		return nil
	})
}

// WithSegmentSize sets the size in bytes at which the log starts a new
// segment file (default DefaultSegmentSize, at least 4 KiB, at most
// 1 GiB).
func WithSegmentSize(n int64) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if n < 4<<10 || n > 1<<30 {
			return fmt.Errorf("%w: segment size %d outside 4KiB..1GiB", ErrInvalidOption, n)
		}
		c.segmentSize = n
		return nil
	})
}

// WithIndexFlushEvents sets how many events are indexed in memory before
// the index is written to disk (default DefaultIndexFlushEvents). It also
// bounds how much of the log OpenLog reads back after a crash.
func WithIndexFlushEvents(n int) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if n < 1 || n > 1<<24 {
			return fmt.Errorf("%w: index flush size %d outside 1..16M", ErrInvalidOption, n)
		}
		c.indexFlushEvents = n
		return nil
	})
}

// WithMaxBatch sets the most events one group commit writes (default
// DefaultMaxBatch).
func WithMaxBatch(n int) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if n < 1 || n > 1<<16 {
			return fmt.Errorf("%w: batch size %d outside 1..65536", ErrInvalidOption, n)
		}
		c.maxBatch = n
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

// WithReview sets how (*Log).Review flags events: working hours, the
// volume spike rule and the later-care hook.
func WithReview(cfg ReviewConfig) LogOption {
	return logOptionFunc(func(c *logConfig) error {
		if err := cfg.validate(); err != nil {
			return err
		}
		c.review = cfg
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

type httpConfig struct {
	client      *http.Client
	maxAttempts int
	minWait     time.Duration
	maxWait     time.Duration
	userAgent   string
	logger      *slog.Logger
	maxResponse int64
}

func defaultHTTPConfig() httpConfig {
	return httpConfig{
		client:      &http.Client{Timeout: 30 * time.Second},
		maxAttempts: 4,
		minWait:     200 * time.Millisecond,
		maxWait:     5 * time.Second,
		userAgent:   "shcrkit-audit/" + shcrkit.Version,
		logger:      slog.New(slog.DiscardHandler),
		maxResponse: 1 << 20,
	}
}

// WithHTTPClient sets the HTTP client of an HTTPSink. Authentication to
// the FHIR server belongs in its Transport (an oauth2.Transport, say).
// The client is used through a copy with the SDK's redirect policy: a
// redirect to another origin (scheme, host or port) than the request's
// fails with a *shcrkit.RedirectError, and neither the body nor the
// Authorization header is sent there. The client itself is not changed.
func WithHTTPClient(c *http.Client) HTTPOption {
	return httpOptionFunc(func(h *httpConfig) error {
		if c == nil {
			return fmt.Errorf("%w: nil HTTP client", ErrInvalidOption)
		}
		h.client = c
		return nil
	})
}

// WithMaxAttempts sets how many times an HTTPSink tries to deliver one
// event (default 4, at most 20).
func WithMaxAttempts(n int) HTTPOption {
	return httpOptionFunc(func(h *httpConfig) error {
		if n < 1 || n > 20 {
			return fmt.Errorf("%w: max attempts %d outside 1..20", ErrInvalidOption, n)
		}
		h.maxAttempts = n
		return nil
	})
}

// WithRetryWait sets the bounds of the exponential backoff between
// attempts (default 200ms to 5s). A Retry-After header is honoured up to
// max.
func WithRetryWait(min, max time.Duration) HTTPOption {
	return httpOptionFunc(func(h *httpConfig) error {
		if min < 0 || max < min || max > 5*time.Minute {
			return fmt.Errorf("%w: retry wait %v..%v", ErrInvalidOption, min, max)
		}
		h.minWait, h.maxWait = min, max
		return nil
	})
}

// WithUserAgent sets the User-Agent header of an HTTPSink.
func WithUserAgent(ua string) HTTPOption {
	return httpOptionFunc(func(h *httpConfig) error {
		if ua == "" || !cleanText(ua) {
			return fmt.Errorf("%w: user agent must be printable text", ErrInvalidOption)
		}
		h.userAgent = ua
		return nil
	})
}

// WithMaxResponseBytes caps how much of a FHIR server's answer an
// HTTPSink reads (default 1 MiB).
func WithMaxResponseBytes(n int64) HTTPOption {
	return httpOptionFunc(func(h *httpConfig) error {
		if n < 1024 {
			return fmt.Errorf("%w: response cap %d below 1024", ErrInvalidOption, n)
		}
		h.maxResponse = n
		return nil
	})
}
