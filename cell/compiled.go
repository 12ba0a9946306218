package cell

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/golem-lm/golem/cell/symbols"
)

// Arguments of generic calls whose type comes from a compiled package.
//
// yaegi v0.16.1 infers the type arguments of a generic call by taking each
// argument's type apart along its parameter's: []E against []float32 gives
// E = float32. It can only take apart types it built itself. A value whose type
// comes from a compiled package (a field of an lmlib struct such as m.Params, the
// result of a compiled function such as strings.Fields, a package variable such as
// os.Args, and every variable defined from one) carries yaegi's opaque type for
// reflect types, whose element type is nil, and the compiler dies with "CFG
// post-order panic: runtime error: invalid memory address or nil pointer
// dereference". The rewriter finds such arguments, types them from the symbol
// tables of compiled packages and the live values of earlier cells, and converts
// each to its own type written out ([]float32(m.Params)), which yaegi builds
// itself. A conversion to the identical type changes nothing at run time: the
// slice or map is the same one.
//
// The same scoped pass knows the types of switch tags, and rewrites the two
// switch forms yaegi gets wrong (interfaceSwitch, joinCases).

// ctype is what the rewriter knows of the type of an expression.
type ctype struct {
	t reflect.Type
	// compiled: yaegi knows the type only as a reflect type (it came from a
	// compiled package). Named types of compiled packages always are.
	compiled bool
}

// opaque reports whether yaegi cannot take the type apart to infer type
// arguments (see above): a slice, map, pointer, channel or function type that
// came from a compiled package.
func (c *ctype) opaque() bool {
	if c == nil || c.t == nil {
		return false
	}
	switch c.t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Chan, reflect.Func:
		return c.compiled || compiledNamed(c.t)
	}
	return false
}

// compiledNamed reports whether t is a named type of a compiled package (yaegi's
// reflect types of interpreted types are unnamed or predeclared).
func compiledNamed(t reflect.Type) bool { return t.Name() != "" && t.PkgPath() != "" }

// tscope is one lexical scope of the code being rewritten: what is known of the
// type of each name it declares (nil: declared, type unknown).
type tscope struct {
	vars map[string]*ctype
	up   *tscope
}

func newScope(up *tscope) *tscope { return &tscope{vars: map[string]*ctype{}, up: up} }

// lookup finds the innermost declaration of name in the code being rewritten.
func (sc *tscope) lookup(name string) (*ctype, bool) {
	for ; sc != nil; sc = sc.up {
		if t, ok := sc.vars[name]; ok {
			return t, true
		}
	}
	return nil, false
}

// where returns the scope that declares name (nil: none here).
func (sc *tscope) where(name string) *tscope {
	for ; sc != nil; sc = sc.up {
		if _, ok := sc.vars[name]; ok {
			return sc
		}
	}
	return nil
}

func (sc *tscope) define(name string, t *ctype) {
	if name != "_" {
		sc.vars[name] = t
	}
}

// genericRisk is a generic call with an argument the rewriter could not convert:
// if yaegi's compiler then fails on it, the error names it.
type genericRisk struct {
	where, call, arg, why string
}

// typer walks code with its scopes and converts the opaque arguments of generic
// calls.
type typer struct {
	m        *modernizer
	top      *tscope
	generics map[string]*ast.FuncType // generic functions declared in this source
	sigs     map[string]*ast.FuncType // parsed signatures of earlier cells' functions
	types    map[string]*ast.TypeSpec // types declared in this source
	// userTypes: parsed declarations of earlier cells' types
	userTypes map[string]*ast.TypeSpec
	building  map[string]bool // types being typed (recursive types)
}

// compiledArgs converts the arguments of generic calls in decls and body (either
// may be nil) whose types yaegi cannot infer from, and rewrites the switches yaegi
// runs wrongly. It returns the types known of the top-level variables the code
// declares.
func (m *modernizer) compiledArgs(decls *ast.File, body *ast.BlockStmt) map[string]*ctype {
	ty := &typer{m: m, top: newScope(nil), generics: map[string]*ast.FuncType{}, sigs: map[string]*ast.FuncType{},
		types: map[string]*ast.TypeSpec{}, userTypes: map[string]*ast.TypeSpec{}, building: map[string]bool{}}
	var funcs []*ast.FuncDecl
	var vars []*ast.ValueSpec
	if decls != nil {
		for _, d := range decls.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				funcs = append(funcs, d)
				if d.Recv == nil {
					ty.top.define(d.Name.Name, nil)
					if d.Type.TypeParams != nil {
						ty.generics[d.Name.Name] = d.Type
					}
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						ty.top.define(sp.Name.Name, nil)
						ty.types[sp.Name.Name] = sp
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							ty.top.define(n.Name, nil)
						}
						if d.Tok == token.VAR {
							vars = append(vars, sp)
						}
					}
				}
			}
		}
		for _, fd := range funcs {
			if fd.Recv == nil && fd.Type.TypeParams == nil {
				ty.top.define(fd.Name.Name, ty.declType(fd.Type, ty.top))
			}
		}
		for _, vs := range vars {
			ty.valueSpec(vs, ty.top)
		}
	}
	if body != nil {
		// the cell's statements run in the top-level scope (their variables are
		// the notebook's)
		ty.stmts(body.List, ty.top)
	}
	for _, fd := range funcs {
		sc := newScope(ty.top)
		if fd.Recv != nil {
			ty.fields(fd.Recv, sc)
		}
		ty.funcType(fd.Type, sc)
		if fd.Body != nil {
			ty.stmts(fd.Body.List, sc)
		}
	}
	return ty.top.vars
}

func (ty *typer) fields(fl *ast.FieldList, sc *tscope) {
	if fl == nil {
		return
	}
	for _, f := range fl.List {
		t := ty.declType(f.Type, sc)
		for _, n := range f.Names {
			sc.define(n.Name, t)
		}
	}
}

func (ty *typer) funcType(ft *ast.FuncType, sc *tscope) {
	if ft.TypeParams != nil {
		for _, f := range ft.TypeParams.List {
			for _, n := range f.Names {
				sc.define(n.Name, nil)
			}
		}
	}
	ty.fields(ft.Params, sc)
	ty.fields(ft.Results, sc)
}

// declType is the type of a variable declared with the type expression e.
func (ty *typer) declType(e ast.Expr, sc *tscope) *ctype {
	if el, ok := e.(*ast.Ellipsis); ok {
		t, _, ok := ty.typeOfTypeExpr(el.Elt, sc)
		if !ok {
			return nil
		}
		return &ctype{t: reflect.SliceOf(t)}
	}
	t, named, ok := ty.typeOfTypeExpr(e, sc)
	if !ok {
		return nil
	}
	return &ctype{t: t, compiled: named}
}

func (ty *typer) valueSpec(vs *ast.ValueSpec, sc *tscope) {
	for _, v := range vs.Values {
		ty.expr(v, sc)
	}
	if vs.Type != nil {
		t := ty.declType(vs.Type, sc)
		for _, n := range vs.Names {
			sc.define(n.Name, t)
		}
		return
	}
	ts := ty.valuesTypes(vs.Values, len(vs.Names), sc)
	for i, n := range vs.Names {
		sc.define(n.Name, ts[i])
	}
}

// valuesTypes types n variables defined from values (n values, or one value with
// n results).
func (ty *typer) valuesTypes(values []ast.Expr, n int, sc *tscope) []*ctype {
	out := make([]*ctype, n)
	if len(values) == n {
		for i, v := range values {
			out[i] = ty.typeOf(v, sc)
		}
		return out
	}
	if len(values) != 1 {
		return out
	}
	switch v := ast.Unparen(values[0]).(type) {
	case *ast.CallExpr:
		if ft := ty.typeOf(v.Fun, sc); ft != nil && ft.t.Kind() == reflect.Func && ft.t.NumOut() == n {
			for i := range out {
				out[i] = &ctype{t: ft.t.Out(i), compiled: ft.compiled}
			}
		}
	case *ast.IndexExpr, *ast.TypeAssertExpr, *ast.UnaryExpr: // v, ok := m[k] / x.(T) / <-ch
		if n == 2 {
			out[0] = ty.typeOf(v, sc)
			out[1] = &ctype{t: reflect.TypeFor[bool]()}
		}
	}
	return out
}

func (ty *typer) stmts(list []ast.Stmt, sc *tscope) {
	for _, st := range list {
		ty.stmt(st, sc)
	}
}

func (ty *typer) stmt(st ast.Stmt, sc *tscope) {
	switch s := st.(type) {
	case *ast.BlockStmt:
		ty.stmts(s.List, newScope(sc))
	case *ast.LabeledStmt:
		ty.stmt(s.Stmt, sc)
	case *ast.ExprStmt:
		ty.expr(s.X, sc)
	case *ast.SendStmt:
		ty.expr(s.Chan, sc)
		ty.expr(s.Value, sc)
	case *ast.IncDecStmt:
		ty.expr(s.X, sc)
	case *ast.GoStmt:
		ty.expr(s.Call, sc)
	case *ast.DeferStmt:
		ty.expr(s.Call, sc)
	case *ast.ReturnStmt:
		for _, r := range s.Results {
			ty.expr(r, sc)
		}
	case *ast.AssignStmt:
		for _, r := range s.Rhs {
			ty.expr(r, sc)
		}
		if s.Tok != token.DEFINE {
			for _, l := range s.Lhs {
				ty.expr(l, sc)
			}
			return
		}
		ts := ty.valuesTypes(s.Rhs, len(s.Lhs), sc)
		for i, l := range s.Lhs {
			if id, ok := l.(*ast.Ident); ok {
				if _, again := sc.vars[id.Name]; again && ts[i] == nil {
					continue // a, err := … with a of this scope: a keeps its type
				}
				sc.define(id.Name, ts[i])
			}
		}
	case *ast.DeclStmt:
		gd, ok := s.Decl.(*ast.GenDecl)
		if !ok {
			return
		}
		for _, sp := range gd.Specs {
			switch sp := sp.(type) {
			case *ast.ValueSpec:
				if gd.Tok == token.VAR {
					ty.valueSpec(sp, sc)
					continue
				}
				for _, n := range sp.Names {
					sc.define(n.Name, nil)
				}
			case *ast.TypeSpec:
				sc.define(sp.Name.Name, nil)
			}
		}
	case *ast.IfStmt:
		inner := newScope(sc)
		if s.Init != nil {
			ty.stmt(s.Init, inner)
		}
		ty.expr(s.Cond, inner)
		ty.stmt(s.Body, inner)
		if s.Else != nil {
			ty.stmt(s.Else, inner)
		}
	case *ast.ForStmt:
		inner := newScope(sc)
		if s.Init != nil {
			ty.stmt(s.Init, inner)
		}
		if s.Cond != nil {
			ty.expr(s.Cond, inner)
		}
		if s.Post != nil {
			ty.stmt(s.Post, inner)
		}
		ty.stmt(s.Body, inner)
	case *ast.RangeStmt:
		ty.expr(s.X, sc)
		inner := newScope(sc)
		if s.Tok == token.DEFINE {
			k, v := ty.rangeTypes(ty.typeOf(s.X, sc))
			if id, ok := s.Key.(*ast.Ident); ok {
				inner.define(id.Name, k)
			}
			if id, ok := s.Value.(*ast.Ident); ok {
				inner.define(id.Name, v)
			}
		} else {
			if s.Key != nil {
				ty.expr(s.Key, sc)
			}
			if s.Value != nil {
				ty.expr(s.Value, sc)
			}
		}
		ty.stmt(s.Body, inner)
	case *ast.SwitchStmt:
		inner := newScope(sc)
		if s.Init != nil {
			ty.stmt(s.Init, inner)
		}
		if s.Tag != nil {
			ty.expr(s.Tag, inner)
			ty.interfaceSwitch(s, inner)
		}
		if s.Tag == nil {
			joinCases(s)
		}
		for _, c := range s.Body.List {
			cc := c.(*ast.CaseClause)
			for _, e := range cc.List {
				ty.expr(e, inner)
			}
			ty.stmts(cc.Body, newScope(inner))
		}
	case *ast.TypeSwitchStmt:
		inner := newScope(sc)
		if s.Init != nil {
			ty.stmt(s.Init, inner)
		}
		bound := ""
		switch a := s.Assign.(type) {
		case *ast.AssignStmt:
			if id, ok := a.Lhs[0].(*ast.Ident); ok {
				bound = id.Name
			}
			for _, r := range a.Rhs {
				ty.expr(r, inner)
			}
		case *ast.ExprStmt:
			ty.expr(a.X, inner)
		}
		for _, c := range s.Body.List {
			cc := c.(*ast.CaseClause)
			cs := newScope(inner)
			if bound != "" {
				var t *ctype
				if len(cc.List) == 1 {
					t = ty.declType(cc.List[0], inner)
				}
				cs.define(bound, t)
			}
			ty.stmts(cc.Body, cs)
		}
	case *ast.SelectStmt:
		for _, c := range s.Body.List {
			cc := c.(*ast.CommClause)
			cs := newScope(sc)
			if cc.Comm != nil {
				ty.stmt(cc.Comm, cs)
			}
			ty.stmts(cc.Body, cs)
		}
	}
}

// interfaceSwitch turns `switch x { case 2: … }` with x of an interface type into
// `switch { case x == 2: … }`, which Go defines it to mean: yaegi v0.16.1 instead
// converts x to each case's type and panics ("reflect.Value.Convert: value of
// type interface {} cannot be converted to type int"). A tag that is not a plain
// variable is evaluated once, into a variable of the switch's init statement.
func (ty *typer) interfaceSwitch(s *ast.SwitchStmt, sc *tscope) {
	t := ty.typeOf(s.Tag, sc)
	if t == nil || t.t.Kind() != reflect.Interface {
		return
	}
	tag := s.Tag
	if !pureExpr(tag) {
		if s.Init != nil {
			return
		}
		name := ty.m.tmp("Tag")
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

// joinCases turns the case lists of a switch without tag into one condition
// (`case a, b:` into `case a || b:`, the same evaluation): yaegi v0.16.1 tests only
// the first expression of such a list.
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

// rangeTypes are the types of the iteration variables of a range over x.
func (ty *typer) rangeTypes(x *ctype) (k, v *ctype) {
	if x == nil {
		return nil, nil
	}
	t := x.t
	if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Array {
		t = t.Elem()
	}
	intT := &ctype{t: reflect.TypeFor[int]()}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return intT, &ctype{t: t.Elem(), compiled: x.compiled}
	case reflect.String:
		return intT, &ctype{t: reflect.TypeFor[rune]()}
	case reflect.Map:
		return &ctype{t: t.Key(), compiled: x.compiled}, &ctype{t: t.Elem(), compiled: x.compiled}
	case reflect.Chan:
		return &ctype{t: t.Elem(), compiled: x.compiled}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return &ctype{t: t}, nil
	}
	return nil, nil
}

// expr visits an expression: function literals open scopes, generic calls get
// their arguments converted.
func (ty *typer) expr(e ast.Expr, sc *tscope) {
	if e == nil {
		return
	}
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			inner := newScope(sc)
			ty.funcType(n.Type, inner)
			ty.stmts(n.Body.List, inner)
			return false
		case *ast.CallExpr:
			ty.genericCall(n, sc)
		}
		return true
	})
}

// genericCall converts the opaque arguments of a call of a generic function (a
// shim of the standard library or one the user declared) whose parameter yaegi
// takes apart to infer a type argument.
func (ty *typer) genericCall(c *ast.CallExpr, sc *tscope) {
	ft, name := ty.genericSig(c.Fun, sc)
	if ft == nil {
		return
	}
	if ty.m.genericCalls == nil {
		ty.m.genericCalls = map[string]string{}
	}
	ty.m.genericCalls[ty.m.where(c.Pos())] = name
	tparams := map[string]bool{}
	for _, f := range ft.TypeParams.List {
		for _, n := range f.Names {
			tparams[n.Name] = true
		}
	}
	var params []ast.Expr
	for _, f := range ft.Params.List {
		k := max(len(f.Names), 1)
		for range k {
			params = append(params, f.Type)
		}
	}
	for i, a := range c.Args {
		var p ast.Expr
		switch {
		case len(params) == 0:
			return
		case i < len(params)-1:
			p = params[i]
		default:
			p = params[len(params)-1]
			if el, ok := p.(*ast.Ellipsis); ok {
				if c.Ellipsis.IsValid() {
					p = &ast.ArrayType{Elt: el.Elt}
				} else {
					p = el.Elt
				}
			} else if i >= len(params) {
				return
			}
		}
		if !takenApart(p, tparams) {
			continue
		}
		switch ast.Unparen(a).(type) {
		case *ast.CompositeLit, *ast.FuncLit, *ast.BasicLit:
			continue // yaegi's own types
		}
		at := ty.typeOf(a, sc)
		if at == nil {
			if ty.maybeCompiled(a, sc) {
				ty.m.genericRisk = append(ty.m.genericRisk, genericRisk{where: ty.m.where(c.Pos()), call: name,
					arg: exprSource(a), why: fmt.Sprintf("golem could not tell the type of %s, which may come from a compiled package", exprSource(a))})
			}
			continue
		}
		if !at.opaque() {
			continue
		}
		te, ok := ty.typeLit(at.t, a.Pos(), sc) // a named type would be opaque again
		if !ok {
			ty.m.genericRisk = append(ty.m.genericRisk, genericRisk{where: ty.m.where(c.Pos()), call: name,
				arg: exprSource(a), why: fmt.Sprintf("%s has a type of a compiled package that golem cannot write in a cell (%s)", exprSource(a), at.t)})
			continue
		}
		switch te.(type) {
		case *ast.StarExpr, *ast.FuncType, *ast.ChanType:
			te = &ast.ParenExpr{Lparen: a.Pos(), X: te, Rparen: a.Pos()}
		}
		c.Args[i] = &ast.CallExpr{Fun: te, Lparen: a.Pos(), Args: []ast.Expr{a}, Rparen: a.End()}
	}
}

// maybeCompiled reports whether the value of e may come from a compiled package
// (it calls or selects something the rewriter could not type).
func (ty *typer) maybeCompiled(e ast.Expr, sc *tscope) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		if t, ok := sc.lookup(e.Name); ok {
			return t == nil
		}
		return false // a global the rewriter could type, or not a variable
	case *ast.SelectorExpr, *ast.CallExpr, *ast.IndexExpr, *ast.SliceExpr, *ast.StarExpr:
		return true
	}
	return false
}

// takenApart reports whether yaegi infers a type parameter by taking apart an
// argument passed for a parameter of type p ([]E, map[K]V, func(E) bool; not E).
func takenApart(p ast.Expr, tparams map[string]bool) bool {
	p = ast.Unparen(p)
	if _, ok := p.(*ast.Ident); ok {
		return false
	}
	found := false
	ast.Inspect(p, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && tparams[id.Name] {
			found = true
		}
		return !found
	})
	return found
}

// genericSig returns the signature of the generic function fun calls when fun is
// a shimmed standard function or a generic function of the user, and how the
// call names it.
func (ty *typer) genericSig(fun ast.Expr, sc *tscope) (*ast.FuncType, string) {
	m := ty.m
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		pk, ok := f.X.(*ast.Ident)
		if !ok || m.pkgs == nil {
			return nil, ""
		}
		if _, local := sc.lookup(pk.Name); local {
			return nil, ""
		}
		path, ok := m.pkgs(pk.Name)
		if !ok {
			return nil, ""
		}
		if fd := shimFor(path, f.Sel.Name); fd != nil && fd.Type.TypeParams != nil {
			return fd.Type, pk.Name + "." + f.Sel.Name
		}
	case *ast.Ident:
		if fd := preludeFuncs()[f.Name]; fd != nil && fd.Type.TypeParams != nil {
			return fd.Type, f.Name
		}
		if where := sc.where(f.Name); where != nil {
			if ft := ty.generics[f.Name]; ft != nil && where == ty.top {
				return ft, f.Name
			}
			return nil, ""
		}
		if _, global := m.global(f.Name); global {
			return nil, ""
		}
		if ft := ty.userSig(f.Name); ft != nil && ft.TypeParams != nil {
			return ft, f.Name
		}
	}
	return nil, ""
}

// userSig returns the signature of a function an earlier cell declared (nil:
// none).
func (ty *typer) userSig(name string) *ast.FuncType {
	if ft, ok := ty.sigs[name]; ok {
		return ft
	}
	if ty.m.userFunc == nil {
		return nil
	}
	var ft *ast.FuncType
	if src := ty.m.userFunc(name); src != "" {
		file, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, parser.SkipObjectResolution)
		if err == nil && len(file.Decls) == 1 {
			if fd, ok := file.Decls[0].(*ast.FuncDecl); ok && fd.Recv == nil {
				ft = fd.Type
			}
		}
	}
	ty.sigs[name] = ft
	return ft
}

// typeOf returns what is known of the type of the value of e (nil: nothing).
func (ty *typer) typeOf(e ast.Expr, sc *tscope) (out *ctype) {
	defer func() {
		if recover() != nil { // a reflect constructor refused a type
			out = nil
		}
	}()
	m := ty.m
	switch e := e.(type) {
	case *ast.ParenExpr:
		return ty.typeOf(e.X, sc)
	case *ast.Ident:
		if t, ok := sc.lookup(e.Name); ok {
			return t
		}
		v, ok := m.global(e.Name)
		if !ok {
			if ft := ty.userSig(e.Name); ft != nil && ft.TypeParams == nil {
				return ty.declType(ft, ty.top) // a function of an earlier cell
			}
			return nil
		}
		if !v.IsValid() {
			return nil
		}
		if isConstant(v) {
			return nil
		}
		t := v.Type()
		if yaegiInternal(t) {
			return nil
		}
		return &ctype{t: t, compiled: m.compiledVar != nil && m.compiledVar(e.Name) == t}
	case *ast.SelectorExpr:
		if pk, ok := e.X.(*ast.Ident); ok && ty.isPackage(pk.Name, sc) {
			path, _ := m.pkgs(pk.Name)
			v, ok := m.pkgFunc(path, e.Sel.Name)
			if !ok || !v.IsValid() {
				return nil
			}
			switch {
			case v.CanAddr(), v.Kind() == reflect.Func: // a variable or a function
				return &ctype{t: v.Type(), compiled: true}
			case v.Kind() == reflect.Pointer && v.IsNil(): // a type
				return nil
			}
			if isConstant(v) {
				return nil
			}
			return &ctype{t: v.Type(), compiled: true} // a typed constant
		}
		x := ty.typeOf(e.X, sc)
		if x == nil {
			return nil
		}
		return selectType(x, e.Sel.Name)
	case *ast.CallExpr:
		if t, named, ok := ty.typeOfTypeExpr(e.Fun, sc); ok { // a conversion
			return &ctype{t: t, compiled: named}
		}
		if id, ok := ast.Unparen(e.Fun).(*ast.Ident); ok {
			if _, local := sc.lookup(id.Name); !local {
				if _, global := m.global(id.Name); !global {
					switch id.Name {
					case "len", "cap", "copy":
						return &ctype{t: reflect.TypeFor[int]()}
					case "append":
						if len(e.Args) > 0 {
							return ty.typeOf(e.Args[0], sc)
						}
						return nil
					case "make":
						if len(e.Args) > 0 {
							return ty.declType(e.Args[0], sc)
						}
						return nil
					case "new":
						if len(e.Args) == 1 {
							if t := ty.declType(e.Args[0], sc); t != nil {
								return &ctype{t: reflect.PointerTo(t.t)}
							}
						}
						return nil
					}
				}
			}
		}
		f := ty.typeOf(e.Fun, sc)
		if f == nil || f.t.Kind() != reflect.Func || f.t.NumOut() != 1 {
			return nil
		}
		return &ctype{t: f.t.Out(0), compiled: f.compiled}
	case *ast.IndexExpr:
		x := ty.typeOf(e.X, sc)
		if x == nil {
			return nil
		}
		t := x.t
		if t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.Array {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Slice, reflect.Array, reflect.Map:
			return &ctype{t: t.Elem(), compiled: x.compiled}
		case reflect.String:
			return &ctype{t: reflect.TypeFor[byte]()}
		}
	case *ast.SliceExpr:
		x := ty.typeOf(e.X, sc)
		if x == nil {
			return nil
		}
		switch t := x.t; t.Kind() {
		case reflect.Slice, reflect.String:
			return x
		case reflect.Array:
			return &ctype{t: reflect.SliceOf(t.Elem()), compiled: x.compiled}
		case reflect.Pointer:
			if t.Elem().Kind() == reflect.Array {
				return &ctype{t: reflect.SliceOf(t.Elem().Elem()), compiled: x.compiled}
			}
		}
	case *ast.StarExpr:
		if x := ty.typeOf(e.X, sc); x != nil && x.t.Kind() == reflect.Pointer {
			return &ctype{t: x.t.Elem(), compiled: x.compiled}
		}
	case *ast.UnaryExpr:
		switch e.Op {
		case token.AND:
			if cl, ok := e.X.(*ast.CompositeLit); ok {
				if t := ty.declType(cl.Type, sc); t != nil {
					return &ctype{t: reflect.PointerTo(t.t)}
				}
				return nil
			}
			if x := ty.typeOf(e.X, sc); x != nil {
				return &ctype{t: reflect.PointerTo(x.t), compiled: x.compiled}
			}
		case token.ARROW:
			if x := ty.typeOf(e.X, sc); x != nil && x.t.Kind() == reflect.Chan {
				return &ctype{t: x.t.Elem(), compiled: x.compiled}
			}
		}
	case *ast.TypeAssertExpr:
		if e.Type != nil {
			return ty.declType(e.Type, sc)
		}
	case *ast.CompositeLit:
		if e.Type != nil {
			return ty.declType(e.Type, sc)
		}
	}
	return nil
}

// selectType is the type of x.name: a field, or a method of a compiled type.
func selectType(x *ctype, name string) *ctype {
	t := x.t
	base := t
	if base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if base.Kind() == reflect.Struct {
		if f, ok := base.FieldByName(name); ok {
			if !f.IsExported() {
				return nil
			}
			// the struct that declares the field (promoted through embedded ones)
			owner := base
			for _, i := range f.Index[:len(f.Index)-1] {
				owner = owner.Field(i).Type
				if owner.Kind() == reflect.Pointer {
					owner = owner.Elem()
				}
			}
			return &ctype{t: f.Type, compiled: x.compiled || compiledNamed(base) || compiledNamed(owner)}
		}
	}
	// Methods: only a compiled type's are in its reflect type.
	if !compiledNamed(base) && !(t.Kind() == reflect.Interface && x.compiled) {
		return nil
	}
	if t.Kind() == reflect.Interface {
		if meth, ok := t.MethodByName(name); ok {
			return &ctype{t: meth.Type, compiled: true}
		}
		return nil
	}
	for _, rt := range []reflect.Type{t, reflect.PointerTo(t)} {
		if meth, ok := rt.MethodByName(name); ok {
			ft := meth.Type // with the receiver first
			in := make([]reflect.Type, 0, ft.NumIn())
			for i := 1; i < ft.NumIn(); i++ {
				in = append(in, ft.In(i))
			}
			out := make([]reflect.Type, 0, ft.NumOut())
			for i := 0; i < ft.NumOut(); i++ {
				out = append(out, ft.Out(i))
			}
			return &ctype{t: reflect.FuncOf(in, out, ft.IsVariadic()), compiled: true}
		}
		if t.Kind() == reflect.Pointer {
			break
		}
	}
	return nil
}

// isPackage reports whether name refers to an imported package here.
func (ty *typer) isPackage(name string, sc *tscope) bool {
	if ty.m.pkgs == nil {
		return false
	}
	if _, local := sc.lookup(name); local {
		return false
	}
	if _, global := ty.m.global(name); global {
		return false
	}
	_, ok := ty.m.pkgs(name)
	return ok
}

var predeclared = map[string]reflect.Type{
	"bool": reflect.TypeFor[bool](), "string": reflect.TypeFor[string](),
	"int": reflect.TypeFor[int](), "int8": reflect.TypeFor[int8](), "int16": reflect.TypeFor[int16](),
	"int32": reflect.TypeFor[int32](), "int64": reflect.TypeFor[int64](),
	"uint": reflect.TypeFor[uint](), "uint8": reflect.TypeFor[uint8](), "uint16": reflect.TypeFor[uint16](),
	"uint32": reflect.TypeFor[uint32](), "uint64": reflect.TypeFor[uint64](), "uintptr": reflect.TypeFor[uintptr](),
	"byte": reflect.TypeFor[byte](), "rune": reflect.TypeFor[rune](),
	"float32": reflect.TypeFor[float32](), "float64": reflect.TypeFor[float64](),
	"complex64": reflect.TypeFor[complex64](), "complex128": reflect.TypeFor[complex128](),
	"error": reflect.TypeFor[error](), "any": reflect.TypeFor[any](),
}

// usable reports whether name means the predeclared or package name here (no
// variable, type or function of the user's hides it).
func (ty *typer) usable(name string, sc *tscope) bool {
	if _, local := sc.lookup(name); local {
		return false
	}
	if _, global := ty.m.global(name); global {
		return false
	}
	return ty.m.userName == nil || !ty.m.userName(name)
}

// userType returns the declaration of the user's type name at sc (nil: none):
// one of this source, or of an earlier cell.
func (ty *typer) userType(name string, sc *tscope) *ast.TypeSpec {
	if where := sc.where(name); where != nil {
		if where == ty.top {
			return ty.types[name]
		}
		return nil
	}
	if _, global := ty.m.global(name); global || ty.m.userTypeDecl == nil {
		return nil
	}
	if ts, ok := ty.userTypes[name]; ok {
		return ts
	}
	var ts *ast.TypeSpec
	if src := ty.m.userTypeDecl(name); src != "" {
		file, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, parser.SkipObjectResolution)
		if err == nil && len(file.Decls) == 1 {
			if gd, ok := file.Decls[0].(*ast.GenDecl); ok && len(gd.Specs) == 1 {
				ts, _ = gd.Specs[0].(*ast.TypeSpec)
			}
		}
	}
	ty.userTypes[name] = ts
	return ts
}

// typeOfTypeExpr returns the reflect type of a type expression built from
// predeclared types and types of compiled packages; named tells whether e names a
// compiled package's type (pkg.T), which yaegi knows only as a reflect type.
func (ty *typer) typeOfTypeExpr(e ast.Expr, sc *tscope) (t reflect.Type, named, ok bool) {
	defer func() {
		if recover() != nil { // reflect refused to build the type
			t, named, ok = nil, false, false
		}
	}()
	sub := func(e ast.Expr) (reflect.Type, bool) {
		t, _, ok := ty.typeOfTypeExpr(e, sc)
		return t, ok
	}
	switch e := e.(type) {
	case *ast.ParenExpr:
		return ty.typeOfTypeExpr(e.X, sc)
	case *ast.Ident:
		if t, ok := predeclared[e.Name]; ok && ty.usable(e.Name, sc) {
			return t, false, true
		}
		// a type of the user's: yaegi builds it, its fields keep their types
		ts := ty.userType(e.Name, sc)
		if ts == nil || ts.TypeParams != nil || ty.building[e.Name] {
			return nil, false, false
		}
		ty.building[e.Name] = true
		defer delete(ty.building, e.Name)
		t, named, ok := ty.typeOfTypeExpr(ts.Type, ty.top)
		return t, named && ts.Assign.IsValid(), ok
	case *ast.StructType:
		var fields []reflect.StructField
		for _, f := range e.Fields.List {
			t, ok := sub(f.Type)
			if !ok {
				return nil, false, false
			}
			tag := ""
			if f.Tag != nil {
				tag, _ = strconv.Unquote(f.Tag.Value)
			}
			names := f.Names
			if len(names) == 0 { // embedded: named after its type
				name := embeddedName(f.Type)
				if name == "" {
					return nil, false, false
				}
				names = []*ast.Ident{ident(f.Pos(), name)}
			}
			for _, n := range names {
				sf := reflect.StructField{Name: n.Name, Type: t, Tag: reflect.StructTag(tag), Anonymous: len(f.Names) == 0}
				if !ast.IsExported(n.Name) {
					sf.PkgPath = "main"
				}
				fields = append(fields, sf)
			}
		}
		return reflect.StructOf(fields), false, true
	case *ast.SelectorExpr:
		pk, ok := e.X.(*ast.Ident)
		if !ok || !ty.isPackage(pk.Name, sc) {
			return nil, false, false
		}
		path, _ := ty.m.pkgs(pk.Name)
		v, ok := ty.m.pkgFunc(path, e.Sel.Name)
		if ok && v.IsValid() && v.Kind() == reflect.Pointer && v.IsNil() && !v.CanAddr() {
			return v.Type().Elem(), true, true
		}
	case *ast.StarExpr:
		if t, ok := sub(e.X); ok {
			return reflect.PointerTo(t), false, true
		}
	case *ast.ArrayType:
		elt, ok := sub(e.Elt)
		if !ok {
			return nil, false, false
		}
		if e.Len == nil {
			return reflect.SliceOf(elt), false, true
		}
		if lit, ok := e.Len.(*ast.BasicLit); ok && lit.Kind == token.INT {
			if n, err := strconv.Atoi(lit.Value); err == nil {
				return reflect.ArrayOf(n, elt), false, true
			}
		}
	case *ast.MapType:
		k, ok1 := sub(e.Key)
		v, ok2 := sub(e.Value)
		if ok1 && ok2 {
			return reflect.MapOf(k, v), false, true
		}
	case *ast.ChanType:
		elt, ok := sub(e.Value)
		if !ok {
			return nil, false, false
		}
		dir := reflect.BothDir
		switch e.Dir {
		case ast.SEND:
			dir = reflect.SendDir
		case ast.RECV:
			dir = reflect.RecvDir
		}
		return reflect.ChanOf(dir, elt), false, true
	case *ast.FuncType:
		var in, out []reflect.Type
		variadic := false
		for _, list := range []*ast.FieldList{e.Params, e.Results} {
			if list == nil {
				continue
			}
			for _, f := range list.List {
				ft := f.Type
				if el, ok := ft.(*ast.Ellipsis); ok {
					variadic, ft = true, &ast.ArrayType{Elt: el.Elt}
				}
				t, ok := sub(ft)
				if !ok {
					return nil, false, false
				}
				for range max(len(f.Names), 1) {
					if list == e.Params {
						in = append(in, t)
					} else {
						out = append(out, t)
					}
				}
			}
		}
		return reflect.FuncOf(in, out, variadic), false, true
	case *ast.InterfaceType:
		if e.Methods == nil || len(e.Methods.List) == 0 {
			return reflect.TypeFor[any](), false, true
		}
	}
	return nil, false, false
}

// typeAST writes t as a type expression usable at pos ("", false when it
// cannot: an unexported type, or a package whose name is taken here).
func (ty *typer) typeAST(t reflect.Type, pos token.Pos, sc *tscope) (ast.Expr, bool) {
	if t == reflect.TypeFor[error]() {
		return ident(pos, "error"), ty.usable("error", sc)
	}
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return ident(pos, t.Name()), ty.usable(t.Name(), sc)
		}
		r, _ := utf8.DecodeRuneInString(t.Name())
		if !unicode.IsUpper(r) || strings.ContainsAny(t.Name(), "[]") || ty.m.refPkg == nil {
			return nil, false
		}
		name, ok := ty.m.refPkg(t.PkgPath(), func(name string) bool { return ty.usable(name, sc) })
		if !ok {
			return nil, false
		}
		return &ast.SelectorExpr{X: ident(pos, name), Sel: ident(pos, t.Name())}, true
	}
	return ty.typeLit(t, pos, sc)
}

// typeLit writes t without its name: the type literal of its underlying type
// (map[string][]string for url.Values), to which a value of t converts.
func (ty *typer) typeLit(t reflect.Type, pos token.Pos, sc *tscope) (ast.Expr, bool) {
	sub := func(t reflect.Type) (ast.Expr, bool) { return ty.typeAST(t, pos, sc) }
	switch t.Kind() {
	case reflect.Slice:
		if e, ok := sub(t.Elem()); ok {
			return &ast.ArrayType{Lbrack: pos, Elt: e}, true
		}
	case reflect.Array:
		if e, ok := sub(t.Elem()); ok {
			return &ast.ArrayType{Lbrack: pos, Len: &ast.BasicLit{ValuePos: pos, Kind: token.INT, Value: strconv.Itoa(t.Len())}, Elt: e}, true
		}
	case reflect.Pointer:
		if e, ok := sub(t.Elem()); ok {
			return &ast.StarExpr{Star: pos, X: e}, true
		}
	case reflect.Map:
		k, ok1 := sub(t.Key())
		v, ok2 := sub(t.Elem())
		if ok1 && ok2 {
			return &ast.MapType{Map: pos, Key: k, Value: v}, true
		}
	case reflect.Chan:
		if e, ok := sub(t.Elem()); ok {
			dir := ast.SEND | ast.RECV
			switch t.ChanDir() {
			case reflect.SendDir:
				dir = ast.SEND
			case reflect.RecvDir:
				dir = ast.RECV
			}
			return &ast.ChanType{Begin: pos, Arrow: pos, Dir: dir, Value: e}, true
		}
	case reflect.Func:
		params := &ast.FieldList{Opening: pos, Closing: pos}
		for i := 0; i < t.NumIn(); i++ {
			in := t.In(i)
			var e ast.Expr
			if t.IsVariadic() && i == t.NumIn()-1 {
				x, ok := sub(in.Elem())
				if !ok {
					return nil, false
				}
				e = &ast.Ellipsis{Ellipsis: pos, Elt: x}
			} else {
				x, ok := sub(in)
				if !ok {
					return nil, false
				}
				e = x
			}
			params.List = append(params.List, &ast.Field{Type: e})
		}
		var results *ast.FieldList
		if t.NumOut() > 0 {
			results = &ast.FieldList{Opening: pos, Closing: pos}
			for i := 0; i < t.NumOut(); i++ {
				x, ok := sub(t.Out(i))
				if !ok {
					return nil, false
				}
				results.List = append(results.List, &ast.Field{Type: x})
			}
		}
		return &ast.FuncType{Func: pos, Params: params, Results: results}, true
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return &ast.InterfaceType{Interface: pos, Methods: &ast.FieldList{Opening: pos, Closing: pos}}, true
		}
	case reflect.Struct:
		fields := &ast.FieldList{Opening: pos, Closing: pos}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				return nil, false
			}
			x, ok := sub(f.Type)
			if !ok {
				return nil, false
			}
			fl := &ast.Field{Type: x}
			if !f.Anonymous {
				fl.Names = []*ast.Ident{ident(pos, f.Name)}
			}
			if f.Tag != "" {
				fl.Tag = &ast.BasicLit{ValuePos: pos, Kind: token.STRING, Value: strconv.Quote(string(f.Tag))}
			}
			fields.List = append(fields.List, fl)
		}
		return &ast.StructType{Struct: pos, Fields: fields}, true
	}
	return nil, false
}

// explainGeneric replaces yaegi's bare "CFG post-order panic" (a nil pointer
// dereference) on a generic call with a message naming the call and what to do.
func explainGeneric(err error, m *modernizer) error {
	e, ok := err.(*Error)
	if !ok || !strings.Contains(e.Value, "CFG post-order panic") || len(m.genericCalls) == 0 {
		return err
	}
	where := e.Value[:strings.Index(e.Value, "CFG post-order panic")]
	where = strings.TrimSuffix(strings.TrimSpace(where), ":")
	var msg string
	for _, r := range m.genericRisk {
		if r.where == where {
			msg = fmt.Sprintf("%s: %s(…): %s; yaegi v0.16.1 cannot infer type arguments from such a value: "+
				"write its type out, as a conversion (%s([]T(%s)) for a []T) or a variable (var v []T = %s)",
				r.where, r.call, r.why, r.call, r.arg, r.arg)
			break
		}
	}
	if msg == "" {
		call, ok := m.genericCalls[where]
		if !ok {
			return err
		}
		msg = fmt.Sprintf("%s: %s(…): yaegi v0.16.1 cannot infer type arguments from a value whose type comes from "+
			"a compiled package, and golem could not tell the types of the arguments; write the argument's type out, "+
			"as a conversion (%s([]T(x)) for x of type []T) or a variable (var v []T = x)", where, call, call)
	}
	return &Error{Name: "CompileError", Value: msg, Traceback: append([]string{msg}, e.Traceback...)}
}

// isConstant reports whether v holds an untyped constant (a go/constant value).
// It looks at the type only: converting a value of a struct type yaegi built
// with an embedded field to an interface can crash the Go runtime.
func isConstant(v reflect.Value) bool {
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == "go/constant"
}

// yaegiInternal reports whether t is one of yaegi's own types (how it stores
// some interpreted values), which says nothing of the value's Go type.
func yaegiInternal(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	return strings.HasPrefix(t.PkgPath(), "github.com/traefik/yaegi")
}

// exprSource prints a short expression as source (for messages).
func exprSource(e ast.Expr) string {
	var b strings.Builder
	if err := printer.Fprint(&b, token.NewFileSet(), e); err != nil {
		return exprString(e)
	}
	s := b.String()
	if len(s) > 60 {
		s = s[:57] + "…"
	}
	return s
}

// pkgRef returns a name under which cells refer to the compiled package at
// path: one the notebook imported it under, when free says it is not hidden
// here, else a hidden name, under which it is imported now if need be.
func (s *Session) pkgRef(path string, free func(string) bool) (string, bool) {
	var names []string
	for name, p := range s.st.imports {
		if p == path && name != "_" && name != "." && !strings.HasPrefix(name, "_golem") && !s.st.names[name] && free(name) {
			names = append(names, name)
		}
	}
	if len(names) > 0 {
		sort.Strings(names)
		return names[0], true
	}
	name := hiddenPkgName(path)
	if name == "" {
		return "", false
	}
	if s.st.imports[name] == path {
		return name, true
	}
	f, err := s.parseFile("package main\nimport " + name + " " + strconv.Quote(path) + "\n")
	if err != nil {
		return "", false
	}
	prog, err := s.compile(f)
	if err != nil {
		return "", false
	}
	if _, err := s.in.Execute(prog); err != nil {
		return "", false
	}
	s.recordImports(f)
	return name, true
}

// freeName reports whether no variable of the notebook hides name.
func (s *Session) freeName(name string) bool {
	_, global := s.globals()[name]
	return !global && !s.st.names[name]
}

// hiddenPkgName is the name under which the rewriter imports a compiled package
// that the code does not import under a usable name ("" when golem has no
// symbols for it).
func hiddenPkgName(path string) string {
	name := exportedPackageName(path)
	if name == "" {
		return ""
	}
	return "_golemP_" + name
}

// convertCompiledArgs runs compiledArgs on a cell and remembers the variables
// of compiled origin the cell defines at its top level.
func (s *Session) convertCompiledArgs(m *modernizer, decls *ast.File, body *ast.BlockStmt) {
	for name, t := range m.compiledArgs(decls, body) {
		if t != nil && t.compiled {
			s.st.compiled[name] = t.t
		} else {
			delete(s.st.compiled, name)
		}
	}
}

// fileRefPkg is modernizer.refPkg for a whole Go file: a name under which it
// imports the package, else a hidden name added to its imports (m.imports).
func fileRefPkg(f *ast.File, m *modernizer) func(path string, free func(string) bool) (string, bool) {
	return func(path string, free func(string) bool) (string, bool) {
		for _, im := range f.Imports {
			p, err := strconv.Unquote(im.Path.Value)
			if err != nil || p != path {
				continue
			}
			name := exportedPackageName(p)
			if im.Name != nil {
				name = im.Name.Name
			}
			if name != "" && name != "_" && name != "." && free(name) {
				return name, true
			}
		}
		name := hiddenPkgName(path)
		if name == "" {
			return "", false
		}
		if m.imports == nil {
			m.imports = map[string]string{}
		}
		m.imports[name] = path
		return name, true
	}
}

// addImports adds `import name "path"` declarations to f.
func addImports(f *ast.File, imports map[string]string) {
	if len(imports) == 0 {
		return
	}
	var names []string
	for n := range imports {
		names = append(names, n)
	}
	sort.Strings(names)
	gd := &ast.GenDecl{Tok: token.IMPORT, Lparen: f.Package}
	for _, n := range names {
		im := &ast.ImportSpec{Name: ident(f.Package, n), Path: &ast.BasicLit{ValuePos: f.Package, Kind: token.STRING, Value: strconv.Quote(imports[n])}}
		gd.Specs = append(gd.Specs, im)
		f.Imports = append(f.Imports, im)
	}
	f.Decls = append([]ast.Decl{gd}, f.Decls...)
}

// exportedPackageName is the name of the package at path in the symbol tables
// compiled into golem (standard library and lmlib); "" when it is in none.
func exportedPackageName(path string) string {
	for _, table := range []map[string]map[string]reflect.Value{stdlibSymbols(), symbols.Symbols} {
		for k := range table {
			if name, ok := strings.CutPrefix(k, path+"/"); ok && name != "" && !strings.Contains(name, "/") {
				return name
			}
		}
	}
	return ""
}
