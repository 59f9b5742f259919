package report_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/rbac/report"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestROPAFromExamplePolicy(t *testing.T) {
	r := report.NewROPA(samplepolicy.Load())
	assert.Equal(t, "North Riverside ShCR cross-boundary access policy", r.Policy)
	assert.Equal(t, "2026-03-02", r.Approved)
	assert.Equal(t, report.Party{Name: "North Riverside Integrated Care Board", ODS: "QRX",
		Contact: "information.governance@north-riverside.example"}, r.Controller)
	require.Len(t, r.Activities, 3, "one activity per agreement not retired")

	a := r.Activities[1]
	assert.Equal(t, "ISA-QRX-QWH-2026", a.Agreement)
	assert.Equal(t, "ISA/2026/002", a.Reference)
	assert.Equal(t, []string{"Direct care of the patient (TREAT)", "Emergency treatment of the patient (ETREAT)"}, a.Purposes)
	assert.Equal(t, []report.Party{
		{Name: "North Riverside Shared Care Record", ODS: "QRX"},
		{Name: "Westhaven Care Record", ODS: "QWH"},
	}, a.Recipients)
	require.Len(t, a.LawfulBases, 3)
	assert.Equal(t, "Common law duty of confidentiality", a.LawfulBases[0].Article, "implied consent for direct care comes first")
	assert.Equal(t, "UK GDPR Article 6(1)(e)", a.LawfulBases[1].Article)
	assert.Equal(t, "UK GDPR Article 9(2)(h)", a.LawfulBases[2].Article)
	var cats []string
	for _, c := range a.DataCategories {
		cats = append(cats, c.ID)
	}
	assert.Equal(t, []string{"demographics", "care-plans", "observations", "summary-record"}, cats)
	assert.Len(t, a.DataCategories[1].RecordTypes, 8)
	assert.Equal(t, []report.Retention{
		{What: "Audit records of every access, allowed or refused", Period: "8 years from the date of access"},
		{What: "Records retrieved from other parties", Period: "Not retained; records retrieved from other regions are displayed and not stored."},
		{What: "Demographics traced in PDS", Period: "Not stored by the SDK: used for the access decision and display, then discarded (PDS remains the source)."},
		{What: "National Record Locator pointers", Period: "Not stored by the SDK: used to find records for one access (the NRL remains the source)."},
	}, a.Retention)
	assert.Equal(t, "2026-01-01", a.ValidFrom)
	assert.Equal(t, "2030-12-31", a.ValidTo)
	measures := strings.Join(a.SecurityMeasures, "\n")
	assert.Contains(t, measures, "assurance level 3 or above")
	assert.Contains(t, measures, "5 role rules")
	assert.Contains(t, measures, "(registered, referral, encounter, care-team, self-claimed, emergency)")
	assert.Contains(t, measures, "self-claimed access alerts the Privacy Officer (B0016)")
	assert.Contains(t, measures, "always honoured, even under break-glass")
	assert.Contains(t, measures, "Very restricted patients' records are never shared")

	b, err := json.MarshalIndent(r, "", "  ")
	require.NoError(t, err)
	var back report.ROPA
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, r, back)
	assert.Contains(t, string(b), `"recipients"`)
	assert.Contains(t, string(b), `"lawfulBases"`)

	md := r.Markdown()
	for _, want := range []string{
		"# Record of processing activities: North Riverside ShCR cross-boundary access policy",
		"- **Controller:** North Riverside Integrated Care Board (QRX), information.governance@north-riverside.example",
		"## Cross-boundary sharing for direct care: North Riverside and Westhaven urgent care agreement",
		"- **Agreement:** ISA-QRX-QWH-2026 (ISA/2026/002), in force 2026-01-01 to 2030-12-31",
		"### Lawful bases",
		"| care-plans | Care plans shared for urgent and planned care. | Emergency health care plan (887701000000100);",
		"- Westhaven Care Record (QWH)",
		"- **Audit records of every access, allowed or refused:** 8 years from the date of access",
	} {
		assert.Contains(t, md, want)
	}
	assert.NotContains(t, md, "ISA-QRX-QWH-2024", "retired agreements are left out")
}

func TestROPAConfigured(t *testing.T) {
	text := strings.Replace(smallPolicy, "    name: Alpha ICB\n", `    name: Alpha ICB
  lawful_bases:
    - article: "UK GDPR Article 6(1)(c)"
      description: Legal obligation | with a pipe
  data_subjects: [Patients of Alpha and Beta]
  international_transfers: None
  security_measures: [Annual penetration test]
`, 1)
	p, err := rbac.LoadPolicy(strings.NewReader(text))
	require.NoError(t, err)
	r := report.NewROPA(p)
	require.Len(t, r.Activities, 1)
	a := r.Activities[0]
	assert.Equal(t, []report.LawfulBasis{{Article: "UK GDPR Article 6(1)(c)", Description: "Legal obligation | with a pipe"}}, a.LawfulBases)
	assert.Equal(t, []string{"Patients of Alpha and Beta"}, a.DataSubjects)
	assert.Equal(t, "None", a.InternationalTransfers)
	assert.Equal(t, "Annual penetration test", a.SecurityMeasures[len(a.SecurityMeasures)-1])
	assert.Contains(t, a.SecurityMeasures[0], "Staff authenticate with NHS Care Identity Service 2.")
	assert.Contains(t, strings.Join(a.SecurityMeasures, "\n"), "Restricted and very restricted patients' records are never shared.")
	require.Len(t, a.Retention, 3, "one entry per data set")
	assert.Equal(t, report.Retention{What: "Audit records of every access, allowed or refused",
		Period: "As set by the controller's records management policy."}, a.Retention[0])
	assert.Equal(t, "Demographics traced in PDS", a.Retention[1].What)
	assert.Equal(t, "National Record Locator pointers", a.Retention[2].What)
	assert.Equal(t, []string{"Direct care of the patient (TREAT)",
		"Emergency access overriding the usual controls, with a recorded reason (BTG)"}, a.Purposes)
	assert.Equal(t, shcrkit.ODSCode("QBB"), a.Recipients[1].ODS)

	md := r.Markdown()
	assert.Contains(t, md, "Legal obligation | with a pipe")
	assert.NotContains(t, md, "Data protection officer", "no DPO given")

	// A policy with no agreement records that nothing is shared.
	none := text[:strings.Index(text, "agreements:")] + text[strings.Index(text, "record_of_processing:"):]
	p, err = rbac.LoadPolicy(strings.NewReader(none))
	require.NoError(t, err)
	assert.Empty(t, report.NewROPA(p).Activities)
	assert.Contains(t, report.NewROPA(p).Markdown(), "the policy allows no cross-boundary sharing")
	b, err := json.MarshalIndent(report.NewROPA(p), "", "  ")
	require.NoError(t, err)
	assert.Contains(t, string(b), `"activities": []`)
}

func TestROPAMarkdownEscapesMarkup(t *testing.T) {
	text := strings.Replace(smallPolicy, "name: Test policy", "name: \"Policy *one* [draft] <b>\"", 1)
	p, err := rbac.LoadPolicy(strings.NewReader(text))
	require.NoError(t, err)
	md := report.NewROPA(p).Markdown()
	assert.Contains(t, md, `Policy \*one\* \[draft\] &lt;b&gt;`)
}
