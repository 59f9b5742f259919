package auth_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pemBlock(typ string, der []byte, headers map[string]string) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der, Headers: headers})
}

func TestParsePrivateKey(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	smallKey, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)

	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		return der
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	require.NoError(t, err)
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	require.NoError(t, err)
	rsaPKCS1 := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil)

	tests := []struct {
		name      string
		data      []byte
		wantRSA   bool
		wantEC    bool
		wantText  string
		encrypted bool
	}{
		{name: "RSA PKCS#1", data: rsaPKCS1, wantRSA: true},
		{name: "RSA PKCS#8", data: pemBlock("PRIVATE KEY", pkcs8(rsaKey), nil), wantRSA: true},
		{name: "EC SEC 1", data: pemBlock("EC PRIVATE KEY", ecDER, nil), wantEC: true},
		{name: "EC PKCS#8", data: pemBlock("PRIVATE KEY", pkcs8(ecKey), nil), wantEC: true},
		{name: "key after a certificate and text", data: append([]byte("subject=/CN=test\n"),
			append(pemBlock("CERTIFICATE", []byte{1, 2, 3}, nil), rsaPKCS1...)...), wantRSA: true},
		{name: "empty", data: nil, wantText: "no PEM block found"},
		{name: "not PEM", data: []byte("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ"), wantText: "no PEM block found"},
		{name: "public key only", data: pemBlock("PUBLIC KEY", pubDER, nil), wantText: `"PUBLIC KEY"`},
		{name: "certificate only", data: pemBlock("CERTIFICATE", []byte{1, 2, 3}, nil), wantText: `no private key among PEM blocks of type "CERTIFICATE"`},
		{name: "PKCS#8 encrypted", data: pemBlock("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x00}, nil), wantText: `PKCS#8 "ENCRYPTED PRIVATE KEY" block`, encrypted: true},
		{name: "legacy encrypted", data: pemBlock("RSA PRIVATE KEY", []byte{1, 2, 3},
			map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}),
			wantText: "legacy PEM encryption", encrypted: true},
		{name: "garbage in RSA block", data: pemBlock("RSA PRIVATE KEY", []byte("not DER at all"), nil), wantText: `"RSA PRIVATE KEY" block does not parse`},
		{name: "EC key in RSA block", data: pemBlock("RSA PRIVATE KEY", ecDER, nil), wantText: "does not parse"},
		{name: "garbage in PKCS#8 block", data: pemBlock("PRIVATE KEY", []byte{0x30, 0x03, 1, 2, 3}, nil), wantText: "does not parse"},
		{name: "short RSA key", data: pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(smallKey), nil), wantText: "RSA key has 1024 bits"},
		{name: "Ed25519", data: pemBlock("PRIVATE KEY", pkcs8(edKey), nil), wantText: "Ed25519 keys are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := auth.ParsePrivateKey(tt.data)
			switch {
			case tt.wantRSA:
				require.NoError(t, err)
				got, ok := key.(*rsa.PrivateKey)
				require.True(t, ok, "got %T", key)
				assert.True(t, got.Equal(rsaKey))
			case tt.wantEC:
				require.NoError(t, err)
				got, ok := key.(*ecdsa.PrivateKey)
				require.True(t, ok, "got %T", key)
				assert.True(t, got.Equal(ecKey))
			default:
				require.Error(t, err)
				assert.Nil(t, key)
				assert.ErrorIs(t, err, auth.ErrInvalidPrivateKey)
				assert.Equal(t, tt.encrypted, errors.Is(err, auth.ErrEncryptedPrivateKey))
				assert.Contains(t, err.Error(), tt.wantText)
				assertNoKeyMaterial(t, err.Error(), tt.data)
			}
		})
	}
}

// assertNoKeyMaterial checks that no run of the PEM body shows in text.
func assertNoKeyMaterial(t *testing.T, text string, data []byte) {
	t.Helper()
	for rest := data; ; {
		block, r := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = r
		b64 := base64.StdEncoding.EncodeToString(block.Bytes)
		for i := 0; i+16 <= len(b64); i += 16 {
			require.NotContains(t, text, b64[i:i+16], "error text leaks key material")
		}
	}
}

func TestLoadPrivateKeyFile(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	good := filepath.Join(dir, "private.pem")
	require.NoError(t, os.WriteFile(good, pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key), nil), 0o600))
	public := filepath.Join(dir, "public.pem")
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(public, pemBlock("PUBLIC KEY", pubDER, nil), 0o600))
	huge := filepath.Join(dir, "huge.pem")
	require.NoError(t, os.WriteFile(huge, []byte(strings.Repeat("A", 1<<20+1)), 0o600))

	got, err := auth.LoadPrivateKeyFile(good)
	require.NoError(t, err)
	assert.True(t, key.Equal(got))

	_, err = auth.LoadPrivateKeyFile(filepath.Join(dir, "absent.pem"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "the file system's error stays reachable")

	tests := []struct {
		name, path, want string
	}{
		{"missing file", filepath.Join(dir, "absent.pem"), "no such file"},
		{"public key file", public, "public.pem"},
		{"huge file", huge, "larger than"},
		{"directory", dir, "reading"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.LoadPrivateKeyFile(tt.path)
			require.ErrorIs(t, err, auth.ErrInvalidPrivateKey)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
