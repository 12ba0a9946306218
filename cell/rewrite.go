package cell

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"strings"
)

// Rewrite returns a whole Go file (package main) rewritten into the Go that an
// interpreter from NewInterpreter runs: min/max/clear, range over int and over
// functions, the generic slices/maps/cmp/iter functions and new strings iterators
// become calls of golem's shims, and every `go` statement recovers its panics. The
// function host passes deployed source through it before Eval. Positions are not
// preserved (the result is printed anew); errors name the construct and the line.
func Rewrite(src string) (string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "source.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return "", err
	}
	if _, err := rewriteFile(f, fset); err != nil {
		var e *Error
		if errors.As(err, &e) {
			return "", errors.New(strings.Join(e.Traceback, "\n"))
		}
		return "", err
	}
	var b strings.Builder
	if err := printer.Fprint(&b, fset, f); err != nil {
		return "", fmt.Errorf("print rewritten source: %w", err)
	}
	return b.String(), nil
}

// rewriteFile walks the passes over a whole Go file (Rewrite, a whole-program
// cell): those that need a notebook do nothing, the others see the file's imports,
// the standard library and golem's packages.
func rewriteFile(f *ast.File, fset *token.FileSet) (*unit, error) {
	u := newUnit(newFileEnv(f), fset, nil, f, nil)
	u.file = true
	return u, u.rewrite()
}
