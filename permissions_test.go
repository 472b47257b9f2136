package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// permissionConstant is the name of a permission constant of domain
// (domain.PermKeyCreate, ...), not domain.Permission, the type.
var permissionConstant = regexp.MustCompile(`^Perm[A-Z]`)

// TestHandlersNameNoPermission keeps the domain's operation table the only
// place that says which permission an action needs: the console and API
// handlers (and the views they render) ask a service, or an Access it
// returned, about an operation, and never name a permission themselves.
func TestHandlersNameNoPermission(t *testing.T) {
	checked := 0
	for _, dir := range []string{"handlers", "views"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			domainName := ""
			for _, imp := range f.Imports {
				if imp.Path.Value == `"studio/domain"` {
					domainName = "domain"
					if imp.Name != nil {
						domainName = imp.Name.Name
					}
				}
			}
			checked++
			if domainName == "" {
				return nil
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == domainName && permissionConstant.MatchString(sel.Sel.Name) {
					t.Errorf("%s names domain.%s: ask the service about a domain.Operation instead", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d files: is the test running in the module's root?", checked)
	}
}
