package cell

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestModernGoAgainstGo checks the expected results of the modern-Go table
// against the real peer, the Go toolchain: each cell becomes a program (imports
// and declarations at package level, statements in main, the trailing expression
// printed the way the session formats results), all are built with one `go
// build` and run. Known yaegi gaps are checked too: Go must give their `want`.
func TestModernGoAgainstGo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds one program per cell")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		t.Skipf("no go toolchain: %v", err)
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module gocheck\n\ngo 1.26\n")
	var names []string
	for i, c := range modernCases {
		if strings.HasPrefix(c.want, "out:") {
			continue
		}
		src, err := cellProgram(c.code)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		name := fmt.Sprintf("c%02d", i)
		write(filepath.Join(name, "main.go"), src)
		names = append(names, name)
	}
	bin := filepath.Join(dir, "bin")
	build := exec.Command(goBin, "build", "-o", bin+string(filepath.Separator), "./...")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for i, c := range modernCases {
		name := fmt.Sprintf("c%02d", i)
		if strings.HasPrefix(c.want, "out:") {
			continue
		}
		out, err := exec.Command(filepath.Join(bin, name)).Output()
		if err != nil {
			t.Errorf("%s: run: %v", c.name, err)
			continue
		}
		if string(out) != c.want {
			t.Errorf("%s: Go prints %q, the table expects %q", c.name, out, c.want)
		}
	}
}

// cellProgram turns a cell into a Go program that prints the cell's result.
func cellProgram(code string) (string, error) {
	src := []byte(code)
	chunks, _ := splitCell(src)
	keep := func(want chunkKind) func(chunkKind) bool { return func(k chunkKind) bool { return k == want } }
	fset := token.NewFileSet()
	decls, err := parser.ParseFile(fset, "", "package main\n"+string(blankOut(src, chunks, func(k chunkKind) bool { return k != chunkStmt })), parser.ParseComments)
	if err != nil {
		return "", err
	}
	stmtFile, err := parser.ParseFile(fset, "", "package main\nfunc main() {\n"+string(blankOut(src, chunks, keep(chunkStmt)))+"\n}\n", 0)
	if err != nil {
		return "", err
	}
	body := stmtFile.Decls[0].(*ast.FuncDecl).Body
	var out bytes.Buffer
	pr := func(n ast.Node) {
		printer.Fprint(&out, fset, n)
		out.WriteString("\n")
	}
	// imports: the cell's own, plus standard packages it uses without importing
	// (the session imports those itself), plus fmt for printing the result
	imported, importedNames := map[string]bool{}, map[string]bool{}
	for _, im := range decls.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		imported[p] = true
		importedNames[exportedPackageName(p)] = true // "rand" for math/rand/v2
	}
	used := map[string]bool{"fmt": true}
	ast.Inspect(stmtFile, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	ast.Inspect(decls, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok {
				used[id.Name] = true
			}
		}
		return true
	})
	var extra []string
	for name := range used {
		if p, ok := stdPackageByName()[name]; ok && !imported[p] && !importedNames[name] {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	out.WriteString("package main\n\n")
	for _, p := range extra {
		fmt.Fprintf(&out, "import %q\n", p)
	}
	for _, d := range decls.Decls {
		pr(d)
	}
	out.WriteString("func main() {\n")
	list := body.List
	var trailing ast.Expr
	if n := len(list); n > 0 {
		if es, ok := list[n-1].(*ast.ExprStmt); ok {
			trailing, list = es.X, list[:n-1]
		}
	}
	for _, st := range list {
		pr(st)
		// top-level variables may be unused in the program (the notebook keeps them)
		var defined []*ast.Ident
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, l := range st.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						defined = append(defined, id)
					}
				}
			}
		case *ast.DeclStmt:
			if gd, ok := st.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR {
				for _, sp := range gd.Specs {
					defined = append(defined, sp.(*ast.ValueSpec).Names...)
				}
			}
		}
		for _, id := range defined {
			fmt.Fprintf(&out, "_ = %s\n", id.Name)
		}
	}
	if trailing != nil {
		out.WriteString("fmt.Print(golemFormat(")
		printer.Fprint(&out, fset, trailing)
		out.WriteString("))\n")
	}
	out.WriteString("}\n\n")
	out.WriteString(`func golemFormat(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprintf("%v", v)
}
`)
	return out.String(), nil
}
