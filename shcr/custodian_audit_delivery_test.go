package shcr_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A redirect answered to the PUT of an AuditEvent is not a delivery: Go
// follows a 301, 302 or 303 with a GET and no body, whose 200 would
// otherwise count as the event delivered, and the event, never stored,
// would be neither queued nor retried.
func TestCustodianAuditRedirectIsNotADelivery(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect} {
		var mu sync.Mutex
		var seen []string
		repo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, r.Method+" "+r.URL.Path)
			mu.Unlock()
			if r.URL.Path == "/moved" {
				w.WriteHeader(http.StatusOK)
				return
			}
			http.Redirect(w, r, "/moved", status)
		}))
		ca, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, repo.URL), QueueDir: t.TempDir(), RetryInterval: -1})
		require.NoError(t, err)

		require.NoError(t, ca.Write(context.Background(), retrievalEvent("RE1", "2b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d")))
		assert.Equal(t, 1, ca.Pending(), "status %d: the event was taken as delivered; requests %q", status, seen)
		left, err := ca.Flush(context.Background())
		assert.Error(t, err, "status %d", status)
		assert.Equal(t, 1, left, "status %d", status)
		require.NoError(t, ca.Close())
		repo.Close()
	}
}

// Each AuditEvent PUT is a request of its own: a request ID the caller put
// on the journey's context (meant for one call) must not go out with every
// event, where a repository that de-duplicates on X-Request-ID would take
// the second event for a retry of the first.
func TestCustodianAuditSendsEachEventWithItsOwnRequestID(t *testing.T) {
	repo := audittest.NewRepository()
	defer repo.Close()
	ca, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, repo.URL), QueueDir: t.TempDir(), RetryInterval: -1})
	require.NoError(t, err)
	defer ca.Close()

	const callers = "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f"
	ctx := shcrkit.WithRequestID(context.Background(), callers)
	require.NoError(t, ca.Write(ctx, retrievalEvent("RE1", "2b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d")))
	require.NoError(t, ca.Write(ctx, retrievalEvent("RE1", "3b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d")))

	reqs := repo.Requests()
	require.Len(t, reqs, 2)
	a, b := reqs[0].Header.Get("X-Request-ID"), reqs[1].Header.Get("X-Request-ID")
	assert.NotEqual(t, callers, a)
	assert.NotEqual(t, callers, b)
	assert.NotEqual(t, a, b, "two events went out under one X-Request-ID")
}
