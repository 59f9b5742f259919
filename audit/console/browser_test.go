package console_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shcrkit/shcrkit/internal/browsertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// screenshot saves the page as a PNG under dir, for a person to look at.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	path := filepath.Join(dir, name+".png")
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot: %s", path)
}

func text(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	require.NoError(t, err)
	return s
}

// noFullNHSNumbers checks the page as the browser has it, source and
// text, for any NHS number of the fixture in full.
func noFullNHSNumbers(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	html := text(t, ctx)
	for _, full := range []string{"9434765919", "943 476 5919", "9000000009", "900 000 0009"} {
		assert.NotContains(t, html, full, "%s shows a full NHS number", page)
	}
}

// TestBrowserCaseFromFlagToOutcome drives the console in headless
// Chromium as a privacy officer: the review queue, a case opened from a
// flag, acknowledged, noted and closed, the case list, a patient's report
// and the verification page, with a screenshot of each.
func TestBrowserCaseFromFlagToOutcome(t *testing.T) {
	ctx := browsertest.Start(t)
	f := newFixture(t)
	shots := t.TempDir()
	if dir := os.Getenv("SHCRKIT_SCREENSHOTS"); dir != "" {
		shots = dir // keep them, to look at
	}

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(f.server.URL+"/login"), chromedp.WaitVisible("h1")))
	title, err := chromedp.Run(ctx, chromedp.Title())
	require.NoError(t, err)
	assert.Equal(t, "Review queue - Investigation console", title)
	screenshot(t, ctx, shots, "1-review-queue")
	noFullNHSNumbers(t, ctx, "review queue")

	// Open a case from the first flag.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys("#note-0", "looks at two records on a self-claimed relationship"),
		chromedp.Click(`section form button`),
	))
	waitFor(t, ctx, steps(1))
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Contains(t, loc, "/console/cases/CASE-")
	screenshot(t, ctx, shots, "2-case-opened")
	noFullNHSNumbers(t, ctx, "case")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`form[action$="/acknowledge"] button`)))
	waitFor(t, ctx, steps(2))
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(`#finding-note`, "no appointment found"), chromedp.Click(`form[action$="/note"] button`)))
	waitFor(t, ctx, steps(3))
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(`#finding`, "inappropriate"), chromedp.SendKeys(`#close-note`, "referred to the line manager"),
		chromedp.Click(`form[action$="/close"] button`)))
	waitFor(t, ctx, steps(4))
	page := text(t, ctx)
	assert.Contains(t, page, "inappropriate")
	assert.Contains(t, page, "no appointment found")
	assert.NotContains(t, page, `id="finding"`, "a closed case has no forms")
	screenshot(t, ctx, shots, "3-case-closed")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`nav a[href$="/cases"]`)))
	waitFor(t, ctx, `document.title.startsWith("Cases")`)
	assert.Contains(t, text(t, ctx), "closed")
	screenshot(t, ctx, shots, "4-cases")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`nav a[href$="/patient"]`)))
	waitFor(t, ctx, `document.querySelector("#nhs") !== null`)
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys("#nhs", "9434765919"), chromedp.Submit("#nhs")))
	waitFor(t, ctx, `document.querySelector("caption") !== null`)
	page = text(t, ctx)
	assert.Contains(t, page, "3 accesses by 1 organisations; 1 refused attempts.")
	assert.Contains(t, page, "943****919")
	noFullNHSNumbers(t, ctx, "patient report")
	screenshot(t, ctx, shots, "5-patient-report")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(`nav a[href$="/verify"]`)))
	waitFor(t, ctx, `document.title.startsWith("Audit trail verification")`)
	assert.Contains(t, text(t, ctx), "intact")
	screenshot(t, ctx, shots, "6-verification")
}

// waitFor waits until the JavaScript predicate holds in the page loaded
// after a click or a key press. It asks again until it holds: while the
// next page loads, the old one may answer, or none.
func waitFor(t *testing.T, ctx context.Context, predicate string) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+predicate+`)`))
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the page never met %s", predicate)
		case <-tick.C:
		}
	}
}

// steps is the predicate that the case page lists n steps.
func steps(n int) string {
	return fmt.Sprintf(`document.querySelector('#steps[data-steps="%d"]') !== null`, n)
}

// activeElement describes the focused element.
func activeElement(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){const e=document.activeElement;return e.tagName+" "+(e.id||"")+" "+(e.getAttribute("href")||"")+" "+(e.textContent||"").trim().slice(0,40)})()`))
	require.NoError(t, err)
	return s
}

// tabTo presses Tab until the focused element matches want, at most limit
// times, and fails when it never does.
func tabTo(t *testing.T, ctx context.Context, want string, limit int) {
	t.Helper()
	for range limit {
		require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\t")))
		if strings.Contains(activeElement(t, ctx), want) {
			return
		}
	}
	t.Fatalf("Tab never reached %q (at %q)", want, activeElement(t, ctx))
}

// TestBrowserKeyboardOnly goes through the review queue, a case and a
// patient's report with the keyboard alone: the skip link first, every
// link and control reachable with Tab and worked with Enter, arrows and
// typing.
func TestBrowserKeyboardOnly(t *testing.T) {
	ctx := browsertest.Start(t)
	f := newFixture(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(f.server.URL+"/login"), chromedp.WaitVisible("h1")))

	tabTo(t, ctx, "Skip to main content", 1)
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\r")))
	assert.Contains(t, activeElement(t, ctx), "MAIN main", "the skip link moves focus to the main content")

	// Open a case from the first flag by keyboard.
	tabTo(t, ctx, "INPUT note-0", 10)
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("opened from the keyboard")))
	tabTo(t, ctx, "Open a case", 2)
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\r")))
	waitFor(t, ctx, steps(1))

	// Close it: the finding chosen with the arrow keys.
	tabTo(t, ctx, "SELECT finding", 20)
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("Inap"))) // type-ahead picks "Inappropriate"
	chosen, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#finding").value`))
	require.NoError(t, err)
	require.Equal(t, "inappropriate", chosen)
	tabTo(t, ctx, "INPUT close-note", 2)
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("closed from the keyboard")))
	tabTo(t, ctx, "Close the case", 2)
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\r")))
	waitFor(t, ctx, steps(2))
	page := text(t, ctx)
	assert.Contains(t, page, "inappropriate")
	assert.Contains(t, page, "closed from the keyboard")

	// To the patient report through the navigation, and a report by
	// keyboard.
	tabTo(t, ctx, "/console/patient", 10)
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("\r")))
	waitFor(t, ctx, `document.querySelector("#nhs") !== null`)
	tabTo(t, ctx, "INPUT nhs", 10)
	require.NoError(t, chromedp.Do(ctx, chromedp.KeyEvent("9434765919\r")))
	waitFor(t, ctx, `document.querySelector("caption") !== null`)
	assert.Contains(t, text(t, ctx), "refused attempts")
	noFullNHSNumbers(t, ctx, "patient report")

	// Focus is always visible: the focused element's outline is drawn.
	tabTo(t, ctx, "Skip to main content", 1)
	outline, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`))
	require.NoError(t, err)
	assert.Equal(t, "solid", outline)
}
