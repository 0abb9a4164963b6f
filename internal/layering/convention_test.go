package layering

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEveryFunctionFollowsTheConvention checks the one shape every
// function's package has (docs/architecture.md, "One convention"), so that
// a newcomer who has read one function has read them all: const Function
// (its name), type Handler with Handle(ctx, event) (result, error),
// FromEnv and New that build it, and WithClock, the one way to inject the
// clock. The package is the one the function's main.go imports from its
// own folder.
func TestEveryFunctionFollowsTheConvention(t *testing.T) {
	mains, err := filepath.Glob("../../functions/*/main.go")
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions/*/main.go: %v", err)
	}
	for _, mainGo := range mains {
		fn := filepath.Base(filepath.Dir(mainGo))
		t.Run(fn, func(t *testing.T) {
			dir := logicPackage(t, mainGo, fn)
			decls := declarations(t, dir)
			for _, want := range []string{"const Function", "type Handler", "type Option", "func FromEnv", "func New", "func WithClock", "method Handler.Handle"} {
				if decls[want] == "" {
					t.Errorf("%s: no %s", dir, want)
				}
			}
			if decls["const Function"] != "" && decls["value Function"] != strconv.Quote(fn) {
				t.Errorf("%s: Function = %s, want %q (the folder's name)", dir, decls["value Function"], fn)
			}
		})
	}
}

// logicPackage is the folder of the package main.go imports from
// functions/<fn>/.
func logicPackage(t *testing.T, mainGo, fn string) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), mainGo, nil, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	// main.go may import more than one of the function's packages (the
	// export attaches package detect); the logic package is the one that
	// names the function.
	prefix := module + "/functions/" + fn + "/"
	var candidates []string
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if rest, ok := strings.CutPrefix(p, prefix); ok {
			dir := filepath.Join(filepath.Dir(mainGo), filepath.FromSlash(rest))
			if declarations(t, dir)["const Function"] != "" {
				return dir
			}
			candidates = append(candidates, dir)
		}
	}
	if len(candidates) > 0 {
		return candidates[0] // reported as missing const Function
	}
	t.Fatalf("%s imports no package of functions/%s/", mainGo, fn)
	return ""
}

// declarations names the exported top-level declarations of the non-test
// files in dir ("const X", "type X", "func X", "method T.M"), and for
// constants "value X" with the literal.
func declarations(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					out["func "+d.Name.Name] = "1"
					continue
				}
				recv := d.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				if id, ok := recv.(*ast.Ident); ok {
					out["method "+id.Name+"."+d.Name.Name] = "1"
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						out["type "+s.Name.Name] = "1"
					case *ast.ValueSpec:
						if d.Tok != token.CONST {
							continue
						}
						for i, n := range s.Names {
							out["const "+n.Name] = "1"
							if i < len(s.Values) {
								if lit, ok := s.Values[i].(*ast.BasicLit); ok {
									out["value "+n.Name] = lit.Value
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}
