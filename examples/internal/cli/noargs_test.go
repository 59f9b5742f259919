package cli

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoArgsMasksAnNHSNumber: an NHS number given where no argument is
// taken (audit-verify -dir D 9490000019, -patient forgotten) is named in
// the error masked, as in every error of the SDK: the error goes to
// standard error, and from there to logs.
func TestNoArgsMasksAnNHSNumber(t *testing.T) {
	fs := NewFlagSet("demo", io.Discard)
	require.NoError(t, fs.Parse([]string{"9490000019"}))
	err := NoArgs(fs)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "9490000019")
	assert.Contains(t, err.Error(), "unexpected argument")
}
