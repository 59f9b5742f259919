//go:build !unix

package audit

import (
	"testing"
	"time"
)

// cpuTime is the process's CPU time so far: not read on this platform,
// so the CPU metrics report 0.
func cpuTime(testing.TB) time.Duration { return 0 }
