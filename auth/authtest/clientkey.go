package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit/auth"
)

// ClientKey is an application registered with a fake: its API key, the
// kid of its public key and the matching private key.
type ClientKey struct {
	APIKey     string
	KeyID      string
	PrivateKey *rsa.PrivateKey
	srv        *Server
}

// NewClientKey generates a 2048-bit RSA key pair, registers its public
// half under a fresh API key and kid, and returns it. It fails the test
// if anything goes wrong.
func (s *Server) NewClientKey(t testing.TB) ClientKey {
	t.Helper()
	k, err := s.GenerateClientKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// GenerateClientKey is NewClientKey for code without a testing.TB, such as
// examples and stand-alone sandboxes.
func (s *Server) GenerateClientKey() (ClientKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return ClientKey{}, fmt.Errorf("authtest: generating an RSA key: %w", err)
	}
	k := ClientKey{APIKey: "test-app-" + uuid.NewString(), KeyID: "test-kid-1", PrivateKey: key, srv: s}
	if err := s.Register(k.APIKey, k.KeyID, &key.PublicKey); err != nil {
		return ClientKey{}, err
	}
	return k, nil
}

// Config returns a SignedJWTConfig for this application and the fake: API
// key, token URL, kid, private key, the fake's HTTP client and the fake's
// clock. For a ClientKey not made by a Server, only the first fields are
// set.
func (k ClientKey) Config() auth.SignedJWTConfig {
	cfg := auth.SignedJWTConfig{APIKey: k.APIKey, KeyID: k.KeyID}
	if k.PrivateKey != nil { // a nil *rsa.PrivateKey must not become a non-nil crypto.Signer
		cfg.PrivateKey = k.PrivateKey
	}
	if k.srv != nil {
		cfg.TokenURL = k.srv.TokenURL()
		cfg.HTTPClient = k.srv.Client()
		cfg.Now = k.srv.cfg.Now
	}
	return cfg
}

// cis2Key stands in for CIS2 Authentication's signing key; like the real
// one, it is one key for every fake in the process.
var cis2Key = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// idTokenKeyID is the kid of the ID tokens NewIDToken makes.
const idTokenKeyID = "authtest-cis2"

// IDTokenPublicKey returns the public key that verifies the ID tokens
// NewIDToken makes, for a WithIDTokenVerifier check.
func IDTokenPublicKey() (*rsa.PublicKey, error) {
	k, err := cis2Key()
	if err != nil {
		return nil, fmt.Errorf("authtest: generating the ID token key: %w", err)
	}
	return &k.PublicKey, nil
}

// NewIDToken returns an ID token shaped like one from CIS2 Authentication
// for the user with the given sub, valid for an hour on the fake's clock
// and signed (RS256) by the key of IDTokenPublicKey, for exchange tests.
// It fails the test if signing fails.
func (s *Server) NewIDToken(t testing.TB, subject string) string {
	t.Helper()
	tok, err := s.IDToken(subject)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// IDToken is NewIDToken for code without a testing.TB.
func (s *Server) IDToken(subject string) (string, error) {
	key, err := cis2Key()
	if err != nil {
		return "", fmt.Errorf("authtest: generating the ID token key: %w", err)
	}
	now := s.cfg.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"iss":                            "https://cis2.authtest.invalid/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare",
		"sub":                            subject,
		"aud":                            "authtest-client",
		"iat":                            now.Unix(),
		"auth_time":                      now.Unix(),
		"exp":                            now.Add(time.Hour).Unix(),
		"jti":                            uuid.NewString(),
		"acr":                            "AAL3_ANY",
		"amr":                            []string{"N3_SMARTCARD"},
		"selected_roleid":                "555021935107",
		"authentication_assurance_level": "3",
	})
	tok.Header["kid"] = idTokenKeyID
	signed, err := tok.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("authtest: signing an ID token: %w", err)
	}
	return signed, nil
}
