package rbac_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func hugePolicy(nAgreements int) string {
	var b strings.Builder
	b.WriteString("version: 1\nname: huge\nlocal:\n  shcr: QRX\n  name: Local\n  members:\n    - ods: RX1\n      name: M\nremote_shcrs:\n  - ods: QEM\n    name: R\n")
	b.WriteString("categories:\n")
	var ids []string
	for i := 0; i < 64; i++ {
		ids = append(ids, fmt.Sprintf("c%d", i))
		fmt.Fprintf(&b, "  - id: c%d\n", i)
	}
	cats := "[" + strings.Join(ids, ",") + "]"
	b.WriteString("access_levels:\n  - id: all\n    categories: " + cats + "\n")
	b.WriteString("roles:\n  - id: r\n    activities: [B0360]\n    access_levels: [all]\n")
	b.WriteString("relationships:\n")
	for _, k := range []string{"registered", "referral", "encounter", "care-team"} {
		fmt.Fprintf(&b, "  - kind: %s\n    purposes: [TREAT, ETREAT, BTG]\n", k)
	}
	for _, k := range []string{"self-claimed", "emergency"} {
		fmt.Fprintf(&b, "  - kind: %s\n    purposes: [TREAT, ETREAT, BTG]\n    requires_reason: true\n    obligations: {alert_privacy_officer: B0016}\n", k)
	}
	b.WriteString("confidentiality:\n  restricted: {allowed: true}\n  very_restricted: {allowed: true}\n")
	b.WriteString("break_glass: {overrides_dissent: true, overrides_missing_agreement: true}\n")
	b.WriteString("ad_hoc_sharing: {purposes: [TREAT, ETREAT, BTG]}\n")
	b.WriteString("agreements:\n")
	day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < nAgreements; i++ {
		d := day.AddDate(0, 0, i).Format(time.DateOnly)
		fmt.Fprintf(&b, "  - {id: A%d, title: t, parties: [QRX, QEM], purposes: [TREAT, ETREAT, BTG], categories: %s, valid_from: %s, valid_to: %s}\n", i, cats, d, d)
	}
	b.WriteString("record_of_processing:\n  controller: {name: C}\n")
	return b.String()
}

// A policy of 100 KB, well under the 4 MiB LoadPolicy reads, with 256
// agreements (one a day with one remote ShCR) over 64 categories, used to
// make LoadPolicy build over a million precomputed outcomes: 13 s and
// 600 MB on this machine, again at every Holder.Reload. It must load
// within a bounded cost, and decide under its last agreement as under its
// first.
func TestLoadPolicyWithManyAgreementsIsBounded(t *testing.T) {
	text := hugePolicy(256)
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	p, err := rbac.LoadPolicy(strings.NewReader(text))
	runtime.ReadMemStats(&m1)
	require.NoError(t, err)
	assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(100<<20), "bytes allocated to load a 100 KB policy")

	for _, n := range []int{0, 255} {
		req := baseRequest()
		req.Requester.Activities = []string{"B0360"}
		req.Relationship.Kind = shcrkit.RelationshipEncounter
		req.Custodian, req.Category = "QEM", "c63"
		req.Time = time.Date(2020, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, n)
		d := p.Decide(req)
		assert.True(t, d.Allowed, "%s", d)
		assert.Equal(t, fmt.Sprintf("agreements/A%d", n), d.Rule)
		assert.Equal(t, fmt.Sprintf("A%d", n), d.Agreement)
	}
}
