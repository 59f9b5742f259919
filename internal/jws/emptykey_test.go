package jws_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/shcrkit/shcrkit/internal/jws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A key that is not there, or holds only a public half, is refused with
// an error: before, Public, CheckKey or the ECDSA signer dereferenced a
// nil pointer and the caller's goroutine panicked.
func TestSignRefusesEmptyKeysWithoutPanicking(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tests := []struct {
		name string
		alg  jws.Algorithm
		key  crypto.Signer
	}{
		{"nil *rsa.PrivateKey", jws.RS256, (*rsa.PrivateKey)(nil)},
		{"nil *ecdsa.PrivateKey", jws.ES256, (*ecdsa.PrivateKey)(nil)},
		{"zero *rsa.PrivateKey", jws.RS256, &rsa.PrivateKey{}},
		{"zero *ecdsa.PrivateKey", jws.ES256, &ecdsa.PrivateKey{}},
		{"EC key with no private scalar", jws.ES256, &ecdsa.PrivateKey{PublicKey: ec.PublicKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NotPanics(t, func() {
				assert.Error(t, tt.alg.CheckSigner(tt.key))
				_, err := jws.Sign(tt.alg, tt.key, nil, jwt.MapClaims{"sub": "x"})
				assert.Error(t, err)
			})
		})
	}
	require.NotPanics(t, func() {
		assert.Error(t, jws.RS256.CheckKey((*rsa.PublicKey)(nil)))
		assert.Error(t, jws.RS256.CheckKey(&rsa.PublicKey{}))
		assert.Error(t, jws.ES256.CheckKey(&ecdsa.PublicKey{}))
		assert.Error(t, jws.ES256.CheckKey((*ecdsa.PublicKey)(nil)))
	})
}
