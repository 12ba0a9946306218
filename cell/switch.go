package cell

// Two switch statements yaegi v0.16.1 runs wrongly.
//
//   - A switch on a value of an interface type with cases of concrete types
//     (`switch x { case 2: }`, x an any) panics: "reflect.Value.Convert: value of
//     type interface {} cannot be converted to type int" (yaegi converts x to each
//     case's type). When the resolver (types.go) knows the tag's type is an
//     interface, the switches pass writes what Go defines it to mean:
//     `switch { case x == 2: }`, a tag that is not a variable or a field of one
//     going to a variable of the switch's init statement first.
//   - A switch without tag tests only the first expression of a case list
//     (`case a, b:` runs only if a): the list becomes one condition, `case a || b:`,
//     with the same evaluation order.

import (
	"go/ast"
	"go/token"
)

// switches rewrites the switches yaegi gets wrong.
func switches(u *unit) error {
	u.walk(func(n ast.Node, _ walkContext) bool {
		s, ok := n.(*ast.SwitchStmt)
		if !ok {
			return true
		}
		if s.Tag != nil && u.res.ifaceTags[s] {
			u.interfaceSwitch(s)
		}
		if s.Tag == nil {
			joinCases(s)
		}
		return true
	})
	return nil
}

// interfaceSwitch turns `switch x { case 2: … }` into `switch { case x == 2: … }`.
func (u *unit) interfaceSwitch(s *ast.SwitchStmt) {
	tag := s.Tag
	if !pureExpr(tag) {
		if s.Init != nil {
			return
		}
		name := u.tmp("Tag")
		s.Init = &ast.AssignStmt{Lhs: []ast.Expr{ident(tag.Pos(), name)}, TokPos: tag.Pos(), Tok: token.DEFINE, Rhs: []ast.Expr{tag}}
		tag = ident(tag.Pos(), name)
	}
	for _, c := range s.Body.List {
		cc := c.(*ast.CaseClause)
		for i, e := range cc.List {
			cc.List[i] = &ast.BinaryExpr{X: cloneSimple(tag, e.Pos()), OpPos: e.Pos(), Op: token.EQL, Y: e}
		}
	}
	s.Tag = nil
}

// joinCases turns the case lists of a switch without tag into one condition.
func joinCases(s *ast.SwitchStmt) {
	for _, c := range s.Body.List {
		cc := c.(*ast.CaseClause)
		if len(cc.List) < 2 {
			continue
		}
		cond := cc.List[0]
		for _, e := range cc.List[1:] {
			cond = &ast.BinaryExpr{X: cond, OpPos: e.Pos(), Op: token.LOR, Y: e}
		}
		cc.List = []ast.Expr{cond}
	}
}

// pureExpr reports whether evaluating e twice is the same as once (a variable,
// a field of one).
func pureExpr(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return true
	case *ast.ParenExpr:
		return pureExpr(e.X)
	case *ast.SelectorExpr:
		return pureExpr(e.X)
	}
	return false
}
