package shcr_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shcrkit/shcrkit/internal/conformance"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/shcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformanceDir returns the shared conformance material, skipping
// the test when it is absent.
func conformanceDir(t *testing.T) string { return conformance.Dir(t, "") }

// The published NRL example of a pointer retrieved through SSP, whose URL
// names the proxy with the provider's URL percent-encoded in its path, is
// routed through our proxy only when the provider is in the directory.
func TestConformanceSSPPointer(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(conformanceDir(t), "nrl", "NRLF_Y05868-736253002-Valid-with-ssp-content.json"))
	if os.IsNotExist(err) {
		t.Skip("example not present")
	}
	require.NoError(t, err)
	p, err := nrls.ParsePointer(b)
	require.NoError(t, err)
	require.True(t, p.IsSSP())

	proxy := &shcr.SSP{ProxyURL: "https://proxy.spine.example", ConsumerASID: "200000000001"}
	known, err := shcr.NewDirectory(shcr.DirectoryConfig{SSP: proxy, Endpoints: []shcr.Endpoint{
		{Name: "provider", Custodians: []shcrkit.ODSCode{p.Custodian}, BaseURL: "https://p1.nhs.uk"}}})
	require.NoError(t, err)
	r, err := shcr.NewRemote(known, shcr.RemoteConfig{})
	require.NoError(t, err)
	assert.NoError(t, r.Check(p))

	elsewhere, err := shcr.NewDirectory(shcr.DirectoryConfig{SSP: proxy, Endpoints: []shcr.Endpoint{
		{Name: "provider", Custodians: []shcrkit.ODSCode{p.Custodian}, BaseURL: "https://other.provider.example"}}})
	require.NoError(t, err)
	r, err = shcr.NewRemote(elsewhere, shcr.RemoteConfig{})
	require.NoError(t, err)
	require.ErrorIs(t, r.Check(p), shcr.ErrHostNotAllowed)
}
