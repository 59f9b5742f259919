package postgres

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/shcrkit/shcrkit/audit"
	"golang.org/x/mod/sumdb/note"
)

// Defaults of a Store, documented on the options that change them.
const (
	defaultSchema           = "shcrkit_audit"
	defaultMaxBatch         = 1024
	defaultMaxConns         = 4
	defaultStatementTimeout = 30 * time.Second
)

// An Option configures Open. Options check their input and make Open
// fail with an error matching audit.ErrInvalidOption.
type Option func(*config) error

type config struct {
	schema           string
	signingKey       string
	origin           string
	appRole          string
	tablespace       string
	noMigrate        bool
	maxBatch         int
	maxConns         int32
	statementTimeout time.Duration
	checkpointEvery  time.Duration
	now              func() time.Time
	logger           *slog.Logger
	onCheckpoint     func(audit.Checkpoint)
}

func defaultConfig() config {
	return config{
		schema:           defaultSchema,
		origin:           "shcrkit.audit",
		maxBatch:         defaultMaxBatch,
		maxConns:         defaultMaxConns,
		statementTimeout: defaultStatementTimeout,
		checkpointEvery:  time.Second,
		now:              time.Now,
		logger:           slog.New(slog.DiscardHandler),
	}
}

// identifier is what the store accepts as a schema, role or tablespace
// name: an unquoted lower-case PostgreSQL identifier, so that it can be
// written into SQL as it is.
var identifier = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{audit.ErrInvalidOption}, args...)...)
}

// WithSchema sets the PostgreSQL schema that holds the store's tables
// (default shcrkit_audit): a lower-case identifier. Every instance that
// shares an audit trail must name the same schema.
func WithSchema(name string) Option {
	return func(c *config) error {
		if !identifier.MatchString(name) {
			return invalid("schema %q must be a lower-case identifier", name)
		}
		c.schema = name
		return nil
	}
}

// WithSigningKey sets the Ed25519 key that signs checkpoints, as a
// golang.org/x/mod/sumdb/note signer key (see audit.GenerateSigningKey).
// Every instance must be given the same key; the store records its
// verifier key and refuses a different one. Without this option the store
// uses a key it keeps in the database, generating one the first time.
func WithSigningKey(skey string) Option {
	return func(c *config) error {
		if _, err := note.NewSigner(skey); err != nil {
			return invalid("signing key: %v", err)
		}
		c.signingKey = skey
		return nil
	}
}

// WithOrigin sets the name of the log (the first line of its
// checkpoints and the name of a generated key; default
// "shcrkit.audit", as for an audit.Log). It is fixed when the key is generated.
func WithOrigin(origin string) Option {
	return func(c *config) error {
		if _, _, err := audit.GenerateSigningKey(origin); err != nil {
			return invalid("origin %q must be non-empty printable text without spaces or '+'", origin)
		}
		c.origin = origin
		return nil
	}
}

// WithAppRole names the database role the application connects as: when
// Open creates or migrates the schema it grants that role USAGE on the
// schema and SELECT and INSERT on its tables, and nothing else, so the
// application can append and read events but never change or delete
// them. The role must exist.
func WithAppRole(role string) Option {
	return func(c *config) error {
		if !identifier.MatchString(role) {
			return invalid("role %q must be a lower-case identifier", role)
		}
		c.appRole = role
		return nil
	}
}

// WithTablespace puts the store's tables and indexes in a tablespace
// when Open creates them (a volume of their own, say).
func WithTablespace(name string) Option {
	return func(c *config) error {
		if !identifier.MatchString(name) {
			return invalid("tablespace %q must be a lower-case identifier", name)
		}
		c.tablespace = name
		return nil
	}
}

// WithMaxBatch sets the most events one transaction commits (default
// 1024). 1 commits every event on its own, which is slower by
// an order of magnitude under concurrency and is there as a baseline.
func WithMaxBatch(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 65536 {
			return invalid("max batch %d outside 1..65536", n)
		}
		c.maxBatch = n
		return nil
	}
}

// WithMaxConns sets the size of the connection pool for queries, proofs,
// checkpoints and Verify (default 4). Writes use one more
// connection of their own, so that readers can never starve them.
func WithMaxConns(n int) Option {
	return func(c *config) error {
		if n < 1 || n > 1000 {
			return invalid("max conns %d outside 1..1000", n)
		}
		c.maxConns = int32(n)
		return nil
	}
}

// WithStatementTimeout bounds every statement the store runs (default
// 30s), the wait for the append lock that orders the writers of all
// instances included; a write that runs past it fails with ErrTimeout
// and is not committed.
func WithStatementTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Millisecond || d > time.Hour {
			return invalid("statement timeout %v outside 1ms..1h", d)
		}
		c.statementTimeout = d
		return nil
	}
}

// WithCheckpointInterval sets how often a store being written to signs a
// checkpoint (default one second); the checkpoint is
// committed in the same transaction as the batch it ends with.
func WithCheckpointInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < time.Millisecond || d > 24*time.Hour {
			return invalid("checkpoint interval %v outside 1ms..24h", d)
		}
		c.checkpointEvery = d
		return nil
	}
}

// WithClock sets the clock that stamps Recorded, and Time when an event
// has none (default time.Now). The checkpoint interval is measured on
// the monotonic clock, so a clock that steps back does not hold up
// checkpoints.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return invalid("nil clock")
		}
		c.now = now
		return nil
	}
}

// WithLogger sets where the store reports failures (default: discarded).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithCheckpointFunc sets a function called with every checkpoint this
// store signs, so that a copy can be kept out of reach of whoever can
// write the database. It is called from the writer and must return
// quickly.
func WithCheckpointFunc(f func(audit.Checkpoint)) Option {
	return func(c *config) error {
		if f == nil {
			return invalid("nil checkpoint func")
		}
		c.onCheckpoint = f
		return nil
	}
}

// WithoutMigrate makes Open only check the schema: it fails with
// ErrSchema unless the schema exists at this package's version, and creates or
// changes nothing. For tools that read an existing trail, and for an
// application whose schema is managed by Migrate at deployment.
func WithoutMigrate() Option {
	return func(c *config) error {
		c.noMigrate = true
		return nil
	}
}
