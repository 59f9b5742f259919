package rbac_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var london = mustLocation("Europe/London")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// Record types of the example policy.
const (
	typeCrisisPlan    = "736253002"
	typeEmergencyPlan = "887701000000100"
	typeNEWS2         = "1363501000000100"
	typeSummary       = "824321000000109"
	typeAppointment   = "749001000000101"
	typeLloydGeorge   = "16521000000101"
)

// clinician is a GP with view and perform detailed record activities,
// working for a member of the local shared care record.
func clinician() shcrkit.Requester {
	return shcrkit.Requester{
		UserID:           "555000000011",
		Name:             "Dr Ada Quill",
		RoleProfileID:    "555000000012",
		RoleCode:         "S8000:G8000:R8000",
		Activities:       []string{"B0380", "B0360"},
		Organisation:     "RX1",
		OrganisationName: "Riverside Hospitals NHS Foundation Trust",
		AssuranceLevel:   3,
		System:           shcrkit.System{Name: "Riverside EPR", Version: "4.2"},
	}
}

// baseRequest is an allowed boundary request: a clinician with a
// registered relationship, for direct care, on 24 November 2026.
func baseRequest() rbac.Request {
	return rbac.Request{
		Requester:    clinician(),
		Patient:      rbac.Subject{NHSNumber: shcrkit.NHSNumber("9434765919")},
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipRegistered},
		Purpose:      shcrkit.PurposeDirectCare,
		Time:         time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		// The example policy requires a registered relationship to be
		// verified.
		Verification: rbac.Verification{Status: rbac.VerificationVerified, Verifier: "registered", Evidence: "GP practice Y12345"},
	}
}

func record(custodian shcrkit.ODSCode, recordType string) func(*rbac.Request) {
	return func(r *rbac.Request) { r.Custodian, r.RecordType = custodian, recordType }
}

func at(t time.Time) func(*rbac.Request) { return func(r *rbac.Request) { r.Time = t } }

func role(code string, activities ...string) func(*rbac.Request) {
	return func(r *rbac.Request) { r.Requester.RoleCode, r.Requester.Activities = code, activities }
}

func relationship(kind shcrkit.RelationshipKind, reason string) func(*rbac.Request) {
	return func(r *rbac.Request) { r.Relationship = rbac.Relationship{Kind: kind, Reason: reason} }
}

func purpose(p shcrkit.Purpose) func(*rbac.Request) { return func(r *rbac.Request) { r.Purpose = p } }

type decideCase struct {
	name        string
	edits       []func(*rbac.Request)
	allowed     bool
	rule        string
	reasons     []string // exact, in order, when set
	contains    []string // substrings of some reason
	obligations []rbac.Obligation
	agreement   string
	category    string
}

func runDecideCases(t *testing.T, p *rbac.Policy, cases []decideCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := baseRequest()
			for _, e := range tc.edits {
				e(&req)
			}
			d := p.Decide(req)
			assert.Equal(t, tc.allowed, d.Allowed, "decision: %s", d)
			if tc.rule != "" {
				assert.Equal(t, tc.rule, d.Rule)
			}
			if tc.reasons != nil {
				assert.Equal(t, tc.reasons, d.Reasons)
			}
			for _, s := range tc.contains {
				assert.Contains(t, strings.Join(d.Reasons, "\n"), s)
			}
			if tc.allowed {
				assert.Equal(t, tc.obligations, d.Obligations)
				if tc.agreement != "" || strings.HasPrefix(d.Rule, "local/") {
					assert.Equal(t, tc.agreement, d.Agreement)
				}
				require.NoError(t, d.Err())
			} else {
				assert.Nil(t, d.Obligations)
				assert.NotEmpty(t, d.Reasons)
				err := d.Err()
				require.Error(t, err)
				assert.True(t, errors.Is(err, rbac.ErrDenied))
				assert.True(t, errors.Is(err, shcrkit.ErrForbidden))
			}
			if tc.category != "" {
				assert.Equal(t, tc.category, d.Category)
			}
			for _, r := range d.Reasons {
				assert.NotContains(t, r, "9434765919", "a reason must not carry the NHS number")
			}
		})
	}
}

var (
	alertSelfClaimed = rbac.Obligation{Kind: rbac.ObligationAlertPrivacyOfficer, Activity: "B0016", Rule: "relationships/self-claimed"}
	auditSelfClaimed = rbac.Obligation{Kind: rbac.ObligationEnhancedAudit, Rule: "relationships/self-claimed"}
	timeSelfClaimed  = rbac.Obligation{Kind: rbac.ObligationTimeBox, Duration: 8 * time.Hour, Rule: "relationships/self-claimed"}
	alertEmergency   = rbac.Obligation{Kind: rbac.ObligationAlertPrivacyOfficer, Activity: "B0015", Rule: "relationships/emergency"}
	auditEmergency   = rbac.Obligation{Kind: rbac.ObligationEnhancedAudit, Rule: "relationships/emergency"}
	timeEmergency    = rbac.Obligation{Kind: rbac.ObligationTimeBox, Duration: 4 * time.Hour, Rule: "relationships/emergency"}
	redactRestricted = rbac.Obligation{Kind: rbac.ObligationRedact, Fields: []string{"address", "telecom", "contacts", "general-practitioner"}, Rule: "confidentiality/restricted"}
	auditRestricted  = rbac.Obligation{Kind: rbac.ObligationEnhancedAudit, Rule: "confidentiality/restricted"}
	auditSensitive   = rbac.Obligation{Kind: rbac.ObligationEnhancedAudit, Rule: "categories/sensitive-records"}
)

func TestDecideBoundary(t *testing.T) {
	runDecideCases(t, samplepolicy.Load(), []decideCase{
		{
			name: "registered relationship for direct care", allowed: true, rule: "relationships/registered",
			reasons: []string{
				"legitimate relationship registered accepted for purpose direct-care",
				"role grants access to data categories; each record is decided on its own",
			},
		},
		{
			name: "each accepted kind for direct care", allowed: true, rule: "relationships/care-team",
			edits: []func(*rbac.Request){relationship(shcrkit.RelationshipCareTeam, "")},
		},
		{
			name: "encounter for emergency treatment", allowed: true, rule: "relationships/encounter",
			edits: []func(*rbac.Request){relationship(shcrkit.RelationshipEncounter, ""), purpose(shcrkit.PurposeEmergency)},
		},
		{
			name: "no legitimate relationship", rule: "relationships",
			edits:   []func(*rbac.Request){relationship(shcrkit.RelationshipNone, "")},
			reasons: []string{"no legitimate relationship"},
		},
		{
			name: "unknown relationship kind", rule: "relationships",
			edits:   []func(*rbac.Request){relationship(shcrkit.RelationshipKind(42), "")},
			reasons: []string{"relationship RelationshipKind(42) is not accepted by the policy"},
		},
		{
			name: "referral needs evidence", rule: "relationships/referral",
			edits:   []func(*rbac.Request){relationship(shcrkit.RelationshipReferral, "")},
			reasons: []string{"a referral relationship needs evidence"},
		},
		{
			name: "referral with evidence", allowed: true, rule: "relationships/referral",
			edits: []func(*rbac.Request){func(r *rbac.Request) {
				r.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipReferral, Evidence: "eRS UBRN 000011112222"}
			}},
		},
		{
			name: "relationship does not support the purpose", rule: "relationships/registered",
			edits:   []func(*rbac.Request){purpose(shcrkit.PurposeBreakGlass)},
			reasons: []string{"relationship registered does not support purpose break-glass"},
		},
		{
			name: "self-claimed with a reason alerts the Privacy Officer", allowed: true, rule: "relationships/self-claimed",
			edits: []func(*rbac.Request){relationship(shcrkit.RelationshipSelfClaimed, "patient attending walk-in clinic")},
			reasons: []string{
				"self-claimed legitimate relationship with a recorded reason, accepted for purpose direct-care",
				"role grants access to data categories; each record is decided on its own",
			},
			obligations: []rbac.Obligation{alertSelfClaimed, auditSelfClaimed, timeSelfClaimed},
		},
		{
			name: "self-claimed without a reason", rule: "relationships/self-claimed",
			edits:   []func(*rbac.Request){relationship(shcrkit.RelationshipSelfClaimed, "  ")},
			reasons: []string{"a self-claimed relationship needs a recorded reason"},
		},
		{
			name: "self-claimed for emergency treatment is not accepted", rule: "relationships/self-claimed",
			edits:   []func(*rbac.Request){relationship(shcrkit.RelationshipSelfClaimed, "walk-in"), purpose(shcrkit.PurposeEmergency)},
			reasons: []string{"relationship self-claimed does not support purpose emergency"},
		},
		{
			name: "break-glass stands in for a missing relationship", allowed: true, rule: "relationships/emergency",
			edits: []func(*rbac.Request){relationship(shcrkit.RelationshipEmergency, "unconscious patient in ED"), purpose(shcrkit.PurposeBreakGlass)},
			reasons: []string{
				"emergency (break-glass) access with a recorded reason, accepted for purpose break-glass",
				"role grants access to data categories; each record is decided on its own",
			},
			obligations: []rbac.Obligation{alertEmergency, auditEmergency, timeEmergency},
		},
		{
			name: "break-glass without a reason", rule: "relationships/emergency",
			edits:   []func(*rbac.Request){relationship(shcrkit.RelationshipEmergency, ""), purpose(shcrkit.PurposeBreakGlass)},
			reasons: []string{"an emergency relationship needs a recorded reason"},
		},
		{
			name: "recorded dissent", rule: "dissent",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Patient.Dissent = true }},
			reasons: []string{"patient has recorded dissent from sharing"},
		},
		{
			name: "break-glass does not override dissent unless the policy says so", rule: "dissent",
			edits: []func(*rbac.Request){
				relationship(shcrkit.RelationshipEmergency, "unconscious"), purpose(shcrkit.PurposeBreakGlass),
				func(r *rbac.Request) { r.Patient.Dissent = true },
			},
			reasons: []string{"patient has recorded dissent from sharing"},
		},
		{
			name: "restricted patient: redact and audit", allowed: true, rule: "relationships/registered",
			edits: []func(*rbac.Request){func(r *rbac.Request) { r.Patient.Confidentiality = shcrkit.ConfidentialityRestricted }},
			reasons: []string{
				"legitimate relationship registered accepted for purpose direct-care",
				"restricted (R) data allowed by the confidentiality rules",
				"role grants access to data categories; each record is decided on its own",
			},
			obligations: []rbac.Obligation{auditRestricted, redactRestricted},
		},
		{
			name: "restricted patient and break-glass: obligations merged", allowed: true, rule: "relationships/emergency",
			edits: []func(*rbac.Request){
				relationship(shcrkit.RelationshipEmergency, "collapsed"), purpose(shcrkit.PurposeEmergency),
				func(r *rbac.Request) { r.Patient.Confidentiality = shcrkit.ConfidentialityRestricted },
			},
			obligations: []rbac.Obligation{alertEmergency, auditEmergency, timeEmergency, redactRestricted},
		},
		{
			name: "restricted patient with a self-claimed relationship", rule: "confidentiality/restricted",
			edits: []func(*rbac.Request){
				relationship(shcrkit.RelationshipSelfClaimed, "walk-in"),
				func(r *rbac.Request) { r.Patient.Confidentiality = shcrkit.ConfidentialityRestricted },
			},
			reasons: []string{"relationship self-claimed is not accepted for a restricted (R) patient"},
		},
		{
			name: "very restricted patient", rule: "confidentiality/very_restricted",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Patient.Confidentiality = shcrkit.ConfidentialityVeryRestricted }},
			reasons: []string{"the policy does not allow access to a very restricted (V) patient"},
		},
		{
			name: "very restricted patient even under break-glass", rule: "confidentiality/very_restricted",
			edits: []func(*rbac.Request){
				relationship(shcrkit.RelationshipEmergency, "collapsed"), purpose(shcrkit.PurposeBreakGlass),
				func(r *rbac.Request) { r.Patient.Confidentiality = shcrkit.ConfidentialityVeryRestricted },
			},
			reasons: []string{"the policy does not allow access to a very restricted (V) patient"},
		},
		{
			name: "unknown confidentiality level", rule: "confidentiality",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Patient.Confidentiality = 7 }},
			reasons: []string{"unknown confidentiality level"},
		},
		{
			name: "assurance level too low", rule: "authentication",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Requester.AssuranceLevel = 2 }},
			reasons: []string{"authentication assurance level 2 is below the required 3"},
		},
		{
			name: "organisation outside the local shared care record", rule: "local",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Requester.Organisation = "RE1" }},
			reasons: []string{"organisation RE1 is not a member of the local shared care record QRX"},
		},
		{
			name: "the local shared care record itself is a member", allowed: true,
			edits: []func(*rbac.Request){func(r *rbac.Request) { r.Requester.Organisation = "QRX" }},
		},
		{
			name: "no organisation", rule: "local",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Requester.Organisation = "" }},
			reasons: []string{"requester has no organisation"},
		},
		{
			name: "no user ID", rule: "requester",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Requester.UserID = "" }},
			reasons: []string{"requester has no user ID"},
		},
		{
			name: "no valid NHS number", rule: "patient",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Patient.NHSNumber = "9434765918" }},
			reasons: []string{"no valid NHS number for the patient"},
		},
		{
			name: "no purpose", rule: "purposes",
			edits:   []func(*rbac.Request){purpose(shcrkit.PurposeUnspecified)},
			reasons: []string{"no purpose of use given"},
		},
		{
			name: "job role without the needed activity", rule: "roles",
			edits:   []func(*rbac.Request){role("S8000:G8000:R8000")},
			reasons: []string{"role R8000 has no access level in the policy"},
		},
		{
			name: "job role the policy does not name", rule: "roles",
			edits:   []func(*rbac.Request){role("S8000:G8000:R8004", "B0360")},
			reasons: []string{"role R8004 has no access level in the policy"},
		},
		{
			name: "no role code", rule: "roles",
			edits:   []func(*rbac.Request){role("")},
			reasons: []string{"role (none) has no access level in the policy"},
		},
		{
			name: "an included activity counts: B0380 includes B0360", allowed: true,
			edits: []func(*rbac.Request){role("S8000:G8000:R8001", "B0380")},
		},
		{
			name: "every failure is listed, the first names the rule", rule: "local",
			edits: []func(*rbac.Request){
				func(r *rbac.Request) { r.Requester.Organisation = "RE1"; r.Requester.AssuranceLevel = 0 },
				relationship(shcrkit.RelationshipNone, ""),
				func(r *rbac.Request) { r.Patient.Dissent = true },
			},
			reasons: []string{
				"organisation RE1 is not a member of the local shared care record QRX",
				"authentication assurance level 0 is below the required 3",
				"no legitimate relationship",
				"patient has recorded dissent from sharing",
			},
		},
	})
}

func TestDecideRecord(t *testing.T) {
	dec31 := time.Date(2026, 12, 31, 23, 59, 59, 999999999, london)
	jan1 := time.Date(2027, 1, 1, 0, 0, 0, 0, london)
	runDecideCases(t, samplepolicy.Load(), []decideCase{
		{
			name: "local custodian needs no agreement", allowed: true, rule: "local/QRX", category: "mental-health",
			edits: []func(*rbac.Request){record("RX2", typeCrisisPlan)},
			reasons: []string{
				"legitimate relationship registered accepted for purpose direct-care",
				"category mental-health is within the requester's access levels",
				"custodian is within the local shared care record QRX: no agreement needed",
			},
		},
		{
			name: "remote custodian under an agreement", allowed: true, rule: "agreements/ISA-QRX-QEM-2025",
			agreement: "ISA-QRX-QEM-2025", category: "care-plans",
			edits: []func(*rbac.Request){record("RE1", typeEmergencyPlan)},
			reasons: []string{
				"legitimate relationship registered accepted for purpose direct-care",
				"category care-plans is within the requester's access levels",
				"agreement ISA-QRX-QEM-2025 between QRX and QEM covers category care-plans for purpose direct-care",
			},
		},
		{
			name: "the remote shared care record itself as custodian", allowed: true, agreement: "ISA-QRX-QEM-2025",
			edits: []func(*rbac.Request){record("QEM", typeNEWS2)},
		},
		{
			name: "no agreement in force yet", rule: "agreements",
			edits:   []func(*rbac.Request){record("RS1", typeEmergencyPlan)},
			reasons: []string{"no sharing agreement between QRX and QSD in force on 2026-11-24", "agreement ISA-QRX-QSD-2027 begins on 2027-01-01"},
		},
		{
			name: "last instant before an agreement starts", rule: "agreements",
			edits:   []func(*rbac.Request){record("RS1", typeEmergencyPlan), at(dec31)},
			reasons: []string{"no sharing agreement between QRX and QSD in force on 2026-12-31", "agreement ISA-QRX-QSD-2027 begins on 2027-01-01"},
		},
		{
			name: "first instant of an agreement", allowed: true, agreement: "ISA-QRX-QSD-2027",
			edits: []func(*rbac.Request){record("RS1", typeEmergencyPlan), at(jan1)},
		},
		{
			name: "last instant of an agreement's last day", allowed: true, agreement: "ISA-QRX-QWH-2026",
			edits: []func(*rbac.Request){record("RW1", typeEmergencyPlan), at(time.Date(2030, 12, 31, 23, 59, 59, 999999999, london))},
		},
		{
			name: "the day after an agreement's last day", rule: "agreements",
			edits:   []func(*rbac.Request){record("RW1", typeEmergencyPlan), at(time.Date(2031, 1, 1, 0, 0, 0, 0, london))},
			reasons: []string{"no sharing agreement between QRX and QWH in force on 2031-01-01", "agreement ISA-QRX-QWH-2026 ended on 2030-12-31"},
		},
		{
			name: "agreement days are London days: start in summer time", allowed: true, agreement: "ISA-QRX-QEM-2025",
			edits: []func(*rbac.Request){record("RE1", typeEmergencyPlan), at(time.Date(2025, 3, 31, 23, 0, 0, 0, time.UTC))},
		},
		{
			name: "an hour before the start in summer time", rule: "agreements",
			edits:   []func(*rbac.Request){record("RE1", typeEmergencyPlan), at(time.Date(2025, 3, 31, 22, 59, 59, 0, time.UTC))},
			reasons: []string{"no sharing agreement between QRX and QEM in force on 2025-03-31", "agreement ISA-QRX-QEM-2025 begins on 2025-04-01"},
		},
		{
			name: "a retired agreement is never applied", rule: "agreements",
			edits: []func(*rbac.Request){record("RW1", typeEmergencyPlan), at(time.Date(2025, 6, 1, 12, 0, 0, 0, london))},
			// The retired pilot agreement is not mentioned: it never applies.
			reasons: []string{"no sharing agreement between QRX and QWH in force on 2025-06-01", "agreement ISA-QRX-QWH-2026 begins on 2026-01-01"},
		},
		{
			name: "agreement does not cover the category", rule: "agreements/ISA-QRX-QWH-2026",
			edits:   []func(*rbac.Request){record("RW1", typeCrisisPlan)},
			reasons: []string{"agreement ISA-QRX-QWH-2026 between QRX and QWH does not cover category mental-health"},
		},
		{
			name: "agreement does not cover the purpose", rule: "agreements/ISA-QRX-QWH-2026",
			edits: []func(*rbac.Request){
				record("RW1", typeEmergencyPlan), relationship(shcrkit.RelationshipEmergency, "collapsed"), purpose(shcrkit.PurposeBreakGlass),
			},
			reasons: []string{"agreement ISA-QRX-QWH-2026 between QRX and QWH does not cover purpose break-glass"},
		},
		{
			name: "break-glass never overrides an absent agreement unless the policy says so", rule: "agreements",
			edits: []func(*rbac.Request){
				record("RS1", typeEmergencyPlan), relationship(shcrkit.RelationshipEmergency, "collapsed"), purpose(shcrkit.PurposeBreakGlass),
			},
			reasons: []string{"no sharing agreement between QRX and QSD in force on 2026-11-24", "agreement ISA-QRX-QSD-2027 begins on 2027-01-01"},
		},
		{
			name: "break-glass record under an agreement", allowed: true, rule: "agreements/ISA-QRX-QEM-2025", agreement: "ISA-QRX-QEM-2025",
			edits: []func(*rbac.Request){
				record("RE1", typeSummary), relationship(shcrkit.RelationshipEmergency, "collapsed"), purpose(shcrkit.PurposeBreakGlass),
			},
			obligations: []rbac.Obligation{alertEmergency, auditEmergency, timeEmergency},
		},
		{
			name: "unknown custodian", rule: "agreements",
			edits: []func(*rbac.Request){record("RZ9", typeEmergencyPlan)},
			reasons: []string{"no sharing agreement between QRX and RZ9 in force on 2026-11-24: " +
				"the custodian belongs to no shared care record named in the policy"},
		},
		{
			name: "no custodian", rule: "custodians",
			edits:   []func(*rbac.Request){record("", typeEmergencyPlan)},
			reasons: []string{"no custodian given for the record"},
		},
		{
			name: "administrative staff lack care plans", rule: "roles",
			edits:   []func(*rbac.Request){record("RE1", typeEmergencyPlan), role("S8000:G8001:R8008")},
			reasons: []string{"role R8008 lacks category care-plans"},
		},
		{
			name: "administrative staff see appointments", allowed: true, category: "appointments", agreement: "ISA-QRX-QEM-2025",
			edits: []func(*rbac.Request){record("RE1", typeAppointment), role("S8000:G8001:R8008")},
		},
		{
			name: "administrative staff see demographics by category", allowed: true, category: "demographics", rule: "local/QRX",
			edits: []func(*rbac.Request){role("R8009"), func(r *rbac.Request) { r.Custodian, r.Category = "Y12345", "demographics" }},
		},
		{
			name: "health professionals see NEWS2 charts", allowed: true,
			edits: []func(*rbac.Request){record("RE1", typeNEWS2), role("S8000:G8000:R8003", "B0360")},
		},
		{
			name: "health professionals lack summary records", rule: "roles",
			edits:   []func(*rbac.Request){record("RE1", typeSummary), role("S8000:G8000:R8003", "B0360")},
			reasons: []string{"role R8003 lacks category summary-record"},
		},
		{
			name: "sensitive records need B1611", rule: "roles",
			edits:   []func(*rbac.Request){record("RE1", typeLloydGeorge)},
			reasons: []string{"role R8000 lacks category sensitive-records"},
		},
		{
			name: "sensitive records with B1611 are audited", allowed: true, category: "sensitive-records", agreement: "ISA-QRX-QEM-2025",
			edits:       []func(*rbac.Request){record("RE1", typeLloydGeorge), role("S8000:G8000:R8000", "B0360", "B1611")},
			obligations: []rbac.Obligation{auditSensitive},
		},
		{
			name: "unknown record type", rule: "categories",
			edits:   []func(*rbac.Request){record("RE1", "1234567")},
			reasons: []string{"record type 1234567 is not in any data category"},
		},
		{
			name: "unknown category", rule: "categories",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Custodian, r.Category = "RE1", "genomics" }},
			reasons: []string{"unknown data category genomics"},
		},
		{
			name: "type and category disagree", rule: "categories",
			edits:   []func(*rbac.Request){record("RE1", typeNEWS2), func(r *rbac.Request) { r.Category = "care-plans" }},
			reasons: []string{"record type 1363501000000100 is in category observations, not care-plans"},
		},
		{
			name: "type and category agree", allowed: true, category: "observations",
			edits: []func(*rbac.Request){record("RE1", typeNEWS2), func(r *rbac.Request) { r.Category = "observations" }},
		},
		{
			name: "a record with no type or category", rule: "categories",
			edits: []func(*rbac.Request){record("RE1", ""), func(r *rbac.Request) {
				r.RecordConfidentiality = shcrkit.ConfidentialityRestricted
			}},
			reasons: []string{"no record type or data category given for the record"},
		},
		{
			name: "a very restricted record of an unrestricted patient", rule: "confidentiality/very_restricted",
			edits: []func(*rbac.Request){record("RE1", typeEmergencyPlan), func(r *rbac.Request) {
				r.RecordConfidentiality = shcrkit.ConfidentialityVeryRestricted
			}},
			reasons: []string{"the policy does not allow access to a very restricted (V) record"},
		},
		{
			name: "a restricted record: redact and audit", allowed: true,
			edits: []func(*rbac.Request){record("RE1", typeEmergencyPlan), func(r *rbac.Request) {
				r.RecordConfidentiality = shcrkit.ConfidentialityRestricted
			}},
			agreement:   "ISA-QRX-QEM-2025",
			obligations: []rbac.Obligation{auditRestricted, redactRestricted},
		},
		{
			name: "self-claimed relationship on a remote record", allowed: true, agreement: "ISA-QRX-QEM-2025",
			edits:       []func(*rbac.Request){record("RE1", typeEmergencyPlan), relationship(shcrkit.RelationshipSelfClaimed, "walk-in")},
			obligations: []rbac.Obligation{alertSelfClaimed, auditSelfClaimed, timeSelfClaimed},
		},
		{
			name: "unknown custodian with an unknown type lists both", rule: "categories",
			edits: []func(*rbac.Request){record("RZ9", "1234567")},
			reasons: []string{
				"record type 1234567 is not in any data category",
				"no sharing agreement between QRX and RZ9 in force on 2026-11-24: the custodian belongs to no shared care record named in the policy",
			},
		},
		{
			name: "caller text in a reason is quoted and masked", rule: "categories",
			edits:   []func(*rbac.Request){func(r *rbac.Request) { r.Custodian, r.Category = "RE1", "notes of 943 476 5919" }},
			reasons: []string{`unknown data category "notes of 943****919"`},
		},
	})
}

func TestDecideZeroTimeMeansNow(t *testing.T) {
	p := samplepolicy.Load()
	req := baseRequest()
	req.Time = time.Time{}
	req.Custodian, req.RecordType = "RX1", typeEmergencyPlan
	d := p.Decide(req)
	require.True(t, d.Allowed, d.String())
	assert.Equal(t, "local/QRX", d.Rule)
}

// A request that names any part of a record is decided as a record: it
// needs a custodian, and its category is reported.
func TestDecideRecordStage(t *testing.T) {
	d := samplepolicy.Load().Decide(baseRequest())
	require.True(t, d.Allowed, d.String())
	assert.Empty(t, d.Category)
	for _, edit := range []func(*rbac.Request){
		func(r *rbac.Request) { r.RecordType = typeNEWS2 },
		func(r *rbac.Request) { r.Category = "observations" },
		func(r *rbac.Request) { r.RecordConfidentiality = shcrkit.ConfidentialityRestricted },
	} {
		r := baseRequest()
		edit(&r)
		d := samplepolicy.Load().Decide(r)
		assert.False(t, d.Allowed)
		assert.Contains(t, d.Reasons, "no custodian given for the record")
	}
	r := baseRequest()
	r.Custodian, r.RecordType = "RE1", typeNEWS2
	d = samplepolicy.Load().Decide(r)
	require.True(t, d.Allowed, d.String())
	assert.Equal(t, "observations", d.Category)
}

func TestDecisionHelpers(t *testing.T) {
	p := samplepolicy.Load()
	req := baseRequest()
	req.Relationship = rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed, Reason: "walk-in"}
	d := p.Decide(req)
	require.True(t, d.Allowed)
	o, ok := d.Obligation(rbac.ObligationTimeBox)
	require.True(t, ok)
	assert.Equal(t, 8*time.Hour, o.Duration)
	_, ok = d.Obligation(rbac.ObligationRedact)
	assert.False(t, ok)
	assert.Equal(t, "allowed by relationships/self-claimed", d.String())
	assert.Equal(t, "self-claimed legitimate relationship with a recorded reason, accepted for purpose direct-care; "+
		"role grants access to data categories; each record is decided on its own", d.Reason())

	req.Relationship = rbac.Relationship{}
	d = p.Decide(req)
	assert.Equal(t, "denied by relationships: no legitimate relationship", d.String())
	require.ErrorIs(t, d.Err(), rbac.ErrDenied)
	require.ErrorIs(t, d.Err(), shcrkit.ErrForbidden)
	assert.Equal(t, "rbac: access denied by relationships: no legitimate relationship", d.Err().Error())
}

func TestDecideIsSafeForConcurrentUse(t *testing.T) {
	p := samplepolicy.Load()
	done := make(chan bool)
	for i := 0; i < 8; i++ {
		go func(i int) {
			ok := true
			for j := 0; j < 200; j++ {
				req := baseRequest()
				if (i+j)%2 == 0 {
					req.Custodian, req.RecordType = "RE1", typeEmergencyPlan
				} else {
					req.Relationship.Kind = shcrkit.RelationshipNone
				}
				ok = ok && p.Decide(req).Allowed == ((i+j)%2 == 0)
			}
			done <- ok
		}(i)
	}
	for i := 0; i < 8; i++ {
		assert.True(t, <-done)
	}
}
