package auth_test

// Checks package auth against DESIGN.md: oauth2.TokenSource
// implementations for the NHS API platform (signed-JWT client credentials,
// CIS2 token exchange), with the request the platform's facts describe.

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shcrkit/shcrkit/auth"
	"golang.org/x/oauth2"
)

func TestDesignContractTokenSources(t *testing.T) {
	var _ func(auth.SignedJWTConfig) (oauth2.TokenSource, error) = auth.NewSignedJWT
	var _ func(auth.TokenExchangeConfig) (oauth2.TokenSource, error) = auth.NewTokenExchange

	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var forms []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		forms = append(forms, r.PostForm)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"at","expires_in":"599","token_type":"Bearer","issued_at":"1700000000000","refresh_token":"rt","refresh_token_expires_in":"43199"}`))
	}))
	defer srv.Close()
	tokenURL := srv.URL + "/oauth2/token"
	cfg := auth.SignedJWTConfig{APIKey: "api-key-1", TokenURL: tokenURL, KeyID: "kid-1", PrivateKey: key}

	ts, err := auth.NewSignedJWT(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "at" || tok.Expiry.IsZero() {
		t.Errorf("token %+v", tok)
	}
	f := forms[0]
	if f.Get("grant_type") != "client_credentials" || f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		t.Errorf("client credentials form %v", f)
	}
	checkAssertion(t, f.Get("client_assertion"), tokenURL)

	tx, err := auth.NewTokenExchange(auth.TokenExchangeConfig{SignedJWTConfig: cfg, IDToken: "cis2-id-token"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Token(); err != nil {
		t.Fatal(err)
	}
	f = forms[len(forms)-1]
	if f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange" ||
		f.Get("subject_token_type") != "urn:ietf:params:oauth:token-type:id_token" ||
		f.Get("subject_token") != "cis2-id-token" || f.Get("client_assertion") == "" {
		t.Errorf("token exchange form %v", f)
	}
}

func checkAssertion(t *testing.T, jwt, aud string) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion %q", jwt)
	}
	var h map[string]any
	var c map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	json.Unmarshal(hb, &h)
	json.Unmarshal(cb, &c)
	if h["alg"] != "RS512" || h["typ"] != "JWT" || h["kid"] != "kid-1" {
		t.Errorf("header %v", h)
	}
	if c["iss"] != "api-key-1" || c["sub"] != "api-key-1" || c["aud"] != aud || c["jti"] == "" || c["jti"] == nil {
		t.Errorf("claims %v", c)
	}
	exp, _ := c["exp"].(float64)
	if d := time.Until(time.Unix(int64(exp), 0)); d <= 0 || d > 5*time.Minute+time.Second {
		t.Errorf("exp %v ahead", d)
	}
}
