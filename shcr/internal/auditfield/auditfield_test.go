package auditfield_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/rbac"
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

func TestEventRecordsTheRelationshipsReason(t *testing.T) {
	tests := []struct {
		name              string
		rel               rbac.Relationship
		purpose           shcrkit.Purpose
		evidence, breakGl string
	}{
		{"self-claimed without reason", rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed}, shcrkit.PurposeDirectCare, "no reason given", ""},
		{"self-claimed with reason", rbac.Relationship{Kind: shcrkit.RelationshipSelfClaimed, Reason: "on call"}, shcrkit.PurposeDirectCare, "on call", ""},
		{"emergency", rbac.Relationship{Kind: shcrkit.RelationshipEmergency, Reason: "unconscious"}, shcrkit.PurposeEmergency, "", "unconscious"},
		{"break glass", rbac.Relationship{Kind: shcrkit.RelationshipEncounter, Evidence: "Encounter/1", Reason: "why"}, shcrkit.PurposeBreakGlass, "Encounter/1", "why"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := auditfield.Who{Requester: shcrkit.Requester{Name: "Dr Asha Patel"}, Relationship: tt.rel, Purpose: tt.purpose}
			e := w.Event(audit.ActionRead, audit.ServiceShCR, audit.OutcomeSuccess, strings.Repeat("x", 2000))
			assert.Equal(t, tt.evidence, e.RelationshipEvidence)
			assert.Equal(t, tt.breakGl, e.BreakGlassReason)
			assert.Equal(t, "Patel", e.UserFamily)
			assert.LessOrEqual(t, len(e.Reason), auditfield.MaxText+3)
		})
	}
}

func TestDecisionEvent(t *testing.T) {
	w := auditfield.Who{}
	refused := w.DecisionEvent(audit.ActionRead, audit.ServiceShCR, rbac.Decision{Rule: "r1"}, auditfield.Decision{Resource: "DocumentReference/x", Policy: "p"})
	assert.Equal(t, audit.OutcomeRefused, refused.Outcome)
	assert.Equal(t, "ACCESS_DENIED", refused.ErrorCode)
	assert.Equal(t, audit.KindDecision, refused.Kind)
	assert.NotEmpty(t, refused.DecisionID)
	assert.Equal(t, "DocumentReference/x", refused.Resource)
	assert.Empty(t, refused.RelationshipVerification, "no verifier, no verdict")

	allowed := w.DecisionEvent(audit.ActionRead, audit.ServiceShCR, rbac.Decision{Allowed: true}, auditfield.Decision{Verifying: true})
	assert.Equal(t, audit.OutcomeSuccess, allowed.Outcome)
	assert.Empty(t, allowed.ErrorCode)
	assert.NotEmpty(t, allowed.RelationshipVerification, "a configured verifier's verdict is recorded")
	assert.NotEqual(t, refused.DecisionID, allowed.DecisionID)

	withheld := auditfield.Withheld(audit.Event{RequestID: "r", ServerAddress: "h"}, "HOST_NOT_ALLOWED")
	assert.Equal(t, audit.KindDecision, withheld.Kind)
	assert.Empty(t, withheld.RequestID)
	assert.Empty(t, withheld.ServerAddress)
	assert.Equal(t, "HOST_NOT_ALLOWED", withheld.Rule)
}

func TestClip(t *testing.T) {
	assert.Equal(t, "short", auditfield.Clip("short", 10))
	assert.Equal(t, "abc...", auditfield.Clip("abc def", 4))
	assert.Equal(t, "é...", auditfield.Clip("éé", 3), "never cuts a character in two")
}

func TestPDSQueryMasksContactDetails(t *testing.T) {
	q := url.Values{"family": {"Hartley"}, "phone": {"01632960000"}, "email": {"a@example.org"}}
	assert.Equal(t, "email=%2A%2A%2A&family=Hartley&phone=%2A%2A%2A", auditfield.PDSQuery(q))
}
