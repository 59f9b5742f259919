package lrverify_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr/internal/lrverify"
	"github.com/stretchr/testify/assert"
)

func TestJudge(t *testing.T) {
	verified := rbac.Verification{Status: rbac.VerificationVerified, Verifier: "encounter", Evidence: "Encounter/1 for 9434765919"}
	tests := []struct {
		name       string
		ask        func(release <-chan struct{}) func(context.Context) (rbac.Verification, error)
		wantStatus rbac.VerificationStatus
		wantReason string
	}{
		{"verdict kept", func(<-chan struct{}) func(context.Context) (rbac.Verification, error) {
			return func(context.Context) (rbac.Verification, error) { return verified, nil }
		}, rbac.VerificationVerified, ""},
		{"error fails", func(<-chan struct{}) func(context.Context) (rbac.Verification, error) {
			return func(context.Context) (rbac.Verification, error) { return rbac.Verification{}, errors.New("store down") }
		}, rbac.VerificationFailed, "store down"},
		{"reported failure fails", func(<-chan struct{}) func(context.Context) (rbac.Verification, error) {
			return func(context.Context) (rbac.Verification, error) {
				return rbac.Verification{Status: rbac.VerificationFailed}, nil
			}
		}, rbac.VerificationFailed, "the verifier reported a failure"},
		{"a verifier ignoring its context fails in time", func(release <-chan struct{}) func(context.Context) (rbac.Verification, error) {
			return func(context.Context) (rbac.Verification, error) { <-release; return verified, nil }
		}, rbac.VerificationFailed, "no answer within 3s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				release := make(chan struct{})
				defer close(release)
				v := lrverify.Judge(t.Context(), 3*time.Second, tt.ask(release))
				assert.Equal(t, tt.wantStatus, v.Status)
				assert.Equal(t, tt.wantReason, v.Reason)
				assert.NotContains(t, v.Evidence, "9434765919", "evidence is redacted")
			})
		})
	}
}
