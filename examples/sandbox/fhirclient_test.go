package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fhirClientDir holds the JavaScript tester: package.json and its
// lockfile (fhir-kit-client pinned) and e2e.mjs.
const fhirClientDir = "testdata/fhirclient"

// TestWithFHIRKitClient drives the sandbox binary with fhir-kit-client, a
// widely used JavaScript FHIR client, as a tester in another language
// would (see testdata/fhirclient/e2e.mjs for the checks). The packages are
// installed from the lockfile with npm ci when they are not yet there.
func TestWithFHIRKitClient(t *testing.T) {
	t.Parallel() // each drives its own sandbox
	if testing.Short() {
		t.Skip("builds and starts the sandbox binary")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the fhir-kit-client end-to-end test needs Node.js 20 or later")
	}
	dir, err := filepath.Abs(fhirClientDir)
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "fhir-kit-client", "package.json")); err != nil {
		npm, err := exec.LookPath("npm")
		require.NoError(t, err, "node is installed but npm is not: install the packages with npm ci in %s", dir)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "npm ci in %s:\n%s", dir, out)
	}
	base := startSandbox(t)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "e2e.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SANDBOX_URL="+base)
	out, err := cmd.CombinedOutput()
	t.Logf("fhir-kit-client against %s:\n%s", base, out)
	require.NoError(t, err, "the fhir-kit-client checks failed")
	require.Contains(t, string(out), "PASS ")
}
