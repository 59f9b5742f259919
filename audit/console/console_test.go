package console_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/console"
	"github.com/shcrkit/shcrkit/audit/investigation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	patient shcrkit.NHSNumber = "9434765919"
	other   shcrkit.NHSNumber = "9000000009"
)

var now = time.Date(2026, 3, 6, 12, 0, 0, 0, time.UTC)

func clinician() shcrkit.Requester {
	return shcrkit.Requester{UserID: "555000111222", Name: "Dr Ada Lovegood", RoleProfileID: "100200300400",
		RoleCode: "S8000:G8000:R8000", Organisation: "RX1", System: shcrkit.System{Name: "Riverside EPR"}}
}

func officer(canSee bool) shcrkit.Requester {
	r := shcrkit.Requester{UserID: "555000999000", Name: "Cara Privacy", RoleProfileID: "100200300900",
		RoleCode: "S8000:G8000:R5080", Organisation: "RX1", System: shcrkit.System{Name: "Audit Console"}}
	if canSee {
		r.UserID, r.Name = "555000999001", "Dev Caldicott"
	}
	return r
}

// fixture is a log with accesses worth a look, and a console over it
// mounted at /console/ behind a test login (the X-Test-User header).
type fixture struct {
	log    *audit.Log
	server *httptest.Server
	sink   *flakySink
}

// flakySink passes writes to the log until told to fail.
type flakySink struct {
	audit.Sink
	fail bool
}

func (s *flakySink) Write(ctx context.Context, e audit.Event) error {
	if s.fail {
		return errors.New("audit store down")
	}
	return s.Sink.Write(ctx, e)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	l, err := audit.OpenLog(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	ctx := context.Background()
	at := now.Add(-48 * time.Hour)
	for i, p := range []shcrkit.NHSNumber{patient, patient, other} {
		e := audit.Event{Time: at.Add(time.Duration(i) * time.Hour), Requester: clinician(), Action: audit.ActionRead,
			Service: audit.ServiceShCR, Resource: "DocumentReference/RE1-100", Patient: p, Purpose: shcrkit.PurposeDirectCare,
			Relationship: shcrkit.RelationshipSelfClaimed, RelationshipEvidence: "walk-in " + p.String(), Outcome: audit.OutcomeSuccess, Custodian: "RE1"}
		require.NoError(t, l.Write(ctx, e))
	}
	refused := audit.Event{Time: at.Add(5 * time.Hour), Requester: clinician(), Action: audit.ActionRead, Service: audit.ServiceShCR,
		Resource: "DocumentReference/RE1-101", Patient: patient, Purpose: shcrkit.PurposeDirectCare, Outcome: audit.OutcomeRefused,
		Reason: "no relationship for " + patient.String(), Custodian: "RE1"}
	require.NoError(t, l.Write(ctx, refused))

	sink := &flakySink{Sink: l}
	c, err := console.New(console.Config{
		Reader: l, Sink: sink, Verifier: l, Now: func() time.Time { return now },
		Review: investigation.ReviewConfig{Hours: investigation.WorkingHours{Start: 0, End: 24 * time.Hour, Days: []time.Weekday{0, 1, 2, 3, 4, 5, 6}, Location: time.UTC}},
		Viewer: func(r *http.Request) (shcrkit.Requester, bool) {
			switch r.Header.Get("X-Test-User") {
			case "officer":
				return officer(false), true
			case "caldicott":
				return officer(true), true
			}
			if c, err := r.Cookie("user"); err == nil && c.Value == "officer" {
				return officer(false), true
			}
			return shcrkit.Requester{}, false
		},
		CanSeeNHSNumbers: func(v shcrkit.Requester) bool { return v.UserID == officer(true).UserID },
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/console/", http.StripPrefix("/console", c))
	// The vendor's login, as a browser meets it: a session cookie.
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "user", Value: "officer", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{log: l, server: srv, sink: sink}
}

func (f *fixture) do(t *testing.T, user, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, f.server.URL+path, body)
	require.NoError(t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", f.server.URL)
	}
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

var tokenRE = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)

func token(t *testing.T, page string) string {
	t.Helper()
	m := tokenRE.FindStringSubmatch(page)
	require.NotNil(t, m, "the page has a form token")
	return m[1]
}

// consoleViews counts the console's own page-view events.
func consoleViews(t *testing.T, l *audit.Log, page string) int {
	t.Helper()
	n := 0
	for e, err := range l.Query(context.Background(), officer(true), audit.Filter{Service: audit.ServiceAudit}) {
		require.NoError(t, err)
		if e.Resource == "Console/"+page {
			n++
		}
	}
	return n
}

func TestConsoleNeedsASignedInViewer(t *testing.T) {
	f := newFixture(t)
	resp, _ := f.do(t, "", http.MethodGet, "/console/", nil)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestReviewQueueToClosedCase(t *testing.T) {
	f := newFixture(t)
	resp, page := f.do(t, "officer", http.MethodGet, "/console/", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, "self-claimed-relationship")
	assert.Contains(t, page, "refused")
	assert.Equal(t, 1, consoleViews(t, f.log, "queue"), "the page view is audited")
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")

	form := url.Values{"token": {token(t, page)}, "kind": {"self-claimed-relationship"}, "user": {clinician().UserID},
		"organisation": {"RX1"}, "seqs": {"1,2"}, "note": {"two self-claimed looks"}}
	resp, _ = f.do(t, "officer", http.MethodPost, "/console/cases", form)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.Regexp(t, `^/console/cases/CASE-`, loc)

	resp, page = f.do(t, "officer", http.MethodGet, loc, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, "opened")
	assert.Contains(t, page, "two self-claimed looks")
	assert.Contains(t, page, "DocumentReference/RE1-100")
	tok := token(t, page)
	for _, step := range []struct {
		path string
		form url.Values
	}{
		{"/acknowledge", url.Values{"token": {tok}}},
		{"/note", url.Values{"token": {tok}, "note": {"clinic list shows no attendance"}}},
		{"/close", url.Values{"token": {tok}, "finding": {"inappropriate"}, "note": {"referred to line manager"}}},
	} {
		resp, _ := f.do(t, "officer", http.MethodPost, loc+step.path, step.form)
		require.Equal(t, http.StatusSeeOther, resp.StatusCode, step.path)
	}
	_, page = f.do(t, "officer", http.MethodGet, loc, nil)
	assert.Contains(t, page, "inappropriate")
	assert.NotContains(t, page, "Close the case", "a closed case takes no more steps")
	resp, _ = f.do(t, "officer", http.MethodPost, loc+"/note", url.Values{"token": {tok}, "note": {"late"}})
	assert.Equal(t, http.StatusConflict, resp.StatusCode)

	_, page = f.do(t, "officer", http.MethodGet, "/console/cases", nil)
	assert.Contains(t, page, strings.TrimPrefix(loc, "/console/cases/"))
	require.NoError(t, f.log.Verify(context.Background()), "the investigation is in the tamper-evident trail")
}

func TestFormsRefuseForgery(t *testing.T) {
	f := newFixture(t)
	_, page := f.do(t, "officer", http.MethodGet, "/console/", nil)
	good := url.Values{"token": {token(t, page)}, "kind": {"refused"}, "user": {clinician().UserID}, "organisation": {"RX1"}, "seqs": {"4"}}

	bad := url.Values{"kind": {"refused"}, "user": {clinician().UserID}, "organisation": {"RX1"}, "seqs": {"4"}, "token": {"00"}}
	resp, _ := f.do(t, "officer", http.MethodPost, "/console/cases", bad)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "wrong token")

	resp, _ = f.do(t, "caldicott", http.MethodPost, "/console/cases", good)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "another viewer's token")

	req, err := http.NewRequest(http.MethodPost, f.server.URL+"/console/cases", strings.NewReader(good.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test-User", "officer")
	req.Header.Set("Origin", "http://evil.example")
	r2, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	r2.Body.Close()
	assert.Equal(t, http.StatusForbidden, r2.StatusCode, "another site's form")

	resp, _ = f.do(t, "officer", http.MethodPost, "/console/cases", url.Values{"token": good["token"], "seqs": {"1,x"}})
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestPatientReportAndMasking(t *testing.T) {
	f := newFixture(t)
	_, page := f.do(t, "officer", http.MethodGet, "/console/patient", nil)
	resp, page := f.do(t, "officer", http.MethodPost, "/console/patient", url.Values{"token": {token(t, page)}, "nhs": {"943 476 5919"}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, "3 accesses by 1 organisations; 1 refused attempts.")
	assert.Contains(t, page, patient.Masked())
	for _, full := range []string{"9434765919", "943 476 5919", "9000000009"} {
		assert.NotContains(t, page, full, "a viewer without the right never sees a full NHS number")
	}
	_, page = f.do(t, "caldicott", http.MethodGet, "/console/patient", nil)
	_, page = f.do(t, "caldicott", http.MethodPost, "/console/patient", url.Values{"token": {token(t, page)}, "nhs": {"9434765919"}})
	assert.Contains(t, page, "943 476 5919", "a viewer with the right sees it")

	_, page = f.do(t, "officer", http.MethodGet, "/console/patient", nil)
	_, page = f.do(t, "officer", http.MethodPost, "/console/patient", url.Values{"token": {token(t, page)}, "nhs": {"1234567890"}})
	assert.Contains(t, page, "not a valid NHS number")
}

func TestNoPageWithoutItsAuditRecord(t *testing.T) {
	f := newFixture(t)
	f.sink.fail = true
	for _, path := range []string{"/console/", "/console/cases", "/console/patient", "/console/verify"} {
		resp, page := f.do(t, "officer", http.MethodGet, path, nil)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, path)
		assert.NotContains(t, page, "self-claimed", path)
	}
}

func TestVerificationPage(t *testing.T) {
	f := newFixture(t)
	resp, page := f.do(t, "officer", http.MethodGet, "/console/verify", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, page, "every record of the audit trail is intact")
	resp, _ = f.do(t, "officer", http.MethodGet, "/console/cases/CASE-none", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestNewChecksItsConfig(t *testing.T) {
	_, err := console.New(console.Config{})
	require.Error(t, err)
}
