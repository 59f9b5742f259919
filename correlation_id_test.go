package shcrkit_test

import (
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
)

// A correlation ID travels in a header and into audit records: it must be
// one line of printable ASCII and bounded.
func TestValidCorrelationID(t *testing.T) {
	assert.True(t, shcrkit.ValidCorrelationID("6f1c1a52-0a4b-4c3e-9d52-1a2b3c4d5e6f"))
	assert.True(t, shcrkit.ValidCorrelationID("journey:42/a.b_c"))
	for _, id := range []string{"", "a\r\nX-Evil: 1", "a b", "a\tb", "é", strings.Repeat("a", 201), "a\x00"} {
		assert.False(t, shcrkit.ValidCorrelationID(id), "%q", id)
	}
}
