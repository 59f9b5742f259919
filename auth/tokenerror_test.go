package auth_test

import (
	"errors"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/stretchr/testify/assert"
)

func TestTokenErrorSentinels(t *testing.T) {
	all := []error{shcrkit.ErrUnauthorized, shcrkit.ErrForbidden, shcrkit.ErrRateLimited,
		shcrkit.ErrUnavailable, shcrkit.ErrInvalidRequest, shcrkit.ErrNotFound}
	tests := []struct {
		status int
		code   string
		want   error // nil: matches none
	}{
		{400, "invalid_request", shcrkit.ErrInvalidRequest},
		{400, "invalid_grant", shcrkit.ErrInvalidRequest},
		{400, "unsupported_grant_type", shcrkit.ErrInvalidRequest},
		{400, "invalid_client", shcrkit.ErrUnauthorized},
		{401, "invalid_request", shcrkit.ErrUnauthorized},
		{403, "access_denied", shcrkit.ErrForbidden},
		{404, "", shcrkit.ErrInvalidRequest},
		{408, "", shcrkit.ErrUnavailable},
		{429, "", shcrkit.ErrRateLimited},
		{500, "server_error", shcrkit.ErrUnavailable},
		{502, "", shcrkit.ErrUnavailable},
		{504, "", shcrkit.ErrUnavailable},
		{302, "", nil},
		{200, "temporarily_unavailable", shcrkit.ErrUnavailable},
		{200, "unauthorized_client", shcrkit.ErrForbidden},
		{200, "invalid_scope", shcrkit.ErrInvalidRequest},
	}
	for _, tt := range tests {
		err := error(&auth.TokenError{StatusCode: tt.status, Code: tt.code})
		for _, s := range all {
			assert.Equal(t, s == tt.want, errors.Is(err, s), "HTTP %d %q against %v", tt.status, tt.code, s)
		}
	}
}

func TestTokenErrorText(t *testing.T) {
	tests := []struct {
		err  *auth.TokenError
		want string
	}{
		{&auth.TokenError{StatusCode: 400, Code: "invalid_request", Description: "Missing 'kid' header", MessageID: "abc"},
			"auth: token endpoint answered HTTP 400 Bad Request: invalid_request: Missing 'kid' header [message abc]"},
		{&auth.TokenError{StatusCode: 502}, "auth: token endpoint answered HTTP 502 Bad Gateway"},
		{&auth.TokenError{Code: "invalid_grant"}, "auth: token endpoint answered an error: invalid_grant"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
}
