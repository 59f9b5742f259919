package shcr_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Close releases everything: the connections kept to the custodians'
// audit repositories go with the background retries.
func TestCustodianAuditCloseLeaksNoConnections(t *testing.T) {
	repo := audittest.NewRepository()
	defer repo.Close()
	time.Sleep(20 * time.Millisecond)
	before := runtime.NumGoroutine()
	ca, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, repo.URL), QueueDir: t.TempDir(), RetryInterval: time.Hour})
	require.NoError(t, err)
	require.NoError(t, ca.Write(context.Background(), retrievalEvent("RE1", "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f")))
	require.NoError(t, ca.Close())
	require.NoError(t, ca.Close(), "Close is idempotent")
	after := settleGoroutines(t, before)
	assert.LessOrEqual(t, after, before, "goroutines left after Close (idle connections to the audit repository)")
}

// A queue file edited to name another custodian must not send the
// patient's access record to that custodian's repository.
func TestCustodianQueueTamperedCustodian(t *testing.T) {
	east, west := audittest.NewRepository(), audittest.NewRepository()
	defer east.Close()
	defer west.Close()
	dir, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{
		{Name: "East", Custodians: []shcrkit.ODSCode{"RE1"}, BaseURL: "https://east.shcr.example/fhir", AuditURL: east.URL},
		{Name: "West", Custodians: []shcrkit.ODSCode{"RW1"}, BaseURL: "https://west.shcr.example/fhir", AuditURL: west.URL},
	}})
	require.NoError(t, err)
	queue := t.TempDir()
	east.SetDown(true)
	ca, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: dir, QueueDir: queue, RetryInterval: -1})
	require.NoError(t, err)
	defer ca.Close()
	require.NoError(t, ca.Write(context.Background(), retrievalEvent("RE1", "7f1c2b9e-4a51-4b7e-9d7e-5a1b2c3d4e5f")))
	require.Equal(t, 1, ca.Pending())
	names, _ := filepath.Glob(filepath.Join(queue, "*.json"))
	require.Len(t, names, 1)
	b, err := os.ReadFile(names[0])
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	m["custodian"] = json.RawMessage(`"RW1"`)
	b, _ = json.Marshal(m)
	require.NoError(t, os.WriteFile(names[0], b, 0o600))
	_, _ = ca.Flush(context.Background())
	assert.Empty(t, west.Events(), "the event went to a custodian it is not about")
}

// A crash between the write of a queue file and its rename leaves a
// temporary file behind; a restart must neither count it as pending for
// ever nor let such files pile up unnoticed, and must not panic.
func TestCustodianQueueCrashLeftovers(t *testing.T) {
	repo := audittest.NewRepository()
	defer repo.Close()
	queue := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(queue, ".pending-123"), []byte(`{"custodian":"RE1","id":"x","auditEv`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(queue, "garbage.json"), []byte("\x00\xff"), 0o600))
	ca, err := shcr.NewCustodianAudit(shcr.CustodianAuditConfig{Directory: custodianDirectory(t, repo.URL), QueueDir: queue, RetryInterval: -1})
	require.NoError(t, err)
	defer ca.Close()
	left, err := ca.Flush(context.Background())
	require.Error(t, err)
	assert.Equal(t, 1, left)
	_, err = os.Stat(filepath.Join(queue, ".pending-123"))
	t.Logf("leftover temp file still there: %v", err == nil)
}
