package fhirhttp_test

import (
	"net/url"
	"testing"

	"github.com/shcrkit/shcrkit/internal/fhirhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedactURL checks that neither a query nor an NHS number survives,
// however the URL carries them: a URL percent-encoded into the path (as
// the Spine Secure Proxy takes its target) keeps its query there.
func TestRedactURL(t *testing.T) {
	tests := []struct {
		name, raw, want string
		leaks           []string
	}{
		{"plain", "https://pds.example/Patient/9434765919?family=Smith", "https://pds.example/Patient/943****919?…", []string{"Smith", "9434765919"}},
		{"no query", "https://pds.example/Patient", "https://pds.example/Patient", nil},
		{"user information", "https://alice:pw@pds.example/x", "https://pds.example/x", []string{"alice", "pw"}},
		{"proxied target with a query", "https://proxy.example/ssp/https%3A%2F%2Fprov.example%2Ffhir%2FPatient%3Ffamily%3DSmith%26birthdate%3D1970-01-01",
			"https://proxy.example/ssp/https://prov.example/fhir/Patient?…", []string{"Smith", "1970"}},
		{"proxied target with a lower-case escape", "https://proxy.example/ssp/https%3a%2f%2fprov.example%2fx%3fgiven%3dJo", "https://proxy.example/ssp/https://prov.example/x?…", []string{"Jo"}},
		{"escaped space before a number", "https://prov.example/docs/plan%209434765919", "https://prov.example/docs/plan%20943****919", []string{"9434765919"}},
		{"host naming a number", "https://9434765919.docs.example/x", "https://943****919.docs.example/x", []string{"9434765919"}},
		{"escaped number", "https://prov.example/docs/%39434765919.pdf", "https://prov.example/docs/943****919.pdf", []string{"9434765919"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.raw)
			require.NoError(t, err)
			got := fhirhttp.RedactURL(u)
			for _, leak := range tt.leaks {
				assert.NotContains(t, got, leak)
			}
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Empty(t, fhirhttp.RedactURL(nil))
}
