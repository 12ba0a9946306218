package cell

// Running a cell's Go, the last pass: its imports ran first (imports.go); then the
// package-level var specs that run like statements before the declarations
// (u.early), the declarations as one file, and the statements in parts: a run
// of plain statements is compiled and run at the top level (after the tuple and
// redefinition rewrites, which need yaegi's view of what ran before), a
// definition from a generic call through a function (genericdefine.go), a block
// marked to run as a function body as one (topblock.go, rangefunc.go), and the
// trailing expression of the cell's last segment as its result (result.go).

import (
	"context"
	"go/ast"
	"go/token"

	"github.com/golem-lm/golem/display"
)

// cellExec is a cell being run by its session: what the passes marked (session)
// use.
type cellExec struct {
	s      *Session
	ctx    context.Context
	run    *cellRun
	last   bool           // the cell's last Go segment: its trailing expression is the result
	result display.Bundle // the trailing expression's display bundle
}

// runUnit runs the unit (session).
func runUnit(u *unit, x *cellExec) error {
	for _, st := range u.early {
		if err := x.runStatements(u, []ast.Stmt{st}, st.Pos(), st.End(), false); err != nil {
			return err
		}
	}
	body := u.body
	if u.decls != nil {
		late := u.late
		if len(u.temps) > 0 { // var a, b = f(): the temporaries are reset once the declarations ran (tuple.go)
			late = append([]ast.Stmt{zeroTemps(u.decls.Package, u.temps)}, late...)
		}
		if len(late) > 0 {
			if body == nil {
				// yaegi finds the cell's imports by the file name at Lbrace
				body = &ast.BlockStmt{Lbrace: u.decls.Package, Rbrace: u.decls.Package}
			}
			body.List = append(late, body.List...)
		}
		if len(u.decls.Decls) > 0 {
			if _, err := x.s.compileRun(x.ctx, x.run, u.decls); err != nil {
				if lerr := lateVarUse(u, u.decls, u.late); lerr != nil {
					return lerr
				}
				return err
			}
		}
	}
	if body == nil {
		return nil
	}
	return x.runStatements(u, body.List, body.Lbrace, body.Rbrace, x.last)
}

// runStatements runs top-level statements of the cell in parts (see above); with
// last, a trailing expression is the cell's result.
func (x *cellExec) runStatements(u *unit, list []ast.Stmt, lbrace, rbrace token.Pos, last bool) error {
	parts := u.splitGenericDefines(list)
	for i, p := range parts {
		switch {
		case p.define != nil:
			if err := x.runGenericDefine(u, p.define); err != nil {
				return err
			}
		case p.fn != nil:
			if err := x.s.runAsFunc(x.ctx, x.run, p.fn); err != nil {
				return err
			}
		default:
			stmts := p.stmts
			var trailing *ast.ExprStmt
			if last && i == len(parts)-1 {
				if trailing = x.s.trailingExpr(stmts); trailing != nil {
					stmts = stmts[:len(stmts)-1]
				}
			}
			if len(stmts) > 0 {
				if err := x.runStmts(u, stmts, lbrace, rbrace); err != nil {
					return err
				}
			}
			if trailing != nil {
				b, err := x.s.runTrailing(x.ctx, x.run, trailing)
				x.result = b
				return err
			}
		}
	}
	return nil
}

// runStmts compiles and runs statements at the top level of the cell (in the
// file of the cell at lbrace), after the two rewrites that need to know what ran
// before them: definitions of several variables from one value (tuple.go) and
// redefinitions of the session's variables (redefine.go).
func (x *cellExec) runStmts(u *unit, list []ast.Stmt, lbrace, rbrace token.Pos) error {
	list = u.globalTuples(list)
	list = x.s.assignRedefinitions(x.run, lbrace, list)
	prog, err := x.s.compile(&ast.BlockStmt{Lbrace: lbrace, List: list, Rbrace: rbrace})
	if err != nil {
		return err
	}
	_, err = x.s.run(x.ctx, x.run, prog)
	return err
}
