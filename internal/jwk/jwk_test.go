package jwk_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"testing"

	"github.com/shcrkit/shcrkit/internal/jwk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestPublicKey(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	ecPoint, err := ek.PublicKey.Bytes()
	require.NoError(t, err)
	x, y := ecPoint[1:33], ecPoint[33:]
	rsaJWK := func(k *rsa.PublicKey) jwk.Key {
		return jwk.Key{KeyType: "RSA", N: b64(k.N.Bytes()), E: b64(big.NewInt(int64(k.E)).Bytes())}
	}
	offCurve := append([]byte(nil), y...)
	offCurve[len(offCurve)-1] ^= 1
	tests := []struct {
		name string
		key  jwk.Key
		want any
	}{
		{"RSA", rsaJWK(&rk.PublicKey), &rk.PublicKey},
		{"EC P-256", jwk.Key{KeyType: "EC", Curve: "P-256", X: b64(x), Y: b64(y)}, &ek.PublicKey},
		{"RSA under 2048 bits", rsaJWK(&small.PublicKey), nil},
		{"even RSA exponent", jwk.Key{KeyType: "RSA", N: rsaJWK(&rk.PublicKey).N, E: b64([]byte{4})}, nil},
		{"RSA not base64url", jwk.Key{KeyType: "RSA", N: "!!", E: "AQAB"}, nil},
		{"unknown curve", jwk.Key{KeyType: "EC", Curve: "P-192", X: b64(x), Y: b64(y)}, nil},
		{"short coordinate", jwk.Key{KeyType: "EC", Curve: "P-256", X: b64(x[1:]), Y: b64(y)}, nil},
		{"point off the curve", jwk.Key{KeyType: "EC", Curve: "P-256", X: b64(x), Y: b64(offCurve)}, nil},
		{"symmetric key", jwk.Key{KeyType: "oct"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.key.PublicKey()
			if tt.want == nil {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.(interface{ Equal(crypto.PublicKey) bool }).Equal(got))
		})
	}
}

func TestForSignatures(t *testing.T) {
	assert.True(t, jwk.Key{}.ForSignatures())
	assert.True(t, jwk.Key{Use: "sig"}.ForSignatures())
	assert.False(t, jwk.Key{Use: "enc"}.ForSignatures())
}
