package identitytoken_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdentityClaimsShape(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	c := identitytoken.New(testRequester(), shcrkit.PurposeDirectCare, "https://north.example/fhir", "", false, now)
	tok, err := identitytoken.Sign("", nil, "", c)
	require.NoError(t, err)
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	assert.Empty(t, parts[2])
	header, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	assert.JSONEq(t, `{"alg":"none","typ":"JWT"}`, string(header))
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(payload, &m))
	assert.Equal(t, "Riverside EPR", m["iss"], "the issuer defaults to the calling system")
	assert.Equal(t, "https://north.example/fhir", m["aud"], "aud is a single string, as GP Connect writes it")
	assert.EqualValues(t, now.Unix()+300, m["exp"])
	assert.Equal(t, "patient/*.read conf/N", m["requested_scope"])
	dev := m["requesting_device"].(map[string]any)
	assert.Equal(t, "Device", dev["resourceType"])
	assert.Equal(t, "4.2", dev["version"])
	org := m["requesting_organization"].(map[string]any)
	assert.Equal(t, "Organization", org["resourceType"])
	assert.Equal(t, "Riverside Hospitals NHS Trust", org["name"])
	prac := m["requesting_practitioner"].(map[string]any)
	assert.Equal(t, "Practitioner", prac["resourceType"])
	assert.Equal(t, m["sub"], prac["id"])
	name := prac["name"].([]any)[0].(map[string]any)
	assert.Equal(t, "Okafor", name["family"])
	assert.Equal(t, []any{"Amara"}, name["given"])
	assert.Equal(t, []any{"Dr"}, name["prefix"], "a title is a prefix, not a given name")
}

func TestIdentityPractitionerName(t *testing.T) {
	tests := []struct {
		name string
		want []identitytoken.HumanName
	}{
		{"Dr Amara Okafor", []identitytoken.HumanName{{Text: "Dr Amara Okafor", Family: "Okafor", Given: []string{"Amara"}, Prefix: []string{"Dr"}}}},
		{"Prof. Sir Ian  Blake", []identitytoken.HumanName{{Text: "Prof. Sir Ian Blake", Family: "Blake", Given: []string{"Ian"}, Prefix: []string{"Prof.", "Sir"}}}},
		{"Priya Anand Shah", []identitytoken.HumanName{{Text: "Priya Anand Shah", Family: "Shah", Given: []string{"Priya", "Anand"}}}},
		{"Okafor", []identitytoken.HumanName{{Text: "Okafor", Family: "Okafor"}}},
		{"Dr Okafor", []identitytoken.HumanName{{Text: "Dr Okafor", Family: "Okafor", Prefix: []string{"Dr"}}}},
		{"   ", nil},
	}
	for _, tt := range tests {
		r := testRequester()
		r.Name = tt.name
		c := identitytoken.New(r, shcrkit.PurposeDirectCare, "https://north.example/fhir", "", false, time.Now())
		assert.Equal(t, tt.want, c.RequestingPractitioner.Name, tt.name)
	}
}

func TestIdentityCheckFindsEveryProblem(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	aud := "https://north.example/fhir"
	base := func() identitytoken.Claims {
		return identitytoken.New(testRequester(), shcrkit.PurposeDirectCare, aud, "", false, now)
	}
	tests := []struct {
		name string
		edit func(*identitytoken.Claims)
		want string
	}{
		{"no issuer", func(c *identitytoken.Claims) { c.Issuer = "" }, "iss is missing"},
		{"no subject", func(c *identitytoken.Claims) { c.Subject = "" }, "sub is missing"},
		{"no iat", func(c *identitytoken.Claims) { c.IssuedAt = 0 }, "iat is missing"},
		{"no exp", func(c *identitytoken.Claims) { c.ExpiresAt = 0 }, "exp is missing"},
		{"too long", func(c *identitytoken.Claims) { c.ExpiresAt = c.IssuedAt + 3600 }, "more than 5 minutes"},
		{"issued in the future", func(c *identitytoken.Claims) { c.IssuedAt += 600; c.ExpiresAt += 600 }, "iat is in the future"},
		{"other reason", func(c *identitytoken.Claims) { c.ReasonForRequest = "research" }, "reason_for_request"},
		{"other scope", func(c *identitytoken.Claims) { c.RequestedScope = "organization/*.read" }, "requested_scope"},
		{"no device", func(c *identitytoken.Claims) { c.RequestingDevice = identitytoken.Device{} }, "requesting_device"},
		{"no organisation ODS", func(c *identitytoken.Claims) { c.RequestingOrganization.Identifier = nil }, "no valid ODS code"},
		{"no role profile", func(c *identitytoken.Claims) {
			c.RequestingPractitioner.Identifier = c.RequestingPractitioner.Identifier[:1]
		}, "role profile"},
		{"sub and practitioner differ", func(c *identitytoken.Claims) { c.RequestingPractitioner.ID = "someone-else" }, "sub differs"},
		{"wrong audience", func(c *identitytoken.Claims) { c.Audience = "https://south.example/fhir" }, "aud is not this provider"},
		{"role code not national", func(c *identitytoken.Claims) { c.RequestingRole.Code = "consultant" }, "requesting_role.code"},
		{"role code half national", func(c *identitytoken.Claims) { c.RequestingRole.Code = "S8000:R8000" }, "requesting_role.code"},
		{"role code with letters in", func(c *identitytoken.Claims) { c.RequestingRole.Code = "S8000:G8000:R80x0" }, "requesting_role.code"},
		{"role code parts out of order", func(c *identitytoken.Claims) { c.RequestingRole.Code = "G8000:S8000:R8000" }, "requesting_role.code"},
		{"role code with four parts", func(c *identitytoken.Claims) { c.RequestingRole.Code = "S1:G1:R1:R1" }, "requesting_role.code"},
		{"empty role code", func(c *identitytoken.Claims) { c.RequestingRole.Code = "" }, "requesting_role.code"},
		{"activity not a B-code", func(c *identitytoken.Claims) { c.RequestingRole.Activities = []string{"B0360", "all"} }, "requesting_role.activities"},
		{"role name too long", func(c *identitytoken.Claims) { c.RequestingRole.Name = strings.Repeat("x", 201) }, "requesting_role.name"},
	}
	check := identitytoken.Check{Audience: aud, Now: func() time.Time { return now.Add(time.Minute) }}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.edit(&c)
			tok, err := identitytoken.Sign("", nil, "", c)
			require.NoError(t, err)
			_, err = check.Verify(tok)
			require.ErrorIs(t, err, identitytoken.ErrInvalid)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), tok)
		})
	}
	// Well-formed roles pass, and so does a token without one, as the
	// national token has none.
	for _, edit := range []func(*identitytoken.Claims){
		func(*identitytoken.Claims) {},
		func(c *identitytoken.Claims) { c.RequestingRole.Code = "R8000" },
		func(c *identitytoken.Claims) { c.RequestingRole.Activities = nil },
		func(c *identitytoken.Claims) { c.RequestingRole = nil },
	} {
		c := base()
		edit(&c)
		tok, err := identitytoken.Sign("", nil, "", c)
		require.NoError(t, err)
		_, err = check.Verify(tok)
		require.NoError(t, err)
	}
	tok, err := identitytoken.Sign("", nil, "", base())
	require.NoError(t, err)
	_, err = check.Verify("not.a.token")
	require.ErrorIs(t, err, identitytoken.ErrInvalid)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, err = identitytoken.Check{Audience: aud, Signing: auth.RS256, Key: &rk.PublicKey, Now: check.Now}.Verify(tok)
	require.ErrorIs(t, err, identitytoken.ErrInvalid, "an unsigned token is refused where a signature is required")
}

// A token verified once is taken again from Verified with only its
// times and audience checked anew: past its expiry, under another key or
// for another audience it gets the same answer as without Verified.
func TestIdentityCheckVerifiedTokens(t *testing.T) {
	issued := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	aud := "https://north.example/fhir"
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tok, err := identitytoken.Sign(auth.RS256, rk, "", identitytoken.New(testRequester(), shcrkit.PurposeDirectCare, aud, "", false, issued))
	require.NoError(t, err)
	var v identitytoken.Verified
	tests := []struct {
		name  string
		check identitytoken.Check
		ok    bool
	}{
		{"first time", identitytoken.Check{Audience: aud, Signing: auth.RS256, Key: &rk.PublicKey, Now: func() time.Time { return issued.Add(time.Minute) }}, true},
		{"again", identitytoken.Check{Audience: aud, Signing: auth.RS256, Key: &rk.PublicKey, Now: func() time.Time { return issued.Add(2 * time.Minute) }}, true},
		{"expired", identitytoken.Check{Audience: aud, Signing: auth.RS256, Key: &rk.PublicKey, Now: func() time.Time { return issued.Add(6 * time.Minute) }}, false},
		{"before issue", identitytoken.Check{Audience: aud, Signing: auth.RS256, Key: &rk.PublicKey, Now: func() time.Time { return issued.Add(-time.Minute) }}, false},
		{"another key", identitytoken.Check{Audience: aud, Signing: auth.RS256, Key: &other.PublicKey, Now: func() time.Time { return issued.Add(time.Minute) }}, false},
		{"another audience", identitytoken.Check{Audience: "https://south.example/fhir", Signing: auth.RS256, Key: &rk.PublicKey, Now: func() time.Time { return issued.Add(time.Minute) }}, false},
		{"unsigned expected", identitytoken.Check{Audience: aud, Now: func() time.Time { return issued.Add(time.Minute) }}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := tt.check.Verify(tok)
			cached := tt.check
			cached.Verified = &v
			got, err := cached.Verify(tok)
			if tt.ok {
				require.NoError(t, wantErr)
				require.NoError(t, err)
				assert.Equal(t, want, got)
				return
			}
			require.Error(t, wantErr)
			require.ErrorIs(t, err, identitytoken.ErrInvalid)
			assert.Equal(t, wantErr.Error(), err.Error())
		})
	}
}

func testRequester() shcrkit.Requester {
	return shcrkit.Requester{
		UserID:           "555021935107",
		Name:             "Dr Amara Okafor",
		RoleProfileID:    "555021936108",
		RoleCode:         "S8000:G8000:R8000",
		Activities:       []string{"B0360", "B0380"},
		Organisation:     "RX1",
		OrganisationName: "Riverside Hospitals NHS Trust",
		System:           shcrkit.System{Name: "Riverside EPR", Version: "4.2", ASID: "200000000101"},
	}
}

// TestClaimsReadBackWhatNewWrote: a provider reads from the claims the
// requester, purpose and scope the consumer built them from.
func TestClaimsReadBackWhatNewWrote(t *testing.T) {
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	r := testRequester()
	for _, tc := range []struct {
		purpose    shcrkit.Purpose
		restricted bool
	}{{shcrkit.PurposeDirectCare, false}, {shcrkit.PurposeEmergency, true}, {shcrkit.PurposeBreakGlass, false}} {
		c := identitytoken.New(r, tc.purpose, "https://north.example/fhir", "", tc.restricted, now)
		got := c.Requester()
		assert.Equal(t, r.UserID, got.UserID)
		assert.Equal(t, r.RoleProfileID, got.RoleProfileID)
		assert.Equal(t, r.Organisation, got.Organisation)
		assert.Equal(t, r.OrganisationName, got.OrganisationName)
		assert.Equal(t, r.System, got.System)
		assert.Equal(t, r.RoleCode, got.RoleCode)
		assert.Equal(t, r.Activities, got.Activities)
		assert.Equal(t, "Okafor", c.Family())
		p, err := c.Purpose()
		require.NoError(t, err)
		assert.Equal(t, tc.purpose, p)
		assert.Equal(t, tc.restricted, c.Restricted())
	}

	var none identitytoken.Claims
	p, err := none.Purpose()
	require.NoError(t, err)
	assert.Equal(t, shcrkit.PurposeDirectCare, p, "a token without purpose_of_use is for direct care, as GP Connect's are")
	assert.Empty(t, none.Family())
	none.PurposeOfUse = "MARKETING"
	_, err = none.Purpose()
	assert.ErrorIs(t, err, identitytoken.ErrInvalid)
}
