package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBadServeAddressRefusedBeforeAnythingStarts: a -serve that is not a
// loopback host:port is a bad flag like any other: refused before the
// fakes start and before anything is written to the -audit-dir log.
func TestBadServeAddressRefusedBeforeAnythingStarts(t *testing.T) {
	for _, serve := range []string{"192.0.2.1:80", "8088", "example.com:8088"} {
		dir := filepath.Join(t.TempDir(), "audit")
		var out bytes.Buffer
		err := run(context.Background(), []string{"-serve", serve, "-audit-dir", dir}, &out, &out)
		require.Error(t, err, serve)
		assert.Contains(t, err.Error(), "-serve", serve)
		assert.Empty(t, out.String(), serve)
		_, statErr := os.Stat(dir)
		assert.ErrorIs(t, statErr, os.ErrNotExist, "the journey ran with -serve %s", serve)
	}
}
