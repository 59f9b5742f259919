// Package conformance locates the public example payloads of the national
// services (../shared/conformance beside the module root) for the tests
// that check parsers and fakes against them. The material is not part of
// the repository, so a test that needs it skips when it is absent.
package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the conformance folder sub ("pds", "nrl", "audit"; "" for
// the whole material), or skips the test when it is absent.
//
// SHCRKIT_CONFORMANCE, when set, names the material's folder: a git
// worktree kept elsewhere than beside the shared folder would otherwise
// skip every conformance test without a word.
func Dir(t testing.TB, sub string) string {
	t.Helper()
	if env := os.Getenv("SHCRKIT_CONFORMANCE"); env != "" {
		p := filepath.Join(env, sub)
		if _, err := os.Stat(p); err != nil {
			t.Skipf("conformance material not present at $SHCRKIT_CONFORMANCE/%s", sub)
		}
		return p
	}
	root, err := moduleRoot()
	if err != nil {
		t.Skipf("conformance material not found: %v", err)
	}
	p := filepath.Join(root, "..", "shared", "conformance", sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("conformance material not present at ../shared/conformance/%s", sub)
	}
	return p
}

// moduleRoot walks up from the working directory (a test's package
// folder) to the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
