package shcr_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func custodianDirectory(t *testing.T, auditURL string) *shcr.Directory {
	t.Helper()
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{
		{Name: "East", Custodians: []shcrkit.ODSCode{"RE1"}, BaseURL: "https://east.shcr.example/fhir", AuditURL: auditURL},
		{Name: "West", Custodians: []shcrkit.ODSCode{"RW1"}, BaseURL: "https://west.shcr.example/fhir"},
	}})
	require.NoError(t, err)
	return dir
}

func retrievalEvent(custodian shcrkit.ODSCode, reqID string) audit.Event {
	return audit.Event{
		Time: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Requester: shcrkit.Requester{UserID: "555000111222", Name: "Dr Ada Lovegood", RoleProfileID: "100200300400",
			RoleCode: "S8000:G8000:R8000", Organisation: "RX1", System: shcrkit.System{Name: "Riverside EPR"}},
		Action: audit.ActionRead, Service: audit.ServiceShCR, Resource: "DocumentReference/" + string(custodian) + "-1",
		Patient: "9434765919", Purpose: shcrkit.PurposeDirectCare, Relationship: shcrkit.RelationshipEncounter,
		Outcome: audit.OutcomeSuccess, RequestID: reqID, Custodian: custodian,
	}
}

func TestCustodianAuditDeliversAtLeastOnceAndOnlyOnce(t *testing.T) {
	ctx := context.Background()
	repo := audittest.NewRepository()
	defer repo.Close()
	queue := t.TempDir()
	ca, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, repo.URL), QueueDir: queue, RetryInterval: -1})
	require.NoError(t, err)
	defer ca.Close()

	require.NoError(t, ca.Write(ctx, retrievalEvent("RE1", "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f")))
	require.Len(t, repo.Events(), 1)
	ae := repo.Events()[0]
	require.NotNil(t, ae.Id)
	assert.Equal(t, 0, ca.Pending())

	// Events the custodian does not keep, or that are not retrievals, are
	// not sent.
	require.NoError(t, ca.Write(ctx, retrievalEvent("RW1", "0b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d")))
	pdsRead := retrievalEvent("RE1", "1b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d")
	pdsRead.Service = audit.ServicePDS
	require.NoError(t, ca.Write(ctx, pdsRead))
	decision := retrievalEvent("RE1", "")
	decision.Kind, decision.DecisionID, decision.Rule = audit.KindDecision, "5b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d", "agreements/ISA-1"
	require.NoError(t, ca.Write(ctx, decision))
	assert.Equal(t, 1, len(repo.Requests()), "decisions are not sent")

	// The repository goes down: the journey is not held up, the event
	// waits on disk, and a retry while down keeps it.
	repo.SetDown(true)
	second := retrievalEvent("RE1", "2b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d")
	require.NoError(t, ca.Write(ctx, second))
	assert.Equal(t, 1, ca.Pending())
	left, err := ca.Flush(ctx)
	require.Error(t, err)
	assert.Equal(t, 1, left)

	// A new CustodianAudit on the same queue (a restart) delivers it once
	// the repository is back.
	require.NoError(t, ca.Close())
	repo.SetDown(false)
	again, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, repo.URL), QueueDir: queue, RetryInterval: -1})
	require.NoError(t, err)
	defer again.Close()
	left, err = again.Flush(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, left)
	require.Len(t, repo.Events(), 2)

	// Delivering the same event again replaces it: the repository holds
	// it once.
	require.NoError(t, again.Write(ctx, second))
	assert.Len(t, repo.Events(), 2)
	assert.Equal(t, *repo.Events()[1].Id, idOf(t, again, second, repo))
}

// idOf delivers e once more and returns the ID the repository saw last.
func idOf(t *testing.T, ca *shcr.CustodianAudit, e audit.Event, repo *audittest.Repository) string {
	t.Helper()
	before := len(repo.Requests())
	require.NoError(t, ca.Write(context.Background(), e))
	require.Equal(t, before+1, len(repo.Requests()))
	events := repo.Events()
	return *events[len(events)-1].Id
}

func TestCustodianAuditDoesNotHoldUpTheJourney(t *testing.T) {
	release := make(chan struct{})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hanging.Close()
	defer close(release)
	queue := t.TempDir()
	ca, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, hanging.URL), QueueDir: queue,
		Timeout: 20 * time.Millisecond, RetryInterval: -1})
	require.NoError(t, err)
	defer ca.Close()
	// The caller's context is already cancelled: the attempt still runs
	// under its own timeout, and the event is queued, not lost.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, ca.Write(ctx, retrievalEvent("RE1", "3b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d")))
	assert.Equal(t, 1, ca.Pending())
}

func TestCustodianAuditFailsClosedWhenItCannotQueue(t *testing.T) {
	repo := audittest.NewRepository()
	defer repo.Close()
	repo.SetDown(true)
	queue := t.TempDir()
	ca, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, repo.URL), QueueDir: queue, RetryInterval: -1})
	require.NoError(t, err)
	defer ca.Close()
	require.NoError(t, os.RemoveAll(queue))
	require.NoError(t, os.WriteFile(queue, []byte("not a directory"), 0o600))
	err = ca.Write(context.Background(), retrievalEvent("RE1", "4b5c6d7e-8f90-4a1b-9c2d-3e4f5a6b7c8d"))
	require.ErrorContains(t, err, "neither delivered nor queued")

	// A damaged queue file is kept for an operator and reported.
	good := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(good, "x.json"), []byte("{"), 0o600))
	other, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, repo.URL), QueueDir: good, RetryInterval: -1})
	require.NoError(t, err)
	defer other.Close()
	left, err := other.Flush(context.Background())
	require.ErrorContains(t, err, "damaged")
	assert.Equal(t, 1, left)
}

func TestCustodianAuditConfigChecks(t *testing.T) {
	_, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{QueueDir: t.TempDir()})
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
	_, err = shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, "")})
	require.ErrorIs(t, err, shcrkit.ErrInvalidOption)
	_, err = shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{
		{Custodians: []shcrkit.ODSCode{"RE1"}, BaseURL: "https://east.shcr.example/fhir", AuditURL: "ftp://audit"},
	}})
	require.ErrorIs(t, err, shcr.ErrInvalidDirectory)
}

func TestCustodianAuditRefusesANilContext(t *testing.T) {
	repo := audittest.NewRepository()
	defer repo.Close()
	ca, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, repo.URL), QueueDir: t.TempDir(), RetryInterval: -1})
	require.NoError(t, err)
	defer ca.Close()
	var ctx context.Context
	assert.ErrorIs(t, ca.Write(ctx, retrievalEvent("RE1", "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f")), shcrkit.ErrInvalidRequest)
	_, err = ca.Flush(ctx)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.Zero(t, ca.Pending(), "nothing was queued")
	assert.Empty(t, repo.Events())
}
