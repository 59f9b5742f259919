package nilctx_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/nilctx"
)

func TestCheck(t *testing.T) {
	var ctx context.Context
	assert.ErrorIs(t, nilctx.Check(ctx), shcrkit.ErrInvalidRequest)
	assert.NoError(t, nilctx.Check(context.Background()))
}
