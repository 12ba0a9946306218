package cell

import (
	"embed"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"
)

// The prelude is Go compiled into every interpreter before the first cell: the
// functions rewritten cells call in place of what yaegi v0.16.1 lacks, and the
// display of a cell's result. It lives in cell/prelude as ordinary .go files (so
// gofmt, vet and editors see it), kept out of Go builds by the build tag
// golemprelude and embedded here.

//go:embed prelude/*.go
var preludeFS embed.FS

//go:embed prelude/iter/iter.go
var iterSource string

// rtPath is the import path under which every interpreter exports the compiled
// runtime that rewritten cells call as _golemrt.F (declared in cell/prelude/golemrt,
// exported by runtimeExports).
const rtPath = "github.com/golem-lm/golem/cell/prelude/golemrt"

// preludeFile is one file of the prelude.
type preludeFile struct{ name, src string }

// preludeSources are the prelude's files in name order, their build constraint
// removed: yaegi honours build constraints, and this one exists only to keep the
// files out of Go builds.
var preludeSources = sync.OnceValue(func() []preludeFile {
	entries, err := fs.ReadDir(preludeFS, "prelude")
	if err != nil {
		panic("cell: prelude not embedded: " + err.Error())
	}
	var out []preludeFile
	for _, e := range entries {
		b, err := preludeFS.ReadFile(path.Join("prelude", e.Name()))
		if err != nil {
			panic("cell: prelude not embedded: " + err.Error())
		}
		out = append(out, preludeFile{e.Name(), withoutBuildLine(string(b))})
	}
	return out
})

// withoutBuildLine blanks the //go:build line of src (keeping the line, so that
// positions do not move).
func withoutBuildLine(src string) string {
	if rest, ok := strings.CutPrefix(src, "//go:build "); ok {
		if i := strings.IndexByte(rest, '\n'); i >= 0 {
			return rest[i:]
		}
	}
	return src
}

// parsePrelude parses the prelude's files as one file of package main, whose
// positions are in fileName from line preludeLine on (see frameName): yaegi keys
// imports by the file name of the code that imports them, so the prelude's
// imports are the cells' too (preludeImports). Each file imports what it uses; the
// imports are merged.
func parsePrelude(fset *token.FileSet, fileName string) (*ast.File, error) {
	var out *ast.File
	imports := &ast.GenDecl{Tok: token.IMPORT}
	seen := map[string]bool{}
	var decls []ast.Decl
	for _, pf := range preludeSources() {
		f, err := parser.ParseFile(fset, fileName, fmt.Sprintf("//line %s:%d:1\n", fileName, preludeLine)+pf.src, 0)
		if err != nil {
			return nil, fmt.Errorf("parse prelude %s: %w", pf.name, err)
		}
		if out == nil {
			out = &ast.File{Package: f.Package, Name: &ast.Ident{NamePos: f.Name.NamePos, Name: "main"}}
			imports.TokPos, imports.Lparen = f.Package, f.Package
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.IMPORT {
				decls = append(decls, d)
				continue
			}
			for _, sp := range gd.Specs {
				im := sp.(*ast.ImportSpec)
				key := im.Path.Value
				if im.Name != nil {
					key = im.Name.Name + " " + key
				}
				if !seen[key] {
					seen[key] = true
					imports.Specs = append(imports.Specs, im)
					out.Imports = append(out.Imports, im)
				}
			}
		}
	}
	out.Decls = append([]ast.Decl{imports}, decls...)
	return out, nil
}

// compilePrelude compiles package iter and then the prelude into in, under
// fileName (the name the code that uses it is compiled under).
func compilePrelude(in *interp.Interpreter, fileName string) error {
	if _, err := in.Compile(withoutBuildLine(iterSource)); err != nil {
		return fmt.Errorf("compile prelude package iter: %w", err)
	}
	f, err := parsePrelude(in.FileSet(), fileName)
	if err != nil {
		return err
	}
	prog, err := in.CompileAST(f)
	if err != nil {
		return fmt.Errorf("compile prelude: %w", err)
	}
	if _, err := in.Execute(prog); err != nil {
		return fmt.Errorf("run prelude: %w", err)
	}
	return nil
}

// preludeImports are the packages every cell sees without importing them: the
// prelude's imports, by the name they bind.
var preludeImports = sync.OnceValue(func() map[string]string {
	f, err := parsePrelude(token.NewFileSet(), "prelude")
	if err != nil {
		panic("cell: " + err.Error())
	}
	out := map[string]string{}
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		name := path.Base(p)
		if im.Name != nil {
			name = im.Name.Name
		}
		out[name] = p
	}
	return out
})

// preludeFuncs are the prelude's functions by name (their declarations, parsed
// once).
var preludeFuncs = sync.OnceValue(func() map[string]*ast.FuncDecl {
	f, err := parsePrelude(token.NewFileSet(), "prelude")
	if err != nil {
		panic("cell: " + err.Error())
	}
	out := map[string]*ast.FuncDecl{}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
			out[fd.Name.Name] = fd
		}
	}
	return out
})
