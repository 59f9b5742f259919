package rbac_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func agreementIDs(as []rbac.Agreement) []string {
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestPolicyLoadedAfterAnAgreementEndsServesTheOthers(t *testing.T) {
	after := time.Date(2031, 6, 1, 12, 0, 0, 0, time.UTC) // ISA-QRX-QWH-2026 ended on 2030-12-31
	p, err := rbac.LoadPolicy(bytes.NewReader(samplepolicy.YAML()))
	require.NoError(t, err, "an agreement that has ended must not stop the policy loading")
	assert.Contains(t, p.RemotesWithoutAgreement(after), shcrkit.ODSCode("QWH"), "its only agreement, ISA-QRX-QWH-2026, has ended")

	cases := []struct {
		name      string
		custodian shcrkit.ODSCode
		allowed   bool
		agreement string
		reasons   []string
	}{
		{name: "Eastmoor is still served", custodian: "RE1", allowed: true, agreement: "ISA-QRX-QEM-2025"},
		{name: "Southdale is still served", custodian: "RS1", allowed: true, agreement: "ISA-QRX-QSD-2027"},
		{name: "Westhaven's ended agreement says so", custodian: "RW1", reasons: []string{
			"no sharing agreement between QRX and QWH in force on 2031-06-01",
			"agreement ISA-QRX-QWH-2026 ended on 2030-12-31",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest()
			req.Time = after
			req.Custodian, req.RecordType = tc.custodian, typeEmergencyPlan
			d := p.Decide(req)
			require.Equal(t, tc.allowed, d.Allowed, d.String())
			assert.Equal(t, tc.agreement, d.Agreement)
			if tc.reasons != nil {
				assert.Equal(t, tc.reasons, d.Reasons)
				assert.Equal(t, "agreements", d.Rule)
			}
		})
	}
}

func TestAgreementsCarryTheirSignOff(t *testing.T) {
	p := samplepolicy.Load()
	var qem rbac.Agreement
	for _, a := range p.Agreements() {
		if a.ID == "ISA-QRX-QEM-2025" {
			qem = a
		}
	}
	require.Equal(t, "ISA-QRX-QEM-2025", qem.ID)
	assert.Equal(t, "2.1", qem.Version)
	assert.Equal(t, "2027-03-31", qem.ReviewDate)
	assert.Equal(t, rbac.DSPA{Reference: "DSPA/NE/2024/07", Version: "3.0"}, qem.DSPA)
	require.Len(t, qem.Signatories, 2)
	assert.Equal(t, rbac.Signatory{Name: "Jonah Pike", Role: "Senior Information Risk Owner", Organisation: "QEM", Date: "2025-03-14"}, qem.Signatories[1])
	assert.Equal(t, []shcrkit.Purpose{shcrkit.PurposeDirectCare, shcrkit.PurposeEmergency, shcrkit.PurposeBreakGlass}, qem.Purposes)
	assert.Contains(t, qem.Categories, "sensitive-records")

	// The copy is the caller's.
	qem.Signatories[0].Name = "changed"
	assert.NotEqual(t, "changed", p.Agreements()[0].Signatories[0].Name)
}

func TestAgreementLifecycleQueries(t *testing.T) {
	p := samplepolicy.Load()
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, s, london)
		require.NoError(t, err)
		return d
	}
	t.Run("ending", func(t *testing.T) {
		cases := []struct {
			from, to string
			want     []string
		}{
			{"2026-06-01", "2027-06-01", nil},
			{"2030-06-01", "2031-01-01", []string{"ISA-QRX-QWH-2026"}},
			{"2030-12-31", "2031-01-01", []string{"ISA-QRX-QWH-2026"}},
			{"2031-01-01", "2031-06-01", nil},
			{"2030-01-01", "2036-01-01", []string{"ISA-QRX-QWH-2026", "ISA-QRX-QSD-2027", "ISA-QRX-QEM-2025"}},
			// The retired pilot (ended 2025-12-31) is never listed.
			{"2025-12-01", "2026-01-01", nil},
		}
		for _, tc := range cases {
			assert.Equal(t, tc.want, agreementIDs(p.AgreementsEnding(day(tc.from), day(tc.to))), "%s to %s", tc.from, tc.to)
		}
	})
	t.Run("due for review", func(t *testing.T) {
		cases := []struct {
			from, to string
			want     []string
		}{
			{"2026-06-01", "2026-12-01", nil},
			{"2026-06-01", "2027-01-01", []string{"ISA-QRX-QWH-2026"}},
			{"2026-06-01", "2027-06-01", []string{"ISA-QRX-QWH-2026", "ISA-QRX-QEM-2025"}},
			// Overdue reviews stay listed while the agreement runs.
			{"2028-01-01", "2028-02-01", []string{"ISA-QRX-QWH-2026", "ISA-QRX-QEM-2025"}},
			// An agreement that has ended needs no review.
			{"2031-01-01", "2031-02-01", []string{"ISA-QRX-QEM-2025"}},
		}
		for _, tc := range cases {
			assert.Equal(t, tc.want, agreementIDs(p.AgreementsDueForReview(day(tc.from), day(tc.to))), "%s to %s", tc.from, tc.to)
		}
	})
	t.Run("remote shared care records without an agreement in force", func(t *testing.T) {
		cases := []struct {
			at   string
			want []shcrkit.ODSCode
		}{
			{"2025-06-01", []shcrkit.ODSCode{"QWH", "QSD"}}, // the pilot is retired
			{"2026-06-01", []shcrkit.ODSCode{"QSD"}},
			{"2027-06-01", nil},
			{"2031-06-01", []shcrkit.ODSCode{"QWH"}},
			{"2036-01-01", []shcrkit.ODSCode{"QEM", "QWH", "QSD"}},
		}
		for _, tc := range cases {
			assert.Equal(t, tc.want, p.RemotesWithoutAgreement(day(tc.at).Add(12*time.Hour)), tc.at)
		}
	})
	t.Run("sites", func(t *testing.T) {
		assert.Equal(t, []shcrkit.ODSCode{"Y12345", "Y12346"}, p.SitesOf("U12345"))
		assert.Nil(t, p.SitesOf("RX1"))
	})
}

func TestSignOffIsValidated(t *testing.T) {
	cases := []struct {
		name, old, new, msg string
	}{
		{name: "signatory without a name", old: "      - name: Jonah Pike\n", new: "      - name: \" \"\n",
			msg: "a signatory of agreement ISA-QRX-QEM-2025 needs a name"},
		{name: "signatory date", old: "date: 2025-03-14", new: "date: 14 March 2025", msg: `date "14 March 2025" is not a date`},
		{name: "review date", old: "review_date: 2027-03-31", new: "review_date: soon", msg: `review_date "soon" is not a date`},
		{name: "DSPA without a reference", old: "reference: DSPA/NE/2024/07", new: `reference: ""`,
			msg: "the DSPA of agreement ISA-QRX-QEM-2025 needs a reference"},
		{name: "site not an ODS code", old: "sites: [Y12345, Y12346]", new: "sites: [Y12345, y-1]", msg: `site "y-1" is not an ODS code`},
		{name: "site twice", old: "sites: [Y12345, Y12346]", new: "sites: [Y12345, Y12345]", msg: "site Y12345 is listed twice"},
		{name: "unknown verification", old: "    verification: optional\n  - kind: care-team", new: "    verification: sometimes\n  - kind: care-team",
			msg: `verification "sometimes" is not one of required, optional or not_applicable`},
		{name: "self-claimed cannot be verified", old: "    requires_reason: true\n    verification: not_applicable\n    obligations:\n      alert_privacy_officer: B0016",
			new: "    requires_reason: true\n    verification: required\n    obligations:\n      alert_privacy_officer: B0016",
			msg: "a self-claimed relationship cannot be verified"},
		{name: "ad hoc sharing without purposes", old: "ad_hoc_sharing:\n  purposes: [ETREAT]", new: "ad_hoc_sharing:\n  purposes: []",
			msg: "at least one purpose of use is required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := string(samplepolicy.YAML())
			require.Contains(t, text, tc.old)
			_, err := rbac.LoadPolicy(strings.NewReader(strings.Replace(text, tc.old, tc.new, 1)))
			require.ErrorIs(t, err, rbac.ErrInvalidPolicy)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}
