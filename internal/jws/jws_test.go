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

// opaque hides the concrete key type, as a key in a hardware module does.
type opaque struct{ crypto.Signer }

func TestSignVerifiesWithGolangJWT(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKeys := map[jws.Algorithm]*ecdsa.PrivateKey{}
	for alg, c := range map[jws.Algorithm]elliptic.Curve{jws.ES256: elliptic.P256(), jws.ES384: elliptic.P384(), jws.ES512: elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		require.NoError(t, err)
		ecKeys[alg] = k
	}
	keyFor := func(alg jws.Algorithm) crypto.Signer {
		if k, ok := ecKeys[alg]; ok {
			return k
		}
		return rsaKey
	}
	for _, alg := range []jws.Algorithm{jws.RS256, jws.RS384, jws.RS512, jws.ES256, jws.ES384, jws.ES512} {
		for _, hide := range []bool{false, true} {
			key := keyFor(alg)
			signer := key
			if hide {
				signer = opaque{key}
			}
			tok, err := jws.Sign(alg, signer, map[string]any{"kid": "k1", "typ": "JWT"}, jwt.MapClaims{"sub": "x"})
			require.NoError(t, err, "%s opaque=%v", alg, hide)
			parsed, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return key.Public(), nil },
				jwt.WithValidMethods([]string{string(alg)}))
			require.NoError(t, err, "%s opaque=%v", alg, hide)
			assert.Equal(t, "k1", parsed.Header["kid"])
			assert.Equal(t, string(alg), parsed.Header["alg"])
		}
	}
}

func TestSignRefusesMismatches(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		alg jws.Algorithm
		key crypto.Signer
	}{
		"EC key for RS256":    {jws.RS256, ec},
		"P-256 key for ES384": {jws.ES384, ec},
		"short RSA key":       {jws.RS256, small},
		"HS256":               {"HS256", ec},
		"no key":              {jws.RS256, nil},
		"key for none":        {jws.None, ec},
	} {
		_, err := jws.Sign(tc.alg, tc.key, nil, jwt.MapClaims{})
		assert.Error(t, err, name)
	}
	tok, err := jws.Sign(jws.None, nil, nil, jwt.MapClaims{"sub": "x"})
	require.NoError(t, err)
	assert.Regexp(t, `^[\w-]+\.[\w-]+\.$`, tok, "unsigned: empty signature")
}
