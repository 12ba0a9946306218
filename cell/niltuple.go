package cell

// Tuple assignments with an untyped nil.
//
// yaegi v0.16.1 panics at run time with "reflect: New(nil)" on a tuple
// assignment with an untyped nil on the right (`a, b = nil, 0`, also in
// functions), and reports it at a wrong line for field targets: it copies every
// right-hand side into a temporary of the value's type, and nil has none. The
// untyped nil pass splits such a statement into single assignments in Go's order
// of evaluation (splitNilTuple), and reports with Go's message the uses of an
// untyped nil that Go rejects, where yaegi panicked or printed a bare "nil reflect
// type" (checkNil).

import (
	"go/ast"
	"go/token"
	"go/types"
)

// untypedNil splits the tuple assignments with an untyped nil and checks the
// other uses of nil.
func untypedNil(u *unit) error {
	u.eachStmt(func(st ast.Stmt, _ walkContext) ast.Stmt {
		if r := u.nilTupleInit(st); r != nil {
			return r
		}
		label, inner := unlabel(st)
		if a, ok := inner.(*ast.AssignStmt); ok && nilTuple(a) && !u.made[a] {
			if r := u.splitNilTuple(a); r != nil {
				return relabel(label, r)
			}
		}
		return st
	})
	u.walk(func(n ast.Node, _ walkContext) bool {
		u.checkNil(n)
		return true
	})
	return nil
}

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
func (u *unit) checkNil(n ast.Node) {
	switch n := n.(type) {
	case *ast.AssignStmt:
		if u.made[n] || len(n.Lhs) != len(n.Rhs) {
			return
		}
		for i, r := range n.Rhs {
			if !isUntypedNil(r) {
				continue
			}
			switch {
			case n.Tok == token.DEFINE:
				u.fail(r.Pos(), "use of untyped nil in assignment")
			case isBlankIdent(n.Lhs[i]):
				u.fail(r.Pos(), "use of untyped nil in assignment to _ identifier")
			case nilTuple(n): // a place splitNilTuple does not rewrite (a for loop's post statement)
				u.fail(n.Pos(), "tuple assignment with an untyped nil: golem splits it into single assignments "+
					"(yaegi v0.16.1 panics with \"reflect: New(nil)\"), which it cannot do here; give nil a type, e.g. error(nil)")
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
				u.fail(v.Pos(), "use of untyped nil in variable declaration")
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
func (u *unit) splitNilTuple(a *ast.AssignStmt) *ast.BlockStmt {
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
				u.fail(pos, "tuple assignment with an untyped nil: golem splits it into single assignments "+
					"(yaegi v0.16.1 panics with \"reflect: New(nil)\"), which it cannot do when a target %s (%s); "+
					"assign one by one, or give nil a type, e.g. error(nil)", reason, types.ExprString(l))
				put(&u.made, ast.Node(a), true)
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
				t := u.tmp("T")
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
func (u *unit) nilTupleInit(st ast.Stmt) ast.Stmt {
	_, inner := unlabel(st)
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
	split := u.splitNilTuple(a)
	if split == nil {
		return nil
	}
	*init = nil
	split.List = append(split.List, st)
	split.Rbrace = st.End()
	return split
}
