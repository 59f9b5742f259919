package authtest_test

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/auth/authtest"
)

// A fake token endpoint for a test of code that uses auth.NewSignedJWT,
// with a clock that the test moves.
func ExampleServer() {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	srv := authtest.NewServer(authtest.WithClock(clock))
	defer srv.Close()

	app, err := srv.RegisterClient()
	if err != nil {
		fmt.Println(err)
		return
	}
	ts, err := auth.NewSignedJWT(app)
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := ts.Token()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("valid:", srv.Validate(tok.AccessToken) == nil)

	now = now.Add(10 * time.Minute) // past the 599-second lifetime
	fmt.Println("expired:", errors.Is(srv.Validate(tok.AccessToken), authtest.ErrExpiredToken))

	r := srv.Requests()[0]
	fmt.Println(r.GrantType, r.Algorithm, r.Status)
	// Output:
	// valid: true
	// expired: true
	// client_credentials RS512 200
}

// Injecting a failure of the token endpoint.
func ExampleServer_InjectFault() {
	srv := authtest.NewServer()
	defer srv.Close()
	app, err := srv.RegisterClient()
	if err != nil {
		fmt.Println(err)
		return
	}
	ts, err := auth.NewSignedJWT(app)
	if err != nil {
		fmt.Println(err)
		return
	}

	srv.InjectFault(http.MethodPost, "/oauth2/token", 1,
		authtest.Fault{Status: http.StatusServiceUnavailable, Code: "server_error", Diagnostics: "maintenance"})
	_, err = ts.Token()
	var te *auth.TokenError
	if errors.As(err, &te) {
		fmt.Println(te.StatusCode, te.Code, te.Description, te.MessageID != "")
	}
	fmt.Println(errors.Is(err, shcrkit.ErrUnavailable))
	_, err = ts.Token()
	fmt.Println(err)
	// Output:
	// 503 server_error maintenance true
	// true
	// <nil>
}
