package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestREADMEQuickStartCompiles type-checks the Go quick start of the
// README, so that it keeps matching the API.
func TestREADMEQuickStartCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet on the README's quick start")
	}
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	s := string(b)
	start, end := strings.Index(s, "<!-- quickstart -->"), strings.Index(s, "<!-- /quickstart -->")
	require.True(t, start >= 0 && end > start, "README.md has no quickstart block")
	block := s[start:end]
	block = block[strings.Index(block, "```go")+len("```go"):]
	block = block[:strings.Index(block, "```")]

	src := `package main

import (
	"context"
	"crypto"

	"github.com/shcrkit/shcrkit"
	"github.com/shcrkit/shcrkit/audit"
	"github.com/shcrkit/shcrkit/auth"
	"github.com/shcrkit/shcrkit/nrls"
	"github.com/shcrkit/shcrkit/pds"
	"github.com/shcrkit/shcrkit/rbac"
	"github.com/shcrkit/shcrkit/shcr"
)

func notifyPrivacyOfficers(context.Context, shcr.Alert) error { return nil }

func show([]*shcr.Record, []shcr.Candidate, []*shcr.RetrievalError) error { return nil }

func main() { _ = openRecords }
` + block
	// A directory whose name starts with "_" is left out of ./... but can
	// be vetted by path, inside the module.
	dir, err := os.MkdirTemp("../..", "_quickstart")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o600))
	cmd := exec.Command("go", "vet", "./"+filepath.Base(dir))
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the README quick start does not compile:\n%s\n%s", out, src)
}
