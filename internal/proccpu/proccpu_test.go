//go:build unix

package proccpu_test

import (
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/internal/proccpu"
)

func TestTimeGrowsWithWork(t *testing.T) {
	before := proccpu.Time(t)
	deadline := time.Now().Add(20 * time.Millisecond)
	n := 0
	for time.Now().Before(deadline) {
		n++
	}
	if after := proccpu.Time(t); after <= before {
		t.Errorf("CPU time %v after %d spins, %v before", after, n, before)
	}
}
