package cell

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
)

// Two yaegi v0.16.1 bugs in assignments, closed here:
//
//   - A tuple assignment with an untyped nil on the right (`a, b = nil, 0`) panics
//     at run time with "reflect: New(nil)": yaegi copies every right-hand side into
//     a temporary of the value's type, and nil has none. splitNilTuple turns the
//     statement into single assignments with Go's order of evaluation.
//   - A definition of several variables from one value (`a, b := f()`,
//     `v, ok := m[k]`, `var a, b = f()`) in a block at the top level of a cell
//     defines nothing ("undefined: a"; "nil type" in an if header): yaegi leaves
//     global definitions to its global analysis, which skips nested blocks. The
//     session runs such a top-level statement as the body of a function (runAsFunc),
//     where yaegi defines them (see runInFunc).

// isUntypedNil reports whether e is the predeclared nil.
func isUntypedNil(e ast.Expr) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && id.Name == "nil"
}

// nilTuple reports whether a is `x, y = …` with an untyped nil on the right (and
// no nil for _, which is an error).
func nilTuple(a *ast.AssignStmt) bool {
	if a.Tok != token.ASSIGN || len(a.Lhs) < 2 || len(a.Lhs) != len(a.Rhs) {
		return false
	}
	found := false
	for i, r := range a.Rhs {
		if isUntypedNil(r) {
			if isBlankIdent(a.Lhs[i]) {
				return false
			}
			found = true
		}
	}
	return found
}

// checkNil reports the uses of an untyped nil that Go rejects, with Go's message at
// the nil's position (yaegi panics on several of them or reports no position).
func (m *modernizer) checkNil(n ast.Node) {
	switch n := n.(type) {
	case *ast.AssignStmt:
		if m.made[n] || len(n.Lhs) != len(n.Rhs) {
			return
		}
		for i, r := range n.Rhs {
			if !isUntypedNil(r) {
				continue
			}
			switch {
			case n.Tok == token.DEFINE:
				m.errs = append(m.errs, fmt.Sprintf("%s: use of untyped nil in assignment", m.where(r.Pos())))
			case isBlankIdent(n.Lhs[i]):
				m.errs = append(m.errs, fmt.Sprintf("%s: use of untyped nil in assignment to _ identifier", m.where(r.Pos())))
			case nilTuple(n): // a place splitNilTuple does not rewrite (a for loop's post statement)
				m.errs = append(m.errs, fmt.Sprintf("%s: tuple assignment with an untyped nil: golem splits it into single assignments "+
					"(yaegi v0.16.1 panics with \"reflect: New(nil)\"), which it cannot do here; give nil a type, e.g. error(nil)", m.where(n.Pos())))
			default:
				continue
			}
			return
		}
	case *ast.ValueSpec:
		if n.Type != nil {
			return
		}
		for _, v := range n.Values {
			if isUntypedNil(v) {
				m.errs = append(m.errs, fmt.Sprintf("%s: use of untyped nil in variable declaration", m.where(v.Pos())))
				return
			}
		}
	}
}

// splitNilTuple rewrites `L1, …, Ln = R1, …, Rn` where some R is an untyped nil
// into single assignments that keep Go's semantics — every right-hand side is
// evaluated before the first assignment, function calls in their order, and the
// assignments happen left to right:
//
//	{ t2 := f(); L1 = nil; L2 = t2; L3 = 0 }
//
// A value goes through a temporary unless it has no calls and nothing assigned
// before it can change it (constants, and variables not assigned earlier, stay in
// place and keep an untyped constant's meaning). A target other than a variable
// (x.f, s[i], *p) is evaluated when it is assigned, so it must not call a function
// nor read what an earlier assignment of the statement changes; otherwise the
// statement is reported and left alone (nil returned).
func (m *modernizer) splitNilTuple(a *ast.AssignStmt) *ast.BlockStmt {
	pos := a.Pos()
	var temps, stores []ast.Stmt
	assigned := map[string]bool{} // variables assigned so far
	touched := map[string]bool{}  // variables assigned so far, wholly or in part (x.f, x[i])
	pointer := false              // an assignment through a pointer so far (may change any variable)
	memory := false               // an assignment to a field, element or pointee so far
	for i, l := range a.Lhs {
		r := a.Rhs[i]
		target := ast.Unparen(l)
		if _, ok := target.(*ast.Ident); !ok {
			vars, reads, calls := targetOperands(target)
			reason := ""
			switch {
			case calls:
				reason = "calls a function"
			case pointer || (reads && memory):
				reason = "may read what an earlier assignment of the statement changes"
			default:
				for _, v := range vars {
					if assigned[v] {
						reason = "reads " + v + ", which the statement assigns before"
						break
					}
				}
			}
			if reason != "" {
				m.errs = append(m.errs, fmt.Sprintf("%s: tuple assignment with an untyped nil: golem splits it into single assignments "+
					"(yaegi v0.16.1 panics with \"reflect: New(nil)\"), which it cannot do when a target %s (%s); "+
					"assign one by one, or give nil a type, e.g. error(nil)", m.where(pos), reason, types.ExprString(l)))
				m.made[a] = true
				return nil
			}
		}
		switch {
		case isUntypedNil(r):
		case isBlankIdent(target):
			// evaluated with the other values, then dropped
			temps = append(temps, &ast.AssignStmt{Lhs: []ast.Expr{l}, TokPos: pos, Tok: token.ASSIGN, Rhs: []ast.Expr{r}})
			continue
		default:
			vars, reads, calls := operands(r)
			if calls || (pointer && (reads || len(vars) > 0)) || (reads && memory) || anyIn(vars, touched) {
				t := m.tmp("T")
				temps = append(temps, &ast.AssignStmt{Lhs: []ast.Expr{ident(pos, t)}, TokPos: pos, Tok: token.DEFINE, Rhs: []ast.Expr{r}})
				r = ident(r.Pos(), t)
			}
		}
		stores = append(stores, &ast.AssignStmt{Lhs: []ast.Expr{l}, TokPos: pos, Tok: token.ASSIGN, Rhs: []ast.Expr{r}})
		switch t := target.(type) {
		case *ast.Ident:
			assigned[t.Name], touched[t.Name] = true, true
		case *ast.StarExpr:
			pointer, memory = true, true
		default:
			// an element of an array variable, a field of a struct variable: reading
			// the variable's value now differs, addressing its parts does not
			memory = true
			if v := rootVar(t); v != "" {
				touched[v] = true
			}
		}
	}
	return &ast.BlockStmt{Lbrace: pos, List: append(temps, stores...), Rbrace: a.End()}
}

// operands lists the identifiers an expression reads (not field names), and
// reports whether it reads memory other than variables (a field, an element, a
// pointee) and whether it calls a function or receives.
func operands(e ast.Expr) (vars []string, reads, calls bool) {
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false // a closure is made, not run
		case *ast.CallExpr:
			calls = true
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				calls = true
			}
		case *ast.SelectorExpr:
			reads = true
			ast.Inspect(n.X, visit) // the field name is not a variable
			return false
		case *ast.KeyValueExpr:
			if _, ok := n.Key.(*ast.Ident); ok { // a field name (or a constant key) of a literal
				ast.Inspect(n.Value, visit)
				return false
			}
		case *ast.IndexExpr, *ast.IndexListExpr, *ast.StarExpr, *ast.SliceExpr, *ast.TypeAssertExpr:
			reads = true
		case *ast.Ident:
			vars = append(vars, n.Name)
		}
		return true
	}
	ast.Inspect(e, visit)
	return vars, reads, calls
}

// targetOperands is operands of what Go evaluates of an assignment's target
// before assigning: x of x.f, x and i of x[i], p of *p (the target itself is
// written, not read).
func targetOperands(t ast.Expr) (vars []string, reads, calls bool) {
	var parts []ast.Expr
	switch t := ast.Unparen(t).(type) {
	case *ast.SelectorExpr:
		parts = []ast.Expr{t.X}
	case *ast.IndexExpr:
		parts = []ast.Expr{t.X, t.Index}
	case *ast.StarExpr:
		parts = []ast.Expr{t.X}
	default:
		return operands(t)
	}
	for _, p := range parts {
		v, r, c := operands(p)
		vars, reads, calls = append(vars, v...), reads || r, calls || c
	}
	return vars, reads, calls
}

// rootVar is the variable under a chain of fields and elements (x in x.f[i].g).
func rootVar(e ast.Expr) string {
	for {
		switch t := ast.Unparen(e).(type) {
		case *ast.Ident:
			return t.Name
		case *ast.SelectorExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		default:
			return ""
		}
	}
}

func anyIn(names []string, set map[string]bool) bool {
	for _, n := range names {
		if set[n] {
			return true
		}
	}
	return false
}

// nilTupleInit moves a tuple assignment with an untyped nil out of the init
// statement of an if, switch or for statement into a block around it (an
// assignment declares nothing, so the scope is the same).
func (m *modernizer) nilTupleInit(st ast.Stmt, inner ast.Stmt) ast.Stmt {
	var init *ast.Stmt
	switch s := inner.(type) {
	case *ast.IfStmt:
		init = &s.Init
	case *ast.SwitchStmt:
		init = &s.Init
	case *ast.TypeSwitchStmt:
		init = &s.Init
	case *ast.ForStmt:
		init = &s.Init
	default:
		return nil
	}
	a, ok := (*init).(*ast.AssignStmt)
	if !ok || !nilTuple(a) {
		return nil
	}
	split := m.splitNilTuple(a)
	if split == nil {
		return nil
	}
	*init = nil
	split.List = append(split.List, st)
	split.Rbrace = st.End()
	return split
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

// topLevelFuncs marks the top-level statements of a cell that must run as the
// body of a function (runInFunc): each becomes a block the session runs with
// runAsFunc. A return in one is an error: in a function it would only leave that
// statement, not the cell.
func (m *modernizer) topLevelFuncs(body *ast.BlockStmt) {
	for i, st := range body.List {
		if blk, ok := st.(*ast.BlockStmt); ok && m.asFunc[blk] {
			continue
		}
		if !runInFunc(st) {
			continue
		}
		if ret := topReturn(st); ret != nil {
			m.errs = append(m.errs, fmt.Sprintf("%s: return at the top level of a cell: golem runs this statement as the body of a function "+
				"(yaegi v0.16.1 cannot define several variables from one value in a top-level block), where return would only leave the statement; "+
				"use if/else, or put the code in a func", m.where(ret.Pos())))
			continue
		}
		blk := &ast.BlockStmt{Lbrace: st.Pos(), List: []ast.Stmt{st}, Rbrace: st.End()}
		m.asFunc[blk] = true
		body.List[i] = blk
	}
}
