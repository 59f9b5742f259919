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

// TestIdentityKeyForUnknownCustodianIsNamedAsSuch: registering a key for
// a custodian that has no regional ShCR in the sandbox (a typo) is answered as /sandbox/identity-token answers it, not as
// a key of the wrong kind, which sends the tester after the wrong problem.
func TestIdentityKeyForUnknownCustodianIsNamedAsSuch(t *testing.T) {
	base, _ := inProcess(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	resp, body := call(t, http.MethodPost, base+"/sandbox/identity-keys?custodian=XYZ", nil, bytes.NewReader(pemKey))
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, body)
	assert.Contains(t, body["error"], "no regional ShCR")
	resp, body = call(t, http.MethodPost, base+"/sandbox/identity-keys?custodian=R!", nil, bytes.NewReader(pemKey))
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	assert.Contains(t, body["error"], "custodian")
	// As /sandbox/identity-token reads it: an ODS code in any case.
	resp, body = call(t, http.MethodPost, base+"/sandbox/identity-keys?custodian=rnr", nil, bytes.NewReader(pemKey))
	assert.Equal(t, http.StatusCreated, resp.StatusCode, body)
}
