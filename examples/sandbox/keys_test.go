package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRegisteringKeysCannotReplaceTheSandboxsOwnApplication: the world's
// application (whose API key and kid are in the source, and whose access
// tokens /sandbox/token hands out and every region's fetch relies on)
// is not a tester's to re-key. A POST to /sandbox/keys naming it
// (from curl, or from any web page: a POST with a text/plain body needs
// no preflight) replaced its public key, so that the sandbox's own
// token source fails once its token expires.
func TestRegisteringKeysCannotReplaceTheSandboxsOwnApplication(t *testing.T) {
	base, sb := inProcess(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	require.NotEmpty(t, sb.world.APIKey)
	resp, body := call(t, http.MethodPost, base+"/sandbox/keys?api_key="+sb.world.APIKey+"&kid=riverside-1",
		map[string]string{"Content-Type": "text/plain"}, bytes.NewReader(pemKey))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, body)

	// A tester's own application is still theirs to register.
	resp, body = call(t, http.MethodPost, base+"/sandbox/keys?api_key=my-app&kid=k1", nil, bytes.NewReader(pemKey))
	assert.Equal(t, http.StatusCreated, resp.StatusCode, body)
}
