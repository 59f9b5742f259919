// Package funcsize holds the module to its limits on function size: no
// function or method in non-test code over 80 lines or of cyclomatic
// complexity over 25 (counted as gocyclo counts: one, plus one for every
// if, for, range, case, select case and && or ||), except where a comment
// in the function's doc says why, beginning "funcsize:". Its test walks
// the whole module, examples included (newcomers read them first), so
// `go test ./...` fails on a function that outgrows them.
package funcsize

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
)

// Limits of a function's size.
const (
	MaxLines      = 80
	MaxComplexity = 25
)

// Finding is a function over a limit.
type Finding struct {
	Pos        token.Position
	Name       string
	Lines      int
	Complexity int
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %s is %d lines, cyclomatic complexity %d (limits %d, %d)",
		f.Pos, f.Name, f.Lines, f.Complexity, MaxLines, MaxComplexity)
}

// Check returns the functions below root, outside tests, testdata and
// node_modules, that are over a limit without a "funcsize:" comment.
func Check(root string) ([]Finding, error) {
	fset := token.NewFileSet()
	var out []Finding
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "testdata", ".git":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil || excused(fd) {
				continue
			}
			lines := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
			if c := Complexity(fd); lines > MaxLines || c > MaxComplexity {
				out = append(out, Finding{Pos: fset.Position(fd.Pos()), Name: name(fd), Lines: lines, Complexity: c})
			}
		}
		return nil
	})
	return out, err
}

// Complexity is fn's cyclomatic complexity, counted as gocyclo counts it.
func Complexity(fn *ast.FuncDecl) int {
	c := 1
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt, *ast.ForStmt, *ast.RangeStmt:
			c++
		case *ast.CaseClause:
			if n.List != nil {
				c++
			}
		case *ast.CommClause:
			if n.Comm != nil {
				c++
			}
		case *ast.BinaryExpr:
			if n.Op == token.LAND || n.Op == token.LOR {
				c++
			}
		}
		return true
	})
	return c
}

func excused(fd *ast.FuncDecl) bool {
	if fd.Doc == nil {
		return false
	}
	for _, c := range fd.Doc.List {
		if strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(c.Text, "//")), "funcsize:") {
			return true
		}
	}
	return false
}

func name(fd *ast.FuncDecl) string {
	if fd.Recv == nil || len(fd.Recv.List) == 0 {
		return fd.Name.Name
	}
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if ix, ok := t.(*ast.IndexExpr); ok {
		t = ix.X
	}
	if ix, ok := t.(*ast.IndexListExpr); ok {
		t = ix.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fd.Name.Name
	}
	return fd.Name.Name
}
