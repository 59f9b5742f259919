package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The API key is the application's credential: NewSignedJWT and
// NewTokenExchange remove it from every error text, and the sessions'
// exchange must too, for a token endpoint that names the client it
// refuses. Before, NewSessionTokenExchange's endpoint had no secrets of
// its own and the key went through to the caller's error (and its logs).
func TestSessionTokenExchangeErrorsNeverHoldTheAPIKey(t *testing.T) {
	const apiKey = "Kp3sZ9dQ7wX2mN4vQ8rT"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"client ` + apiKey + ` has no key k1"}`))
	}))
	defer srv.Close()
	base := auth.SignedJWTConfig{APIKey: apiKey, TokenURL: srv.URL + "/token", KeyID: "k1", PrivateKey: sharedRSAKey()}

	single, err := auth.NewTokenExchange(auth.TokenExchangeConfig{SignedJWTConfig: base, IDToken: "id-token"})
	require.NoError(t, err)
	_, singleErr := single.Token()
	require.ErrorIs(t, singleErr, shcrkit.ErrUnauthorized)
	assert.NotContains(t, singleErr.Error(), apiKey)

	st, err := auth.NewSessionTokenExchange(auth.SessionExchangeConfig{SignedJWTConfig: base})
	require.NoError(t, err)
	s := session("alice")
	s.IDToken = "id-token"
	_, err = st.SessionToken(context.Background(), s)
	require.ErrorIs(t, err, shcrkit.ErrUnauthorized)
	assert.NotContains(t, err.Error(), apiKey)
	assert.Equal(t, singleErr.Error(), err.Error(), "the same answer, the same text")
}
