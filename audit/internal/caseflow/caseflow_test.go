package caseflow_test

import (
	"testing"

	"github.com/shcrkit/shcrkit/audit/internal/caseflow"
	"github.com/stretchr/testify/assert"
)

func TestWords(t *testing.T) {
	for _, tc := range []struct {
		step         string
		valid, opens bool
	}{
		{caseflow.Opened, true, true},
		{caseflow.Challenged, true, true},
		{caseflow.Acknowledged, true, false},
		{caseflow.Noted, true, false},
		{caseflow.Closed, true, false},
		{"reopened", false, false},
		{"", false, false},
	} {
		assert.Equal(t, tc.valid, caseflow.ValidStep(tc.step), tc.step)
		assert.Equal(t, tc.opens, caseflow.Opens(tc.step), tc.step)
	}
	for _, f := range []string{caseflow.Appropriate, caseflow.Inappropriate, caseflow.Referred} {
		assert.True(t, caseflow.ValidFinding(f), f)
	}
	assert.False(t, caseflow.ValidFinding("closed"))
}
