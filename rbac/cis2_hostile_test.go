package rbac_test

import (
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// maxUserInfoBytes is the most RequesterFromCIS2 reads.
const maxUserInfoBytes = 256 << 10

// hostileUserInfo are userinfo answers that are ambiguous or abusive; each
// must be refused with ErrInvalidUserInfo, never read one way or another.
func hostileUserInfo() map[string]string {
	big := `{"sub":"1","nhsid_nrbac_roles":[{"person_roleid":"1","org_code":"RX1","role_code":"R8000","activity_codes":[` +
		strings.Repeat(`"B0360",`, maxUserInfoBytes/8) + `"B0360"]}]}`
	return map[string]string{
		"duplicate top-level key":                strings.Replace(userinfo, `"sub": "910000000001",`, `"sub": "910000000001", "nhsid_useruid": "910000000999",`, 1),
		"duplicate key in a role":                strings.Replace(userinfo, `"role_code": "S8000:G8000:R8001",`, `"role_code": "S8000:G8000:R8001", "role_code": "S8000:G8000:R8000",`, 1),
		"duplicate key in an org":                strings.Replace(userinfo, `{"org_code": "RX1",`, `{"org_code": "RX1", "org_code": "Y12345",`, 1),
		"duplicate roles key":                    strings.Replace(userinfo, `"nhsid_user_orgs"`, `"nhsid_nrbac_roles": [], "nhsid_user_orgs"`, 1),
		"duplicate person_roleid":                strings.Replace(userinfo, `"person_roleid": "910000000202"`, `"person_roleid": "910000000201"`, 1),
		"person_roleid padded":                   strings.Replace(userinfo, `"person_roleid": "910000000202"`, `"person_roleid": " 910000000201 "`, 1),
		"person_roleid as a number":              strings.Replace(userinfo, `"person_roleid": "910000000202"`, `"person_roleid": 910000000201`, 1),
		"role code with a leading zero job role": strings.Replace(userinfo, `"S8000:G8000:R8001"`, `"S8000:G8000:R0008001"`, 1),
		"role code too short":                    strings.Replace(userinfo, `"S8000:G8000:R8001"`, `"S8000:G8000:R801"`, 1),
		"over the size limit":                    big,
	}
}

func TestRequesterFromCIS2RefusesHostileUserInfo(t *testing.T) {
	for name, info := range hostileUserInfo() {
		t.Run(name, func(t *testing.T) {
			_, err := rbac.RequesterFromCIS2([]byte(info), "910000000201")
			require.ErrorIs(t, err, rbac.ErrInvalidUserInfo)
			assert.NotContains(t, err.Error(), "Marnie")
		})
	}
}

func TestRequesterFromCIS2DuplicateKeysOnlyWithinOneObject(t *testing.T) {
	// The same key in two different objects is not a duplicate.
	req, err := rbac.RequesterFromCIS2([]byte(userinfo), "910000000201")
	require.NoError(t, err)
	assert.Equal(t, "S8000:G8000:R8001", req.RoleCode)
	lower := strings.Replace(userinfo, `"S8000:G8000:R8001"`, `" s8000:g8000:r8001 "`, 1)
	req, err = rbac.RequesterFromCIS2([]byte(lower), "910000000201")
	require.NoError(t, err)
	assert.Equal(t, "S8000:G8000:R8001", req.RoleCode, "trimmed and upper-cased")
}

// BenchmarkRequesterFromCIS2Large reads userinfo at the size limit, full of
// activity codes: time per byte must not grow with the input.
func BenchmarkRequesterFromCIS2Large(b *testing.B) {
	codes := make([]string, 0, 30000)
	for i := range 30000 {
		codes = append(codes, `"B`+strings.Repeat("0", 4-len(itoa(i%10000)))+itoa(i%10000)+`"`)
	}
	info := []byte(`{"sub":"1","nhsid_nrbac_roles":[{"person_roleid":"1","org_code":"RX1","role_code":"R8000","activity_codes":[` +
		strings.Join(codes, ",") + `]}]}`)
	require.Less(b, len(info), maxUserInfoBytes)
	b.SetBytes(int64(len(info)))
	for b.Loop() {
		if _, err := rbac.RequesterFromCIS2(info, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
