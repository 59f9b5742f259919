package shcrkit_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shcrkit/shcrkit"
	"github.com/stretchr/testify/assert"
)

func TestAPIErrorIs(t *testing.T) {
	all := []error{shcrkit.ErrNotFound, shcrkit.ErrInvalidated, shcrkit.ErrUnauthorized, shcrkit.ErrForbidden,
		shcrkit.ErrRateLimited, shcrkit.ErrInvalidRequest, shcrkit.ErrUnavailable, shcrkit.ErrVersionMismatch, shcrkit.ErrConflict}
	tests := []struct {
		status int
		code   string
		want   []error
	}{
		{404, "RESOURCE_NOT_FOUND", []error{shcrkit.ErrNotFound}},
		{404, "INVALIDATED_RESOURCE", []error{shcrkit.ErrNotFound, shcrkit.ErrInvalidated}},
		{404, "NO_RECORD_FOUND", []error{shcrkit.ErrNotFound}},
		{404, "", []error{shcrkit.ErrNotFound}},
		{401, "ACCESS_DENIED", []error{shcrkit.ErrUnauthorized}},
		{403, "ACCESS DENIED", []error{shcrkit.ErrForbidden}},
		{403, "ACCESS_DENIED", []error{shcrkit.ErrForbidden}},
		{403, "", []error{shcrkit.ErrForbidden}},
		{429, "TOO_MANY_REQUESTS", []error{shcrkit.ErrRateLimited}},
		{429, "", []error{shcrkit.ErrRateLimited}},
		{400, "INVALID_RESOURCE_ID", []error{shcrkit.ErrInvalidRequest}},
		{400, "MISSING_VALUE", []error{shcrkit.ErrInvalidRequest}},
		{412, "PRECONDITION_FAILED", []error{shcrkit.ErrInvalidRequest}},
		{409, "RESOURCE_VERSION_MISMATCH", []error{shcrkit.ErrVersionMismatch, shcrkit.ErrConflict}},
		{409, "DUPLICATE_REJECTED", []error{shcrkit.ErrConflict}},
		{408, "UNABLE_TO_CALL_SERVICE", []error{shcrkit.ErrUnavailable}},
		{503, "", []error{shcrkit.ErrUnavailable}},
		{502, "", []error{shcrkit.ErrUnavailable}},
		{0, "INVALID_VALUE", []error{shcrkit.ErrInvalidRequest}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.status, tt.code), func(t *testing.T) {
			var err error = &shcrkit.APIError{StatusCode: tt.status, Code: tt.code}
			wrapped := fmt.Errorf("calling PDS: %w", err)
			for _, s := range all {
				want := false
				for _, w := range tt.want {
					want = want || w == s
				}
				assert.Equal(t, want, errors.Is(wrapped, s), "errors.Is(%v)", s)
			}
			var api *shcrkit.APIError
			assert.True(t, errors.As(wrapped, &api))
		})
	}
}

func TestAPIErrorTextMasksNHSNumbers(t *testing.T) {
	err := &shcrkit.APIError{StatusCode: 404, Code: "RESOURCE_NOT_FOUND",
		Diagnostics: "Patient 9434765919 not found", RequestID: "60E0B220-8136-4CA5-AE46-1D97EF59D068"}
	s := err.Error()
	assert.Equal(t, "shcrkit: HTTP 404 Not Found (RESOURCE_NOT_FOUND): Patient 943****919 not found [request 60E0B220-8136-4CA5-AE46-1D97EF59D068]", s)
}

func TestMaskNHSNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"9434765919", "943****919"},
		{"id=9434765919&x", "id=943****919&x"},
		{"943 476 5919 and 943-476-5919", "943****919 and 943****919"},
		{"asid 200000000117 stays", "asid 200000000117 stays"},
		{"12345", "12345"},
		{"nhs-number|9000000009", "nhs-number|900****009"},
		{"", ""},
		{"943 476-5919", "943****919"},
		{"94347659191", "943****9191"},
		{"943.476.5919; 943/476/5919; 943\t476\t5919", "943****919; 943****919; 943****919"},
		{"9434 765 919, 94 34 76 59 19", "943****919, 943****919"},
		{"ref 19434765919", "ref 1943****919"},
		{"943\u00a0476\u00a05919", "943****919"},
		{"\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19", "943****919"},
		{"943 - 476 - 5919", "943****919"},
		{"2026-12-05 00:55", "2026-12-05 00:55"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, shcrkit.MaskNHSNumbers(tt.in), tt.in)
	}
}
