package rbac_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// userinfo is a CIS2 userinfo response for an invented user with two
// roles: a nurse at a trust and an administrator at a practice.
const userinfo = `{
  "sub": "910000000001",
  "uid": "910000000001",
  "nhsid_useruid": "910000000001",
  "name": "Marnie Okafor",
  "given_name": "Marnie",
  "family_name": "Okafor",
  "authentication_assurance_level": "3",
  "nhsid_nrbac_roles": [
    {
      "person_orgid": "910000000101",
      "person_roleid": "910000000201",
      "org_code": "RX1",
      "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
      "role_code": "S8000:G8000:R8001",
      "activities": ["View Detailed Health Records", "Perform Detailed Health Record"],
      "activity_codes": ["B0360", "B0380"],
      "workgroups": ["Ward 7"],
      "aow": ["Acute medicine"]
    },
    {
      "person_orgid": "910000000102",
      "person_roleid": "910000000202",
      "org_code": "Y12345",
      "role_name": "\"Admin & Clerical\":\"Admin and Clerical\":\"Admin/Clinical Support Access Role\"",
      "role_code": "S8001:G8001:R8008",
      "activity_codes": ["B0560", "0825"]
    }
  ],
  "nhsid_user_orgs": [
    {"org_code": "RX1", "org_name": "Riverside Hospitals NHS Foundation Trust"},
    {"org_code": "Y12345", "org_name": "Millbrook Surgery"}
  ]
}`

func TestRequesterFromCIS2(t *testing.T) {
	nurse := shcrkit.Requester{
		UserID:           "910000000001",
		Name:             "Marnie Okafor",
		RoleProfileID:    "910000000201",
		RoleCode:         "S8000:G8000:R8001",
		RoleName:         "Nurse Access Role",
		Activities:       []string{"B0360", "B0380"},
		Organisation:     "RX1",
		OrganisationName: "Riverside Hospitals NHS Foundation Trust",
		AssuranceLevel:   3,
	}
	admin := shcrkit.Requester{
		UserID:           "910000000001",
		Name:             "Marnie Okafor",
		RoleProfileID:    "910000000202",
		RoleCode:         "S8001:G8001:R8008",
		RoleName:         "Admin/Clinical Support Access Role",
		Activities:       []string{"B0560", "B0825"},
		Organisation:     "Y12345",
		OrganisationName: "Millbrook Surgery",
		AssuranceLevel:   3,
	}
	cases := []struct {
		name     string
		userinfo string
		selected string
		want     shcrkit.Requester
		err      error
		msg      string
	}{
		{name: "first of several roles", userinfo: userinfo, selected: "910000000201", want: nurse},
		{name: "second of several roles", userinfo: userinfo, selected: " 910000000202 ", want: admin},
		{name: "selected role in the userinfo", selected: "",
			userinfo: strings.Replace(userinfo, `"sub"`, `"selected_roleid": "910000000202", "sub"`, 1), want: admin},
		{name: "the argument wins over the userinfo's selection", selected: "910000000201",
			userinfo: strings.Replace(userinfo, `"sub"`, `"selected_roleid": "910000000202", "sub"`, 1), want: nurse},
		{name: "missing selection with several roles", userinfo: userinfo, err: rbac.ErrRoleNotSelected,
			msg: "the user has 2 roles and none is selected"},
		{name: "unknown role", userinfo: userinfo, selected: "910000000999", err: rbac.ErrUnknownRole,
			msg: `role "910000000999" is not among the user's 2 roles`},
		{name: "no roles", userinfo: `{"sub": "910000000001", "nhsid_nrbac_roles": []}`, selected: "1", err: rbac.ErrUnknownRole,
			msg: "lists no national RBAC roles"},
		{name: "malformed JSON", userinfo: `{"sub": "910000000001",`, err: rbac.ErrInvalidUserInfo, msg: "malformed JSON"},
		{name: "not an object", userinfo: `[]`, err: rbac.ErrInvalidUserInfo, msg: "must be a JSON object, not array"},
		{name: "roles of the wrong type", userinfo: `{"sub": "1", "nhsid_nrbac_roles": {"a": 1}}`, err: rbac.ErrInvalidUserInfo,
			msg: "field nhsid_nrbac_roles has the wrong type"},
		{name: "no user", userinfo: `{"nhsid_nrbac_roles": [{"person_roleid": "1", "role_code": "R8000", "org_code": "RX1"}]}`,
			err: rbac.ErrInvalidUserInfo, msg: "no user ID"},
		{name: "bad role code", selected: "910000000201", err: rbac.ErrInvalidUserInfo,
			userinfo: strings.Replace(userinfo, "S8000:G8000:R8001", "Nurse", 1), msg: `role 910000000201 has role_code "Nurse"`},
		{name: "bad organisation", selected: "910000000201", err: rbac.ErrInvalidUserInfo,
			userinfo: strings.Replace(userinfo, `"org_code": "RX1",`, `"org_code": "",`, 1), msg: "has org_code"},
		{name: "bad activity code", selected: "910000000201", err: rbac.ErrInvalidUserInfo,
			userinfo: strings.Replace(userinfo, `"B0380"]`, `"View"]`, 1), msg: `activity code "VIEW"`},
		{name: "role without an ID", selected: "", err: rbac.ErrInvalidUserInfo,
			userinfo: `{"sub": "910000000001", "nhsid_nrbac_roles": [{"role_code": "R8000", "org_code": "RX1"}]}`, msg: "no person_roleid"},
		{name: "bad assurance level", selected: "910000000201", err: rbac.ErrInvalidUserInfo,
			userinfo: strings.Replace(userinfo, `"authentication_assurance_level": "3"`, `"authentication_assurance_level": "high"`, 1),
			msg:      "authentication_assurance_level"},
		{name: "assurance level out of range", selected: "910000000201", err: rbac.ErrInvalidUserInfo,
			userinfo: strings.Replace(userinfo, `"authentication_assurance_level": "3"`, `"authentication_assurance_level": 9`, 1),
			msg:      "is not 0 to 4"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rbac.RequesterFromCIS2([]byte(tc.userinfo), tc.selected)
			if tc.err != nil {
				require.Error(t, err)
				assert.True(t, errors.Is(err, tc.err), "%v", err)
				assert.Contains(t, err.Error(), tc.msg)
				assert.NotContains(t, err.Error(), "Okafor", "errors must not name the user")
				assert.Equal(t, shcrkit.Requester{}, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRequesterFromCIS2Variants(t *testing.T) {
	one := `{"uid": 910000000003, "given_name": "Sol", "family_name": "Reyes", "authentication_assurance_level": %s,
	  "nhsid_nrbac_roles": [{"person_roleid": 910000000301, "org_code": "re1", "role_code": "R0260", "role_name": "General Medical Practitioner"}]}`
	for _, tc := range []struct {
		aal  string
		want int
	}{{`"3"`, 3}, {`2`, 2}, {`"AAL3"`, 3}, {`null`, 0}} {
		r, err := rbac.RequesterFromCIS2([]byte(strings.Replace(one, "%s", tc.aal, 1)), "")
		require.NoError(t, err, tc.aal)
		assert.Equal(t, tc.want, r.AssuranceLevel, tc.aal)
		assert.Equal(t, "910000000003", r.UserID, "a numeric uid is read as text")
		assert.Equal(t, "910000000301", r.RoleProfileID, "the only role is chosen")
		assert.Equal(t, "Sol Reyes", r.Name)
		assert.Equal(t, "R0260", r.JobRole())
		assert.Equal(t, shcrkit.ODSCode("RE1"), r.Organisation)
		assert.Equal(t, "General Medical Practitioner", r.RoleName)
		assert.Empty(t, r.OrganisationName)
		assert.Nil(t, r.Activities)
	}

	// A Requester from CIS2 plus the calling system passes validation and
	// gets decisions from the example policy.
	r, err := rbac.RequesterFromCIS2([]byte(userinfo), "910000000201")
	require.NoError(t, err)
	r.System = shcrkit.System{Name: "Riverside EPR"}
	require.NoError(t, r.Validate())
	req := baseRequest()
	req.Requester = r
	req.Custodian, req.RecordType = "RE1", typeEmergencyPlan
	assert.True(t, samplepolicy.Load().Decide(req).Allowed)
}
