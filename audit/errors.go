package audit

import (
	"errors"
	"strings"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrInvalidEvent: an event was rejected before it was written.
	ErrInvalidEvent = errors.New("audit: invalid event")
	// ErrInvalidFilter: a query filter is malformed.
	ErrInvalidFilter = errors.New("audit: invalid filter")
	// ErrInvalidOption: an option was given a bad value.
	ErrInvalidOption = errors.New("audit: invalid option")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("audit: log closed")
	// ErrLogFailed: a write or fsync failed, after which the log accepts no
	// more events (its state on disk is no longer known); reopen it.
	ErrLogFailed = errors.New("audit: log failed")
	// ErrLocked: another Log (in this or another process) has the
	// directory open.
	ErrLocked = errors.New("audit: log directory in use")
	// ErrTampered: the log's files do not match what was written: a
	// record, hash, index entry, key or checkpoint was changed, removed,
	// reordered or inserted.
	ErrTampered = errors.New("audit: log integrity check failed")
	// ErrInvalidProof: a proof or checkpoint did not verify.
	ErrInvalidProof = errors.New("audit: proof does not verify")
	// ErrNotFound: no event has the sequence number asked for.
	ErrNotFound = errors.New("audit: no such event")
	// ErrNoSinks: a Multi sink was given no sinks: auditing cannot be
	// switched off, so it refuses every event.
	ErrNoSinks = errors.New("audit: no sinks")
	// ErrSinkPanicked: a sink panicked in Write. The panic was recovered
	// and counts as a failed write: the data the event covers is withheld.
	ErrSinkPanicked = errors.New("audit: sink panicked")
)

// IntegrityError lists every integrity problem that Verify (or OpenLog)
// found. It matches ErrTampered.
type IntegrityError struct {
	// Problems describe each problem: the file, the sequence number or
	// offset, and what did not match.
	Problems []string
}

// Error joins the problems.
func (e *IntegrityError) Error() string {
	const shown = 10
	var b strings.Builder
	b.WriteString("audit: log integrity check failed: ")
	for i, p := range e.Problems {
		if i == shown {
			b.WriteString("; ... and more")
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// Is matches ErrTampered.
func (e *IntegrityError) Is(target error) bool { return target == ErrTampered }

// tampered returns an *IntegrityError with one problem.
func tampered(problem string) error { return &IntegrityError{Problems: []string{problem}} }
