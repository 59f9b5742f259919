package investigation

import (
	"context"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// On the days the clocks change the local day is 23 or 25 hours long:
// working hours are wall-clock times, not time elapsed since midnight.
func TestOutOfHoursFollowsTheWallClockOnClockChangeDays(t *testing.T) {
	cfg, err := ReviewConfig{Hours: WorkingHours{Days: []time.Weekday{time.Sunday}}}.withDefaults()
	require.NoError(t, err)
	tests := []struct {
		name string
		at   time.Time
		in   bool
	}{
		{"08:30 BST on the spring-forward Sunday", time.Date(2025, 3, 30, 7, 30, 0, 0, time.UTC), true},
		{"17:30 BST on the spring-forward Sunday", time.Date(2025, 3, 30, 16, 30, 0, 0, time.UTC), true},
		{"18:30 BST on the spring-forward Sunday", time.Date(2025, 3, 30, 17, 30, 0, 0, time.UTC), false},
		{"07:30 GMT on the fall-back Sunday", time.Date(2025, 10, 26, 7, 30, 0, 0, time.UTC), false},
		{"08:30 GMT on the fall-back Sunday", time.Date(2025, 10, 26, 8, 30, 0, 0, time.UTC), true},
		{"17:30 GMT on the fall-back Sunday", time.Date(2025, 10, 26, 17, 30, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.in, cfg.Hours.inHours(tt.at), tt.name)
	}
}

// The same family name, written by two systems, differs in case, accents,
// apostrophes, hyphens and spacing; a double-barrelled name shares a
// family with either of its halves. No name, or a particle alone, matches
// nothing.
func TestSameSurnameMatchesTheNameAsPeopleWriteIt(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"Lovegood", " lovegood ", true},
		{"Brontë", "BRONTE", true},
		{"Müller", "muller", true},
		{"O'Brien", "O’Brien", true},
		{"Smith-Jones", "Smith Jones", true},
		{"Smith-Jones", "SMITH  -  JONES", true},
		{"Smith-Jones", "Jones", true},
		{"Jones", "Smith-Jones", true},
		{"van der Berg", "Van Der Berg", true},
		{"van der Berg", "van Dijk", false},
		{"Smith", "Smithson", false},
		{"", "", false},
		{"", "Smith", false},
		{" ", " ", false},
		{"-", "-", false},
		{"'", "’", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.same, sameSurname(tt.a, tt.b), "%q vs %q", tt.a, tt.b)
	}
}

// Without the callbacks that need them, review keeps no per-access
// history: on a large trail that would be every successful access held
// in memory (an Event per user and patient) for nothing.
func TestReviewWithoutCallbacksKeepsNoAccessHistory(t *testing.T) {
	cfg, err := utc().withDefaults()
	require.NoError(t, err)
	r := newReviewer(cfg)
	for i, p := range testPatients(50) {
		e := readEvent(t0.Add(time.Duration(i)*time.Minute), clinician(), p)
		e.Seq = uint64(i + 1)
		require.NoError(t, r.observe(context.Background(), e))
	}
	assert.Zero(t, len(r.firstAccess), "first accesses kept")
	assert.Zero(t, len(r.accesses), "access histories kept")
}

// A Reader other than the Log may yield an event with no time; review
// must not panic on it (a flag with no events cannot be sorted).
func TestReviewOfAnEventWithNoTimeDoesNotPanic(t *testing.T) {
	e := readEvent(time.Time{}, clinician(), patientA)
	cfg := utc()
	cfg.LaterCare = func(context.Context, audit.Event) (bool, error) { return false, nil }
	var flags []Flag
	require.NotPanics(t, func() {
		var err error
		flags, err = review(context.Background(), seqEvents(e, readEvent(t0, nurse(), patientB)), cfg)
		require.NoError(t, err)
	})
	for _, f := range flags {
		assert.NotEmpty(t, f.Seqs, "%s names its events", f.Kind)
	}
}

// The Markdown report goes to the patient: an NHS number that a free-text
// field holds (another person's, in a break-glass reason or a remote
// service's diagnostics) must not reach them.
func TestReportMarkdownMasksNHSNumbersInFreeText(t *testing.T) {
	e := readEvent(t0, clinician(), patientA)
	e.Seq, e.Purpose, e.Relationship = 1, shcrkit.PurposeBreakGlass, shcrkit.RelationshipEmergency
	e.BreakGlassReason = "collapsed at home; mother of " + string(patientB)
	refused := readEvent(t0.Add(time.Minute), clinician(), patientA)
	refused.Seq, refused.Outcome, refused.Reason = 2, audit.OutcomeRefused, "remote said: patient 943 476 5919 merged into 900 000 0025"
	refused.RelationshipVerification = "not verified: registered with 9000000009's practice"
	md := NewAccessReport(patientA, time.Time{}, time.Time{}, []audit.Event{e, refused}).Markdown()
	for _, n := range []string{string(patientB), "900 000 0025"} {
		assert.NotContains(t, md, n)
	}
	assert.Contains(t, md, "collapsed at home; mother of")
	assert.Contains(t, md, patientA.Format(), "the heading names the patient's own record")
}
