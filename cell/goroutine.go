package cell

// Goroutines that panic.
//
// A panic in a goroutine that nothing recovers ends the Go process: in the kernel,
// every variable of the notebook with it. yaegi v0.16.1 runs a cell's go statement
// on a real goroutine and recovers nothing there. The goroutines pass makes every
// `go f(x)` of a cell (in the functions it declares too)
//
//	{ c, f', x' := _golemrt.Cell(), f, x; go func() { defer recover-and-report(c); f'(x') }() }
//
// The function value and the arguments are evaluated when the go statement runs,
// as in Go, and c is the cell running then: the session ends that cell with a
// GoroutinePanic error if it still runs, else reports the panic on the stderr of
// the cell running now or of the next one (session.go, goroutinePanic). The
// function host's workers print it (NewInterpreter).

import (
	"go/ast"
	"go/token"
	"strconv"
)

// goroutines wraps every go statement.
func goroutines(u *unit) error {
	u.eachStmt(func(st ast.Stmt, _ walkContext) ast.Stmt {
		if g, ok := st.(*ast.GoStmt); ok {
			return u.goStmt(g)
		}
		return st
	})
	return nil
}

// goStmt wraps `go f(a, b)` so that a panic in the goroutine is reported to the
// session instead of killing the process. The function value and the arguments
// are evaluated before the goroutine starts, as Go does.
func (u *unit) goStmt(g *ast.GoStmt) ast.Stmt {
	pos := g.Go
	call := g.Call
	var pre []ast.Expr
	var preVals []ast.Expr
	fun := call.Fun
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
	case *ast.SelectorExpr:
		if _, isPkg := u.packageOf(f.X); isPkg {
			break
		}
		t := ident(pos, u.tmp("F"))
		pre, preVals = append(pre, t), append(preVals, call.Fun)
		fun = ident(pos, t.Name)
	default:
		t := ident(pos, u.tmp("F"))
		pre, preVals = append(pre, t), append(preVals, call.Fun)
		fun = ident(pos, t.Name)
	}
	args := make([]ast.Expr, len(call.Args))
	for i, a := range call.Args {
		if isConstLit(a) {
			args[i] = a
			continue
		}
		if id, ok := a.(*ast.Ident); ok && (id.Name == "nil" || id.Name == "true" || id.Name == "false") {
			args[i] = a
			continue
		}
		t := ident(pos, u.tmp("A"))
		pre, preVals = append(pre, t), append(preVals, a)
		args[i] = ident(pos, t.Name)
	}
	// The cell running when the go statement runs: a panic of the goroutine ends
	// that cell if it still runs, and is only reported to a later one.
	cell := ident(pos, u.tmp("C"))
	pre = append([]ast.Expr{cell}, pre...)
	preVals = append([]ast.Expr{&ast.CallExpr{Fun: &ast.SelectorExpr{X: ident(pos, rtName), Sel: ident(pos, "Cell")}, Lparen: pos, Rparen: pos}}, preVals...)
	rec := ident(pos, u.tmp("R"))
	deferred := &ast.DeferStmt{Defer: pos, Call: &ast.CallExpr{Lparen: pos, Rparen: pos, Fun: &ast.FuncLit{
		Type: &ast.FuncType{Func: pos, Params: &ast.FieldList{}},
		Body: &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{&ast.IfStmt{If: pos,
			Init: &ast.AssignStmt{Lhs: []ast.Expr{rec}, TokPos: pos, Tok: token.DEFINE,
				Rhs: []ast.Expr{&ast.CallExpr{Fun: ident(pos, "recover"), Lparen: pos, Rparen: pos}}},
			Cond: &ast.BinaryExpr{X: ident(pos, rec.Name), OpPos: pos, Op: token.NEQ, Y: ident(pos, "nil")},
			Body: &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{&ast.ExprStmt{X: &ast.CallExpr{
				Fun:    &ast.SelectorExpr{X: ident(pos, rtName), Sel: ident(pos, "GoPanic")},
				Lparen: pos, Rparen: pos,
				Args: []ast.Expr{ident(pos, cell.Name), ident(pos, rec.Name), &ast.BasicLit{ValuePos: pos, Kind: token.STRING, Value: strconv.Quote(u.where(pos))}},
			}}}},
		}}},
	}}}
	inner := &ast.CallExpr{Fun: fun, Lparen: call.Lparen, Args: args, Ellipsis: call.Ellipsis, Rparen: call.Rparen}
	newGo := &ast.GoStmt{Go: pos, Call: &ast.CallExpr{Lparen: pos, Rparen: pos, Fun: &ast.FuncLit{
		Type: &ast.FuncType{Func: pos, Params: &ast.FieldList{}},
		Body: &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{deferred, &ast.ExprStmt{X: inner}}},
	}}}
	put(&u.made, ast.Node(newGo), true)
	list := []ast.Stmt{&ast.AssignStmt{Lhs: pre, TokPos: pos, Tok: token.DEFINE, Rhs: preVals}, newGo}
	return &ast.BlockStmt{Lbrace: pos, List: list, Rbrace: g.End()}
}
