package console_test

import (
	"context"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/audit/console"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serveAs serves a console over the fixture's log to a fixed viewer, with
// reader in front of the log when given.
func serveAs(t *testing.T, f *fixture, viewer shcrkit.Requester, reader audit.Reader) *fixture {
	t.Helper()
	if reader == nil {
		reader = f.log
	}
	c, err := console.New(console.Config{Reader: reader, Sink: f.log, Verifier: f.log, Now: func() time.Time { return now },
		Viewer: func(*http.Request) (shcrkit.Requester, bool) { return viewer, true }})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/console/", http.StripPrefix("/console", c))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{log: f.log, server: srv, sink: f.sink}
}

// TestConsoleRefusesAnOfficersStepOnTheirOwnAccesses: the clinician whose
// self-claimed accesses are flagged, signed in to the console, can neither
// open a case about them nor close one as appropriate.
func TestConsoleRefusesAnOfficersStepOnTheirOwnAccesses(t *testing.T) {
	f := newFixture(t)
	_, page := f.do(t, "officer", http.MethodGet, "/console/", nil)
	resp, _ := f.do(t, "officer", http.MethodPost, "/console/cases", url.Values{"token": {token(t, page)}, "kind": {"self-claimed-relationship"},
		"user": {clinician().UserID}, "organisation": {"RX1"}, "seqs": {"1,2"}, "note": {"two self-claimed looks"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	loc := resp.Header.Get("Location")

	subject := serveAs(t, f, clinician(), nil)
	_, page = subject.do(t, "", http.MethodGet, "/console/", nil)
	resp, _ = subject.do(t, "", http.MethodPost, "/console/cases", url.Values{"token": {token(t, page)}, "kind": {"self-claimed-relationship"},
		"user": {clinician().UserID}, "organisation": {"RX1"}, "seqs": {"1,2"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "opening a case about one's own accesses")
	resp, _ = subject.do(t, "", http.MethodPost, loc+"/close", url.Values{"token": {token(t, page)}, "finding": {"appropriate"}, "note": {"fine"}})
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "closing a case about one's own accesses")
	_, page = f.do(t, "officer", http.MethodGet, loc, nil)
	assert.Contains(t, page, "Close the case", "the case is still open")
}

// strayReader answers every query with the log's answer and one event
// about another patient: a store whose index has gone wrong.
type strayReader struct {
	audit.Reader
	stray audit.Event
}

func (s strayReader) Query(ctx context.Context, reader shcrkit.Requester, f audit.Filter) iter.Seq2[audit.Event, error] {
	return func(yield func(audit.Event, error) bool) {
		for e, err := range s.Reader.Query(ctx, reader, f) {
			if !yield(e, err) || err != nil {
				return
			}
		}
		yield(s.stray, nil)
	}
}

// TestPatientReportShowsOnlyThatPatientsEvents: the report's table, like
// its summary, holds only the accesses to the patient asked about, even
// from a Reader that answers with more.
func TestPatientReportShowsOnlyThatPatientsEvents(t *testing.T) {
	f := newFixture(t)
	stray := audit.Event{Seq: 99, Time: now, Requester: clinician(), Action: audit.ActionRead, Service: audit.ServiceShCR,
		Resource: "DocumentReference/SOMEONE-ELSES", Patient: other, Outcome: audit.OutcomeSuccess}
	g := serveAs(t, f, officer(false), strayReader{Reader: f.log, stray: stray})
	_, page := g.do(t, "", http.MethodGet, "/console/patient", nil)
	resp, page := g.do(t, "", http.MethodPost, "/console/patient", url.Values{"token": {token(t, page)}, "nhs": {patient.String()}})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.NotContains(t, page, "SOMEONE-ELSES")
	assert.Equal(t, 3, strings.Count(page, "DocumentReference/RE1-10"), "the patient's three accesses")
}

// TestBadFlagFormIsABadRequest: a flag form naming an organisation that is
// no ODS code is the form's fault (400), not the audit trail's (503).
func TestBadFlagFormIsABadRequest(t *testing.T) {
	f := newFixture(t)
	_, page := f.do(t, "officer", http.MethodGet, "/console/", nil)
	for _, form := range []url.Values{
		{"token": {token(t, page)}, "kind": {"refused"}, "user": {clinician().UserID}, "organisation": {"not an ODS code"}, "seqs": {"4"}},
		{"token": {token(t, page)}, "kind": {"refused"}, "user": {""}, "organisation": {""}, "seqs": {"4"}},
	} {
		resp, _ := f.do(t, "officer", http.MethodPost, "/console/cases", form)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, form.Encode())
	}
}
