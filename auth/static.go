package auth

import (
	"errors"

	"golang.org/x/oauth2"
)

// StaticToken returns a token source that always gives the bearer token
// accessToken, for a remote shared care record that issues long-lived
// tokens out of band. The token never expires as far as the source knows;
// replace the source when the token is rotated. An empty accessToken
// gives an error on every call rather than a request with no credentials.
// The source is safe for concurrent use.
func StaticToken(accessToken string) oauth2.TokenSource {
	return staticToken(accessToken)
}

type staticToken string

// Token returns a fresh copy of the token, so that callers cannot alter
// one another's.
func (s staticToken) Token() (*oauth2.Token, error) {
	if s == "" {
		return nil, errors.New("auth: static token is empty")
	}
	return &oauth2.Token{AccessToken: string(s), TokenType: "Bearer"}, nil
}
