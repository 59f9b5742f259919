package shcrkit_test

import (
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseODSCode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"RX1", "RX1", true},
		{" y12345 ", "Y12345", true},
		{"ABCDEFGHIJKL", "ABCDEFGHIJKL", true},
		{"AB", "", false},
		{"ABCDEFGHIJKLM", "", false},
		{"RX-1", "", false},
		{"", "", false},
		{"RX1 2", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := shcrkit.ParseODSCode(tt.in)
			if !tt.ok {
				require.ErrorIs(t, err, shcrkit.ErrInvalidCode)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			assert.True(t, got.Valid())
		})
	}
	c, err := shcrkit.ParseODSCode("rx1")
	require.NoError(t, err)
	assert.Equal(t, shcrkit.ODSCode("RX1"), c)
	assert.False(t, shcrkit.ODSCode("rx1").Valid(), "lower case is not canonical")
}

func TestPurpose(t *testing.T) {
	tests := []struct {
		p     shcrkit.Purpose
		code  string
		words []string
	}{
		{shcrkit.PurposeDirectCare, "TREAT", []string{"TREAT", "treat", "direct-care"}},
		{shcrkit.PurposeEmergency, "ETREAT", []string{"ETREAT", "emergency"}},
		{shcrkit.PurposeBreakGlass, "BTG", []string{"BTG", "break-glass", "Break_Glass"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.code, tt.p.ActReason())
		name, err := shcrkit.ParsePurpose(tt.p.String())
		require.NoError(t, err, "String is a name ParsePurpose reads")
		assert.Equal(t, tt.p, name)
		assert.True(t, tt.p.Valid())
		for _, w := range tt.words {
			got, err := shcrkit.ParsePurpose(w)
			require.NoError(t, err, w)
			assert.Equal(t, tt.p, got)
		}
		b, err := tt.p.MarshalText()
		require.NoError(t, err)
		var back shcrkit.Purpose
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, tt.p, back)
	}
	var zero shcrkit.Purpose
	assert.False(t, zero.Valid())
	assert.Equal(t, "", zero.ActReason())
	_, err := shcrkit.ParsePurpose("research")
	require.ErrorIs(t, err, shcrkit.ErrInvalidCode)
	_, err = shcrkit.Purpose(99).MarshalText()
	require.ErrorIs(t, err, shcrkit.ErrInvalidCode)
}

func validRequester() shcrkit.Requester {
	return shcrkit.Requester{
		UserID:           "555021935107",
		Name:             "Dr Ada Okafor",
		RoleProfileID:    "555021936108",
		RoleCode:         "S8000:G8000:R8000",
		Activities:       []string{"B0360", "B0380"},
		Organisation:     "RX1",
		OrganisationName: "Riverside Hospital",
		System:           shcrkit.System{Name: "Riverside EPR", Version: "4.2", ASID: "200000000117"},
	}
}

func TestRequesterValidate(t *testing.T) {
	require.NoError(t, validRequester().Validate())
	assert.Equal(t, "R8000", validRequester().JobRole())

	tests := []struct {
		name   string
		modify func(*shcrkit.Requester)
		want   string
	}{
		{"no user", func(r *shcrkit.Requester) { r.UserID = " " }, "UserID is required"},
		{"no role profile", func(r *shcrkit.Requester) { r.RoleProfileID = "" }, "RoleProfileID is required"},
		{"no role code", func(r *shcrkit.Requester) { r.RoleCode = "" }, "RoleCode is required"},
		{"bad role code", func(r *shcrkit.Requester) { r.RoleCode = "S8000:R8000" }, "is not Sxxxx:Gxxxx:Rxxxx"},
		{"bad activity", func(r *shcrkit.Requester) { r.Activities = []string{"0360"} }, "is not Bnnnn"},
		{"no organisation", func(r *shcrkit.Requester) { r.Organisation = "" }, "Organisation is required"},
		{"bad organisation", func(r *shcrkit.Requester) { r.Organisation = "r!" }, "not a valid ODS code"},
		{"no system", func(r *shcrkit.Requester) { r.System.Name = "" }, "System.Name is required"},
		{"bad ASID", func(r *shcrkit.Requester) { r.System.ASID = "12" }, "ASID must be 12 digits"},
		{"bad assurance", func(r *shcrkit.Requester) { r.AssuranceLevel = 7 }, "AssuranceLevel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequester()
			tt.modify(&r)
			err := r.Validate()
			require.ErrorIs(t, err, shcrkit.ErrInvalidRequester)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	r := validRequester()
	r.RoleCode = "R8001"
	require.NoError(t, r.Validate())
	assert.Equal(t, "R8001", r.JobRole())

	// Every problem is reported at once.
	err := shcrkit.Requester{}.Validate()
	for _, want := range []string{"UserID", "RoleProfileID", "RoleCode", "Organisation", "System.Name"} {
		assert.Contains(t, err.Error(), want)
	}
}
