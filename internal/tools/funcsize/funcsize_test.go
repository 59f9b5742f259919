package funcsize_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"testing"

	"github.com/shcrkit/shcrkit/internal/tools/funcsize"
	"github.com/stretchr/testify/require"
)

// TestModuleWithinLimits fails on any function of the module that has
// outgrown the limits without saying why.
func TestModuleWithinLimits(t *testing.T) {
	found, err := funcsize.Check("../../..")
	require.NoError(t, err)
	for _, f := range found {
		t.Error(f)
	}
}

func TestComplexityCountsAsGocyclo(t *testing.T) {
	src := `package p
func f(a, b bool, xs []int, ch chan int) {
	if a && b || a {
	}
	for i := 0; i < 1; i++ {
	}
	for range xs {
	}
	switch {
	case a:
	case b:
	default:
	}
	select {
	case <-ch:
	default:
	}
}
func g() {}
`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	require.NoError(t, err)
	// 1 + if + && + || + for + range + 2 cases + 1 comm case.
	require.Equal(t, 9, funcsize.Complexity(f.Decls[0].(*ast.FuncDecl)))
	require.Equal(t, 1, funcsize.Complexity(f.Decls[1].(*ast.FuncDecl)))
}

func TestLongAndExcusedFunctions(t *testing.T) {
	dir := t.TempDir()
	long := "package p\n\nfunc long() {\n"
	for range funcsize.MaxLines {
		long += "\t_ = 1\n"
	}
	long += "}\n\n// funcsize: a table that reads best whole.\nfunc excused() {\n"
	for range funcsize.MaxLines {
		long += "\t_ = 1\n"
	}
	long += "}\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.go"), []byte(long), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p_test.go"), []byte(long), 0o600))
	found, err := funcsize.Check(dir)
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, "long", found[0].Name)
	require.Equal(t, funcsize.MaxLines+2, found[0].Lines)
}
