package cell

// min and max.
//
// yaegi v0.16.1 has no builtin min or max (Go 1.21): "undefined: min". The min
// and max pass rewrites min(…) and max(…) into calls of the prelude's interpreted
// generic _golemMin and _golemMax (minmax.go in cell/prelude), unless the cell or
// an earlier one declares its own min or max. Two yaegi limits shape the call:
// an untyped constant first argument would fix the type parameter too early, so a
// typed argument is moved first (min(1, f) runs as _golemMin(f, 1)); and untyped
// float constants fail the union constraint, so all-constant float arguments get
// float64(…).

import (
	"go/ast"
	"go/token"
)

// minMax rewrites the calls of min and max.
func minMax(u *unit) error {
	u.eachCall(func(c *ast.CallExpr, _ walkContext) {
		var to string
		switch {
		case u.builtinCall(c, "min"):
			to = minFunc
		case u.builtinCall(c, "max"):
			to = maxFunc
		default:
			return
		}
		c.Fun.(*ast.Ident).Name = to
		// an untyped constant first argument would fix T too early: lead with a typed one
		allConst, float := true, false
		for i, a := range c.Args {
			if !isConstLit(a) {
				c.Args[0], c.Args[i] = c.Args[i], c.Args[0]
				allConst = false
				break
			}
			if lit := constLit(a); lit != nil && lit.Kind == token.FLOAT {
				float = true
			}
		}
		if allConst && float { // untyped float constants: yaegi needs them typed
			for i, a := range c.Args {
				c.Args[i] = &ast.CallExpr{Fun: ident(a.Pos(), "float64"), Lparen: a.Pos(), Args: []ast.Expr{a}, Rparen: a.End()}
			}
		}
	})
	return nil
}

// isConstLit reports whether e is a literal (a sign or parentheses around one).
func isConstLit(e ast.Expr) bool { return constLit(e) != nil }

// constLit is the literal of a constant written as one (-1.5 gives 1.5).
func constLit(e ast.Expr) *ast.BasicLit {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e
	case *ast.UnaryExpr:
		return constLit(e.X)
	case *ast.ParenExpr:
		return constLit(e.X)
	}
	return nil
}
