package codesystem_test

import (
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/codesystem"
	"github.com/stretchr/testify/assert"
)

func TestActReasonDisplay(t *testing.T) {
	tests := []struct {
		purpose shcrkit.Purpose
		want    string
	}{
		{shcrkit.PurposeDirectCare, "treatment"},
		{shcrkit.PurposeEmergency, "Emergency Treatment"},
		{shcrkit.PurposeBreakGlass, "break the glass"},
		{shcrkit.PurposeUnspecified, ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, codesystem.ActReasonDisplay(tt.purpose.ActReason()), tt.purpose.String())
	}
}
