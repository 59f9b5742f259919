package conformance_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shcrkit/shcrkit/internal/conformance"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDir(t *testing.T) {
	dir := conformance.Dir(t, "pds") // skips on a machine without the material
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.True(t, info.IsDir())
	assert.Equal(t, "pds", filepath.Base(dir))
}

func TestDirSkipsWhenAbsent(t *testing.T) {
	var skipped bool
	t.Run("absent", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		conformance.Dir(t, "no-such-service")
		t.Error("did not skip")
	})
	assert.True(t, skipped)
}
