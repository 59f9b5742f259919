// Package browsertest starts a headless Chromium for tests that drive
// pages in a real browser with chromedp, skipping them with a clear
// message where no Chromium is installed.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath finds a Chromium to drive, "" when there is none.
func ChromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Start starts a headless Chromium with a fresh profile, with the flags
// that keep it from reaching for the network, and returns a context for
// driving it; everything stops when the test ends. It skips the test when
// Chromium is absent or -short is set.
func Start(t testing.TB) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	path := ChromiumPath()
	if path == "" {
		t.Skip("Chromium is not installed: browser tests need it (Debian: apt-get install chromium chromium-driver)")
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
		chromedp.WindowSize(1280, 900),
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("Chromium did not start: %v", err)
	}
	return bctx
}
