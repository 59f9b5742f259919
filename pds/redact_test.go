package pds_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/internal/ptr"
	"github.com/shcrkit/shcrkit/pds"
)

// TestErrorsDoNotEchoValues checks that the values of a search or an
// update, which the service quotes in its diagnostics, stay out of the
// error text and the outcome it carries.
func TestErrorsDoNotEchoValues(t *testing.T) {
	search := pds.SearchQuery{Family: "Fernsby", Given: []string{"Ann"}, BirthDate: born("1961-06-30"),
		Postcode: "SP1 2XY", Email: "ada.f@example.com", Phone: "01632 960555"}
	update := []pds.PatchOp{
		pds.PatchOp{Op: "add", Path: "/telecom/-", Value: fhir.ContactPoint{System: ptr.To(fhir.ContactPointSystemPhone), Value: ptr.To("07700 900123")}},
		pds.PatchOp{Op: "add", Path: "/address/-", Value: fhir.Address{Line: []string{"7 Orchard Rise"}, PostalCode: ptr.To("SP1 2XY")}},
	}
	tests := []struct {
		name        string
		update      bool
		status      int
		diagnostics string
		want        string
	}{
		{name: "family", status: 400, diagnostics: "Invalid value - 'Fernsby' in field 'family'",
			want: "Invalid value - '[redacted]' in field 'family'"},
		{name: "given, any case", status: 400, diagnostics: "Unsupported characters in 'ANN'",
			want: "Unsupported characters in '[redacted]'"},
		{name: "part of a longer word is kept", status: 400, diagnostics: "Annual quota of searches reached",
			want: "Annual quota of searches reached"},
		{name: "birth date with and without prefix", status: 400, diagnostics: "Invalid value - 'eq1961-06-30' (1961-06-30)",
			want: "Invalid value - '[redacted]' ([redacted])"},
		{name: "postcode without its space", status: 400, diagnostics: "No match for SP12XY",
			want: "No match for [redacted]"},
		{name: "email and phone", status: 400, diagnostics: "ada.f@example.com / 01632 960555 are invalid",
			want: "[redacted] / [redacted] are invalid"},
		{name: "too many matches", status: 200, diagnostics: "Too many matches for Fernsby Fernsby",
			want: "Too many matches for [redacted] [redacted]"},
		{name: "update telecom value", update: true, status: 400, diagnostics: "Invalid value - '07700 900123' in field 'telecom'",
			want: "Invalid value - '[redacted]' in field 'telecom'"},
		{name: "update address line", update: true, status: 400, diagnostics: "Invalid update with error - line '7 Orchard Rise' too long",
			want: "Invalid update with error - line '[redacted]' too long"},
		{name: "nothing to redact", update: true, status: 409, diagnostics: "Resource version supplied does not match actual version",
			want: "Resource version supplied does not match actual version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issueType, code := "value", "INVALID_VALUE"
			if tt.status == http.StatusOK {
				issueType, code = "multiple-matches", "TOO_MANY_MATCHES"
			}
			f := newFixture(t, reply(tt.status, outcomeJSON(issueType, code, tt.diagnostics)))
			c := f.client(t)
			var err error
			if tt.update {
				_, err = c.Update(context.Background(), "9000000009", "2", update...)
			} else {
				_, err = c.Search(context.Background(), search)
			}
			var apiErr *shcrkit.APIError
			require.True(t, errors.As(err, &apiErr), "%v", err)
			assert.Equal(t, tt.want, apiErr.Diagnostics)
			assert.Contains(t, err.Error(), tt.want)
			require.NotNil(t, apiErr.Outcome)
			require.NotNil(t, apiErr.Outcome.Issue[0].Diagnostics)
			assert.Equal(t, tt.want, *apiErr.Outcome.Issue[0].Diagnostics)
		})
	}
}
