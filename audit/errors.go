package audit

import (
	"errors"

	"github.com/shcrkit/shcrkit/audit/internal/logstore"
	"github.com/shcrkit/shcrkit/internal/sinkguard"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrInvalidEvent: an event was rejected before it was written.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrInvalidFilter: a query filter is malformed.
	ErrInvalidFilter = errors.New("audit: invalid filter")
	// ErrInvalidOption: an option was given a bad value.
	ErrInvalidOption = logstore.ErrInvalidOption
	// ErrClosed: the log was closed.
	ErrClosed = logstore.ErrClosed
	// ErrLogFailed: a write or fsync failed, after which the log accepts no
	// more events (its state on disk is no longer known); reopen it.
	ErrLogFailed = logstore.ErrLogFailed
	// ErrLocked: another Log (in this or another process) has the
	// directory open.
	ErrLocked = logstore.ErrLocked
	// ErrTampered: the log's files do not match what was written: a
	// record, hash, index entry, key or checkpoint was changed, removed,
	// reordered or inserted.
	ErrTampered = logstore.ErrTampered
	// ErrInvalidProof: a proof or checkpoint did not verify.
	ErrInvalidProof = logstore.ErrInvalidProof
	// ErrNotFound: no event has the sequence number asked for.
	ErrNotFound = logstore.ErrNotFound
	// ErrNoSinks: a Multi sink was given no sinks: auditing cannot be
	// switched off, so it refuses every event.
	ErrNoSinks = sinkguard.ErrNoSinks
	// ErrSinkPanicked: a sink panicked in Write. The panic was recovered
	// and counts as a failed write: the data the event covers is withheld.
	ErrSinkPanicked = sinkguard.ErrSinkPanicked
)

// IntegrityError lists every integrity problem that Verify (or OpenLog)
// found: Problems names each file, sequence number or offset and what
// did not match. It matches ErrTampered.
type IntegrityError = logstore.IntegrityError

// tampered returns an *IntegrityError with one problem.
func tampered(problem string) error { return logstore.Tampered(problem) }
