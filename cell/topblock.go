package cell

// Definitions of several variables from one value in a block at the top level.
//
// yaegi v0.16.1 leaves global definitions to its global analysis, which skips
// nested blocks: `a, b := f()`, `v, ok := m[k]`, `x, ok := i.(T)`, `var a, b =
// f()` in a block at the top level of a cell (in an if, for, switch or select
// case, a bare {}) defines nothing ("undefined: ok"; "nil type" in an if header).
// In a function yaegi defines them. So a top-level statement holding such a
// definition runs as the body of a function (runAsFunc, one compile, like a range
// over a function at the top level): the variables it assigns are the notebook's,
// its own are local, as in Go. A return in it is an error: in a function it would
// only leave that statement, not the cell.

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
)

// topLevelBlocks marks the top-level statements of a cell that must run as the
// body of a function (runInFunc): each becomes a block the session runs with
// runAsFunc.
func topLevelBlocks(u *unit) error {
	if u.body == nil {
		return nil
	}
	for i, st := range u.body.List {
		if blk, ok := st.(*ast.BlockStmt); ok && u.asFunc[blk] {
			continue
		}
		if !runInFunc(st) {
			continue
		}
		if ret := topReturn(st); ret != nil {
			u.fail(ret.Pos(), "return at the top level of a cell: golem runs this statement as the body of a function "+
				"(yaegi v0.16.1 cannot define several variables from one value in a top-level block), where return would only leave the statement; "+
				"use if/else, or put the code in a func")
			continue
		}
		blk := &ast.BlockStmt{Lbrace: st.Pos(), List: []ast.Stmt{st}, Rbrace: st.End()}
		put(&u.asFunc, blk, true)
		u.body.List[i] = blk
	}
	return nil
}

// runInFunc reports whether a top-level statement of a cell must run as the body
// of a function: a block in it (or its if/for/switch header) defines several
// variables from one value, which yaegi v0.16.1 does not do in the global scope.
// A top-level definition itself is fine (yaegi's global analysis sees it).
func runInFunc(st ast.Stmt) bool {
	for {
		ls, ok := st.(*ast.LabeledStmt)
		if !ok {
			break
		}
		st = ls.Stmt
	}
	switch st.(type) {
	case *ast.AssignStmt, *ast.DeclStmt, *ast.ExprStmt, *ast.SendStmt, *ast.IncDecStmt, *ast.GoStmt, *ast.DeferStmt:
		return false
	}
	found := false
	ast.Inspect(st, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // a function body: yaegi defines them there
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) > 1 && len(n.Rhs) == 1 {
				found = true
			}
		case *ast.ValueSpec:
			if len(n.Names) > 1 && len(n.Values) == 1 {
				found = true
			}
		}
		return !found
	})
	return found
}

// topReturn returns the first return statement of st outside function literals.
func topReturn(st ast.Stmt) *ast.ReturnStmt {
	var ret *ast.ReturnStmt
	ast.Inspect(st, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			if ret == nil {
				ret = n
			}
		}
		return ret == nil
	})
	return ret
}

// runAsFunc runs statements as the body of the init function of a one-function
// file: in a function, yaegi binds generic results; and unlike a function literal
// called at the top level, it does not copy the whole global frame.
func (s *Session) runAsFunc(ctx context.Context, run *cellRun, body *ast.BlockStmt) error {
	f, err := parser.ParseFile(s.in.FileSet(), "cell", fmt.Sprintf("package main\n//line cell:%d:1\nfunc init() {\n}\n", funcBodyLine), parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	f.Decls[0].(*ast.FuncDecl).Body.List = body.List
	_, err = s.compileRun(ctx, run, f)
	return err
}
