package auditfield_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/shcr/internal/auditfield"
	"github.com/stretchr/testify/assert"
)

func TestOutcome(t *testing.T) {
	errMine := errors.New("mine")
	known := []auditfield.Known{{Err: errMine, Outcome: audit.OutcomeRefused, Code: "MINE"}}
	tests := []struct {
		name    string
		err     error
		outcome audit.Outcome
		code    string
	}{
		{"known first", fmt.Errorf("wrapped: %w", errors.Join(errMine, context.Canceled)), audit.OutcomeRefused, "MINE"},
		{"Spine code", &shcrkit.APIError{StatusCode: 404, Code: "NO_RECORD_FOUND"}, audit.OutcomeFailed, "NO_RECORD_FOUND"},
		{"forbidden is refused", &shcrkit.APIError{StatusCode: 403}, audit.OutcomeRefused, "403"},
		{"unauthorised is refused", &shcrkit.APIError{StatusCode: 401, Code: "ACCESS_DENIED"}, audit.OutcomeRefused, "ACCESS_DENIED"},
		{"code is redacted", &shcrkit.APIError{StatusCode: 400, Code: "BAD 9434765919"}, audit.OutcomeFailed, shcrkit.Redact("BAD 9434765919")},
		{"timeout", context.DeadlineExceeded, audit.OutcomeFailed, "TIMEOUT"},
		{"cancelled", context.Canceled, audit.OutcomeFailed, "CANCELLED"},
		{"too large", shcrkit.ErrResponseTooLarge, audit.OutcomeFailed, "TOO_LARGE"},
		{"malformed", shcrkit.ErrMalformedResponse, audit.OutcomeFailed, "MALFORMED_RESPONSE"},
		{"unavailable", shcrkit.ErrUnavailable, audit.OutcomeFailed, "UNAVAILABLE"},
		{"anything else", errors.New("boom"), audit.OutcomeFailed, "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, code := auditfield.Outcome(tt.err, known)
			assert.Equal(t, tt.outcome, o)
			assert.Equal(t, tt.code, code)
		})
	}
	assert.NotContains(t, shcrkit.Redact("BAD 9434765919"), "9434765919")
}

func TestAddresses(t *testing.T) {
	assert.Equal(t, "north.example", auditfield.Host("https://north.example:8443/fhir?x=1"))
	assert.Equal(t, "", auditfield.Host("://bad"))
	u, _ := url.Parse("https://north.example/fhir/DocumentReference?subject=9434765919#f")
	assert.Equal(t, "https://north.example/fhir/DocumentReference", auditfield.Endpoint(u))
	assert.Equal(t, "", auditfield.Endpoint(nil))
	assert.Equal(t, "Patel", auditfield.LastWord("  Dr Asha  Patel "))
	assert.Equal(t, "", auditfield.LastWord(" "))
	assert.NotContains(t, auditfield.LocalHost(), " ")
}
