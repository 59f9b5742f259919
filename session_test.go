package shcrkit_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSessionValidate(t *testing.T) {
	tests := []struct {
		name string
		s    shcrkit.Session
		ok   bool
	}{
		{"empty", shcrkit.Session{}, true},
		{"full", shcrkit.Session{ID: "s", UserID: "555000000001", Organisation: "RX1", RoleProfileID: "100200300400", IDToken: "eyJ"}, true},
		{"lower-case organisation", shcrkit.Session{Organisation: "rx1"}, false},
		{"role with letters", shcrkit.Session{RoleProfileID: "R8000"}, false},
		{"role too long", shcrkit.Session{RoleProfileID: "123456789012345678901"}, false},
		{"ID with a newline", shcrkit.Session{ID: "a\nb"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Validate()
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, shcrkit.ErrInvalidSession)
			}
		})
	}
}

func TestSessionContextAndKey(t *testing.T) {
	_, ok := shcrkit.SessionFrom(context.Background())
	assert.False(t, ok)
	r := shcrkit.Requester{UserID: "555000000001", RoleProfileID: "100200300400", Organisation: "RX1"}
	s := shcrkit.SessionOf(r, "sess-1", "id-token")
	got, ok := shcrkit.SessionFrom(shcrkit.WithSession(context.Background(), s))
	require.True(t, ok)
	assert.Equal(t, s, got)
	renewed := s
	renewed.IDToken = "id-token-2"
	assert.Equal(t, s.Key(), renewed.Key(), "a renewed ID token keeps the session")
	other := s
	other.Organisation = "RX2"
	assert.NotEqual(t, s.Key(), other.Key())
	assert.False(t, s.IsZero())
	assert.True(t, shcrkit.Session{}.IsZero())
}

func TestSessionNeverShowsItsIDToken(t *testing.T) {
	s := shcrkit.Session{ID: "s", UserID: "555000000001", Organisation: "RX1", RoleProfileID: "1", IDToken: "SECRET-ID-TOKEN"}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("call", "session", s)
	for _, out := range []string{buf.String(), s.String(), fmt.Sprintf("%v %+v %#v", s, s, s)} {
		assert.NotContains(t, out, "SECRET")
		assert.Contains(t, out, "555000000001")
	}
}

func TestIdentityMismatchError(t *testing.T) {
	err := error(&shcrkit.IdentityMismatchError{Field: "organisation", Want: "RX1", Got: "RX9", Source: "the PDS client's WithEndUserOrganisation"})
	assert.ErrorIs(t, err, shcrkit.ErrIdentityMismatch)
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.Equal(t, `shcrkit: identity mismatch: the call is for organisation "RX1" but the PDS client's WithEndUserOrganisation says "RX9"; refused before any request`, err.Error())
}

func TestValidURID(t *testing.T) {
	assert.True(t, shcrkit.ValidURID("555021936108"))
	for _, bad := range []string{"", "12a", "123456789012345678901", " 1"} {
		assert.False(t, shcrkit.ValidURID(bad), bad)
	}
}
