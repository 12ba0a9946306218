package cell

// Range over functions.
//
// yaegi v0.16.1 does not run a range over a function (`for v := range seq`,
// iter.Seq and iter.Seq2 included): it panics with "nil type". The range over
// functions pass rewrites such a loop (its operand a func(yield func(V) bool) or
// func(yield func(K, V) bool), as the resolver sees it) into a pull loop:
//
//	next, stop := _golemPull(seq)
//	for { v, ok := next(); if !ok { break }; body }
//	stop()
//
// _golemPull (the prelude's pull.go) runs the iterator in its own goroutine and
// hands each value over a channel; break, continue and labels keep their
// meaning, return stops the iterator first, and a panic in the iterator is
// raised again in the loop. At the top level of a cell the loop runs as the body
// of a function (yaegi cannot bind generic results in the global scope).
//
// A range over a standard iterator of a slice, map or string (slices.Values,
// maps.Keys, strings.Lines, …) is instead the plain range it stands for
// (directRange), which yaegi runs at full speed. A loop whose operand the resolver
// cannot classify is left alone; if yaegi then fails with "nil type", the error
// names the loop (explainRange).

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

// rangeOverFunc rewrites the range loops over functions.
func rangeOverFunc(u *unit) error {
	u.eachRange(func(r *ast.RangeStmt, label *ast.LabeledStmt, c walkContext) ast.Stmt {
		if u.directRange(r) {
			return nil
		}
		switch cl := u.rangeClass(r); cl {
		case clSeq1, clSeq2:
			return u.rangeFunc(r, cl, func(s ast.Stmt) ast.Stmt { return relabel(label, s) }, c.inFunc)
		case clUnknown:
			u.unknown = append(u.unknown, fmt.Sprintf("%s: range over %s", u.where(r.For), exprString(r.X)))
		}
		return nil
	})
	return nil
}

// directRange turns a range over a standard iterator of a slice, map or string
// into the plain range it stands for (`for v := range slices.Values(s)` is
// `for _, v := range s`), which yaegi runs at full speed instead of through a
// pull loop (a goroutine handoff per element, about 5 µs).
func (u *unit) directRange(r *ast.RangeStmt) bool {
	call, ok := r.X.(*ast.CallExpr)
	if !ok || call.Ellipsis.IsValid() {
		return false
	}
	pkg, name := "", ""
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		var ok bool
		if pkg, ok = u.packageOf(fn.X); !ok {
			return false
		}
		name = fn.Sel.Name
	case *ast.Ident:
		var ok bool
		if pkg, name, ok = shimOf(fn.Name); !ok {
			return false
		}
	default:
		return false
	}
	blank := func() ast.Expr { return ident(r.For, "_") }
	valueOnly := func() { // for v := range f(x)  ->  for _, v := range x
		if r.Key != nil {
			r.Key, r.Value = blank(), r.Key
		}
	}
	strs := func(fn string) { // for s := range strings.XSeq(…)  ->  for _, s := range strings.X(…)
		r.X = &ast.CallExpr{Fun: &ast.SelectorExpr{X: ident(call.Pos(), "strings"), Sel: ident(call.Pos(), fn)},
			Lparen: call.Lparen, Args: call.Args, Rparen: call.Rparen}
		valueOnly()
	}
	switch pkg + "." + name {
	case "slices.Values", "maps.Values":
		if len(call.Args) != 1 || r.Value != nil {
			return false
		}
		r.X = call.Args[0]
		valueOnly()
	case "slices.All", "maps.All", "maps.Keys":
		if len(call.Args) != 1 || (name == "Keys" && r.Value != nil) {
			return false
		}
		r.X = call.Args[0]
	case "strings.SplitSeq", "strings.SplitAfterSeq", "strings.FieldsSeq", "strings.FieldsFuncSeq":
		if r.Value != nil {
			return false
		}
		strs(strings.TrimSuffix(name, "Seq"))
	case "strings.Lines":
		if r.Value != nil || len(call.Args) != 1 {
			return false
		}
		r.X = &ast.CallExpr{Fun: ident(call.Pos(), linesFunc), Lparen: call.Lparen, Args: call.Args, Rparen: call.Rparen}
		valueOnly()
	default:
		return false
	}
	return true
}

// rangeFunc rewrites `for k, v := range seq { body }` into a pull loop:
//
//	next, stop := _golemPull2(seq)
//	for { k, v, ok := next(); if !ok { break }; body }
//	stop()
//
// so break, continue (labelled too) and return keep their meaning; return also
// stops the iterator. At the top level of a cell the loop runs as the body of a
// function (yaegi cannot bind generic results in the global scope).
func (u *unit) rangeFunc(r *ast.RangeStmt, c class, wrapLabel func(ast.Stmt) ast.Stmt, inFunc bool) ast.Stmt {
	pos := r.For
	next, stop, ok := ident(pos, u.tmp("Next")), ident(pos, u.tmp("Stop")), ident(pos, u.tmp("OK"))
	pull := pullFunc
	if c == clSeq2 {
		pull = pull2Func
	}
	vars := []ast.Expr{}
	var assign ast.Stmt
	keyOrBlank := func(e ast.Expr) ast.Expr {
		if e == nil {
			return ident(pos, "_")
		}
		return e
	}
	if c == clSeq1 {
		vars = append(vars, keyOrBlank(r.Key))
		if r.Value != nil {
			u.fail(r.Value.Pos(), "range over %s permits only one iteration variable", exprString(r.X))
			return nil
		}
	} else {
		vars = append(vars, keyOrBlank(r.Key), keyOrBlank(r.Value))
	}
	var recv []ast.Stmt
	if r.Tok == token.ASSIGN {
		tmps := []ast.Expr{}
		for range vars {
			tmps = append(tmps, ident(pos, u.tmp("V")))
		}
		recv = append(recv, &ast.AssignStmt{Lhs: append(append([]ast.Expr{}, tmps...), ok), TokPos: pos, Tok: token.DEFINE,
			Rhs: []ast.Expr{&ast.CallExpr{Fun: ident(pos, next.Name), Lparen: pos, Rparen: pos}}})
		assign = &ast.AssignStmt{Lhs: vars, TokPos: pos, Tok: token.ASSIGN, Rhs: tmps}
	} else {
		recv = append(recv, &ast.AssignStmt{Lhs: append(vars, ok), TokPos: pos, Tok: token.DEFINE,
			Rhs: []ast.Expr{&ast.CallExpr{Fun: ident(pos, next.Name), Lparen: pos, Rparen: pos}}})
	}
	recv = append(recv, &ast.IfStmt{If: pos, Cond: &ast.UnaryExpr{OpPos: pos, Op: token.NOT, X: ident(pos, ok.Name)},
		Body: &ast.BlockStmt{Lbrace: pos, List: []ast.Stmt{&ast.BranchStmt{TokPos: pos, Tok: token.BREAK}}, Rbrace: pos}})
	if assign != nil {
		recv = append(recv, assign)
	}
	stopCall := func() ast.Stmt {
		return &ast.ExprStmt{X: &ast.CallExpr{Fun: ident(pos, stop.Name), Lparen: pos, Rparen: pos}}
	}
	u.stopBeforeReturn(r.Body, stopCall)
	loop := &ast.ForStmt{For: pos, Body: &ast.BlockStmt{Lbrace: r.Body.Lbrace, List: append(recv, r.Body.List...), Rbrace: r.Body.Rbrace}}
	seq := r.X
	if te, ok := u.res.rangeConv[r]; ok { // a compiled iterator (types.go: compiledIterator)
		seq = &ast.CallExpr{Fun: te, Lparen: r.X.Pos(), Args: []ast.Expr{r.X}, Rparen: r.X.End()}
	}
	stmts := []ast.Stmt{
		&ast.AssignStmt{Lhs: []ast.Expr{next, stop}, TokPos: pos, Tok: token.DEFINE,
			Rhs: []ast.Expr{&ast.CallExpr{Fun: ident(pos, pull), Lparen: pos, Args: []ast.Expr{seq}, Rparen: pos}}},
		wrapLabel(loop),
		stopCall(),
	}
	block := &ast.BlockStmt{Lbrace: pos, List: stmts, Rbrace: r.Body.Rbrace}
	if !inFunc {
		// the session runs it as the body of a function (run.go, topblock.go)
		put(&u.asFunc, block, true)
	}
	return block
}

// stopBeforeReturn makes every return in body (outside nested function literals)
// stop the iterator first.
func (u *unit) stopBeforeReturn(body *ast.BlockStmt, stop func() ast.Stmt) {
	var fix func(list []ast.Stmt) []ast.Stmt
	var visit func(n ast.Node) bool
	done := map[*ast.ReturnStmt]bool{}
	fix = func(list []ast.Stmt) []ast.Stmt {
		for i, st := range list {
			if ret, ok := st.(*ast.ReturnStmt); ok && !done[ret] {
				done[ret] = true
				list[i] = &ast.BlockStmt{Lbrace: ret.Pos(), List: []ast.Stmt{stop(), ret}, Rbrace: ret.End()}
			}
		}
		return list
	}
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.BlockStmt:
			n.List = fix(n.List)
		case *ast.CaseClause:
			n.Body = fix(n.Body)
		case *ast.CommClause:
			n.Body = fix(n.Body)
		}
		return true
	}
	ast.Inspect(body, visit)
}

// explainRange replaces yaegi's bare "nil type" (its failure on range over an int
// or a function it was not rewritten for) with a message naming the loop.
func explainRange(err error, unknown []string) error {
	var e *Error
	if !errors.As(err, &e) || len(unknown) == 0 || !strings.Contains(e.Value, "nil type") {
		return err
	}
	msg := unknown[0] + ": golem could not tell whether this is a range over an integer or over a function " +
		"(yaegi v0.16.1 runs neither); give the operand a visible type, e.g. n := int(x) or var seq iter.Seq[int] = f"
	return &Error{Name: "CompileError", Value: msg, Traceback: append([]string{msg}, unknown[1:]...)}
}

func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		return exprString(e.Fun) + "(…)"
	}
	return "expression"
}
