package shcrkit_test

import (
	"encoding/json"
	"testing"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfidentialityUnmarshalText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want shcrkit.Confidentiality
	}{
		{"", shcrkit.ConfidentialityUnrestricted},
		{"U", shcrkit.ConfidentialityUnrestricted},
		{"n", shcrkit.ConfidentialityUnrestricted},
		{"L", shcrkit.ConfidentialityUnrestricted},
		{"M", shcrkit.ConfidentialityUnrestricted},
		{" R ", shcrkit.ConfidentialityRestricted},
		{"V", shcrkit.ConfidentialityVeryRestricted},
	} {
		var got shcrkit.Confidentiality
		require.NoError(t, got.UnmarshalText([]byte(tc.in)), tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"REDACTED", "X", "UU", "9434765919"} {
		var got shcrkit.Confidentiality
		err := got.UnmarshalText([]byte(bad))
		require.ErrorIs(t, err, shcrkit.ErrInvalidCode)
		assert.Equal(t, shcrkit.ConfidentialityVeryRestricted, got, "an unreadable label fails closed")
		assert.NotContains(t, err.Error(), "9434765919")
	}
}

func TestConfidentialityText(t *testing.T) {
	assert.Equal(t, "R", shcrkit.ConfidentialityRestricted.Code())
	assert.Equal(t, "very restricted", shcrkit.ConfidentialityVeryRestricted.String())
	assert.Equal(t, "?", shcrkit.Confidentiality(9).Code())
	assert.False(t, shcrkit.ConfidentialityUnrestricted.Restricted())
	assert.True(t, shcrkit.ConfidentialityRestricted.Restricted())
	var c shcrkit.Confidentiality
	require.NoError(t, c.UnmarshalText([]byte("V")))
	assert.Equal(t, shcrkit.ConfidentialityVeryRestricted, c)
	text, err := c.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "V", string(text))
	require.NoError(t, c.UnmarshalText(nil))
	assert.Equal(t, shcrkit.ConfidentialityUnrestricted, c)
	require.ErrorIs(t, c.UnmarshalText([]byte("Q")), shcrkit.ErrInvalidCode)
	assert.Equal(t, shcrkit.ConfidentialityVeryRestricted, c)
	_, err = shcrkit.Confidentiality(5).MarshalText()
	require.ErrorIs(t, err, shcrkit.ErrInvalidCode)

	type labelled struct {
		Conf shcrkit.Confidentiality `json:"conf,omitempty"`
	}
	b, err := json.Marshal(labelled{shcrkit.ConfidentialityRestricted})
	require.NoError(t, err)
	assert.JSONEq(t, `{"conf":"R"}`, string(b))
	b, err = json.Marshal(labelled{})
	require.NoError(t, err)
	assert.JSONEq(t, `{}`, string(b))
}

func TestConfidentialityOfFailsClosed(t *testing.T) {
	coding := func(system, code string) fhir.Coding {
		c := fhir.Coding{}
		if system != "" {
			c.System = &system
		}
		if code != "" {
			c.Code = &code
		}
		return c
	}
	const v3 = codesystem.Confidentiality
	for _, tc := range []struct {
		name   string
		labels []fhir.Coding
		want   shcrkit.Confidentiality
	}{
		{"no label", nil, shcrkit.ConfidentialityUnrestricted},
		{"unrestricted", []fhir.Coding{coding(v3, "U")}, shcrkit.ConfidentialityUnrestricted},
		{"normal", []fhir.Coding{coding(v3, "N")}, shcrkit.ConfidentialityUnrestricted},
		{"restricted", []fhir.Coding{coding(v3, "R")}, shcrkit.ConfidentialityRestricted},
		{"older system name", []fhir.Coding{coding("http://hl7.org/fhir/v3/Confidentiality", "V")}, shcrkit.ConfidentialityVeryRestricted},
		{"oid", []fhir.Coding{coding("urn:oid:2.16.840.1.113883.5.25", "R")}, shcrkit.ConfidentialityRestricted},
		{"most restrictive wins", []fhir.Coding{coding(v3, "V"), coding(v3, "U"), coding(v3, "R")}, shcrkit.ConfidentialityVeryRestricted},
		{"unreadable code", []fhir.Coding{coding(v3, "U"), coding(v3, "SECRET")}, shcrkit.ConfidentialityVeryRestricted},
		{"code missing", []fhir.Coding{coding(v3, "")}, shcrkit.ConfidentialityVeryRestricted},
		{"lower case is not a code", []fhir.Coding{coding(v3, "r")}, shcrkit.ConfidentialityVeryRestricted},
		{"other systems ignored", []fhir.Coding{coding("http://example.org/tags", "V"), coding("", "V")}, shcrkit.ConfidentialityUnrestricted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, shcrkit.ConfidentialityOf(tc.labels...))
		})
	}
	c := shcrkit.ConfidentialityRestricted.Coding()
	assert.Equal(t, shcrkit.ConfidentialityRestricted, shcrkit.ConfidentialityOf(c))
}

func TestRelationshipKindText(t *testing.T) {
	for in, want := range map[string]shcrkit.RelationshipKind{
		"registered": shcrkit.RelationshipRegistered, "Referral": shcrkit.RelationshipReferral, "encounter": shcrkit.RelationshipEncounter,
		"care_team": shcrkit.RelationshipCareTeam, "self-claimed": shcrkit.RelationshipSelfClaimed, "break-glass": shcrkit.RelationshipEmergency,
		"none": shcrkit.RelationshipNone,
	} {
		got, err := shcrkit.ParseRelationshipKind(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
		var k shcrkit.RelationshipKind
		require.NoError(t, k.UnmarshalText([]byte(in)))
		assert.Equal(t, want, k)
		text, err := k.MarshalText()
		require.NoError(t, err)
		back, err := shcrkit.ParseRelationshipKind(string(text))
		require.NoError(t, err)
		assert.Equal(t, want, back)
	}
	_, err := shcrkit.ParseRelationshipKind("friend")
	require.ErrorIs(t, err, shcrkit.ErrInvalidCode)
	k := shcrkit.RelationshipCareTeam
	require.NoError(t, k.UnmarshalText(nil))
	assert.Equal(t, shcrkit.RelationshipNone, k)
	require.Error(t, k.UnmarshalText([]byte("friend")))
	_, err = shcrkit.RelationshipKind(40).MarshalText()
	require.ErrorIs(t, err, shcrkit.ErrInvalidCode)
	assert.Equal(t, "RelationshipKind(40)", shcrkit.RelationshipKind(40).String())
}
