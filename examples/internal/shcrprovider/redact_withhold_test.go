package shcrprovider

import (
	"context"
	"io"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit/audittest"
	"github.com/shcrkit/shcrkit/pds/pdstest"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/shcrkit/shcrkit/shcr/shcrtest"
	"github.com/stretchr/testify/require"
)

// TestServeWithholdsADocumentItMustRedact: a restricted record obliges
// the provider's handler to redact address, telecom, contacts and GP; a
// PDF cannot be redacted, so it must not be served. A consumer other
// than shcrkit's (here Remote, which does not decide) asks for it anyway.
func TestServeWithholdsADocumentItMustRedact(t *testing.T) {
	w, err := shcrtest.NewWorld()
	require.NoError(t, err)
	defer w.Close()
	ctx := context.Background()
	att, err := Attach(ctx, w, audittest.NewRecorder(), pdstest.Patients.Normal)
	require.NoError(t, err)
	defer att.Server.Close()
	var pdf string
	for id, rec := range att.Server.records {
		rec.pointer.Confidentiality = shcrkit.ConfidentialityRestricted
		att.Server.records[id] = rec
		if rec.pointer.ContentType == "application/pdf" {
			pdf = id
		}
	}
	require.NotEmpty(t, pdf)
	remote, err := shcr.NewRemote(att.Directory, shcr.RemoteConfig{})
	require.NoError(t, err)
	c, err := remote.Fetch(ctx, shcr.FetchRequest{Requester: w.Requester, Purpose: shcrkit.PurposeDirectCare,
		Pointer: att.Server.records[pdf].pointer, Restricted: true})
	if err == nil {
		defer c.Close()
		body, _ := io.ReadAll(c.Body)
		t.Fatalf("a restricted PDF that cannot be redacted was served (%d bytes)", len(body))
	}
	var api *shcrkit.APIError
	require.ErrorAs(t, err, &api)
	require.Equal(t, 403, api.StatusCode, "%v", err)
}
