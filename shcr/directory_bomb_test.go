package shcr_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAliasStringBomb: a small YAML file whose aliases repeat one long
// URL thousands of times must be refused quickly, not parsed per alias
// nor quoted per alias in the error.
func TestAliasStringBomb(t *testing.T) {
	for _, bad := range []bool{true, false} {
		var b strings.Builder
		host := "https://" + strings.Repeat("a", 100<<10) + ".example"
		if bad {
			host = "https://" + strings.Repeat("a", 100<<10) + ".example?q" // refused: quoted in the error
		}
		b.WriteString("endpoints:\n  - custodians: [RN1]\n    baseUrl: &s \"" + host + "\"\n    contentHosts: [")
		for j := 0; j < 2000; j++ {
			if j > 0 {
				b.WriteString(",")
			}
			b.WriteString("*s")
		}
		b.WriteString("]\n")
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		_, err := shcr.ParseDirectory(strings.NewReader(b.String()), "yaml", "")
		runtime.ReadMemStats(&m1)
		n := 0
		if err != nil {
			n = len(err.Error())
		}
		took := time.Since(start)
		t.Logf("bad=%v file=%d took %v alloc=%dMB errlen=%d", bad, b.Len(), took, (m1.TotalAlloc-m0.TotalAlloc)>>20, n)
		require.ErrorIs(t, err, shcr.ErrInvalidDirectory, "aliases multiply a 108 KB file into 200 MB of URLs")
		assert.Less(t, n, 64<<10, "error text")
		assert.Less(t, took, 2*time.Second)
	}
}
