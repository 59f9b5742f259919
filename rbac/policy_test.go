package rbac_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallPolicy is a compact valid policy that the validation tests break
// one way at a time.
const smallPolicy = `version: 1
name: Test policy
local:
  shcr: QAA
  name: Alpha ShCR
  members:
    - ods: RA1
      name: Alpha Trust
remote_shcrs:
  - ods: QBB
    name: Beta ShCR
    members:
      - ods: RB1
        name: Beta Trust
  - ods: QCC
    name: Gamma ShCR
categories:
  - id: demographics
  - id: care-plans
    record_types:
      - code: "736366004"
        display: Advance care plan
  - id: sensitive
    record_types:
      - code: "16521000000101"
        display: Lloyd George record folder
    requires_activities: [B1611]
access_levels:
  - id: admin
    categories: [demographics]
  - id: clinical
    categories: [demographics, care-plans, sensitive]
roles:
  - id: clinicians
    job_roles: [R8000]
    access_levels: [clinical]
  - id: admin
    job_roles: [R8008]
    access_levels: [admin]
relationships:
  - kind: registered
    purposes: [TREAT]
  - kind: emergency
    purposes: [BTG]
    requires_reason: true
    obligations:
      alert_privacy_officer: B0015
agreements:
  - id: ISA-1
    title: Alpha and Beta
    parties: [QAA, QBB]
    purposes: [TREAT, BTG]
    categories: [demographics, care-plans]
    valid_from: 2026-01-01
    valid_to: 2026-12-31
record_of_processing:
  controller:
    name: Alpha ICB
`

func loadSmall(t *testing.T, text string) (*rbac.Policy, error) {
	t.Helper()
	return rbac.LoadPolicy(strings.NewReader(text))
}

func TestSmallPolicyLoads(t *testing.T) {
	p, err := loadSmall(t, smallPolicy)
	require.NoError(t, err)
	assert.Equal(t, "Test policy", p.Name())
	assert.Equal(t, shcrkit.ODSCode("QAA"), p.Local())
}

func TestExamplePolicyCoversNRLRecordTypes(t *testing.T) {
	p := samplepolicy.Load()
	want := map[string]string{
		"736253002":        "mental-health",
		"887701000000100":  "care-plans",
		"861421000000109":  "care-plans",
		"1382601000000107": "care-plans",
		"325691000000100":  "care-plans",
		"736373009":        "care-plans",
		"16521000000101":   "sensitive-records",
		"736366004":        "care-plans",
		"735324008":        "care-plans",
		"2181441000000107": "care-plans",
		"1363501000000100": "observations",
		"824321000000109":  "summary-record",
		"749001000000101":  "appointments",
		"887181000000106":  "clinical-summary",
	}
	for code, cat := range want {
		got, ok := categoryOf(p, code)
		assert.True(t, ok, code)
		assert.Equal(t, cat, got, code)
	}
	n := 0
	for _, c := range p.Categories() {
		n += len(c.RecordTypes)
	}
	assert.Equal(t, len(want), n)
	_, ok := categoryOf(p, "1234567")
	assert.False(t, ok)
}

func TestLoadPolicyFile(t *testing.T) {
	// Dates relative to today, so that the file never expires.
	now := time.Now()
	text := strings.NewReplacer("2026-01-01", now.AddDate(-1, 0, 0).Format(time.DateOnly),
		"2026-12-31", now.AddDate(1, 0, 0).Format(time.DateOnly)).Replace(smallPolicy)
	path := filepath.Join(t.TempDir(), "policy.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o600))
	p, err := rbac.LoadPolicyFile(path)
	require.NoError(t, err)
	assert.Equal(t, "Test policy", p.Name())

	_, err = rbac.LoadPolicyFile(filepath.Join(t.TempDir(), "missing.yaml"))
	require.Error(t, err)
	assert.True(t, errors.Is(err, rbac.ErrInvalidPolicy))
	assert.True(t, errors.Is(err, os.ErrNotExist))

	// An agreement that ended long ago does not stop the policy loading:
	// it is inactive.
	p, err = rbac.LoadPolicy(strings.NewReader(strings.NewReplacer("2026-01-01", "2020-01-01", "2026-12-31", "2020-12-31").Replace(smallPolicy)))
	require.NoError(t, err)
	assert.Equal(t, []shcrkit.ODSCode{"QBB", "QCC"}, p.RemotesWithoutAgreement(time.Now()))
	assert.Equal(t, []shcrkit.ODSCode{"QCC"}, p.RemotesWithoutAgreement(time.Date(2020, 6, 1, 12, 0, 0, 0, time.UTC)))
}

// lineOf returns the 1-based line of the first line of text containing s.
func lineOf(text, s string) int {
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	return 0
}

func TestLoadPolicyRejects(t *testing.T) {
	cases := []struct {
		name     string
		old, new string // replacement made in smallPolicy
		msg      string // substring of the error
		lineOf   string // the error's line holds this text, when set
		path     string // the error's path, when set
	}{
		{name: "unknown key", old: "  shcr: QAA\n", new: "  shcr: QAA\n  shrc: QAB\n",
			msg: "field shrc not found in type local", lineOf: "shrc: QAB"},
		{name: "unknown key in a list entry", old: "    job_roles: [R8000]\n", new: "    job_roles: [R8000]\n    activites: [B0360]\n",
			msg: "field activites not found in type a role", lineOf: "activites"},
		{name: "duplicate key", old: "name: Test policy\n", new: "name: Test policy\nname: Again\n",
			msg: `mapping key "name" already defined`, lineOf: "name: Again"},
		{name: "wrong type", old: "version: 1", new: "version: one", msg: "cannot unmarshal", lineOf: "version: one"},
		{name: "syntax error", old: "roles:\n", new: "roles:\n  - id: [\n", msg: "did not find expected", lineOf: ""},
		{name: "version", old: "version: 1", new: "version: 2", msg: "version must be 1, got 2", lineOf: "version: 2", path: "version"},
		{name: "no name", old: "name: Test policy\n", new: "", msg: "a policy needs a name"},
		{name: "bad job role", old: "job_roles: [R8000]", new: "job_roles: [R8000, 8008]",
			msg: `"8008" is not a job role code`, lineOf: "8008", path: "roles[0].job_roles[1]"},
		{name: "bad activity code", old: "requires_activities: [B1611]", new: "requires_activities: [B161]",
			msg: `"B161" is not an activity code`, lineOf: "B161", path: "categories[2].requires_activities[0]"},
		{name: "unknown category in an access level", old: "categories: [demographics]\n  - id: clinical", new: "categories: [demographic]\n  - id: clinical",
			msg: `unknown category "demographic"`, lineOf: "[demographic]", path: "access_levels[0].categories[0]"},
		{name: "unknown access level in a role", old: "access_levels: [admin]", new: "access_levels: [admins]",
			msg: `unknown access level "admins"`, path: "roles[1].access_levels[0]"},
		{name: "record type in two categories", old: `"16521000000101"`, new: `"736366004"`,
			msg: "record type 736366004 is already in categories[1].id", path: "categories[2].record_types[0].code"},
		{name: "record type not SNOMED", old: `"736366004"`, new: `"ACP-1"`,
			msg: `record type "ACP-1" is not a SNOMED CT code`},
		{name: "record type not a concept identifier", old: `"736366004"`, new: `"736366014"`,
			msg: `record type "736366014" is not a SNOMED CT code`},
		{name: "bad category id", old: "- id: care-plans", new: "- id: Care Plans", msg: `category id "Care Plans"`},
		{name: "duplicate category", old: "- id: sensitive\n", new: "- id: care-plans\n", msg: "category care-plans is defined twice"},
		{name: "bad ODS code", old: "ods: RB1", new: "ods: R-B1", msg: `"R-B1" is not an ODS code`},
		{name: "lower-case ODS code", old: "ods: RB1", new: "ods: rb1", msg: `ODS code "rb1" must be written in upper case`},
		{name: "organisation named twice", old: "ods: RB1", new: "ods: RA1", msg: "organisation RA1 is already named at local.members[0].ods"},
		{name: "agreement ending before it starts", old: "valid_to: 2026-12-31", new: "valid_to: 2025-12-31",
			msg: "agreement ISA-1 ends (2025-12-31) before it starts (2026-01-01)"},
		{name: "agreement date", old: "valid_from: 2026-01-01", new: "valid_from: 1 Jan 2026",
			msg: `valid_from "1 Jan 2026" is not a date`},
		{name: "overlapping agreements", old: "record_of_processing:", new: `  - id: ISA-2
    title: Alpha and Beta again
    parties: [QAA, QBB]
    purposes: [TREAT]
    categories: [demographics]
    valid_from: 2026-12-31
    valid_to: 2027-12-31
record_of_processing:`, msg: "agreements ISA-1 and ISA-2 between QAA and QBB overlap (2026-01-01 to 2026-12-31 and 2026-12-31 to 2027-12-31)",
			lineOf: "id: ISA-2"},
		{name: "agreement party unknown", old: "parties: [QAA, QBB]", new: "parties: [QAA, QZZ]",
			msg: `party "QZZ" is not the local shared care record nor one named under remote_shcrs`},
		{name: "agreement party is a member", old: "parties: [QAA, QBB]", new: "parties: [QAA, RB1]",
			msg: "party RB1 is a member organisation; parties are shared care records (name QBB)"},
		{name: "agreement without the local record", old: "parties: [QAA, QBB]", new: "parties: [QCC, QBB]",
			msg: "agreement ISA-1 does not include the local shared care record QAA"},
		{name: "agreement with one party", old: "parties: [QAA, QBB]", new: "parties: [QAA]",
			msg: "agreement ISA-1 needs at least two parties"},
		{name: "agreement unknown category", old: "categories: [demographics, care-plans]\n    valid", new: "categories: [demographics, careplans]\n    valid",
			msg: `unknown category "careplans"`, path: "agreements[0].categories[1]"},
		{name: "agreement unknown purpose", old: "purposes: [TREAT, BTG]", new: "purposes: [TREAT, RESEARCH]",
			msg: `unknown purpose "RESEARCH"`, path: "agreements[0].purposes[1]"},
		{name: "agreement without purposes", old: "purposes: [TREAT, BTG]", new: "purposes: []",
			msg: "at least one purpose of use is required", lineOf: "purposes: []"},
		{name: "unknown relationship kind", old: "kind: registered", new: "kind: neighbour", msg: `unknown relationship kind "neighbour"`},
		{name: "relationship twice", old: "kind: emergency", new: "kind: registered", msg: "relationship registered is defined twice"},
		{name: "emergency without a reason", old: "    requires_reason: true\n", new: "",
			msg: "an emergency relationship must require a recorded reason"},
		{name: "emergency without an alert", old: "    obligations:\n      alert_privacy_officer: B0015\n", new: "",
			msg: "an emergency relationship must alert the Privacy Officer"},
		{name: "bad alert activity", old: "alert_privacy_officer: B0015", new: "alert_privacy_officer: privacy-officer",
			msg: `"privacy-officer" is not an activity code`},
		{name: "bad time box", old: "alert_privacy_officer: B0015", new: "alert_privacy_officer: B0015\n      time_box: 8 hours",
			msg: `time_box "8 hours" is not a duration`},
		{name: "negative time box", old: "alert_privacy_officer: B0015", new: "alert_privacy_officer: B0015\n      time_box: -1h",
			msg: "time_box must be positive"},
		{name: "bad redaction field", old: "alert_privacy_officer: B0015", new: "alert_privacy_officer: B0015\n      redact: [Address]",
			msg: `field "Address" must be lower-case`},
		{name: "role with neither job roles nor activities", old: "    job_roles: [R8008]\n", new: "",
			msg: "role admin names neither job_roles nor activities"},
		{name: "no controller", old: "    name: Alpha ICB\n", new: "    contact: ig@alpha.example\n",
			msg: "the record of processing needs the controller's name"},
		{name: "assurance level", old: "version: 1\n", new: "version: 1\nauthentication:\n  min_assurance_level: 5\n",
			msg: "assurance level 5 is outside 0..4"},
		{name: "time zone", old: "version: 1\n", new: "version: 1\ntimezone: Mars/Olympus\n", msg: `unknown time zone "Mars/Olympus"`},
		{name: "confidentiality names an unaccepted kind", old: "agreements:", new: "confidentiality:\n  restricted:\n    allowed: true\n    relationships: [care-team]\nagreements:",
			msg: "relationship care-team is not among the accepted relationships"},
		{name: "confidentiality settings that never apply", old: "agreements:", new: "confidentiality:\n  very_restricted:\n    allowed: false\n    requires_activities: [B1611]\nagreements:",
			msg: "very_restricted access is not allowed, so its other settings would never apply"},
		{name: "two documents", old: "version: 1\n", new: "version: 1\n---\nversion: 1\n", msg: "more than one YAML document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, smallPolicy, tc.old, "test case does not apply")
			text := strings.Replace(smallPolicy, tc.old, tc.new, 1)
			_, err := loadSmall(t, text)
			require.Error(t, err)
			assert.True(t, errors.Is(err, rbac.ErrInvalidPolicy), "%v", err)
			assert.Contains(t, err.Error(), tc.msg)
			var pe *rbac.PolicyError
			require.True(t, errors.As(err, &pe))
			found := false
			for _, e := range flatten(err) {
				var pe *rbac.PolicyError
				if errors.As(e, &pe) && strings.Contains(pe.Msg, tc.msg) {
					found = true
					if tc.lineOf != "" {
						assert.Equal(t, lineOf(text, tc.lineOf), pe.Line, "line of %q in %v", tc.lineOf, pe)
					}
					if tc.path != "" {
						assert.Equal(t, tc.path, pe.Path)
					}
				}
			}
			assert.True(t, found, "no PolicyError says %q: %v", tc.msg, err)
		})
	}
}

func TestLoadPolicyRejectsBreakGlassOverridesWithoutEmergency(t *testing.T) {
	text := strings.Replace(smallPolicy, "  - kind: emergency\n    purposes: [BTG]\n    requires_reason: true\n    obligations:\n      alert_privacy_officer: B0015\n",
		"break_glass:\n  overrides_dissent: true\n", 1)
	text = strings.Replace(text, "purposes: [TREAT, BTG]", "purposes: [TREAT]", 1)
	_, err := loadSmall(t, text)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "break-glass overrides are set but no emergency relationship is accepted")
}

func TestLoadPolicyReportsEveryProblem(t *testing.T) {
	text := strings.NewReplacer("job_roles: [R8000]", "job_roles: [X1]", "ods: RB1", "ods: r!", "version: 1", "version: 3").Replace(smallPolicy)
	_, err := loadSmall(t, text)
	require.Error(t, err)
	errs := flatten(err)
	assert.Len(t, errs, 3, "%v", err)
	msg := err.Error()
	assert.Contains(t, msg, "version must be 1")
	assert.Contains(t, msg, `"X1" is not a job role code`)
	assert.Contains(t, msg, `"r!" is not an ODS code`)
	assert.Contains(t, msg, "rbac: policy line ")
}

func TestLoadPolicyRejectsEmptyAndHuge(t *testing.T) {
	for _, in := range []string{"", "   \n\n", "# only a comment\n"} {
		_, err := loadSmall(t, in)
		require.Error(t, err, "%q", in)
		assert.True(t, errors.Is(err, rbac.ErrInvalidPolicy))
	}
	huge := smallPolicy + "# " + strings.Repeat("x", 5<<20) + "\n"
	_, err := loadSmall(t, huge)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than")
}

func TestRetiredAgreementsMayHaveEnded(t *testing.T) {
	text := strings.Replace(smallPolicy, "record_of_processing:", `  - id: ISA-0
    title: Alpha and Beta pilot
    parties: [QAA, QBB]
    purposes: [TREAT]
    categories: [demographics]
    valid_from: 2025-01-01
    valid_to: 2026-03-31
    retired: true
record_of_processing:`, 1)
	p, err := loadSmall(t, text)
	require.NoError(t, err)
	assert.Len(t, p.Agreements(), 2)
	assert.True(t, p.Agreements()[1].Retired)
}

func TestPolicyAccessors(t *testing.T) {
	p := samplepolicy.Load()
	member := func(org shcrkit.ODSCode) bool { s, ok := p.ShCROf(org); return ok && s == p.Local() }
	assert.True(t, member("RX1"))
	assert.True(t, member("QRX"))
	assert.False(t, member("ZZZ"))
	assert.True(t, member("Y12345"))
	assert.False(t, member("RE1"))

	s, ok := p.ShCROf("Y23456")
	assert.True(t, ok)
	assert.Equal(t, shcrkit.ODSCode("QEM"), s)
	s, ok = p.ShCROf("RX2")
	assert.True(t, ok)
	assert.Equal(t, shcrkit.ODSCode("QRX"), s)
	_, ok = p.ShCROf("ZZZ")
	assert.False(t, ok)

	a := p.Agreements()[2]
	assert.Equal(t, "ISA-QRX-QWH-2026", a.ID)
	assert.Equal(t, []shcrkit.ODSCode{"QRX", "QWH"}, a.Parties)
	assert.Equal(t, []shcrkit.Purpose{shcrkit.PurposeDirectCare, shcrkit.PurposeEmergency}, a.Purposes)
	assert.Equal(t, "2026-01-01", a.ValidFrom)
	assert.Equal(t, "2030-12-31", a.ValidTo)

	cats := p.Categories()
	require.Len(t, cats, 8)
	assert.Equal(t, "sensitive-records", cats[7].ID)
	assert.Equal(t, []string{"B1611"}, cats[7].RequiresActivities)
	assert.Len(t, p.Agreements(), 4)

	assert.Equal(t, []string{"demographics", "appointments"},
		p.VisibleCategories(shcrkit.Requester{RoleCode: "S8000:G8001:R8008"}))
	assert.Equal(t, []string{"demographics", "appointments", "care-plans", "mental-health", "observations", "summary-record", "clinical-summary", "sensitive-records"},
		p.VisibleCategories(shcrkit.Requester{RoleCode: "R8001", Activities: []string{"B0380", "B1611"}}))
	assert.Empty(t, p.VisibleCategories(shcrkit.Requester{RoleCode: "R8001"}))
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func TestNilInputs(t *testing.T) {
	_, err := rbac.LoadPolicy(nil)
	require.ErrorIs(t, err, rbac.ErrInvalidPolicy)

	var none *rbac.Policy
	d := none.Decide(rbac.Request{})
	assert.False(t, d.Allowed)
	assert.Equal(t, []string{"no access policy is loaded"}, d.Reasons)
	require.ErrorIs(t, d.Err(), rbac.ErrDenied)

	_, err = rbac.RequesterFromCIS2([]byte(`[]`), "")
	require.ErrorIs(t, err, rbac.ErrInvalidUserInfo)
	assert.Contains(t, err.Error(), "must be a JSON object")
}

// categoryOf finds the category that holds a record type, as a caller
// reads it from Categories.
func categoryOf(p *rbac.Policy, recordType string) (string, bool) {
	for _, c := range p.Categories() {
		for _, rt := range c.RecordTypes {
			if rt.Code == recordType {
				return c.ID, true
			}
		}
	}
	return "", false
}
