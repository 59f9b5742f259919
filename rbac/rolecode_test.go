package rbac_test

import (
	"testing"

	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/stretchr/testify/assert"
)

// TestRoleCodesMatchExactly: job role codes are strings. Only trimming and
// case folding make two spellings one code; leading zeros never do, and a
// malformed code is refused by name rather than read as a number.
func TestRoleCodesMatchExactly(t *testing.T) {
	p := samplepolicy.Load() // grants R8000, R0260 and R8006, not R08000 or R260
	tests := []struct {
		code      string
		allowed   bool
		malformed bool
	}{
		{"R8000", true, false},
		{" r8000 ", true, false},
		{"S8000:G8000:R8000", true, false},
		{"s8000 : g8000 : r8000", true, false},
		{"R0260", true, false},
		{"R8006", true, false},
		{"R08006", false, false},
		{"R08000", false, false},
		{"R80000", false, false},
		{"S8000:G8000:R08000", false, false},
		{"R0008000", false, true},
		{"R260", false, true},
		{"R26", false, true},
		{"R8000x", false, true},
		{"R+8000", false, true},
		{"R-8000", false, true},
		{"R８０００", false, true},
		{"8000", false, true},
		{"G8000:R8000", false, true},
		{"S8000:G8000:R8000:R8000", false, true},
		{"X8000:G8000:R8000", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			req := baseRequest()
			req.Requester.RoleCode, req.Requester.Activities = tt.code, []string{"B0360"}
			d := p.Decide(req)
			assert.Equal(t, tt.allowed, d.Allowed, d.String())
			if tt.malformed {
				assert.Equal(t, "requester", d.Rule, d.String())
				assert.Contains(t, d.Reason(), "malformed")
			}
		})
	}
}
