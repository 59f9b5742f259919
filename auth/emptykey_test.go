package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A zero-valued key struct is a configuration mistake, reported as one;
// before, NewSignedJWT panicked on it.
func TestNewSignedJWTRefusesZeroKeysWithoutPanicking(t *testing.T) {
	for name, tt := range map[string]struct {
		alg auth.Algorithm
		key crypto.Signer
	}{
		"zero RSA key": {auth.RS512, &rsa.PrivateKey{}},
		"zero EC key":  {auth.ES256, &ecdsa.PrivateKey{}},
	} {
		t.Run(name, func(t *testing.T) {
			require.NotPanics(t, func() {
				_, err := auth.NewSignedJWT(auth.SignedJWTConfig{APIKey: "key", TokenURL: "https://api.example/oauth2/token",
					KeyID: "kid", Algorithm: tt.alg, PrivateKey: tt.key})
				assert.ErrorIs(t, err, shcrkit.ErrInvalidOption)
			})
		})
	}
}
