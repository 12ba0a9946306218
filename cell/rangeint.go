package cell

// Range over an integer.
//
// yaegi v0.16.1 panics on `for i := range n` ("nil type"). The range over int
// pass rewrites a loop whose operand the resolver (types.go) knows to be an
// integer into a three-clause loop on a hidden counter, as Go runs it: the body
// may change i without changing the iterations, each iteration has its own i
// (closures), labels keep their meaning, and i has n's type:
//
//	{ n' := n; for c := n' - n'; c < n'; c++ { i := c; body } }

import (
	"go/ast"
	"go/token"
)

// rangeOverInt rewrites the range loops over integers.
func rangeOverInt(u *unit) error {
	u.eachRange(func(r *ast.RangeStmt, label *ast.LabeledStmt, _ walkContext) ast.Stmt {
		if u.rangeClass(r) != clInt {
			return nil
		}
		if r.Value != nil {
			u.fail(r.Value.Pos(), "range over an integer permits only one iteration variable")
			return nil
		}
		pos := r.For
		n := ident(pos, u.tmp("N"))
		ctr := u.tmp("I")
		zero := &ast.BinaryExpr{X: ident(pos, n.Name), OpPos: pos, Op: token.SUB, Y: ident(pos, n.Name)}
		body := r.Body
		if r.Key != nil && !isBlankIdent(r.Key) {
			body = &ast.BlockStmt{Lbrace: r.Body.Lbrace, Rbrace: r.Body.Rbrace, List: append([]ast.Stmt{
				&ast.AssignStmt{Lhs: []ast.Expr{r.Key}, TokPos: pos, Tok: r.Tok, Rhs: []ast.Expr{ident(pos, ctr)}},
			}, r.Body.List...)}
		}
		loop := &ast.ForStmt{
			For:  pos,
			Init: &ast.AssignStmt{Lhs: []ast.Expr{ident(pos, ctr)}, TokPos: pos, Tok: token.DEFINE, Rhs: []ast.Expr{zero}},
			Cond: &ast.BinaryExpr{X: ident(pos, ctr), OpPos: pos, Op: token.LSS, Y: ident(pos, n.Name)},
			Post: &ast.IncDecStmt{X: ident(pos, ctr), TokPos: pos, Tok: token.INC},
			Body: body,
		}
		return &ast.BlockStmt{Lbrace: pos, List: []ast.Stmt{
			&ast.AssignStmt{Lhs: []ast.Expr{n}, TokPos: pos, Tok: token.DEFINE, Rhs: []ast.Expr{r.X}},
			relabel(label, loop),
		}, Rbrace: r.Body.Rbrace}
	})
	return nil
}

// rangeClass is the shape of a range loop's operand, as the resolver saw it.
func (u *unit) rangeClass(r *ast.RangeStmt) class {
	if c, ok := u.res.ranges[r]; ok {
		return c
	}
	return u.res.classOf(r.X, u.res.top)
}
