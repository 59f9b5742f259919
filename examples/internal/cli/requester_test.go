package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadRequester loads the sample files the examples ship and refuses
// broken or incomplete ones.
func TestLoadRequester(t *testing.T) {
	for _, p := range []string{"../../journey/requester.json", "../../audit-verify/reader.json"} {
		r, err := LoadRequester(p)
		require.NoError(t, err, p)
		assert.NotEmpty(t, r.Name, p)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"name":`), 0o600))
	_, err := LoadRequester(bad)
	assert.ErrorContains(t, err, "bad.json")
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte(`{}`), 0o600))
	_, err = LoadRequester(empty)
	assert.Error(t, err, "an incomplete requester is refused")
	_, err = LoadRequester(filepath.Join(dir, "none.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
