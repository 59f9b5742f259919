package logstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// DefaultOrigin is the name of a signing key generated for a new log when
// no origin is given.
const DefaultOrigin = "shcrkit.audit"

// Errors, which the audit package exports under the same names.
var (
	ErrInvalidOption = errors.New("audit: invalid option")
	ErrClosed        = errors.New("audit: log closed")
	ErrLogFailed     = errors.New("audit: log failed")
	ErrLocked        = errors.New("audit: log directory in use")
	ErrTampered      = errors.New("audit: log integrity check failed")
	ErrInvalidProof  = errors.New("audit: proof does not verify")
	ErrNotFound      = errors.New("audit: no such event")
	// ErrTooLarge: an event's record would not fit in a frame.
	ErrTooLarge = errors.New("audit: event too large")
	// ErrBadTime: an event's recorded time is one its record cannot hold.
	ErrBadTime = errors.New("audit: recorded time out of range")
)

// IntegrityError lists every integrity problem that Verify (or Open)
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

// Tampered returns an *IntegrityError with one problem.
func Tampered(problem string) error { return &IntegrityError{Problems: []string{problem}} }

func tampered(problem string) error { return Tampered(problem) }

// readError wraps an error from reading one of the log's files; a file
// closed under the reader by Close gives ErrClosed.
func readError(what string, err error) error {
	if errors.Is(err, os.ErrClosed) {
		return ErrClosed
	}
	return fmt.Errorf("audit: %s: %w", what, err)
}
