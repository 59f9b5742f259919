package audittest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func put(t *testing.T, repo *audittest.Repository, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, repo.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestRepositoryTakesAnAuditEventHoweverItIsLaidOut: JSON may have white
// space between a name and its value, as every published AuditEvent
// example has ("resourceType": "AuditEvent"); a FHIR server reads the
// resource, not its layout.
func TestRepositoryTakesAnAuditEventHoweverItIsLaidOut(t *testing.T) {
	repo := audittest.NewRepository()
	defer repo.Close()
	body := "{\n  \"resourceType\": \"AuditEvent\",\n  \"id\": \"ae-1\",\n  \"recorded\": \"2026-03-02T09:00:00Z\"\n}"
	status, answer := put(t, repo, http.MethodPut, "/AuditEvent/ae-1", body)
	assert.Equal(t, http.StatusCreated, status, answer)
	assert.Len(t, repo.Events(), 1)
}

// TestRepositoryRefusesWhatIsNotAnAuditEvent: the check of the resource
// type reads the resource: another type carrying the words in a string
// is no AuditEvent.
func TestRepositoryRefusesWhatIsNotAnAuditEvent(t *testing.T) {
	repo := audittest.NewRepository()
	defer repo.Close()
	body := `{"resourceType":"Patient","id":"ae-2","text":{"div":"\"resourceType\":\"AuditEvent\""}}`
	status, _ := put(t, repo, http.MethodPut, "/AuditEvent/ae-2", body)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Empty(t, repo.Events())
}
