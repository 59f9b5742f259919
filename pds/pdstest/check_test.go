package pdstest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/pds/pdstest"
)

func TestCheckClientPasses(t *testing.T) {
	for _, mode := range []pds.AccessMode{pds.AccessHealthcareWorker, pds.AccessApplicationRestricted} {
		t.Run(mode.String(), func(t *testing.T) {
			srv := pdstest.NewServer(pdstest.WithAccessMode(mode))
			defer srv.Close()
			require.NoError(t, pdstest.CheckClient(context.Background(), srv, srv.Client()))
		})
	}
}

func TestCheckClientFindsFaults(t *testing.T) {
	srv := pdstest.NewServer()
	defer srv.Close()
	other := pdstest.NewServer()
	defer other.Close()

	t.Run("client of another server", func(t *testing.T) {
		err := pdstest.CheckClient(context.Background(), srv, other.Client())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "want one GET")
	})
	t.Run("client without retries", func(t *testing.T) {
		c, err := srv.NewClient(pds.WithMaxAttempts(1))
		require.NoError(t, err)
		err = pdstest.CheckClient(context.Background(), srv, c)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "retry")
	})
	t.Run("server without the well-known patients", func(t *testing.T) {
		empty := pdstest.NewServer(pdstest.WithPopulation(nil))
		defer empty.Close()
		err := pdstest.CheckClient(context.Background(), empty, empty.Client())
		require.Error(t, err)
		assert.False(t, errors.Is(err, shcrkit.ErrNotFound))
	})
}
