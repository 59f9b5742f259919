package nrls_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit/nrls"
)

func TestSSPURL(t *testing.T) {
	p := mustPointer(t, sspSpec())
	got, err := p.SSPURL("https://proxy.spine.example/")
	require.NoError(t, err)
	assert.Equal(t, "https://proxy.spine.example/https%3A%2F%2Fnorth.shcr.example%2Frecords%2Fabc123", got)

	got, err = nrls.Pointer{URL: "ssp://p1.example/Mental Health/plan.pdf?v=1"}.SSPURL("https://proxy.example/ssp")
	require.NoError(t, err)
	assert.Equal(t, "https://proxy.example/ssp/https%3A%2F%2Fp1.example%2FMental%20Health%2Fplan.pdf%3Fv%3D1", got)

	tests := []struct {
		name, url, base string
		want            error
	}{
		{"https pointer", directURL, "https://proxy.example", nrls.ErrInvalidSSP},
		{"relative base", sspURL, "proxy.example", nrls.ErrInvalidSSP},
		{"base with query", sspURL, "https://proxy.example/?a=1", nrls.ErrInvalidSSP},
		{"base with empty query", sspURL, "https://proxy.example/?", nrls.ErrInvalidSSP},
		{"ftp base", sspURL, "ftp://proxy.example", nrls.ErrInvalidSSP},
		{"ssp without host", "ssp:///x", "https://proxy.example", nrls.ErrInvalidSSP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := nrls.Pointer{URL: tt.url}.SSPURL(tt.base)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	_, err = mustPointer(t, directSpec()).SSPURL("https://proxy.example")
	assert.ErrorIs(t, err, nrls.ErrInvalidSSP)
}

func TestSSPHeaders(t *testing.T) {
	p := mustPointer(t, sspSpec())
	trace := uuid.NewString()
	h, err := p.SSPHeaders("200000000610", trace, "")
	require.NoError(t, err)
	assert.Equal(t, trace, h.Get("Ssp-TraceID"))
	assert.Equal(t, "200000000610", h.Get("Ssp-From"))
	assert.Equal(t, testASID, h.Get("Ssp-To"))
	assert.Equal(t, nrls.SSPInteractionRead, h.Get("Ssp-InteractionID"))

	h, err = p.SSPHeaders("200000000610", "", "urn:nhs:names:services:other")
	require.NoError(t, err)
	_, err = uuid.Parse(h.Get("Ssp-TraceID"))
	assert.NoError(t, err, "a fresh trace ID is made")
	assert.Equal(t, "urn:nhs:names:services:other", h.Get("Ssp-InteractionID"))

	noASID := roundTrip(t, p)
	noASID.Resource.Context.Related = nil
	noASID = nrls.PointerFrom(noASID.Resource)
	tests := []struct {
		name                  string
		p                     nrls.Pointer
		from, trace, interact string
		want                  error
	}{
		{"direct pointer", mustPointer(t, directSpec()), "200000000610", "", "", nrls.ErrInvalidSSP},
		{"short consumer ASID", p, "2000", "", "", nrls.ErrInvalidSSP},
		{"bad trace ID", p, "200000000610", "trace-1", "", nrls.ErrInvalidSSP},
		{"interaction with newline", p, "200000000610", "", "a\nb", nrls.ErrInvalidSSP},
		{"no provider ASID", noASID, "200000000610", "", "", nrls.ErrInvalidSSP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.SSPHeaders(tt.from, tt.trace, tt.interact)
			assert.ErrorIs(t, err, tt.want)
		})
	}
}
