package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/examples/internal/cli"
	"github.com/shcrkit/shcrkit/internal/fake"
)

var apiKeyPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// registerKeys lets a tester register the public key their application
// signs client assertions with, so that the token endpoint issues access
// tokens for it (signed-JWT client credentials, as on the NHS API
// platform):
//
//	POST /sandbox/keys?api_key=APP&kid=KID   body: a PEM public key
//	POST /sandbox/keys?api_key=APP           body: a JWKS ({"keys":[...]})
//	POST /sandbox/keys?api_key=APP&jwks_url=http://127.0.0.1:PORT/jwks.json
//
// A JWKS URL is fetched once, now, and only from a loopback address.
func (s *sandbox) registerKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	apiKey := q.Get("api_key")
	if !apiKeyPattern.MatchString(apiKey) {
		keyError(w, http.StatusBadRequest, "api_key is required: 1 to 128 letters, digits, '.', '_' or '-'")
		return
	}
	if apiKey == s.world.APIKey {
		// Its key is the sandbox's own: replaced, /sandbox/token and
		// every fetch the sandbox makes would fail once its token expires.
		keyError(w, http.StatusForbidden, "api_key "+apiKey+" is the sandbox's own application: choose another")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		keyError(w, http.StatusBadRequest, "the body could not be read")
		return
	}
	if ju := q.Get("jwks_url"); ju != "" {
		if body, err = s.fetchJWKS(r.Context(), ju); err != nil {
			keyError(w, http.StatusBadRequest, "jwks_url: "+err.Error())
			return
		}
	}
	var kids []string
	if block, _ := pem.Decode(body); block != nil {
		kid := q.Get("kid")
		if kid == "" {
			keyError(w, http.StatusBadRequest, "kid is required with a PEM key: the kid your assertions name in their header")
			return
		}
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			keyError(w, http.StatusBadRequest, "the PEM block is not a PUBLIC KEY (SubjectPublicKeyInfo)")
			return
		}
		if err := s.world.Tokens.Register(apiKey, kid, pub); err != nil {
			keyError(w, http.StatusBadRequest, err.Error())
			return
		}
		kids = []string{kid}
	} else {
		if kids, err = s.world.Tokens.RegisterJWKS(apiKey, body); err != nil {
			keyError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	tokenURL := fake.CalledOrigin(r) + tokenPath
	writeJSON(w, http.StatusCreated, map[string]any{
		"api_key": apiKey, "kids": kids, "token_url": tokenURL,
		"assertion": map[string]any{"alg": "RS512", "typ": "JWT", "iss": apiKey, "sub": apiKey, "aud": tokenURL,
			"exp": "at most 5 minutes ahead", "jti": "unique per assertion"},
	})
}

// registerIdentityKey lets a tester sign their own identity tokens for the
// regions that take signed ones: the PEM public key in the body is
// trusted by every region whose signing method it fits (RSA: RS256 and
// RS512; P-256: ES256), or by the one ?custodian= names.
//
//	POST /sandbox/identity-keys[?custodian=RNR]   body: a PEM public key
func (s *sandbox) registerIdentityKey(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		keyError(w, http.StatusBadRequest, "the body could not be read")
		return
	}
	block, _ := pem.Decode(body)
	if block == nil {
		keyError(w, http.StatusBadRequest, "the body must be a PEM public key (-----BEGIN PUBLIC KEY-----)")
		return
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		keyError(w, http.StatusBadRequest, "the PEM block is not a PUBLIC KEY (SubjectPublicKeyInfo)")
		return
	}
	only, status, msg := s.keyCustodian(r.URL.Query().Get("custodian"))
	if msg != "" {
		keyError(w, status, msg)
		return
	}
	var trusted []map[string]any
	for _, rg := range s.regions {
		if only != "" && rg.server.Custodian() != only {
			continue
		}
		if rg.server.TrustIdentityKey(pub) != nil {
			continue // the key does not fit this region's signing method
		}
		ep, _ := s.world.Directory.Endpoint(rg.server.Custodian())
		trusted = append(trusted, map[string]any{"custodian": rg.server.Custodian(), "alg": ep.Identity.Signing,
			"audience": rg.root(r), "header": identityHeader(ep), "access_token_needed": ep.TokenSource != nil})
	}
	if len(trusted) == 0 {
		keyError(w, http.StatusBadRequest, "no region takes identity tokens signed with this kind of key"+
			" (RSA keys fit RS256 and RS512 regions, P-256 keys the ES256 one)")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"trusted_by": trusted})
}

// keyCustodian reads ?custodian= of /sandbox/identity-keys as
// /sandbox/identity-token does; a code that is malformed or names no
// region gives the status and message to answer with.
func (s *sandbox) keyCustodian(q string) (ods shcrkit.ODSCode, status int, msg string) {
	if q == "" {
		return "", 0, ""
	}
	ods, err := shcrkit.ParseODSCode(q)
	if err != nil {
		return "", http.StatusBadRequest, "custodian: " + err.Error()
	}
	if _, ok := s.region(ods); !ok {
		return "", http.StatusNotFound, "no regional ShCR for that custodian"
	}
	return ods, 0, ""
}

func keyError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// fetchJWKS gets a key set from a loopback URL.
func (s *sandbox) fetchJWKS(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, errors.New("must be an absolute http(s) URL")
	}
	if !cli.IsLoopbackHost(u.Hostname()) {
		return nil, errors.New("must be on a loopback address (127.0.0.1, [::1] or localhost)")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.fetch.Do(req)
	if err != nil {
		return nil, errors.New("could not be fetched")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("answered HTTP %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, errors.New("could not be read")
	}
	if !strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
		return nil, errors.New("did not answer a JSON key set")
	}
	return b, nil
}

// loopbackClient fetches from loopback only and follows no redirects, so
// that a JWKS URL cannot lead the sandbox elsewhere.
func loopbackClient() *http.Client {
	return &http.Client{
		Timeout:       5 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
