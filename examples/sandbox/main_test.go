package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// binDir holds the sandbox binary, built once for every test that runs it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var buildSandbox = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "sandbox-bin")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "sandbox")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	return bin, build.Run()
})

// startSandbox builds (once) and starts the sandbox binary on a free
// loopback port and returns its base URL.
func startSandbox(t *testing.T) string {
	t.Helper()
	bin, err := buildSandbox()
	require.NoError(t, err)

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		// Ctrl-C: the sandbox stops cleanly and exits 0.
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			assert.NoError(t, err, "the sandbox did not stop cleanly on interrupt")
		case <-time.After(time.Minute):
			_ = cmd.Process.Kill()
			t.Error("the sandbox did not stop on interrupt")
		}
	})
	lines := bufio.NewScanner(stdout)
	require.True(t, lines.Scan(), "the sandbox printed nothing")
	base, ok := strings.CutPrefix(lines.Text(), "listening on ")
	require.True(t, ok, "first line %q", lines.Text())
	var guide strings.Builder
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "TEST PATIENTS") {
		guide.WriteString(lines.Text() + "\n")
	}
	go func() {
		for lines.Scan() {
		}
	}()
	assert.Contains(t, guide.String(), base+"/personal-demographics/FHIR/R4")
	return base
}

// readmeBlock returns the shell block of README.md that shows how to drive
// the sandbox with curl.
func readmeBlock(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	s := string(b)
	start := strings.Index(s, "<!-- sandbox-curl -->")
	end := strings.Index(s, "<!-- /sandbox-curl -->")
	require.True(t, start >= 0 && end > start, "README.md has no sandbox-curl block")
	block := s[start:end]
	block = block[strings.Index(block, "```sh")+len("```sh"):]
	block = block[:strings.Index(block, "```")]
	return block
}

// TestSandboxWithCurl runs the README's curl commands against the sandbox
// binary, so that what the README shows keeps working.
func TestSandboxWithCurl(t *testing.T) {
	t.Parallel() // each drives its own sandbox
	if testing.Short() {
		t.Skip("builds and starts the sandbox binary")
	}
	for _, tool := range []string{"bash", "curl", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the README's commands need it", tool)
		}
	}
	base := startSandbox(t)
	script := strings.ReplaceAll(readmeBlock(t), "http://127.0.0.1:8700", base)
	require.Contains(t, script, base, "the README block names the default address")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir() // the commands write files
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "README commands failed:\n%s", out)
	s := string(out)
	assert.Contains(t, s, `"resourceType":"Patient"`)
	assert.Contains(t, s, `"resourceType":"Bundle"`)
	assert.Contains(t, s, `"type":"searchset"`)
	assert.Contains(t, s, "9490000019")
	assert.Contains(t, s, "RNR-000002", "the regional record came back")
	assert.Contains(t, s, "%PDF-1.", "the record came back through the proxy")
	assert.Contains(t, s, `"kids"`, "the key was registered")
	assert.Contains(t, s, `"access_token"`, "the client assertion got an access token")

	// The sandbox's own endpoints.
	resp, err := http.Get(base + "/sandbox/patients")
	require.NoError(t, err)
	defer resp.Body.Close()
	var patients []patient
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&patients))
	assert.GreaterOrEqual(t, len(patients), 50)
}

func TestCheckLoopback(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:0", "localhost:8700", "[::1]:8700"} {
		assert.NoError(t, checkLoopback(ok), ok)
	}
	for _, bad := range []string{"0.0.0.0:8700", ":8700", "192.168.1.2:80", "nonsense"} {
		assert.Error(t, checkLoopback(bad), bad)
	}
}
