package ptr_test

import (
	"testing"

	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/stretchr/testify/assert"
)

func TestToAndDeref(t *testing.T) {
	p := ptr.To("x")
	assert.Equal(t, "x", ptr.Deref(p))
	assert.Equal(t, "", ptr.Deref[string](nil))
	assert.Equal(t, 0, ptr.Deref[int](nil))
}
