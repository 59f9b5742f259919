package postgres

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/internal/nilctx"
	"golang.org/x/mod/sumdb/note"
)

// Store is the audit trail in PostgreSQL, shared by every instance of an
// application: a Sink (Write returns once the event is committed
// durably) and a Reader (Query), with the same tamper evidence as the
// embedded audit.Log. See the package documentation. A Store is safe for
// concurrent use; any number of Stores, in any number of processes, may
// write to one schema at once.
type Store struct {
	cfg      config
	pool     *pgxpool.Pool
	connCfg  *pgx.ConnConfig // for the writer's own connection
	signer   note.Signer
	verifier note.Verifier
	vkey     string
	sql      statements

	reqs chan *writeReq
	done chan struct{}
	// want is how many queued events end the writer's wait for a
	// cohort (0: not waiting); a writer that queues the event that
	// reaches it signals on cohort (cohort.go).
	want   atomic.Int64
	cohort chan struct{}

	mu       sync.Mutex
	closed   bool
	inflight sync.WaitGroup
	closeErr error

	w writer // owned by the writer goroutine

	ckptMu sync.RWMutex
	ckpt   audit.Checkpoint

	// Count for benchmarks: transactions that committed events.
	batchCount atomic.Int64
}

var (
	_ audit.Sink   = (*Store)(nil)
	_ audit.Reader = (*Store)(nil)
)

// statements are the store's SQL with its schema filled in.
type statements struct {
	appendLock  int64
	head        string
	insert      string
	checkpoint  string
	latestCkpt  string
	hashes      string
	size        string
	record      string
	verifyRows  string
	checkpoints string
}

func newStatements(c *config) statements {
	return statements{
		appendLock: lockKey("append", c.schema),
		head:       c.expand("SELECT seq, frontier FROM $s.events ORDER BY seq DESC LIMIT 1"),
		insert: c.expand(`INSERT INTO $s.events (seq, time_ns, patient, user_id, organisation, custodian,
			action, service, outcome, purpose, correlation_id, record, hashes, frontier)
			SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::text[], $10::smallint[], $11::text[], $12::bytea[], $13::bytea[], $14::bytea[])`),
		checkpoint:  c.expand("INSERT INTO $s.checkpoints (size, signed) VALUES ($1, $2) ON CONFLICT (size) DO NOTHING"),
		latestCkpt:  c.expand("SELECT signed FROM $s.checkpoints ORDER BY size DESC LIMIT 1"),
		hashes:      c.expand("SELECT seq, hashes FROM $s.events WHERE seq = ANY($1)"),
		size:        c.expand("SELECT coalesce(max(seq), 0) FROM $s.events"),
		record:      c.expand("SELECT record FROM $s.events WHERE seq = $1"),
		verifyRows:  c.expand(`SELECT seq, time_ns, patient, user_id, organisation, custodian, action, service, outcome, purpose, correlation_id, record, hashes, frontier FROM $s.events ORDER BY seq`),
		checkpoints: c.expand("SELECT size, signed FROM $s.checkpoints ORDER BY size"),
	}
}

// Open connects to the database at dsn (a PostgreSQL URL or key=value
// string, as pgx reads it), creates or migrates the store's schema when
// it is not at this package's version (see Migrate), and starts the writer.
//
// Every connection runs with synchronous_commit on, whatever the
// server's default, so that a Write that returned nil survives a crash of
// the database.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	if err := nilctx.Check(ctx); err != nil {
		return nil, err
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return nil, invalid("nil option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	poolCfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, invalid("malformed connection string") // pgx quotes the string, password and all
	}
	params := poolCfg.ConnConfig.RuntimeParams
	params["synchronous_commit"] = "on"
	params["statement_timeout"] = strconv.FormatInt(cfg.statementTimeout.Milliseconds(), 10)
	if params["application_name"] == "" {
		params["application_name"] = "shcrkit-audit"
	}
	poolCfg.MaxConns = cfg.maxConns
	connCfg := poolCfg.ConnConfig.Copy()

	conn, err := pgx.ConnectConfig(ctx, connCfg)
	if err != nil {
		return nil, classify("connecting", err)
	}
	s := &Store{cfg: cfg, connCfg: connCfg, sql: newStatements(&cfg)}
	if err := s.setUp(ctx, conn); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	if s.pool, err = pgxpool.NewWithConfig(ctx, poolCfg); err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return nil, classify("connecting", err)
	}
	s.w = writer{dedicated: dedicated{cfg: connCfg, conn: conn}, lastCheckpoint: time.Now()}
	s.reqs = make(chan *writeReq, cfg.maxBatch)
	s.done = make(chan struct{})
	s.cohort = make(chan struct{}, 1)
	go s.run()
	return s, nil
}

// Migrate creates the store's schema in the database at dsn, or brings
// it to this package's version, and with WithAppRole grants the application role
// its rights (insert and read, never update or delete). It is for the
// schema's owner, at deployment; Open does the same when the schema is
// behind, and otherwise only checks its version, so an application that
// connects as a role without the right to create tables can Open a store
// that Migrate made. Two instances migrating at once is safe: the work
// is one transaction under an advisory lock.
func Migrate(ctx context.Context, dsn string, opts ...Option) error {
	if err := nilctx.Check(ctx); err != nil {
		return err
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			return invalid("nil option")
		}
		if err := o(&cfg); err != nil {
			return err
		}
	}
	connCfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return invalid("malformed connection string") // pgx quotes the string, password and all
	}
	conn, err := pgx.ConnectConfig(ctx, connCfg)
	if err != nil {
		return classify("connecting", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return migrate(ctx, conn, &cfg)
}

// setUp migrates the schema, settles the log's key and reads the latest
// checkpoint.
func (s *Store) setUp(ctx context.Context, conn *pgx.Conn) error {
	if err := migrate(ctx, conn, &s.cfg); err != nil {
		return err
	}
	if err := s.loadKey(ctx, conn); err != nil {
		return err
	}
	var signed []byte
	switch err := conn.QueryRow(ctx, s.sql.latestCkpt).Scan(&signed); {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return classify("reading the latest checkpoint", err)
	default:
		c, err := audit.OpenCheckpoint(s.vkey, signed)
		if err != nil {
			return fmt.Errorf("%w: the latest checkpoint: %w", audit.ErrTampered, err)
		}
		s.ckpt = c
	}
	return nil
}

// loadKey settles the key that signs checkpoints: the one given, or the
// one the database keeps; the first Store to open a new schema records
// its verifier key (and, when it generated the key, the key itself).
func (s *Store) loadKey(ctx context.Context, conn *pgx.Conn) error {
	q := s.cfg.expand("SELECT origin, verifier_key, signing_key FROM $s.log_info")
	var origin, vkey string
	var skey *string
	err := conn.QueryRow(ctx, q).Scan(&origin, &vkey, &skey)
	if errors.Is(err, pgx.ErrNoRows) {
		newSkey, newVkey := s.cfg.signingKey, ""
		var stored *string
		if newSkey == "" {
			if newSkey, newVkey, err = audit.GenerateSigningKey(s.cfg.origin); err != nil {
				return err
			}
			stored = &newSkey
		} else if newVkey, err = verifierKey(newSkey); err != nil {
			return err
		}
		signer, _ := note.NewSigner(newSkey)
		ins := s.cfg.expand("INSERT INTO $s.log_info (origin, verifier_key, signing_key) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
		if _, err := conn.Exec(ctx, ins, signer.Name(), newVkey, stored); err != nil {
			return classify("recording the log's key", err)
		}
		// Another instance may have got there first: read what won.
		err = conn.QueryRow(ctx, q).Scan(&origin, &vkey, &skey)
	}
	if err != nil {
		return classify("reading the log's key", err)
	}
	use := s.cfg.signingKey
	if use == "" {
		if skey == nil {
			return invalid("the store's signing key is kept outside the database: give it with WithSigningKey")
		}
		use = *skey
	}
	if s.signer, err = note.NewSigner(use); err != nil {
		return fmt.Errorf("%w: the stored signing key: %v", audit.ErrTampered, err)
	}
	if s.verifier, err = note.NewVerifier(vkey); err != nil {
		return fmt.Errorf("%w: the stored verifier key: %v", audit.ErrTampered, err)
	}
	if got, err := verifierKey(use); err != nil || got != vkey || s.signer.Name() != origin {
		if s.cfg.signingKey == "" {
			// The key, its verifier key and the origin all come from
			// log_info, and disagree: the table was changed.
			return fmt.Errorf("%w: log_info: the stored signing key, verifier key and origin do not agree", audit.ErrTampered)
		}
		return invalid("the signing key is not the key of this log (origin %q)", origin)
	}
	s.vkey = vkey
	return nil
}

// VerifierKey returns the public key that verifies the log's checkpoints
// and proofs, as a golang.org/x/mod/sumdb/note verifier key. Publish it.
func (s *Store) VerifierKey() string {
	if !s.opened() {
		return ""
	}
	return s.vkey
}

// Size returns the number of events committed, by every instance, which
// is also the Seq of the last one.
func (s *Store) Size(ctx context.Context) (uint64, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	var n int64
	if err := s.pool.QueryRow(ctx, s.sql.size).Scan(&n); err != nil {
		return 0, classify("reading the size", err)
	}
	return uint64(n), nil
}

// Close waits for the events being written, signs a final checkpoint of
// what this store wrote, and closes the connections. Writes after Close
// fail with audit.ErrClosed. Close is idempotent.
func (s *Store) Close() error {
	if !s.opened() {
		return errNotOpened
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closeErr
	}
	s.closed = true
	s.mu.Unlock()
	s.inflight.Wait()
	close(s.reqs)
	<-s.done
	s.pool.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeErr
}

// enter admits a request unless the store is closed.
func (s *Store) enter() error {
	if !s.opened() {
		return errNotOpened
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return audit.ErrClosed
	}
	s.inflight.Add(1)
	return nil
}

// errNotOpened is the error of a Store not made by Open (nil, or its
// zero value): like a closed store, it takes no events.
var errNotOpened = fmt.Errorf("%w: the postgres.Store was not made by Open", audit.ErrClosed)

// opened reports whether s was made by Open.
func (s *Store) opened() bool { return s != nil && s.pool != nil }

// usable fails a call on a Store not made by Open, or closed, or with a
// nil context.
func (s *Store) usable(ctx context.Context) error {
	if !s.opened() {
		return errNotOpened
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return audit.ErrClosed
	}
	return nilctx.Check(ctx)
}

// verifierKey derives the verifier key of a note signer key
// ("PRIVATE+KEY+name+hash+key").
func verifierKey(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 || parts[0] != "PRIVATE" || parts[1] != "KEY" {
		return "", invalid("malformed signing key")
	}
	key, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(key) != 1+ed25519.SeedSize || key[0] != 1 {
		return "", invalid("malformed signing key")
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(parts[2], pub)
	if err != nil {
		return "", invalid("signing key: %v", err)
	}
	return vkey, nil
}
