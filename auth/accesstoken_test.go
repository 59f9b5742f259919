package auth_test

import (
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An access token that cannot travel in an Authorization header (blank,
// or holding spaces or control characters) is a garbled answer. Before,
// it was accepted and cached for its whole lifetime: every request made
// with it then failed in net/http before reaching the server, so no 401
// ever came back to invalidate it.
func TestSignedJWTRefusesAnAccessTokenThatCannotBeSent(t *testing.T) {
	for name, body := range map[string]string{
		"blank":        `{"access_token":"   ","token_type":"Bearer","expires_in":"599"}`,
		"header break": `{"access_token":"abc\r\nX-Injected: 1","token_type":"Bearer","expires_in":"599"}`,
		"inner space":  `{"access_token":"abc def","token_type":"Bearer","expires_in":"599"}`,
		"NUL":          `{"access_token":"abc\u0000","token_type":"Bearer","expires_in":"599"}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := cannedServer(t, answer{200, "application/json", body})
			tok, err := cannedSource(t, srv.URL+"/token").Token()
			require.ErrorIs(t, err, shcrkit.ErrMalformedResponse)
			assert.Nil(t, tok)
		})
	}
}
