package pds_test

import (
	"context"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/stretchr/testify/assert"
)

// Review : a correlation ID set with shcrkit.WithCorrelationID went out
// unchecked. One with a line break failed inside net/http and came back
// as ErrUnavailable (the service blamed for the caller's value); a
// megabyte one was sent. WithClientCorrelationID refuses both (200
// characters, one line); the context's must be held to the same rule,
// and refused before anything is sent, as a bad request ID is.
func TestGetRefusesMalformedContextCorrelationID(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	c := srv.Client()
	for _, id := range []string{"a\r\nX-Evil: 1", strings.Repeat("a", 1<<20)} {
		ctx := shcrkit.WithCorrelationID(context.Background(), id)
		_, err := c.Get(ctx, pdstest.Patients.Normal)
		assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest, "correlation ID of %d bytes", len(id))
		assert.NotErrorIs(t, err, shcrkit.ErrUnavailable)
	}
	_, err := c.Get(shcrkit.WithCorrelationID(context.Background(), "journey-1"), pdstest.Patients.Normal)
	assert.NoError(t, err)
}
