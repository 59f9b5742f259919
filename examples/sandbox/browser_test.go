package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath finds a Chromium to drive, "" when there is none.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts a headless Chromium with a fresh profile and returns a
// context for driving it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("Chromium is not installed: the browser test needs it (Debian: apt-get install chromium chromium-driver)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	require.NoError(t, chromedp.Do(bctx), "Chromium did not start")
	return bctx
}

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
	ctx := browser(t)
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
