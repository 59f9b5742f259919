package conformance_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shcrkit/shcrkit/internal/conformance"
)

// TestDirFromEnvironment: a checkout kept away from the shared folder (a
// git worktree elsewhere) names the material with SHCRKIT_CONFORMANCE,
// and the conformance tests run instead of skipping.
func TestDirFromEnvironment(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "pds"), 0o755))
	t.Setenv("SHCRKIT_CONFORMANCE", root)
	var got string
	var skipped bool
	t.Run("dir", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		got = conformance.Dir(t, "pds")
	})
	assert.False(t, skipped, "the folder named by SHCRKIT_CONFORMANCE was not used")
	assert.Equal(t, filepath.Join(root, "pds"), got)
}
