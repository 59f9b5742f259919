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
				assert.ErrorIs(t, err, shcrkit.ErrInvalidRequester)
			}
		})
	}
}

func TestSessionContextAndKey(t *testing.T) {
	_, ok := shcrkit.SessionFrom(context.Background())
	assert.False(t, ok)
	r := shcrkit.Requester{UserID: "555000000001", RoleProfileID: "100200300400", Organisation: "RX1"}
	s := shcrkit.Session{ID: "sess-1", UserID: r.UserID, Organisation: r.Organisation, RoleProfileID: r.RoleProfileID, IDToken: "id-token"}
	got, ok := shcrkit.SessionFrom(shcrkit.WithSession(context.Background(), s))
	require.True(t, ok)
	assert.Equal(t, s, got)
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
	assert.ErrorIs(t, err, shcrkit.ErrInvalidRequest)
	assert.Equal(t, `shcrkit: identity mismatch: the call is for organisation "RX1" but the PDS client's WithEndUserOrganisation says "RX9"; refused before any request`, err.Error())
}

func TestSessionRoleProfileIDIsAURID(t *testing.T) {
	assert.NoError(t, shcrkit.Session{RoleProfileID: "555021936108"}.Validate())
	for _, bad := range []string{"12a", "123456789012345678901", " 1"} {
		assert.ErrorIs(t, shcrkit.Session{RoleProfileID: bad}.Validate(), shcrkit.ErrInvalidRequester, bad)
	}
}
