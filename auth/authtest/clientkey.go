package authtest

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/shcrkit/shcrkit/auth"
)

// RegisterClient makes a new application: it generates a 2048-bit RSA
// key pair, registers its public half under a fresh API key and kid, and
// returns the configuration the application signs its client assertions
// with: API key, kid, private key (an *rsa.PrivateKey), the fake's token
// URL, its HTTP client and its clock.
func (s *Server) RegisterClient() (auth.SignedJWTConfig, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return auth.SignedJWTConfig{}, fmt.Errorf("authtest: generating an RSA key: %w", err)
	}
	cfg := auth.SignedJWTConfig{APIKey: "test-app-" + uuid.NewString(), KeyID: "test-kid-1", PrivateKey: key,
		TokenURL: s.TokenURL(), HTTPClient: s.HTTPClient(), Now: s.cfg.Now}
	if err := s.Register(cfg.APIKey, cfg.KeyID, &key.PublicKey); err != nil {
		return auth.SignedJWTConfig{}, err
	}
	return cfg, nil
}

// cis2Key stands in for CIS2 Authentication's signing key; like the real
// one, it is one key for every fake in the process.
var cis2Key = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// idTokenKeyID is the kid of the ID tokens IDToken makes.
const idTokenKeyID = "authtest-cis2"

// IDTokenPublicKey returns the public key that verifies the ID tokens
// IDToken makes, for a WithIDTokenVerifier check.
func IDTokenPublicKey() (*rsa.PublicKey, error) {
	k, err := cis2Key()
	if err != nil {
		return nil, fmt.Errorf("authtest: generating the ID token key: %w", err)
	}
	return &k.PublicKey, nil
}

// IDToken returns an ID token shaped like one from CIS2 Authentication
// for the user with the given sub, valid for an hour on the fake's clock
// and signed (RS256) by the key of IDTokenPublicKey, for exchange tests.
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
