package samplepolicy_test

import (
	"bytes"
	"testing"

	"github.com/shcrkit/shcrkit/internal/samplepolicy"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSamplePolicyLoads(t *testing.T) {
	p := samplepolicy.Load()
	require.NotNil(t, p)
	assert.Equal(t, "North Riverside ShCR cross-boundary access policy", p.Name())

	// The text is a copy: changing it leaves the next one whole.
	b := samplepolicy.YAML()
	b[0] = '!'
	assert.NotEqual(t, b[0], samplepolicy.YAML()[0])
}

func TestWorldPolicyLoads(t *testing.T) {
	p, err := rbac.LoadPolicy(bytes.NewReader(samplepolicy.WorldYAML()))
	require.NoError(t, err)
	assert.NotEmpty(t, p.Name())
	b := samplepolicy.WorldYAML()
	b[0] = 'x'
	assert.NotEqual(t, b, samplepolicy.WorldYAML(), "each call returns a copy")
}
