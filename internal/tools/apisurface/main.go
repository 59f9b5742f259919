// Command apisurface counts the module's public surface: the exported
// types, functions, methods, constants and variables declared in non-test
// files of every package a user can import (not internal, not examples).
// With -v it lists them, with -skip it leaves the named package
// directories out, and with -max N it fails when there are more than N,
// so that the public surface only grows on purpose. Its test holds the
// packages that predate audit/console, audit/postgres and shcr/provider
// to a budget.
//
//	go run ./internal/tools/apisurface [-v] [-skip dir,dir] [-max N] [dir]
package main

import (
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

func main() {
	verbose := flag.Bool("v", false, "list every exported name")
	limit := flag.Int("max", 0, "fail when there are more exported names than this (0: no limit)")
	skip := flag.String("skip", "", "package directories to leave out, separated by commas (e.g. audit/postgres)")
	flag.Parse()
	root := "."
	if flag.NArg() > 0 {
		root = flag.Arg(0)
	}
	names, err := exportedNames(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apisurface:", err)
		os.Exit(1)
	}
	if *skip != "" {
		names = filterOut(names, strings.Split(*skip, ","))
	}
	perPkg := map[string]int{}
	for _, n := range names {
		perPkg[n[:strings.IndexByte(n, ' ')]]++
	}
	pkgs := make([]string, 0, len(perPkg))
	for p := range perPkg {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, p := range pkgs {
		fmt.Printf("%5d  %s\n", perPkg[p], p)
	}
	if *verbose {
		for _, n := range names {
			fmt.Println(n)
		}
	}
	fmt.Printf("%5d  exported names in all\n", len(names))
	if *limit > 0 && len(names) > *limit {
		fmt.Fprintf(os.Stderr, "apisurface: %d exported names, more than the %d allowed\n", len(names), *limit)
		os.Exit(1)
	}
}

// exportedNames returns "pkgdir Name" or "pkgdir Type.Method" for every
// exported declaration under root, sorted.
func exportedNames(root string) ([]string, error) {
	var out []string
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			base := d.Name()
			if path != root && (base == "examples" || base == "internal" || base == "testdata" || strings.HasPrefix(base, ".") || base == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		if f.Name.Name == "main" {
			return nil
		}
		dir, _ := filepath.Rel(root, filepath.Dir(path))
		for _, name := range declared(f) {
			out = append(out, filepath.ToSlash(dir)+" "+name)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// filterOut returns names without those of the package directories pkgs
// (each exactly, not the packages below it).
func filterOut(names, pkgs []string) []string {
	var out []string
	for _, n := range names {
		dir, _, _ := strings.Cut(n, " ")
		if !slices.Contains(pkgs, dir) {
			out = append(out, n)
		}
	}
	return out
}

// declared lists a file's exported top-level names and the exported
// methods of its exported types.
func declared(f *ast.File) []string {
	var names []string
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if !d.Name.IsExported() {
				continue
			}
			if d.Recv == nil {
				names = append(names, d.Name.Name)
				continue
			}
			if recv := receiverName(d.Recv.List[0].Type); ast.IsExported(recv) {
				names = append(names, recv+"."+d.Name.Name)
			}
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if s.Name.IsExported() {
						names = append(names, s.Name.Name)
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.IsExported() {
							names = append(names, n.Name)
						}
					}
				}
			}
		}
	}
	return names
}

func receiverName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}
