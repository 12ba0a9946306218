package cell

// A notebook's own func main.
//
// yaegi v0.16.1 runs a declared func main after every compile of package main,
// and every cell is compiled as package main: a notebook that declares main would
// run it after each later cell. In a cell (not a whole-program cell, which runs
// main once as `go run` does) main is renamed _golemUserMain, declaration and uses
// alike: an ordinary function the notebook calls with main().

import "go/ast"

// userMainName is what a notebook's own func main is called inside the interpreter.
const userMainName = "_golemUserMain"

// userMain renames main in a cell.
func userMain(u *unit) error {
	if u.file {
		return nil
	}
	if u.decls != nil {
		for _, d := range u.decls.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
				fd.Name.Name = userMainName
			}
		}
	}
	u.walk(func(n ast.Node, _ walkContext) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == "main" {
			id.Name = userMainName
		}
		return true
	})
	return nil
}
