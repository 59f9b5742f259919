package attack

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
)

// grantedJobRoles are the job roles the example policy grants on their own
// or with activity B0360 or B0380.
var grantedJobRoles = []string{"R8000", "R0260", "R0270", "R6200", "R6300", "R0050", "R0110", "R8001", "R8003", "R8006", "R8008", "R8009", "R8010"}

// TestRoleCodesWithLeadingZeros: every job role the policy grants, spelt
// with zeros added or removed, is not that role: it gets no grant, and one
// that is not R with four or five digits is refused as malformed.
func TestRoleCodesWithLeadingZeros(t *testing.T) {
	const promise = "role codes match exactly (leading zeros, short codes)"
	p := samplepolicy.Load()
	base := rbac.Request{
		Patient:      rbac.Subject{NHSNumber: shcrkit.NHSNumber(patientNHS)},
		Relationship: rbac.Relationship{Kind: shcrkit.RelationshipRegistered},
		Purpose:      shcrkit.PurposeDirectCare,
		Time:         time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
	}
	req := func(code string) rbac.Request {
		r := base
		r.Requester = requester()
		r.Requester.RoleCode, r.Requester.Activities = code, []string{"B0360", "B0380"}
		r.Requester.AssuranceLevel = 3
		return r
	}
	for _, jr := range grantedJobRoles {
		digits := jr[1:]
		// Other requirements of the policy (a verified relationship, say)
		// may refuse too; what matters is whether the role was granted.
		require := func(code string, wantGranted bool) {
			d := p.Decide(req(code))
			refusedRole := strings.Contains(d.Reason(), "has no access level") || strings.Contains(d.Reason(), "is malformed")
			attempt(promise, refusedRole != wantGranted)
			assert.Equal(t, wantGranted, !refusedRole, "%s: %s", code, d)
		}
		// The code itself, and the spellings that are the same string.
		require(jr, true)
		require(" "+strings.ToLower(jr)+" ", true)
		require("S8000:G8000:"+jr, true)
		// Zeros added, zeros taken away, digits that are not ASCII.
		for _, v := range []string{"R0" + digits, "R00" + digits, "R000" + digits, "R" + strings.TrimLeft(digits, "0"),
			"S8000:G8000:R0" + digits, "R" + strings.Map(func(r rune) rune { return r - '0' + '０' }, digits),
			"R+" + digits, "R " + digits, fmt.Sprintf("R%d.0", mustAtoi(digits))} {
			if v == jr {
				continue
			}
			require(v, false)
		}
	}
	report(t, promise)
}

func mustAtoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

const cis2UserInfo = `{
  "sub": "910000000001", "uid": "910000000001", "nhsid_useruid": "910000000001",
  "name": "Marnie Okafor", "authentication_assurance_level": "3",
  "nhsid_nrbac_roles": [
    {"person_orgid": "910000000101", "person_roleid": "910000000201", "org_code": "RX1",
     "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"", "role_code": "S8000:G8000:R8001",
     "activity_codes": ["B0360", "B0380"]},
    {"person_orgid": "910000000102", "person_roleid": "910000000202", "org_code": "Y12345",
     "role_name": "\"Admin\"", "role_code": "S8001:G8001:R8008", "activity_codes": ["B0560"]}
  ],
  "nhsid_user_orgs": [{"org_code": "RX1", "org_name": "Riverside"}, {"org_code": "Y12345", "org_name": "Millbrook"}]
}`

// TestHostileCIS2UserInfo: ambiguous, malformed and oversized userinfo is
// refused with rbac.ErrInvalidUserInfo, never read one way or another.
func TestHostileCIS2UserInfo(t *testing.T) {
	const promise = "hostile CIS2 userinfo refused"
	r := strings.Replace
	hostile := map[string]string{
		"duplicate sub":                r(cis2UserInfo, `"sub": "910000000001",`, `"sub": "910000000001", "sub": "910000000009",`, 1),
		"duplicate user ID":            r(cis2UserInfo, `"uid": "910000000001",`, `"uid": "910000000001", "nhsid_useruid": "1",`, 1),
		"duplicate role code":          r(cis2UserInfo, `"role_code": "S8000:G8000:R8001",`, `"role_code": "S8000:G8000:R8001", "role_code": "S8000:G8000:R8000",`, 1),
		"duplicate org_code in a role": r(cis2UserInfo, `"org_code": "RX1",`, `"org_code": "RX1", "org_code": "Y12345",`, 1),
		"duplicate activity_codes":     r(cis2UserInfo, `"activity_codes": ["B0360", "B0380"]`, `"activity_codes": ["B0360"], "activity_codes": ["B1611"]`, 1),
		"duplicate roles list":         r(cis2UserInfo, `"nhsid_user_orgs"`, `"nhsid_nrbac_roles": [], "nhsid_user_orgs"`, 1),
		"duplicate key in an org":      r(cis2UserInfo, `{"org_code": "RX1", "org_name": "Riverside"}`, `{"org_code": "RX1", "org_name": "Riverside", "org_name": "Other"}`, 1),
		"escaped duplicate key":        r(cis2UserInfo, `"sub": "910000000001",`, `"sub": "910000000001", "s\u0075b": "2",`, 1),
		"duplicate person_roleid":      r(cis2UserInfo, `"910000000202"`, `"910000000201"`, 1),
		"person_roleid padded":         r(cis2UserInfo, `"910000000202"`, `" 910000000201 "`, 1),
		"person_roleid as number":      r(cis2UserInfo, `"910000000202"`, `910000000201`, 1),
		"job role with leading zeros":  r(cis2UserInfo, `"S8000:G8000:R8001"`, `"S8000:G8000:R008001"`, 1),
		"job role too short":           r(cis2UserInfo, `"S8000:G8000:R8001"`, `"S8000:G8000:R801"`, 1),
		"job role not a code":          r(cis2UserInfo, `"S8000:G8000:R8001"`, `"Nurse"`, 1),
		"oversized":                    `{"sub":"1","x":"` + strings.Repeat("a", 256<<10) + `"}`,
		"a million activity codes":     `{"sub":"1","nhsid_nrbac_roles":[{"person_roleid":"1","org_code":"RX1","role_code":"R8000","activity_codes":[` + strings.Repeat(`"B0360",`, 1_000_000) + `"B0360"]}]}`,
		"not an object":                `["sub"]`,
		"truncated":                    cis2UserInfo[:len(cis2UserInfo)/2],
	}
	for name, info := range hostile {
		_, err := rbac.RequesterFromCIS2([]byte(info), "910000000201")
		held := assert.ErrorIs(t, err, rbac.ErrInvalidUserInfo, name)
		attempt(promise, held)
	}
	// A well-formed code with a leading zero is read as written, never
	// as the role it resembles.
	req, err := rbac.RequesterFromCIS2([]byte(r(cis2UserInfo, `"S8000:G8000:R8001"`, `"S8000:G8000:R08001"`, 1)), "910000000201")
	held := assert.NoError(t, err) && assert.Equal(t, "S8000:G8000:R08001", req.RoleCode)
	attempt(promise, held)
	report(t, promise)
}
