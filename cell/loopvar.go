package cell

// Loop variables, one per iteration (Go 1.22).
//
// yaegi v0.16.1 shares the variables of a for loop across its iterations, as Go
// did before 1.22: closures and goroutines made in the body all see the last
// value. The loop variables pass gives a loop whose body makes a closure or starts
// a goroutine hidden variables that drive it and a fresh copy per iteration: a
// range loop's body starts with `k, v := k', v'`; a three-clause loop's starts
// with `i := i'` and ends (and every continue of it starts) with `i' = i`, so that
// the body's changes to i still drive the loop.

import (
	"go/ast"
	"go/token"
)

// loopVars gives the loops that make closures per-iteration variables.
func loopVars(u *unit) error {
	u.eachStmt(func(st ast.Stmt, _ walkContext) ast.Stmt {
		label, inner := unlabel(st)
		switch s := inner.(type) {
		case *ast.RangeStmt:
			u.perIterationVars(s)
		case *ast.ForStmt:
			if !u.made[s] {
				u.perIterationFor(s, label)
			}
		}
		return st
	})
	return nil
}

// perIterationFor gives a three-clause loop whose body makes a closure Go 1.22's
// per-iteration variables (yaegi shares them):
//
//	for i' := 0; i' < n; i'++ { i := i'; body; i' = i }
//
// with every continue of the loop copying back first, so that the body's changes
// to i still drive the loop.
func (u *unit) perIterationFor(f *ast.ForStmt, label *ast.LabeledStmt) {
	init, ok := f.Init.(*ast.AssignStmt)
	if !ok || init.Tok != token.DEFINE || !makesClosure(f.Body) {
		return
	}
	rename := map[string]string{}
	var names []string
	for _, l := range init.Lhs {
		id, ok := l.(*ast.Ident)
		if !ok {
			return
		}
		if id.Name == "_" {
			continue
		}
		rename[id.Name] = u.tmp("L")
		names = append(names, id.Name)
	}
	if len(names) == 0 {
		return
	}
	// the loop header uses the hidden variables
	for _, n := range []ast.Node{f.Init, f.Cond, f.Post} {
		if n == nil {
			continue
		}
		ast.Inspect(n, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false
			}
			if sel, ok := n.(*ast.SelectorExpr); ok {
				ast.Inspect(sel.X, func(x ast.Node) bool {
					if id, ok := x.(*ast.Ident); ok && rename[id.Name] != "" {
						id.Name = rename[id.Name]
					}
					return true
				})
				return false
			}
			if id, ok := n.(*ast.Ident); ok && rename[id.Name] != "" {
				id.Name = rename[id.Name]
			}
			return true
		})
	}
	pos := f.For
	copyIn := &ast.AssignStmt{TokPos: pos, Tok: token.DEFINE}
	copyBack := func() ast.Stmt {
		a := &ast.AssignStmt{TokPos: pos, Tok: token.ASSIGN}
		for _, n := range names {
			a.Lhs = append(a.Lhs, ident(pos, rename[n]))
			a.Rhs = append(a.Rhs, ident(pos, n))
		}
		return a
	}
	for _, n := range names {
		copyIn.Lhs = append(copyIn.Lhs, ident(pos, n))
		copyIn.Rhs = append(copyIn.Rhs, ident(pos, rename[n]))
	}
	labelName := ""
	if label != nil {
		labelName = label.Label.Name
	}
	// continue statements of this loop copy back first
	var fix func(list []ast.Stmt, depth int) []ast.Stmt
	var walk func(n ast.Node, depth int)
	fix = func(list []ast.Stmt, depth int) []ast.Stmt {
		for i, st := range list {
			if br, ok := st.(*ast.BranchStmt); ok && br.Tok == token.CONTINUE &&
				((br.Label == nil && depth == 0) || (br.Label != nil && br.Label.Name == labelName)) {
				list[i] = &ast.BlockStmt{Lbrace: br.Pos(), List: []ast.Stmt{copyBack(), br}, Rbrace: br.End()}
				continue
			}
			walk(st, depth)
		}
		return list
	}
	walk = func(n ast.Node, depth int) {
		switch n := n.(type) {
		case *ast.BlockStmt:
			n.List = fix(n.List, depth)
		case *ast.IfStmt:
			walk(n.Body, depth)
			if n.Else != nil {
				walk(n.Else, depth)
			}
		case *ast.SwitchStmt:
			walk(n.Body, depth)
		case *ast.TypeSwitchStmt:
			walk(n.Body, depth)
		case *ast.SelectStmt:
			walk(n.Body, depth)
		case *ast.CaseClause:
			n.Body = fix(n.Body, depth)
		case *ast.CommClause:
			n.Body = fix(n.Body, depth)
		case *ast.LabeledStmt:
			walk(n.Stmt, depth)
		case *ast.ForStmt:
			walk(n.Body, depth+1)
		case *ast.RangeStmt:
			walk(n.Body, depth+1)
		}
	}
	f.Body.List = fix(f.Body.List, 0)
	f.Body.List = append(append([]ast.Stmt{copyIn}, f.Body.List...), copyBack())
	put(&u.made, ast.Node(f), true)
}

// perIterationVars gives a range loop that yaegi runs natively Go 1.22's
// per-iteration variables (yaegi shares them across iterations, which closures
// and goroutines see): the body starts with `k, v := k', v'` when it makes a
// closure.
func (u *unit) perIterationVars(r *ast.RangeStmt) {
	if r.Tok != token.DEFINE || !makesClosure(r.Body) {
		return
	}
	// for k', v' := range x { k, v := k', v'; body } (k := k confuses yaegi)
	var lhs, rhs []ast.Expr
	for _, p := range []*ast.Expr{&r.Key, &r.Value} {
		id, ok := (*p).(*ast.Ident)
		if !ok || id.Name == "_" {
			continue
		}
		hidden := u.tmp("R")
		lhs = append(lhs, ident(id.Pos(), id.Name))
		rhs = append(rhs, ident(id.Pos(), hidden))
		*p = ident(id.Pos(), hidden)
	}
	if len(lhs) == 0 {
		return
	}
	r.Body.List = append([]ast.Stmt{&ast.AssignStmt{Lhs: lhs, TokPos: r.For, Tok: token.DEFINE, Rhs: rhs}}, r.Body.List...)
}

// makesClosure reports whether n contains a function literal or a go statement.
func makesClosure(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.FuncLit, *ast.GoStmt:
			found = true
		}
		return !found
	})
	return found
}
