package safety

import (
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite hazard-log.md")

// moduleRoot is the repository's root, two levels up.
const moduleRoot = "../.."

// testNames finds every top-level Test, Fuzz, Benchmark and Example
// function of the module, as "package/path.Name".
func testNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(moduleRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != moduleRoot || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir, err := filepath.Rel(moduleRoot, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(dir)
		if pkg == "." {
			pkg = "shcrkit"
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && fn.Recv == nil {
				names[pkg+"."+fn.Name.Name] = true
			}
		}
		return nil
	})
	require.NoError(t, err)
	return names
}

func TestEveryHazardHasControlsEvidencedByTestsThatExist(t *testing.T) {
	l, err := Load()
	require.NoError(t, err)
	require.NotEmpty(t, l.Hazards)
	exist := testNames(t)
	require.True(t, exist["internal/safety.TestEveryHazardHasControlsEvidencedByTestsThatExist"], "the scan finds this very test")
	ids := map[string]bool{}
	for _, h := range l.Hazards {
		assert.False(t, ids[h.ID], "hazard %s listed twice", h.ID)
		ids[h.ID] = true
		assert.NotEmpty(t, h.Causes, h.ID)
		assert.NotEmpty(t, h.Effect, h.ID)
		assert.NotEmpty(t, h.Controls, "hazard %s has no control", h.ID)
		before, err := h.Before.Rating()
		require.NoError(t, err, h.ID)
		after, err := h.After.Rating()
		require.NoError(t, err, h.ID)
		assert.LessOrEqual(t, after, before, "%s: controls never raise the risk", h.ID)
		for _, c := range h.Controls {
			assert.NotEmpty(t, c.Tests, "%s: control %q names no test", h.ID, c.Text)
			for _, name := range c.Tests {
				assert.True(t, exist[name], "%s: control %q names %s, which does not exist", h.ID, c.Text, name)
			}
		}
	}
	// The hazards the integrator must consider are all there.
	var titles []string
	for _, h := range l.Hazards {
		titles = append(titles, strings.ToLower(h.Title))
	}
	all := strings.Join(titles, "\n")
	for _, want := range []string{"wrong patient", "missing or stale", "wrong person", "sensitive", "audit", "unavailable", "clock"} {
		assert.Contains(t, all, want)
	}
}

func TestHazardLogMarkdownIsCurrent(t *testing.T) {
	l, err := Load()
	require.NoError(t, err)
	md, err := l.Markdown()
	require.NoError(t, err)
	if *update {
		require.NoError(t, os.WriteFile("hazard-log.md", []byte(md), 0o644))
	}
	want, err := os.ReadFile("hazard-log.md")
	require.NoError(t, err)
	assert.Equal(t, string(want), md, "run go test ./internal/safety -update")
}

func TestRatingRefusesValuesOffTheScales(t *testing.T) {
	_, err := Risk{Severity: "Bad", Likelihood: "Low"}.Rating()
	require.Error(t, err)
	r, err := Risk{Severity: "Catastrophic", Likelihood: "Very high"}.Rating()
	require.NoError(t, err)
	assert.Equal(t, 5, r)
}
