package shcr_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An identity key that is a nil pointer, a zero struct or only a public
// half is a directory mistake, reported by NewDirectory; before, it
// panicked there (nil or zero key) or on every request's signature (an
// EC key without its private scalar).
func TestNewDirectoryRefusesEmptyIdentityKeysWithoutPanicking(t *testing.T) {
	_, ec := testKeys(t)
	for name, id := range map[string]shcr.Identity{
		"nil RSA key":    {Signing: auth.RS256, Key: (*rsa.PrivateKey)(nil)},
		"zero RSA key":   {Signing: auth.RS256, Key: &rsa.PrivateKey{}},
		"zero EC key":    {Signing: auth.ES256, Key: &ecdsa.PrivateKey{}},
		"public EC half": {Signing: auth.ES256, Key: crypto.Signer(&ecdsa.PrivateKey{PublicKey: ec.PublicKey})},
	} {
		t.Run(name, func(t *testing.T) {
			require.NotPanics(t, func() {
				_, err := shcr.NewDirectory(shcr.DirectoryConfig{Endpoints: []shcr.Endpoint{{Name: "north",
					Custodians: []shcrkit.ODSCode{"RN1"}, BaseURL: "https://north.example/fhir", Identity: id}}})
				assert.ErrorIs(t, err, shcr.ErrInvalidDirectory)
			})
		})
	}
}
