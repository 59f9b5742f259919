// Package console is the privacy officer's investigation console: an
// http.Handler that a vendor mounts behind its own login, serving
// server-rendered, accessible HTML (no JavaScript) over any audit.Reader.
//
// Its pages show the review flags waiting for a look, the cases opened
// from them or from a patient's challenge (with their events, notes and
// finding, and forms to take the next step), a patient's access report,
// and the audit trail's verification state. Every page view is itself
// written to the audit sink before the page is served, and a page is not
// served when that write fails. Full NHS numbers are shown only to viewers
// Config.CanSeeNHSNumbers allows; everyone else sees masked ones
// (943****919).
//
// Forms are protected from cross-site requests by a token bound to the
// viewer, and by refusing a POST whose Origin is another site.
//
// # Accessibility
//
// The pages aim at WCAG 2.2 AA: a skip link and landmarks, headings in
// order, every form field labelled, tables with header cells, text
// contrast above 7:1, a visible focus indicator on everything that takes
// focus, and nothing that needs a mouse.
package console

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/investigation"
)

// Verifier checks a store's integrity: *audit.Log and *postgres.Store.
type Verifier interface {
	Verify(ctx context.Context) error
}

// Config configures a Console.
type Config struct {
	// Reader is the audit trail investigated. Required.
	Reader audit.Reader
	// Sink receives the console's own events: page views and case steps.
	// Usually the same store as Reader. Required.
	Sink audit.Sink
	// Verifier, when set, is run by the verification page.
	Verifier Verifier
	// Viewer says who is looking, from the vendor's own login (a session
	// cookie, a header set by its proxy). A request it returns false for
	// is answered 401. Required.
	Viewer func(*http.Request) (shcrkit.Requester, bool)
	// CanSeeNHSNumbers says whether a viewer may see full NHS numbers;
	// nil means nobody does.
	CanSeeNHSNumbers func(shcrkit.Requester) bool
	// Review sets the rules of the review queue.
	Review investigation.ReviewConfig
	// Window is how far back the review queue looks (default 30 days).
	Window time.Duration
	// FormKey signs the forms' tokens; nil uses a random key (forms then
	// expire when the process restarts).
	FormKey []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Console serves the investigation pages. It is safe for concurrent use.
type Console struct {
	cfg   Config
	cases *investigation.Casebook
	mux   *http.ServeMux
}

// New checks cfg and returns a Console.
func New(cfg Config) (*Console, error) {
	if cfg.Reader == nil || cfg.Sink == nil || cfg.Viewer == nil {
		return nil, errors.New("console: a reader, a sink and a viewer are required")
	}
	if cfg.Window < 0 {
		return nil, errors.New("console: negative review window")
	}
	if cfg.Window == 0 {
		cfg.Window = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CanSeeNHSNumbers == nil {
		cfg.CanSeeNHSNumbers = func(shcrkit.Requester) bool { return false }
	}
	if len(cfg.FormKey) == 0 {
		cfg.FormKey = make([]byte, 32)
		if _, err := rand.Read(cfg.FormKey); err != nil {
			return nil, fmt.Errorf("console: form key: %w", err)
		}
	}
	book, err := investigation.NewCasebook(cfg.Sink, cfg.Reader)
	if err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, cases: book, mux: http.NewServeMux()}
	c.mux.HandleFunc("GET /{$}", c.queue)
	c.mux.HandleFunc("GET /cases", c.caseList)
	c.mux.HandleFunc("POST /cases", c.openCase)
	c.mux.HandleFunc("GET /cases/{id}", c.showCase)
	c.mux.HandleFunc("POST /cases/{id}/{step}", c.stepCase)
	c.mux.HandleFunc("GET /patient", c.patient)
	c.mux.HandleFunc("POST /patient", c.patient)
	c.mux.HandleFunc("GET /verify", c.verify)
	return c, nil
}

// ServeHTTP serves the console's pages, relative to where it is mounted
// (use http.StripPrefix to mount it under a path).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	viewer, ok := c.cfg.Viewer(r)
	if !ok || viewer.Validate() != nil {
		http.Error(w, "sign in to use the investigation console", http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodPost && !c.sameOrigin(r) {
		http.Error(w, "cross-site form submission refused", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// same-origin, not no-referrer: with no-referrer a browser sends
	// "Origin: null" on the console's own forms.
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), viewerKey{}, viewer)))
}

type viewerKey struct{}

func viewerOf(r *http.Request) shcrkit.Requester {
	v, _ := r.Context().Value(viewerKey{}).(shcrkit.Requester)
	return v
}

// sameOrigin refuses a POST from another site: its Origin (or, without
// one, its Referer) must name this host.
func (c *Console) sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" || src == "null" {
		return src == "" // a form posted by a client that sends neither
	}
	u, err := url.Parse(src)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// formToken binds a form to its viewer.
func (c *Console) formToken(viewer shcrkit.Requester) string {
	m := hmac.New(sha256.New, c.cfg.FormKey)
	m.Write([]byte(viewer.UserID + "\x00" + string(viewer.Organisation)))
	return hex.EncodeToString(m.Sum(nil))
}

func (c *Console) checkForm(r *http.Request) bool {
	got := r.PostFormValue("token")
	return got != "" && hmac.Equal([]byte(got), []byte(c.formToken(viewerOf(r))))
}

// record writes the page view to the sink; the page is served only when
// it was written.
func (c *Console) record(r *http.Request, page string, patient shcrkit.NHSNumber) error {
	e := audit.Event{
		Time: c.cfg.Now(), Requester: viewerOf(r), Action: audit.ActionRead, Service: audit.ServiceAudit,
		Resource: "Console/" + page, Patient: patient, Outcome: audit.OutcomeSuccess, Reason: "investigation console page view",
	}
	return c.cfg.Sink.Write(r.Context(), e)
}

// nhs shows an NHS number as the viewer may see it.
func (c *Console) nhs(r *http.Request, n shcrkit.NHSNumber) string {
	if n == "" {
		return ""
	}
	if c.cfg.CanSeeNHSNumbers(viewerOf(r)) {
		return n.Format()
	}
	return n.Masked()
}

// fail answers with an error page. Details stay out of the page: they may
// name patients.
func (c *Console) fail(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, "error", map[string]any{"Title": http.StatusText(status), "Message": message})
}
