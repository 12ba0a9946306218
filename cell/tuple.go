package cell

// Variables defined from one value with several results at package level.
//
// yaegi v0.16.1 defines the variables of `a, b := f()`, `v, ok := m[k]`,
// `x, ok := i.(T)`, `v, ok := <-ch` and `var a, b = f()` at the top level (its
// compDefineX) in the global frame but without marking them global, unlike every
// other package-level variable. Code then reads them relative to the current frame
// (as many frames up as the function is deep) instead of from the global frame:
// that is right at the top level of a cell and in a function called from there,
// and wrong from anywhere deeper, because yaegi links a called function's frame to
// its caller's. A function called by a function, a method, a closure made in a
// function, a goroutine, or the init function in which the session computes a
// cell's result reads another slot: a zero value, another variable, or a reflect
// panic. The same define also gives the blank identifier a global symbol typed as
// its result (error for `m, _ := gpt.New(…)`), and later `_ = x` in a top-level
// block writes x into it ("reflect.Set: value of type float32 is not assignable
// to type error"). The comma-ok forms do not even compile there ("nil type").
//
// So no such definition reaches yaegi at the top level. The rewriter turns each
// into definitions from one value per variable, which yaegi marks global, with
// types it works out itself:
//
//	a, err := f()      ->  t1, t2 := f(); a, err := t1, t2; _golemrt.Zero(&t1, &t2)
//	v, ok := m[k]      ->  v, ok := m[k], false; v, ok = m[k]
//	x, ok := i.(T)     ->  x, ok := *new(T), false; x, ok = i.(T)
//	v, ok := <-ch      ->  z := ch; _golemrt.ClosedChan(&z); zv := <-z; v, ok := zv, false; v, ok = <-ch
//	var a, b T = f()   ->  var a, b T; a, b = f()
//
// The temporaries t1, t2 are themselves variables of the faulty kind, but only the
// statements right after read them, at the top level, and they are set to zero
// values afterwards (a model the notebook drops is not kept alive by them). An
// operand that is evaluated twice in the comma-ok forms (once for the type, once
// for the value) goes through a temporary first unless it is side-effect free.
// Package-level `var a, b = f()` in a cell's declarations (or a whole program, or
// source for the function host) becomes `var t1, t2 = f(); var a, b = t1, t2`.

import (
	"fmt"
	"go/ast"
	"go/token"
	"reflect"
)

// tupleDefine reports whether st defines several variables from one value (an
// assignment `a, b := v` or a var declaration with one such spec), and returns the
// names (blank ones included), the value, and the type of the declaration.
func tupleDefine(st ast.Stmt) (names []*ast.Ident, value, typ ast.Expr, ok bool) {
	switch s := st.(type) {
	case *ast.AssignStmt:
		if s.Tok != token.DEFINE || len(s.Lhs) < 2 || len(s.Rhs) != 1 {
			return nil, nil, nil, false
		}
		seen := map[string]bool{}
		for _, l := range s.Lhs {
			id, ok := l.(*ast.Ident)
			if !ok || (seen[id.Name] && id.Name != "_") { // yaegi reports a repeated name
				return nil, nil, nil, false
			}
			seen[id.Name] = true
			names = append(names, id)
		}
		return names, s.Rhs[0], nil, true
	case *ast.DeclStmt:
		gd, ok := s.Decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR || len(gd.Specs) != 1 {
			return nil, nil, nil, false
		}
		vs := gd.Specs[0].(*ast.ValueSpec)
		if len(vs.Names) < 2 || len(vs.Values) != 1 {
			return nil, nil, nil, false
		}
		return vs.Names, vs.Values[0], vs.Type, true
	}
	return nil, nil, nil, false
}

// splitVarDecls gives each spec of a var declaration statement its own statement
// (so that tupleDefine sees one spec at a time).
func splitVarDecls(list []ast.Stmt) []ast.Stmt {
	var out []ast.Stmt
	for _, st := range list {
		var gd *ast.GenDecl
		if ds, ok := st.(*ast.DeclStmt); ok {
			gd, _ = ds.Decl.(*ast.GenDecl)
		}
		if gd == nil || gd.Tok != token.VAR || len(gd.Specs) < 2 {
			out = append(out, st)
			continue
		}
		for _, sp := range gd.Specs {
			out = append(out, &ast.DeclStmt{Decl: &ast.GenDecl{Doc: gd.Doc, TokPos: sp.Pos(), Tok: token.VAR, Specs: []ast.Spec{sp}}})
		}
	}
	return out
}

// globalTuples rewrites the definitions of several variables from one value in a
// list of statements that yaegi compiles at the top level of a cell (see above).
func (u *unit) globalTuples(list []ast.Stmt) []ast.Stmt {
	var out []ast.Stmt
	for _, st := range splitVarDecls(list) {
		names, value, typ, ok := tupleDefine(st)
		if !ok {
			out = append(out, st)
			continue
		}
		if r := u.globalTuple(st.Pos(), names, value, typ); r != nil {
			out = append(out, r...)
			continue
		}
		out = append(out, st)
	}
	return out
}

// globalTuple returns the statements that define names from value (nil: it
// cannot, and leaves the statement alone).
func (u *unit) globalTuple(pos token.Pos, names []*ast.Ident, value, typ ast.Expr) []ast.Stmt {
	var out []ast.Stmt
	var temps []string
	temp := func(e ast.Expr) ast.Expr { // a side-effect free stand-in for e, evaluated once
		if sideEffectFree(e) {
			return e
		}
		name := u.tmp("R")
		out = append(out, define(pos, []string{name}, []ast.Expr{e}))
		temps = append(temps, name)
		return ident(pos, name)
	}
	lhs := func() []ast.Expr {
		l := make([]ast.Expr, len(names))
		for i, n := range names {
			l[i] = ident(n.Pos(), n.Name)
		}
		return l
	}
	// first define the variables (typed by yaegi), then assign them the value
	declare := func(zeros []ast.Expr) {
		var def []string
		var vals []ast.Expr
		for i, n := range names {
			if n.Name != "_" {
				def = append(def, n.Name)
				vals = append(vals, zeros[i])
			}
		}
		if len(def) > 0 {
			out = append(out, define(pos, def, vals))
		}
	}
	assign := func(v ast.Expr) {
		out = append(out, &ast.AssignStmt{Lhs: lhs(), TokPos: pos, Tok: token.ASSIGN, Rhs: []ast.Expr{v}})
	}
	if typ != nil { // var a, b T = v: the type is written out
		var ids []*ast.Ident
		for _, n := range names {
			ids = append(ids, ident(n.Pos(), n.Name))
		}
		out = append(out, &ast.DeclStmt{Decl: &ast.GenDecl{TokPos: pos, Tok: token.VAR, Specs: []ast.Spec{&ast.ValueSpec{Names: ids, Type: typ}}}})
		assign(value)
		return out
	}
	falseFor := func(zero ast.Expr) []ast.Expr { return []ast.Expr{zero, ident(pos, "false")} }
	switch v := ast.Unparen(value).(type) {
	case *ast.CallExpr:
		var tl []string
		var tv []ast.Expr
		for range names {
			t := u.tmp("R")
			tl, tv, temps = append(tl, t), append(tv, ident(pos, t)), append(temps, t)
		}
		out = append(out, define(pos, tl, []ast.Expr{value}))
		declare(tv)
	case *ast.IndexExpr:
		if len(names) != 2 {
			return nil
		}
		x, k := temp(v.X), temp(v.Index)
		index := func() ast.Expr {
			return &ast.IndexExpr{X: cloneSimple(x, pos), Lbrack: pos, Index: cloneSimple(k, pos), Rbrack: pos}
		}
		declare(falseFor(index()))
		assign(index())
	case *ast.TypeAssertExpr:
		if len(names) != 2 || v.Type == nil {
			return nil
		}
		x := temp(v.X)
		zeroT := &ast.StarExpr{Star: pos, X: &ast.CallExpr{Fun: ident(pos, "new"), Lparen: pos, Args: []ast.Expr{v.Type}, Rparen: pos}}
		declare(falseFor(zeroT))
		assign(&ast.TypeAssertExpr{X: cloneSimple(x, pos), Lparen: pos, Type: v.Type, Rparen: pos})
	case *ast.UnaryExpr:
		if len(names) != 2 || v.Op != token.ARROW {
			return nil
		}
		ch := temp(v.X)
		var zeroV ast.Expr = ident(pos, "false") // unused when the value is blank
		if names[0].Name != "_" {
			// a closed channel of the same type gives a zero value of its element
			// type without taking a value from the real one
			// (through a variable: yaegi keeps the received value itself as the
			// variable of `v, ok := <-z, false`, which then cannot be assigned; it holds a zero value, so it is not reset)
			z, zv := u.tmp("R"), u.tmp("R")
			temps = append(temps, z)
			out = append(out, define(pos, []string{z}, []ast.Expr{cloneSimple(ch, pos)}),
				rtCall(pos, "ClosedChan", &ast.UnaryExpr{OpPos: pos, Op: token.AND, X: ident(pos, z)}),
				define(pos, []string{zv}, []ast.Expr{&ast.UnaryExpr{OpPos: pos, Op: token.ARROW, X: ident(pos, z)}}))
			zeroV = ident(pos, zv)
		}
		declare(falseFor(zeroV))
		assign(&ast.UnaryExpr{OpPos: pos, Op: token.ARROW, X: cloneSimple(ch, pos)})
	default:
		return nil
	}
	if len(temps) > 0 {
		out = append(out, zeroTemps(pos, temps))
	}
	return out
}

// zeroTemps returns `_golemrt.Zero(&t1, &t2, …)`.
func zeroTemps(pos token.Pos, temps []string) ast.Stmt {
	var ptrs []ast.Expr
	for _, t := range temps {
		ptrs = append(ptrs, &ast.UnaryExpr{OpPos: pos, Op: token.AND, X: ident(pos, t)})
	}
	return rtCall(pos, "Zero", ptrs...)
}

// define returns `names := values`.
func define(pos token.Pos, names []string, values []ast.Expr) *ast.AssignStmt {
	l := make([]ast.Expr, len(names))
	for i, n := range names {
		l[i] = ident(pos, n)
	}
	return &ast.AssignStmt{Lhs: l, TokPos: pos, Tok: token.DEFINE, Rhs: values}
}

// rtCall returns the statement `_golemrt.name(args…)`.
func rtCall(pos token.Pos, name string, args ...ast.Expr) ast.Stmt {
	return &ast.ExprStmt{X: &ast.CallExpr{Fun: &ast.SelectorExpr{X: ident(pos, rtName), Sel: ident(pos, name)},
		Lparen: pos, Args: args, Rparen: pos}}
}

// sideEffectFree reports whether evaluating e twice gives the same value and does
// nothing else: no calls (conversions included: golem cannot tell them apart),
// receives or function literals.
func sideEffectFree(e ast.Expr) bool {
	free := true
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr, *ast.FuncLit:
			free = false
		case *ast.UnaryExpr:
			if n.Op == token.ARROW {
				free = false
			}
		}
		return free
	})
	return free
}

// cloneSimple copies a side-effect free expression, so that it is not shared by
// two places of the tree (positions move to pos).
func cloneSimple(e ast.Expr, pos token.Pos) ast.Expr {
	switch e := e.(type) {
	case *ast.Ident:
		return ident(pos, e.Name)
	case *ast.ParenExpr:
		return &ast.ParenExpr{Lparen: pos, X: cloneSimple(e.X, pos), Rparen: pos}
	case *ast.SelectorExpr:
		return &ast.SelectorExpr{X: cloneSimple(e.X, pos), Sel: ident(pos, e.Sel.Name)}
	case *ast.IndexExpr:
		return &ast.IndexExpr{X: cloneSimple(e.X, pos), Lbrack: pos, Index: cloneSimple(e.Index, pos), Rbrack: pos}
	case *ast.StarExpr:
		return &ast.StarExpr{Star: pos, X: cloneSimple(e.X, pos)}
	case *ast.UnaryExpr:
		return &ast.UnaryExpr{OpPos: pos, Op: e.Op, X: cloneSimple(e.X, pos)}
	case *ast.BinaryExpr:
		return &ast.BinaryExpr{X: cloneSimple(e.X, pos), OpPos: pos, Op: e.Op, Y: cloneSimple(e.Y, pos)}
	case *ast.BasicLit:
		return &ast.BasicLit{ValuePos: pos, Kind: e.Kind, Value: e.Value}
	}
	return e // composite literals and the like: shared, never rewritten afterwards
}

// packageTuples rewrites the package-level `var a, b [T] = f()` of a file (a cell's
// declarations, a whole program, the function host's source) into
//
//	var t1, t2 = f()
//	var a, b [T] = t1, t2
//
// skipping calls of generic functions, whose results yaegi cannot bind to package
// variables whichever way they are written (a cell's were taken out before, to run
// like statements: genericdefine.go). It returns the temporaries, which the
// session resets once the declarations have run.
//
// yaegi initializes package variables in source order, postponing one until the
// package variables its value names are initialized; it does not see a dependency
// on t1, which is not a global of its kind. When f's arguments name variables of
// the file, the second spec names them too, in a function literal assigned to a
// third variable, so that it is postponed as long as the first.
func packageTuples(u *unit) error {
	if u.decls != nil {
		u.temps = append(u.temps, u.packageTuples(u.decls)...)
	}
	return nil
}

func (u *unit) packageTuples(f *ast.File) (temps []string) {
	fileVars := map[string]bool{}
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.VAR {
			for _, sp := range gd.Specs {
				for _, n := range sp.(*ast.ValueSpec).Names {
					fileVars[n.Name] = true
				}
			}
		}
	}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		var specs []ast.Spec
		for _, sp := range gd.Specs {
			vs := sp.(*ast.ValueSpec)
			if len(vs.Names) < 2 || len(vs.Values) != 1 || u.genericFunc(callee(vs.Values[0])) {
				specs = append(specs, sp)
				continue
			}
			call, ok := ast.Unparen(vs.Values[0]).(*ast.CallExpr)
			if !ok {
				specs = append(specs, sp)
				continue
			}
			pos := vs.Pos()
			names := append([]*ast.Ident(nil), vs.Names...)
			var tnames []*ast.Ident
			var values []ast.Expr
			for range vs.Names {
				t := u.tmp("R")
				temps = append(temps, t)
				tnames, values = append(tnames, ident(pos, t)), append(values, ident(pos, t))
			}
			typ := vs.Type
			if deps := varRefs(call, fileVars); len(deps) > 0 {
				if typ != nil { // the spec gets a third value: the type goes to conversions
					for i, v := range values {
						values[i] = &ast.CallExpr{Fun: &ast.ParenExpr{Lparen: pos, X: typ, Rparen: pos}, Lparen: pos, Args: []ast.Expr{v}, Rparen: pos}
					}
					typ = nil
				}
				dep := u.tmp("R")
				temps = append(temps, dep)
				blanks := make([]ast.Expr, len(deps))
				refs := make([]ast.Expr, len(deps))
				for i, name := range deps {
					blanks[i], refs[i] = ident(pos, "_"), ident(pos, name)
				}
				names = append(names, ident(pos, dep))
				values = append(values, &ast.FuncLit{Type: &ast.FuncType{Func: pos, Params: &ast.FieldList{Opening: pos, Closing: pos}},
					Body: &ast.BlockStmt{Lbrace: pos, List: []ast.Stmt{&ast.AssignStmt{Lhs: blanks, TokPos: pos, Tok: token.ASSIGN, Rhs: refs}}, Rbrace: pos}})
			}
			specs = append(specs, &ast.ValueSpec{Names: tnames, Values: []ast.Expr{call}},
				&ast.ValueSpec{Doc: vs.Doc, Names: names, Type: typ, Values: values, Comment: vs.Comment})
		}
		if len(specs) != len(gd.Specs) && !gd.Lparen.IsValid() {
			gd.Lparen, gd.Rparen = gd.TokPos, gd.End()
		}
		gd.Specs = specs
	}
	return temps
}

// varRefs lists the names of vars (in set) that e refers to, in order, once each
// (field and method names of selectors are not references).
func varRefs(e ast.Expr, set map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			ast.Inspect(n.X, visit)
			return false
		case *ast.Ident:
			if set[n.Name] && !seen[n.Name] {
				seen[n.Name] = true
				out = append(out, n.Name)
			}
		}
		return true
	}
	ast.Inspect(e, visit)
	return out
}

// zeroValues is _golemrt.Zero: it sets each *T it is given to T's zero value.
func zeroValues(ptrs ...any) {
	for _, p := range ptrs {
		v := reflect.ValueOf(p)
		if v.Kind() == reflect.Pointer && !v.IsNil() {
			v.Elem().SetZero()
		}
	}
}

// closedChan is _golemrt.ClosedChan: it replaces the channel *p with a closed
// channel of the same type (receiving from it gives the element type's zero value).
func closedChan(p any) {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Chan {
		return
	}
	t := v.Elem().Type()
	c := reflect.MakeChan(reflect.ChanOf(reflect.BothDir, t.Elem()), 0)
	c.Close()
	v.Elem().Set(c.Convert(t))
}

// commaOkSpec reports whether vs is `var v, ok = m[k]`, `= x.(T)` or `= <-ch`.
func commaOkSpec(vs *ast.ValueSpec) bool {
	if len(vs.Names) != 2 || len(vs.Values) != 1 {
		return false
	}
	switch v := ast.Unparen(vs.Values[0]).(type) {
	case *ast.IndexExpr, *ast.TypeAssertExpr:
		return true
	case *ast.UnaryExpr:
		return v.Op == token.ARROW
	}
	return false
}

// callee is the function e calls (nil: e is not a call).
func callee(e ast.Expr) ast.Expr {
	if c, ok := ast.Unparen(e).(*ast.CallExpr); ok {
		return c.Fun
	}
	return nil
}

// lateVarUse explains a failed compile of a cell's declarations that use a
// variable of a var spec the session runs after them (late: its value uses a name
// the cell declares; see takeGenericVars), which yaegi reports as "undefined" or
// "incomplete type". It returns nil when no declaration uses one.
func lateVarUse(u *unit, decls *ast.File, late []ast.Stmt) error {
	spec := map[string]ast.Stmt{}
	for _, st := range late {
		if ds, ok := st.(*ast.DeclStmt); ok {
			for _, sp := range ds.Decl.(*ast.GenDecl).Specs {
				for _, n := range sp.(*ast.ValueSpec).Names {
					if n.Name != "_" {
						spec[n.Name] = st
					}
				}
			}
		}
	}
	if len(spec) == 0 {
		return nil
	}
	var use *ast.Ident
	ast.Inspect(decls, func(n ast.Node) bool {
		if use != nil {
			return false
		}
		switch n := n.(type) {
		case *ast.SelectorExpr:
			ast.Inspect(n.X, func(x ast.Node) bool {
				if id, ok := x.(*ast.Ident); ok && spec[id.Name] != nil && use == nil {
					use = id
				}
				return use == nil
			})
			return false
		case *ast.Ident:
			if spec[n.Name] != nil {
				use = n
			}
		}
		return use == nil
	})
	if use == nil {
		return nil
	}
	msg := fmt.Sprintf("%s: %s is defined by the var at %s, which golem runs after the cell's other declarations "+
		"(its value uses a name they declare), so they cannot use %s; move that var, and what its value uses, to an earlier cell",
		u.where(use.Pos()), use.Name, u.where(spec[use.Name].Pos()), use.Name)
	return &Error{Name: "CompileError", Value: msg, Traceback: []string{msg}}
}
