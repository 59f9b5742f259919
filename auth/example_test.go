package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/auth/authtest"
	"golang.org/x/oauth2"
)

// The application-restricted pattern against the fake token endpoint:
// three callers, one token request.
func ExampleNewSignedJWT() {
	srv := authtest.NewServer()
	defer srv.Close()

	// In production the key comes from auth.LoadPrivateKeyFile and is
	// registered with the NHS API platform under the application's kid.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Register("my-api-key", "int-1", &key.PublicKey); err != nil {
		fmt.Println(err)
		return
	}

	ts, err := auth.NewSignedJWT(auth.SignedJWTConfig{
		APIKey:     "my-api-key",
		TokenURL:   srv.TokenURL(),
		KeyID:      "int-1",
		PrivateKey: key,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		tok, err := ts.Token()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(tok.Type(), srv.Validate(tok.AccessToken) == nil)
	}
	fmt.Println("token requests:", len(srv.Requests()))

	// Clients send the token through oauth2.Transport; a fake service
	// checks it with the fake endpoint's Validator.
	validate := srv.Validate
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if validate(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")) != nil {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()
	client := &http.Client{Transport: &oauth2.Transport{Source: ts}}
	resp, err := client.Get(api.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// Bearer true
	// Bearer true
	// Bearer true
	// token requests: 1
	// 200 OK
}

// The CIS2 separate-authentication pattern: exchange the ID token, then
// refresh.
func ExampleNewTokenExchangeUncached() {
	srv := authtest.NewServer()
	defer srv.Close()
	app, err := srv.RegisterClient()
	if err != nil {
		fmt.Println(err)
		return
	}
	idToken, err := srv.IDToken("555254240100") // from the CIS2 sign-in
	if err != nil {
		fmt.Println(err)
		return
	}

	x, err := auth.NewTokenExchangeUncached(auth.TokenExchangeConfig{
		SignedJWTConfig: app,
		IDToken:         idToken,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 2 {
		tok, err := x.Token()
		if err != nil {
			fmt.Println(err)
			return
		}
		info, _ := srv.Introspect(tok.AccessToken)
		fmt.Println(info.Subject, tok.RefreshToken != "")
	}
	for _, r := range srv.Requests() {
		fmt.Println(r.GrantType)
	}
	// Output:
	// 555254240100 true
	// 555254240100 true
	// urn:ietf:params:oauth:grant-type:token-exchange
	// refresh_token
}

// Token endpoint errors match the shcrkit sentinels.
func ExampleTokenError() {
	srv := authtest.NewServer()
	defer srv.Close()
	app, err := srv.RegisterClient()
	if err != nil {
		fmt.Println(err)
		return
	}
	srv.InjectFault(http.MethodPost, "/oauth2/token", 1,
		authtest.Fault{Status: http.StatusTooManyRequests, Code: "rate_limited", Diagnostics: "too many requests"})

	ts, err := auth.NewSignedJWT(app)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = ts.Token()
	var te *auth.TokenError
	fmt.Println(errors.As(err, &te), te.StatusCode, te.Code)
	fmt.Println(errors.Is(err, shcrkit.ErrRateLimited))

	_, err = ts.Token() // failures are not cached
	fmt.Println(err)
	// Output:
	// true 429 rate_limited
	// true
	// <nil>
}

func ExampleParsePrivateKey() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		fmt.Println(err)
		return
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})

	signer, err := auth.ParsePrivateKey(data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%T\n", signer)

	_, err = auth.ParsePrivateKey([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	fmt.Println(errors.Is(err, auth.ErrEncryptedPrivateKey), errors.Is(err, auth.ErrInvalidPrivateKey))
	fmt.Println(err)
	// Output:
	// *rsa.PrivateKey
	// true true
	// auth: private key is encrypted (PKCS#8 "ENCRYPTED PRIVATE KEY" block); decrypt it first
}
