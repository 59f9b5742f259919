package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/shcrkit/shcrkit/internal/browsertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appPage is a browser app on its own loopback origin that calls the
// sandbox: it takes a token, reads a patient with the headers PDS wants
// (a preflighted request), reads the ETag, and updates with PATCH and
// If-Match (preflighted again).
const appPage = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>app</title></head><body><script>
async function run(base) {
  const out = {};
  try {
    const tok = await (await fetch(base + "/sandbox/token", {method: "POST"})).json();
    const h = {"Authorization": "Bearer " + tok.access_token, "X-Request-ID": crypto.randomUUID()};
    const read = await fetch(base + "/personal-demographics/FHIR/R4/Patient/9490000019", {headers: h});
    out.readStatus = read.status;
    out.etag = read.headers.get("ETag");
    out.resourceType = (await read.json()).resourceType;
    const patch = await fetch(base + "/personal-demographics/FHIR/R4/Patient/9490000019", {method: "PATCH",
      headers: {...h, "X-Request-ID": crypto.randomUUID(), "Content-Type": "application/json-patch+json", "If-Match": out.etag},
      body: JSON.stringify({patches: [{op: "replace", path: "/gender", value: "female"}]})});
    out.patchStatus = patch.status;
    out.newEtag = patch.headers.get("ETag");
    const meta = await fetch(base + "/record-locator/consumer/FHIR/R4/metadata");
    out.metadata = (await meta.json()).resourceType;
  } catch (e) {
    out.error = String(e);
  }
  return out;
}
</script></body></html>`

type appResult struct {
	ReadStatus   int    `json:"readStatus"`
	ETag         string `json:"etag"`
	ResourceType string `json:"resourceType"`
	PatchStatus  int    `json:"patchStatus"`
	NewETag      string `json:"newEtag"`
	Metadata     string `json:"metadata"`
	Error        string `json:"error"`
}

func runApp(t *testing.T, ctx context.Context, page, sandboxBase string) appResult {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(page)))
	res, err := chromedp.Run(ctx, chromedp.Evaluate[appResult](`run(`+jsString(sandboxBase)+`)`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	return res
}

func jsString(s string) string { return `"` + s + `"` } // base URLs hold no quotes

// TestBrowserCallsFromAnotherLoopbackOrigin loads a page from one loopback
// origin in headless Chromium and has it call the sandbox on another:
// CORS lets it read, see the ETag and update; with -cors none the browser
// keeps the answers from the page.
func TestBrowserCallsFromAnotherLoopbackOrigin(t *testing.T) {
	t.Parallel() // each drives its own sandbox
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	ctx := browsertest.Start(t)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(appPage))
	}))
	defer app.Close()
	// The page on localhost, the sandbox on 127.0.0.1: two origins.
	_, port, err := net.SplitHostPort(app.Listener.Addr().String())
	require.NoError(t, err)
	page := "http://localhost:" + port + "/"

	base, _ := inProcess(t)
	res := runApp(t, ctx, page, base)
	require.Empty(t, res.Error)
	assert.Equal(t, http.StatusOK, res.ReadStatus)
	assert.Equal(t, "Patient", res.ResourceType)
	assert.Regexp(t, `^W/"\d+"$`, res.ETag, "the ETag is exposed to the page")
	assert.Equal(t, http.StatusOK, res.PatchStatus, "the PATCH preflight passed")
	assert.NotEqual(t, res.ETag, res.NewETag)
	assert.Equal(t, "CapabilityStatement", res.Metadata)

	closed, _ := inProcess(t, "none")
	res = runApp(t, ctx, page, closed)
	assert.Contains(t, res.Error, "TypeError", "without CORS the browser refuses the page the answer")
}
