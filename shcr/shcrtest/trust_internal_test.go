package shcrtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/shcrkit/shcrkit/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTrustedIdentityKeysAreBounded: the sandbox trusts every key POSTed
// to /sandbox/identity-keys, and a token its own key does not verify is
// tried against every extra key, one signature check each; trusting the
// same key again must not add it again, and only the most recent keys
// are kept, so that neither memory nor the work per request grows with
// every POST.
func TestTrustedIdentityKeysAreBounded(t *testing.T) {
	own, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	s, err := NewUnstartedServer(WithIdentitySigning(auth.ES256, &own.PublicKey))
	require.NoError(t, err)

	tester, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	for range 50 {
		require.NoError(t, s.TrustIdentityKey(&tester.PublicKey))
	}
	assert.Len(t, s.extraKeys, 1, "the same key is kept once")

	var last *ecdsa.PrivateKey
	for range 500 {
		last, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		require.NoError(t, s.TrustIdentityKey(&last.PublicKey))
	}
	assert.LessOrEqual(t, len(s.extraKeys), maxExtraKeys)
	assert.True(t, s.extraKeys[len(s.extraKeys)-1].(*ecdsa.PublicKey).Equal(&last.PublicKey), "the most recent key is kept")
}
