package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Sentinel errors, matched with errors.Is. Errors about events, filters,
// options, proofs and integrity are the audit package's (audit.ErrInvalidEvent,
// audit.ErrInvalidFilter, audit.ErrInvalidOption, audit.ErrInvalidProof,
// audit.ErrTampered, audit.ErrNotFound, audit.ErrClosed).
var (
	// ErrUnavailable: the database could not be reached, the connection
	// was lost, or no connection was free before the context ended. An
	// event whose Write failed with it alone was not written.
	ErrUnavailable = errors.New("postgres: audit database unavailable")
	// ErrTimeout: the database cancelled a statement that ran past the
	// statement timeout (WithStatementTimeout); the event was not written.
	ErrTimeout = errors.New("postgres: audit database statement timed out")
	// ErrDiskFull: the database has no space (or memory, or another
	// resource) left to store events; the event was not written, and no
	// more will be until space is made.
	ErrDiskFull = errors.New("postgres: audit database out of space")
	// ErrInDoubt: the connection was lost while the database committed a
	// batch, and the store could not find out afterwards whether it did.
	// The event may or may not be in the log: treat it as not written
	// (fail closed); it may appear in the log as well.
	ErrInDoubt = errors.New("postgres: audit write outcome unknown")
	// ErrSchema: the database's schema is missing, newer than this
	// package knows, or the role may not create it.
	ErrSchema = errors.New("postgres: audit schema")
)

// Typed SQLSTATE classes that map to the sentinels above.
const (
	stateQueryCanceled    = "57014" // statement_timeout
	stateLockNotAvailable = "55P03"
	stateInsufficientPriv = "42501"
	stateUndefinedTable   = "42P01"
	classResources        = "53" // disk_full 53100, out_of_memory 53200, too_many_connections 53300
	stateTooManyConns     = "53300"
	classConnection       = "08"
	classAdminShutdown    = "57P" // admin_shutdown, crash_shutdown, cannot_connect_now
)

// classify wraps err with the sentinel that says what happened.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == stateQueryCanceled || pgErr.Code == stateLockNotAvailable:
			return fmt.Errorf("%w: %s: %w", ErrTimeout, op, err)
		case pgErr.Code == stateTooManyConns:
			return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
		case len(pgErr.Code) == 5 && pgErr.Code[:2] == classResources:
			return fmt.Errorf("%w: %s: %w", ErrDiskFull, op, err)
		case len(pgErr.Code) == 5 && (pgErr.Code[:2] == classConnection || pgErr.Code[:3] == classAdminShutdown):
			return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
		case pgErr.Code == stateInsufficientPriv || pgErr.Code == stateUndefinedTable:
			return fmt.Errorf("%w: %s: %w", ErrSchema, op, err)
		}
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	// Anything else from the driver is the connection's failure (refused,
	// reset, closed), not an answer from the server.
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}
