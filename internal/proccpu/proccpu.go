// Package proccpu reads the CPU time the process has used, for the
// benchmarks that report CPU per operation beside wall time: on a machine
// shared with other work, the CPU an operation costs says more than how
// long it took.
package proccpu

import (
	"testing"
	"time"
)

// Time returns the process's user and system CPU time so far, or 0 where
// the platform does not tell it; it fails tb if reading it fails.
func Time(tb testing.TB) time.Duration {
	d, err := used()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
