package shcr_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/auth/authtest"
	"github.com/shcrkit/shcrkit/internal/identitytoken"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writePEMKey(t *testing.T, dir, name string, key any) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
}

func TestLoadDirectoryFile(t *testing.T) {
	rk, ek := testKeys(t)
	tokens := authtest.NewServer()
	defer tokens.Close()
	app, err := tokens.RegisterClient()
	require.NoError(t, err)

	dir := t.TempDir()
	writePEMKey(t, dir, "assertion.pem", app.PrivateKey)
	writePEMKey(t, dir, "identity-rsa.pem", rk)
	writePEMKey(t, dir, "identity-ec.pem", ek)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "south.token"), []byte("south-token\n"), 0o600))
	t.Setenv("SHCR_TEST_WEST_TOKEN", "west-token")

	var got []http.Header
	p := newProvider(t, func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Clone())
		writeFHIR(w, map[string]any{"resourceType": "CarePlan"})
	})

	yamlText := `
ssp:
  proxyUrl: https://proxy.example/ssp
  consumerAsid: "200000000101"
endpoints:
  - name: North
    custodians: [RN1, rn2]
    baseUrl: ` + p.URL + `/north
    timeout: 3s
    parallelism: 16
    reuseIdentity: true
    auth:
      type: client_credentials
      tokenUrl: ` + tokens.TokenURL() + `
      clientId: ` + app.APIKey + `
      keyId: ` + app.KeyID + `
      privateKey: assertion.pem
    identity:
      signing: RS256
      privateKey: identity-rsa.pem
      keyId: north-1
  - name: South
    custodians: [RS1]
    baseUrl: https://south.example
    asid: "100000000002"
    auth: {type: bearer, tokenFile: south.token}
    identity: {signing: ES256, privateKey: identity-ec.pem}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "directory.yaml"), []byte(yamlText), 0o600))
	d, err := shcr.LoadDirectory(filepath.Join(dir, "directory.yaml"))
	require.NoError(t, err)
	assert.Equal(t, []shcrkit.ODSCode{"RN1", "RN2", "RS1"}, d.Custodians())
	north, ok := d.Endpoint("RN2")
	require.True(t, ok)
	assert.Equal(t, 3*time.Second, north.Timeout)
	assert.Equal(t, 16, north.Parallelism)
	assert.True(t, north.ReuseIdentity)
	assert.Equal(t, auth.RS256, north.Identity.Signing)
	ssp, ok := d.SSP()
	require.True(t, ok)
	assert.Equal(t, nrls.SSPInteractionRead, ssp.InteractionID)

	r, err := shcr.NewRemote(d, shcr.RemoteConfig{})
	require.NoError(t, err)
	_, err = r.Fetch(context.Background(), fetchReq(t, "RN1", p.URL+"/north/CarePlan/1", "application/fhir+json", ""))
	require.NoError(t, err)
	require.Len(t, got, 1)
	access := strings.TrimPrefix(got[0].Get("Authorization"), "Bearer ")
	require.NoError(t, tokens.Validate(access), "the access token came from the client-credentials grant")
	_, err = identitytoken.Check{Audience: p.URL + "/north", Signing: auth.RS256, Key: &rk.PublicKey}.Verify(got[0].Get(identitytoken.DefaultHeader))
	require.NoError(t, err)

	jsonText := `{"endpoints":[{"name":"West","custodians":["RW1"],"baseUrl":"https://west.example",
		"auth":{"type":"bearer","tokenEnv":"SHCR_TEST_WEST_TOKEN"}}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "directory.json"), []byte(jsonText), 0o600))
	d, err = shcr.LoadDirectory(filepath.Join(dir, "directory.json"))
	require.NoError(t, err)
	west, _ := d.Endpoint("RW1")
	tok, err := west.TokenSource.Token()
	require.NoError(t, err)
	assert.Equal(t, "west-token", tok.AccessToken)
}

func TestParseDirectoryRefusesBadFiles(t *testing.T) {
	tests := []struct {
		name, format, text, want string
	}{
		{"unknown field", "yaml", "endpoints:\n  - name: N\n    custodians: [RN1]\n    baseUrl: https://n.example\n    bseUrl: x\n", "bseUrl"},
		{"unknown JSON field", "json", `{"endpoints":[],"extra":1}`, "extra"},
		{"bad ODS", "", "endpoints:\n  - custodians: ['R!']\n    baseUrl: https://n.example\n", "ODS"},
		{"missing key file", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://n.example\n    identity: {signing: RS256, privateKey: nowhere.pem}\n", "identity key"},
		{"bearer without source", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://n.example\n    auth: {type: bearer}\n", "tokenEnv or tokenFile"},
		{"empty env", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://n.example\n    auth: {type: bearer, tokenEnv: SHCR_TEST_UNSET_VARIABLE}\n", "holds no token"},
		{"unknown auth", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://n.example\n    auth: {type: basic}\n", "unknown auth type"},
		{"bad parallelism", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://n.example\n    parallelism: 1000\n", "parallelism"},
		{"bad timeout", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://n.example\n    timeout: soon\n", "timeout"},
		{"half a certificate", "yaml", "endpoints:\n  - custodians: [RN1]\n    baseUrl: https://n.example\n    tls: {certificate: c.pem}\n", "both certificate and key"},
		{"unknown format", "toml", "", "unknown format"},
		{"not YAML", "yaml", "endpoints: [", "invalid directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := shcr.ParseDirectory(strings.NewReader(tt.text), tt.format, t.TempDir())
			require.ErrorIs(t, err, shcr.ErrInvalidDirectory)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := shcr.LoadDirectory(filepath.Join(t.TempDir(), "absent.yaml"))
	require.ErrorIs(t, err, shcr.ErrInvalidDirectory)
}
