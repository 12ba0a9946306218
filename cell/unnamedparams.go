package cell

// Unnamed parameters.
//
// yaegi v0.16.1 binds the arguments of a cell's function wrongly when compiled code
// calls it and its parameters have no names: `strings.Map(func(rune) rune {…}, s)`
// or a widget's `OnChange(func(int) {…})` panics inside the call with
// "reflect.Set: value of type int32 is not assignable to type []bool" (the argument
// is stored into the slot of a variable the function uses). Named parameters work,
// so the unnamed-parameters pass names them `_`, which means the same in Go:
//
//	func(int, ...string) bool  →  func(_ int, _ ...string) bool
//
// in function literals and function declarations (not in function types, where a
// parameter name changes nothing).

import "go/ast"

// unnamedParams names the unnamed parameters of every function of the unit `_`.
func unnamedParams(u *unit) error {
	if u.decls != nil {
		for _, d := range u.decls.Decls {
			if f, ok := d.(*ast.FuncDecl); ok {
				nameParams(f.Type)
			}
		}
	}
	u.walk(func(n ast.Node, _ walkContext) bool {
		if fl, ok := n.(*ast.FuncLit); ok {
			nameParams(fl.Type)
		}
		return true
	})
	return nil
}

// nameParams gives every unnamed parameter of t the name _.
func nameParams(t *ast.FuncType) {
	if t == nil || t.Params == nil {
		return
	}
	for _, f := range t.Params.List {
		if len(f.Names) == 0 {
			f.Names = []*ast.Ident{{NamePos: f.Type.Pos(), Name: "_"}}
		}
	}
}
