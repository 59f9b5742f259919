package pdstest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDedupBoundsItsBytes: the answers kept to de-duplicate re-sent
// updates are whole records; 1,024 of them are bounded in bytes too.
func TestDedupBoundsItsBytes(t *testing.T) {
	d := newDedup(1024)
	body := make([]byte, 1<<20)
	for i := range 1024 {
		d.put(fmt.Sprint(i), dedupEntry{body: body})
	}
	kept := 0
	for _, e := range d.byID {
		kept += len(e.body)
	}
	assert.LessOrEqual(t, kept, maxDedupBytes)
	assert.Equal(t, kept, d.bytes)
	_, ok := d.get("1023")
	assert.True(t, ok, "the most recent answer is kept")
}
