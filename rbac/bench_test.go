package rbac_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// largePolicyYAML writes a policy of the size the performance target is
// set for: 50 role rules and 20 agreements with 20 remote shared care
// records, over the example policy's categories.
func largePolicyYAML() string {
	example := string(samplepolicy.YAML())
	cats := example[strings.Index(example, "categories:\n"):strings.Index(example, "# Proportionate access")]
	var b strings.Builder
	b.WriteString("version: 1\nname: Large policy\nauthentication:\n  min_assurance_level: 3\n")
	b.WriteString("local:\n  shcr: QL0\n  name: Large ShCR\n  members:\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "    - ods: RL%d\n      name: Local trust %d\n", i, i)
	}
	b.WriteString("remote_shcrs:\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "  - ods: QR%02d\n    name: Remote ShCR %d\n    members:\n", i, i)
		for j := 1; j <= 5; j++ {
			fmt.Fprintf(&b, "      - ods: R%02dT%d\n        name: Remote trust %d.%d\n", i, j, i, j)
		}
	}
	b.WriteString(cats)
	b.WriteString(`access_levels:
  - id: administrative
    categories: [demographics, appointments]
  - id: clinical-limited
    categories: [demographics, appointments, care-plans, observations]
  - id: clinical
    categories: [demographics, appointments, care-plans, mental-health, observations, summary-record, clinical-summary]
  - id: sensitive
    categories: [sensitive-records]
roles:
`)
	for i := 0; i < 50; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&b, "  - id: role-%d\n    job_roles: [R%04d, R%04d]\n    activities: [B0360, B0380]\n    access_levels: [clinical]\n", i, 8000+i, 7000+i)
		case 1:
			fmt.Fprintf(&b, "  - id: role-%d\n    job_roles: [R%04d]\n    access_levels: [administrative]\n", i, 8000+i)
		default:
			fmt.Fprintf(&b, "  - id: role-%d\n    activities: [B%04d]\n    access_levels: [clinical-limited]\n", i, 2000+i)
		}
	}
	b.WriteString(`  - id: sensitive
    activities: [B1611]
    access_levels: [sensitive]
activity_includes:
  - activity: B0380
    includes: [B0360]
relationships:
  - kind: registered
    purposes: [TREAT, ETREAT]
  - kind: care-team
    purposes: [TREAT, ETREAT]
  - kind: self-claimed
    purposes: [TREAT]
    requires_reason: true
    obligations:
      alert_privacy_officer: B0016
      enhanced_audit: true
      time_box: 8h
  - kind: emergency
    purposes: [ETREAT, BTG]
    requires_reason: true
    obligations:
      alert_privacy_officer: B0015
      enhanced_audit: true
confidentiality:
  restricted:
    allowed: true
    obligations:
      redact: [address, telecom]
agreements:
`)
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "  - id: ISA-%02d\n    title: Agreement %d\n    parties: [QL0, QR%02d]\n    purposes: [TREAT, ETREAT, BTG]\n", i, i, i)
		b.WriteString("    categories: [demographics, appointments, care-plans, mental-health, observations, summary-record, clinical-summary]\n")
		b.WriteString("    valid_from: 2025-04-01\n    valid_to: 2035-03-31\n")
	}
	b.WriteString("record_of_processing:\n  controller:\n    name: Large ICB\n")
	return b.String()
}

func largePolicy(tb testing.TB) *rbac.Policy {
	tb.Helper()
	p, err := rbac.LoadPolicy(strings.NewReader(largePolicyYAML()))
	require.NoError(tb, err)
	require.Len(tb, p.Agreements(), 20)
	return p
}

// largeRequests are an allowed boundary request, allowed record requests
// (remote, local, with obligations) and a refusal, for the large policy.
func largeRequests() map[string]rbac.Request {
	base := rbac.Request{
		Requester: shcrkit.Requester{
			UserID: "555000000011", RoleProfileID: "555000000012", RoleCode: "S8000:G8000:R8030",
			Activities:   []string{"B0058", "B0062", "B0068", "B0082", "B0168", "B0264", "B0380", "B0401", "B0560", "B0570", "B0825", "B1611"},
			Organisation: "RL3", AssuranceLevel: 3, System: shcrkit.System{Name: "Bench EPR"},
		},
		Patient:      rbac.Subject{NHSNumber: shcrkit.NHSNumber("9434765919")},
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipRegistered},
		Purpose:      shcrkit.PurposeDirectCare,
		Time:         time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
	}
	remote := base
	remote.Custodian, remote.RecordType = "R17T4", typeEmergencyPlan
	local := base
	local.Custodian, local.RecordType = "RL7", typeSummary
	obliged := remote
	obliged.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed, Reason: "walk-in clinic"}
	obliged.Patient.Confidentiality = shcrkit.ConfidentialityRestricted
	denied := remote
	denied.Relationship = rbac.Relationship{}
	denied.Requester.AssuranceLevel = 2
	denied.RecordType = typeLloydGeorge
	return map[string]rbac.Request{
		"allow-boundary": base, "allow-remote": remote, "allow-local": local, "allow-obligations": obliged, "deny": denied,
	}
}

func TestDecideAllowDoesNotAllocate(t *testing.T) {
	check := func(t *testing.T, p *rbac.Policy, req rbac.Request) {
		d := p.Decide(req)
		require.True(t, d.Allowed, d.String())
		allocs := testing.AllocsPerRun(200, func() { d = p.Decide(req) })
		assert.Zero(t, allocs, "allocations per allowed decision")
	}
	large := largePolicy(t)
	for name, req := range largeRequests() {
		if strings.HasPrefix(name, "allow") {
			t.Run("large/"+name, func(t *testing.T) { check(t, large, req) })
		}
	}
	example := samplepolicy.Load()
	for _, tc := range []struct {
		name  string
		edits []func(*rbac.Request)
	}{
		{"boundary", nil},
		{"remote record", []func(*rbac.Request){record("RE1", typeEmergencyPlan)}},
		{"break-glass", []func(*rbac.Request){record("RE1", typeSummary), relationship(shcrkit.RelationshipEmergency, "collapsed"), purpose(shcrkit.PurposeBreakGlass)}},
		{"restricted", []func(*rbac.Request){record("RX1", typeNEWS2), func(r *rbac.Request) { r.Patient.Confidentiality = shcrkit.ConfidentialityRestricted }}},
		{"sensitive", []func(*rbac.Request){record("RE1", typeLloydGeorge), role("R8000", "B0360", "B1611")}},
		{"by category", []func(*rbac.Request){func(r *rbac.Request) { r.Custodian, r.Category = "Y23456", "demographics" }}},
		{"unverified optional encounter", []func(*rbac.Request){record("RE1", typeEmergencyPlan),
			relationship(shcrkit.RelationshipEncounter, ""), verification(rbac.VerificationUnverified, "encounter", "", "no encounter found")}},
		{"ad hoc", []func(*rbac.Request){record("RS1", typeEmergencyPlan), purpose(shcrkit.PurposeEmergency), func(r *rbac.Request) {
			r.AdHoc = &rbac.AdHoc{DecidedBy: "555000000031", Reason: "unconscious", Basis: "ICO data sharing code: emergencies"}
		}}},
	} {
		t.Run("example/"+tc.name, func(t *testing.T) {
			req := baseRequest()
			for _, e := range tc.edits {
				e(&req)
			}
			check(t, example, req)
		})
	}
}

func TestLargePolicyDecisions(t *testing.T) {
	p := largePolicy(t)
	reqs := largeRequests()
	d := p.Decide(reqs["allow-remote"])
	require.True(t, d.Allowed, d.String())
	assert.Equal(t, "ISA-17", d.Agreement)
	d = p.Decide(reqs["allow-obligations"])
	require.True(t, d.Allowed, d.String())
	assert.Len(t, d.Obligations, 4)
	d = p.Decide(reqs["deny"])
	require.False(t, d.Allowed)
	assert.Equal(t, []string{
		"authentication assurance level 2 is below the required 3",
		"no legitimate relationship",
		"agreement ISA-17 between QL0 and QR17 does not cover category sensitive-records",
	}, d.Reasons)
}

func BenchmarkDecide(b *testing.B) {
	p := largePolicy(b)
	reqs := largeRequests()
	for _, name := range []string{"allow-boundary", "allow-remote", "allow-local", "allow-obligations", "deny"} {
		req := reqs[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var d rbac.Decision
			for b.Loop() {
				d = p.Decide(req)
			}
			if d.Allowed != strings.HasPrefix(name, "allow") {
				b.Fatalf("unexpected decision: %s", d)
			}
		})
	}
}

func BenchmarkDecideParallel(b *testing.B) {
	p := largePolicy(b)
	req := largeRequests()["allow-remote"]
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !p.Decide(req).Allowed {
				b.Error("refused")
			}
		}
	})
}

func BenchmarkLoadPolicy(b *testing.B) {
	text := largePolicyYAML()
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := rbac.LoadPolicy(strings.NewReader(text)); err != nil {
			b.Fatal(err)
		}
	}
}
