//go:build unix

package audit

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time so far, or 0 where
// it cannot be read.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
