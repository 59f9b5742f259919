package shcr_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A PDS generalPractitioner carries the period of the registration: PDS
// lists the practice the patient "is, or was, registered" with. A
// registration that ended, or has not begun, is no relationship.
func TestRegisteredGPHonoursTheRegistrationPeriod(t *testing.T) {
	cases := []struct {
		name       string
		start, end string
		want       rbac.VerificationStatus
	}{
		{"registration ended last year", "2020-01-01", "2025-12-31", rbac.VerificationUnverified},
		{"registration not yet begun", "2027-01-01", "", rbac.VerificationUnverified},
		{"registration in force", "2020-01-01", "2027-12-31", rbac.VerificationVerified},
		{"registration ends today (a London day)", "2020-01-01", "2026-11-24", rbac.VerificationVerified},
		{"registration period unreadable", "2020-01-01", "soon", rbac.VerificationUnverified},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := claim(shcrkit.RelationshipRegistered, "")
			p := &fhir.Period{}
			if tc.start != "" {
				p.Start = &tc.start
			}
			if tc.end != "" {
				p.End = &tc.end
			}
			c.Patient.Resource.GeneralPractitioner[0].Identifier.Period = p
			v, err := shcr.RegisteredGP(pcnSites).VerifyRelationship(t.Context(), c)
			require.NoError(t, err)
			assert.Equal(t, tc.want, v.Status, v.String())
		})
	}
}

// rawFHIR serves fixed FHIR JSON by path and records the paths asked for.
type rawFHIR struct {
	mu     sync.Mutex
	bodies map[string]string
	asked  []string
}

func (f *rawFHIR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.asked = append(f.asked, r.URL.EscapedPath())
	body, ok := f.bodies[r.URL.Path]
	f.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	_, _ = w.Write([]byte(body))
}

const lrSubject = `"subject":{"identifier":{"system":"https://fhir.nhs.uk/Id/nhs-number","value":"9434765919"}}`

func encounterJSON(id, status, period string) string {
	return `{"resourceType":"Encounter","id":"` + id + `","status":"` + status + `",` + lrSubject +
		`,"serviceProvider":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"U12345"}}` +
		`,"period":` + period + `}`
}

func rawLookup(t *testing.T, bodies map[string]string) (shcr.EvidenceLookup, *rawFHIR) {
	t.Helper()
	f := &rawFHIR{bodies: bodies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	l, err := shcr.NewFHIREvidence(srv.URL, srv.Client())
	require.NoError(t, err)
	return l, f
}

// Periods the lookup cannot read must not be taken for open ones, and
// FHIR's partial dates must be read; a finished encounter with no end is
// not in force for ever; a date is a day in England.
func TestFHIREvidencePeriodsFailClosed(t *testing.T) {
	careTeam := `{"resourceType":"CareTeam","id":"team-left","status":"active",` + lrSubject +
		`,"period":{"start":"2024-01-01T00:00:00Z"}` +
		`,"managingOrganization":[{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"RW1"}}]` +
		`,"participant":[{"onBehalfOf":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"U12345"}},` +
		`"period":{"start":"2024-01-01","end":"2025-03-31"}}]}`
	lookup, _ := rawLookup(t, map[string]string{
		"/Encounter/enc-year-month-end": encounterJSON("enc-year-month-end", "in-progress", `{"start":"2025-10-01","end":"2025-11"}`),
		"/Encounter/enc-no-zone-end":    encounterJSON("enc-no-zone-end", "in-progress", `{"start":"2025-10-01","end":"2025-11-01T10:00:00"}`),
		"/Encounter/enc-year-start":     encounterJSON("enc-year-start", "planned", `{"start":"2027"}`),
		"/Encounter/enc-finished":       encounterJSON("enc-finished", "finished", `{"start":"2019-05-01T09:00:00Z"}`),
		"/Encounter/enc-bst-day":        encounterJSON("enc-bst-day", "in-progress", `{"start":"2026-07-01"}`),
		"/Encounter/enc-open":           encounterJSON("enc-open", "in-progress", `{"start":"2026-11-01T09:00:00.123+00:00"}`),
		"/CareTeam/team-left":           careTeam,
	})
	cases := []struct {
		kind     shcrkit.RelationshipKind
		evidence string
		at       time.Time
		want     rbac.VerificationStatus
	}{
		{shcrkit.RelationshipEncounter, "Encounter/enc-year-month-end", lrNow, rbac.VerificationUnverified},
		{shcrkit.RelationshipEncounter, "Encounter/enc-no-zone-end", lrNow, rbac.VerificationUnverified},
		{shcrkit.RelationshipEncounter, "Encounter/enc-year-start", lrNow, rbac.VerificationUnverified},
		{shcrkit.RelationshipEncounter, "Encounter/enc-finished", lrNow, rbac.VerificationUnverified},
		{shcrkit.RelationshipCareTeam, "CareTeam/team-left", lrNow, rbac.VerificationUnverified},
		// Genuine evidence: 00:30 BST on 1 July is on the day the encounter began.
		{shcrkit.RelationshipEncounter, "Encounter/enc-bst-day", time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC), rbac.VerificationVerified},
		{shcrkit.RelationshipEncounter, "Encounter/enc-open", lrNow, rbac.VerificationVerified},
	}
	v := shcr.EvidenceVerifier(lookup, pcnSites)
	for _, tc := range cases {
		t.Run(tc.evidence, func(t *testing.T) {
			c := claim(tc.kind, tc.evidence)
			c.Time = tc.at
			got, err := v.VerifyRelationship(t.Context(), c)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Status, got.String())
		})
	}
}

// A claim with no NHS number must not match evidence whose subject the
// lookup could not read: "" is not a patient.
func TestEvidenceVerifierNeedsAPatient(t *testing.T) {
	enc := `{"resourceType":"Encounter","id":"enc-1","status":"in-progress","subject":{"reference":"Patient/abc"},` +
		`"serviceProvider":{"identifier":{"system":"https://fhir.nhs.uk/Id/ods-organization-code","value":"U12345"}},` +
		`"period":{"start":"2026-11-01T09:00:00Z"}}`
	lookup, _ := rawLookup(t, map[string]string{"/Encounter/enc-1": enc})
	c := claim(shcrkit.RelationshipEncounter, "Encounter/enc-1")
	c.NHSNumber = ""
	got, _ := shcr.EvidenceVerifier(lookup, pcnSites).VerifyRelationship(t.Context(), c)
	assert.NotEqual(t, rbac.VerificationVerified, got.Status, got.String())
}

// "." and ".." are dot-segments, not ids: they must not reach the URL,
// where they would name the search endpoint or the server's base.
func TestFHIREvidenceRefusesDotSegments(t *testing.T) {
	lookup, f := rawLookup(t, map[string]string{})
	for _, ref := range []string{".", "..", "Encounter/..", "Encounter/."} {
		found, err := lookup.FindEvidence(t.Context(), shcr.EvidenceQuery{Kind: shcrkit.RelationshipEncounter, Patient: lrPatient, Reference: ref})
		require.NoError(t, err)
		assert.Empty(t, found)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.asked {
		assert.False(t, strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/.."), "asked for %s", p)
	}
}
