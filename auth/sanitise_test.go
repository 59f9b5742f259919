package auth

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSanitiseRemovesTheRequestsOwnSecrets(t *testing.T) {
	const apiKey = "Kp3sZ9dQ7wX2mN4v"
	got := sanitise("client "+apiKey+" unknown; encoded id=a%2Fb%2Bc; short ab", []string{apiKey, "a/b+c", "ab"})
	assert.NotContains(t, got, apiKey)
	assert.NotContains(t, got, "a%2Fb%2Bc", "URL-encoded too")
	assert.Contains(t, got, "client [redacted] unknown")
	assert.Contains(t, got, "short ab", "a secret shorter than four bytes is left alone")
	assert.LessOrEqual(t, len(sanitise(strings.Repeat("x", 2*maxDescription), nil)), maxDescription+len("…"))
}
