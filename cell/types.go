package cell

// The type resolver: what the passes know of the types in a cell without a type
// checker (go/types needs the source of every package, which a notebook does not
// have: earlier cells exist only as live values in yaegi).
//
// One walk over the unit (learn) follows its scopes — the cell's top level, the
// declarations, function bodies and literals, blocks — and records for each name
// what can be known of its type: the reflect type of a compiled package's value
// (from the symbol tables), of an earlier cell's live value, of a type written in
// the cell out of predeclared and compiled types; else at least its shape
// (an integer, an iterator function, something else), from literals, len,
// arithmetic and function signatures. On the way it records what the passes ask
// about particular nodes: whether a range loop is over an integer or a function
// (rangeint.go, rangefunc.go), whether a switch tag is an interface (switch.go),
// which arguments of generic calls must be converted (compiledargs.go), and which
// identifiers name a declaration of the cell rather than a package or builtin.

import (
	"go/ast"
	"go/constant"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

// class is the shape of a value, which is what a range loop needs to know.
type class int

const (
	clUnknown class = iota
	clInt           // an integer
	clSeq1          // func(yield func(V) bool)
	clSeq2          // func(yield func(K, V) bool)
	clOther         // slice, array, map, string, channel, pointer to array
)

var intTypes = map[string]bool{"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true, "uintptr": true,
	"byte": true, "rune": true}

// ctype is what the resolver knows of the type of a value: its reflect type when
// it can build one, else at least its shape.
type ctype struct {
	t reflect.Type // nil: not known
	// compiled: yaegi knows the type only as a reflect type (it came from a
	// compiled package). Named types of compiled packages always are.
	compiled bool
	shape    class // when t is nil, or says nothing of the shape
}

// typed reports whether the reflect type is known.
func (c *ctype) typed() bool { return c != nil && c.t != nil }

// class is the shape of a value of this type.
func (c *ctype) class() class {
	if c == nil {
		return clUnknown
	}
	if c.t != nil {
		if cl := reflectTypeClass(c.t); cl != clUnknown {
			return cl
		}
	}
	return c.shape
}

// shaped returns t, or a ctype of shape cl when t is not typed (nil when nothing
// is known).
func shaped(t *ctype, cl class) *ctype {
	switch {
	case t.typed():
		if t.shape == clUnknown {
			t.shape = cl
		}
		return t
	case cl != clUnknown:
		return &ctype{shape: cl}
	}
	return nil
}

// opaque reports whether yaegi cannot take the type apart to infer type
// arguments (compiledargs.go): a slice, map, pointer, channel or function type
// that came from a compiled package.
func (c *ctype) opaque() bool {
	if !c.typed() {
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

// scope is one lexical scope of the code being rewritten: what is known of the
// type of each name it declares (nil: declared, nothing known).
type scope struct {
	vars map[string]*ctype
	up   *scope
}

func newScope(up *scope) *scope { return &scope{vars: map[string]*ctype{}, up: up} }

// lookup finds the innermost declaration of name in the code being rewritten.
func (sc *scope) lookup(name string) (*ctype, bool) {
	for ; sc != nil; sc = sc.up {
		if t, ok := sc.vars[name]; ok {
			return t, true
		}
	}
	return nil, false
}

// where returns the scope that declares name (nil: none here).
func (sc *scope) where(name string) *scope {
	for ; sc != nil; sc = sc.up {
		if _, ok := sc.vars[name]; ok {
			return sc
		}
	}
	return nil
}

func (sc *scope) define(name string, t *ctype) {
	if name != "_" {
		sc.vars[name] = t
	}
}

// typeResolver is the type resolver of one unit.
type typeResolver struct {
	env          env
	where        func(token.Pos) string // a position as cell:L:C (messages)
	top          *scope
	generics     map[string]*ast.FuncType // generic functions declared in this source
	funcs        map[string]*ast.FuncType // functions declared in this source
	methods      map[string]*ast.FuncType // methods declared in this source, by name
	types        map[string]*ast.TypeSpec // types declared in this source
	earlierDecls map[string]ast.Decl      // earlier cells' declarations, parsed when first needed
	building     map[string]bool          // types being typed (recursive types)

	// what the walk learned about nodes
	ranges     map[*ast.RangeStmt]class
	rangeConv  map[*ast.RangeStmt]ast.Expr // compiled iterators, to convert to their type written out (rangefunc.go)
	ifaceTags  map[*ast.SwitchStmt]bool
	local      map[*ast.Ident]bool // identifiers that name a declaration of this source
	conversion []conversion        // generic call arguments to convert (compiledargs.go)
	risks      []genericRisk       // generic call arguments left as they were
	calls      map[string]string   // position -> name of each generic call (messages)
}

func newTypeResolver(e env, where func(token.Pos) string) *typeResolver {
	return &typeResolver{env: e, where: where, top: newScope(nil)} // the maps are made when first written
}

// put sets m[k] = v, making the map first when it is nil.
func put[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil {
		*m = map[K]V{}
	}
	(*m)[k] = v
}

// learn walks decls and body (either may be nil): the declarations first, then
// the statements in the top-level scope (their variables are the notebook's), then
// the bodies of the functions.
func (r *typeResolver) learn(decls *ast.File, body *ast.BlockStmt) {
	var funcs []*ast.FuncDecl
	var specs []*ast.GenDecl
	if decls != nil {
		for _, d := range decls.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				funcs = append(funcs, d)
				if d.Recv != nil {
					put(&r.methods, d.Name.Name, d.Type)
					continue
				}
				r.top.define(d.Name.Name, nil)
				put(&r.funcs, d.Name.Name, d.Type)
				if d.Type.TypeParams != nil {
					put(&r.generics, d.Name.Name, d.Type)
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						r.top.define(sp.Name.Name, nil)
						put(&r.types, sp.Name.Name, sp)
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							r.top.define(n.Name, nil)
						}
					}
				}
				specs = append(specs, d)
			}
		}
		for _, fd := range funcs {
			if fd.Recv == nil && fd.Type.TypeParams == nil {
				r.top.define(fd.Name.Name, shaped(r.declType(fd.Type, r.top), typeClass(fd.Type)))
			}
		}
		for _, gd := range specs {
			r.genDecl(gd, r.top)
		}
	}
	if body != nil {
		r.stmts(body.List, r.top)
	}
	for _, fd := range funcs {
		sc := newScope(r.top)
		if fd.Recv != nil {
			r.fields(fd.Recv, sc)
		}
		r.funcType(fd.Type, sc)
		if fd.Body != nil {
			r.stmts(fd.Body.List, sc)
		}
	}
}

func (r *typeResolver) fields(fl *ast.FieldList, sc *scope) {
	if fl == nil {
		return
	}
	for _, f := range fl.List {
		t := shaped(r.declType(f.Type, sc), typeClass(f.Type))
		for _, n := range f.Names {
			sc.define(n.Name, t)
		}
	}
}

func (r *typeResolver) funcType(ft *ast.FuncType, sc *scope) {
	if ft.TypeParams != nil {
		for _, f := range ft.TypeParams.List {
			for _, n := range f.Names {
				sc.define(n.Name, nil)
			}
		}
	}
	r.fields(ft.Params, sc)
	r.fields(ft.Results, sc)
}

// declType is the type of a variable declared with the type expression e.
func (r *typeResolver) declType(e ast.Expr, sc *scope) *ctype {
	if el, ok := e.(*ast.Ellipsis); ok {
		t, _, ok := r.typeOfTypeExpr(el.Elt, sc)
		if !ok {
			return nil
		}
		return &ctype{t: reflect.SliceOf(t)}
	}
	t, named, ok := r.typeOfTypeExpr(e, sc)
	if !ok {
		return nil
	}
	return &ctype{t: t, compiled: named}
}

// genDecl learns the names a var, const or type declaration declares.
func (r *typeResolver) genDecl(gd *ast.GenDecl, sc *scope) {
	for _, sp := range gd.Specs {
		switch sp := sp.(type) {
		case *ast.ValueSpec:
			if gd.Tok == token.VAR {
				r.valueSpec(sp, sc)
				continue
			}
			// a constant: its shape only (yaegi keeps untyped constants as
			// go/constant values, which say nothing of a Go type)
			for i, n := range sp.Names {
				cl := clUnknown
				if sp.Type != nil {
					cl = typeClass(sp.Type)
				} else if i < len(sp.Values) {
					cl = r.classOf(sp.Values[i], sc)
				}
				sc.define(n.Name, shaped(nil, cl))
			}
		case *ast.TypeSpec:
			sc.define(sp.Name.Name, nil)
		}
	}
}

func (r *typeResolver) valueSpec(vs *ast.ValueSpec, sc *scope) {
	for _, v := range vs.Values {
		r.expr(v, sc)
	}
	if vs.Type != nil {
		t := shaped(r.declType(vs.Type, sc), typeClass(vs.Type))
		for _, n := range vs.Names {
			sc.define(n.Name, t)
		}
		return
	}
	ts := r.valuesTypes(vs.Values, len(vs.Names), sc)
	for i, n := range vs.Names {
		sc.define(n.Name, ts[i])
	}
}

// valuesTypes types n variables defined from values (n values, or one value with
// n results).
func (r *typeResolver) valuesTypes(values []ast.Expr, n int, sc *scope) []*ctype {
	out := make([]*ctype, n)
	if len(values) == n {
		for i, v := range values {
			out[i] = shaped(r.typeOf(v, sc), r.classOf(v, sc))
		}
		return out
	}
	if len(values) != 1 {
		return out
	}
	switch v := ast.Unparen(values[0]).(type) {
	case *ast.CallExpr:
		if ft := r.typeOf(v.Fun, sc); ft.typed() && ft.t.Kind() == reflect.Func && ft.t.NumOut() == n {
			for i := range out {
				out[i] = &ctype{t: ft.t.Out(i), compiled: ft.compiled}
			}
		}
	case *ast.IndexExpr, *ast.TypeAssertExpr, *ast.UnaryExpr: // v, ok := m[k] / x.(T) / <-ch
		if n == 2 {
			out[0] = r.typeOf(v, sc)
			out[1] = &ctype{t: reflect.TypeFor[bool]()}
		}
	}
	return out
}

func (r *typeResolver) stmts(list []ast.Stmt, sc *scope) {
	for _, st := range list {
		r.stmt(st, sc)
	}
}

func (r *typeResolver) stmt(st ast.Stmt, sc *scope) {
	switch s := st.(type) {
	case *ast.BlockStmt:
		r.stmts(s.List, newScope(sc))
	case *ast.LabeledStmt:
		r.stmt(s.Stmt, sc)
	case *ast.ExprStmt:
		r.expr(s.X, sc)
	case *ast.SendStmt:
		r.expr(s.Chan, sc)
		r.expr(s.Value, sc)
	case *ast.IncDecStmt:
		r.expr(s.X, sc)
	case *ast.GoStmt:
		r.expr(s.Call, sc)
	case *ast.DeferStmt:
		r.expr(s.Call, sc)
	case *ast.ReturnStmt:
		for _, e := range s.Results {
			r.expr(e, sc)
		}
	case *ast.AssignStmt:
		for _, e := range s.Rhs {
			r.expr(e, sc)
		}
		if s.Tok != token.DEFINE {
			for _, l := range s.Lhs {
				r.expr(l, sc)
			}
			return
		}
		ts := r.valuesTypes(s.Rhs, len(s.Lhs), sc)
		for i, l := range s.Lhs {
			if id, ok := l.(*ast.Ident); ok {
				if _, again := sc.vars[id.Name]; again && ts[i] == nil {
					continue // a, err := … with a of this scope: a keeps its type
				}
				sc.define(id.Name, ts[i])
			}
		}
	case *ast.DeclStmt:
		if gd, ok := s.Decl.(*ast.GenDecl); ok {
			r.genDecl(gd, sc)
		}
	case *ast.IfStmt:
		inner := newScope(sc)
		if s.Init != nil {
			r.stmt(s.Init, inner)
		}
		r.expr(s.Cond, inner)
		r.stmt(s.Body, inner)
		if s.Else != nil {
			r.stmt(s.Else, inner)
		}
	case *ast.ForStmt:
		inner := newScope(sc)
		if s.Init != nil {
			r.stmt(s.Init, inner)
		}
		if s.Cond != nil {
			r.expr(s.Cond, inner)
		}
		if s.Post != nil {
			r.stmt(s.Post, inner)
		}
		r.stmt(s.Body, inner)
	case *ast.RangeStmt:
		r.expr(s.X, sc)
		put(&r.ranges, s, r.classOf(s.X, sc))
		r.compiledIterator(s, sc)
		inner := newScope(sc)
		if s.Tok == token.DEFINE {
			k, v := rangeTypes(r.typeOf(s.X, sc))
			if id, ok := s.Key.(*ast.Ident); ok {
				inner.define(id.Name, k)
			}
			if id, ok := s.Value.(*ast.Ident); ok {
				inner.define(id.Name, v)
			}
		} else {
			if s.Key != nil {
				r.expr(s.Key, sc)
			}
			if s.Value != nil {
				r.expr(s.Value, sc)
			}
		}
		r.stmt(s.Body, inner)
	case *ast.SwitchStmt:
		inner := newScope(sc)
		if s.Init != nil {
			r.stmt(s.Init, inner)
		}
		if s.Tag != nil {
			r.expr(s.Tag, inner)
			if t := r.typeOf(s.Tag, inner); t.typed() && t.t.Kind() == reflect.Interface {
				put(&r.ifaceTags, s, true)
			}
		}
		for _, c := range s.Body.List {
			cc := c.(*ast.CaseClause)
			for _, e := range cc.List {
				r.expr(e, inner)
			}
			r.stmts(cc.Body, newScope(inner))
		}
	case *ast.TypeSwitchStmt:
		inner := newScope(sc)
		if s.Init != nil {
			r.stmt(s.Init, inner)
		}
		bound := ""
		switch a := s.Assign.(type) {
		case *ast.AssignStmt:
			if id, ok := a.Lhs[0].(*ast.Ident); ok {
				bound = id.Name
			}
			for _, e := range a.Rhs {
				r.expr(e, inner)
			}
		case *ast.ExprStmt:
			r.expr(a.X, inner)
		}
		for _, c := range s.Body.List {
			cc := c.(*ast.CaseClause)
			cs := newScope(inner)
			if bound != "" {
				var t *ctype
				if len(cc.List) == 1 {
					t = r.declType(cc.List[0], inner)
				}
				cs.define(bound, t)
			}
			r.stmts(cc.Body, cs)
		}
	case *ast.SelectStmt:
		for _, c := range s.Body.List {
			cc := c.(*ast.CommClause)
			cs := newScope(sc)
			if cc.Comm != nil {
				r.stmt(cc.Comm, cs)
			}
			r.stmts(cc.Body, cs)
		}
	}
}

// expr visits an expression: function literals open scopes, identifiers that
// name a declaration of this source are noted, generic calls get their
// arguments typed (compiledargs.go).
func (r *typeResolver) expr(e ast.Expr, sc *scope) {
	if e == nil {
		return
	}
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			inner := newScope(sc)
			r.funcType(n.Type, inner)
			r.stmts(n.Body.List, inner)
			return false
		case *ast.Ident:
			if _, ok := sc.lookup(n.Name); ok {
				put(&r.local, n, true)
			}
		case *ast.CallExpr:
			r.genericCall(n, sc)
		}
		return true
	})
}

// rangeTypes are the types of the iteration variables of a range over x.
func rangeTypes(x *ctype) (k, v *ctype) {
	if !x.typed() {
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

// typeOf returns what is known of the type of the value of e (nil: nothing).
func (r *typeResolver) typeOf(e ast.Expr, sc *scope) (out *ctype) {
	defer func() {
		if recover() != nil { // a reflect constructor refused a type
			out = nil
		}
	}()
	switch e := e.(type) {
	case *ast.ParenExpr:
		return r.typeOf(e.X, sc)
	case *ast.Ident:
		if t, ok := sc.lookup(e.Name); ok {
			return t
		}
		v, ok := r.env.global(e.Name)
		if !ok {
			if ft := r.userSig(e.Name); ft != nil && ft.TypeParams == nil {
				return r.declType(ft, r.top) // a function of an earlier cell
			}
			return nil
		}
		if !v.IsValid() || isConstant(v) {
			return nil
		}
		t := v.Type()
		if yaegiInternal(t) {
			return nil
		}
		return &ctype{t: t, compiled: r.env.compiledVar(e.Name) == t}
	case *ast.SelectorExpr:
		if pk, ok := e.X.(*ast.Ident); ok && r.isPackage(pk.Name, sc) {
			path, _ := r.env.pkg(pk.Name)
			v, ok := r.env.symbol(path, e.Sel.Name)
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
		x := r.typeOf(e.X, sc)
		if !x.typed() {
			return nil
		}
		return selectType(x, e.Sel.Name)
	case *ast.CallExpr:
		if t, named, ok := r.typeOfTypeExpr(e.Fun, sc); ok { // a conversion
			return &ctype{t: t, compiled: named}
		}
		if id, ok := ast.Unparen(e.Fun).(*ast.Ident); ok && r.builtin(id.Name, sc) {
			switch id.Name {
			case "len", "cap", "copy":
				return &ctype{t: reflect.TypeFor[int]()}
			case "append":
				if len(e.Args) > 0 {
					return r.typeOf(e.Args[0], sc)
				}
				return nil
			case "make":
				if len(e.Args) > 0 {
					return r.declType(e.Args[0], sc)
				}
				return nil
			case "new":
				if len(e.Args) == 1 {
					if t := r.declType(e.Args[0], sc); t != nil {
						return &ctype{t: reflect.PointerTo(t.t)}
					}
				}
				return nil
			}
		}
		f := r.typeOf(e.Fun, sc)
		if !f.typed() || f.t.Kind() != reflect.Func || f.t.NumOut() != 1 {
			return nil
		}
		return &ctype{t: f.t.Out(0), compiled: f.compiled}
	case *ast.IndexExpr:
		x := r.typeOf(e.X, sc)
		if !x.typed() {
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
		x := r.typeOf(e.X, sc)
		if !x.typed() {
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
		if x := r.typeOf(e.X, sc); x.typed() && x.t.Kind() == reflect.Pointer {
			return &ctype{t: x.t.Elem(), compiled: x.compiled}
		}
	case *ast.UnaryExpr:
		switch e.Op {
		case token.AND:
			if cl, ok := e.X.(*ast.CompositeLit); ok {
				if t := r.declType(cl.Type, sc); t != nil {
					return &ctype{t: reflect.PointerTo(t.t)}
				}
				return nil
			}
			if x := r.typeOf(e.X, sc); x.typed() {
				return &ctype{t: reflect.PointerTo(x.t), compiled: x.compiled}
			}
		case token.ARROW:
			if x := r.typeOf(e.X, sc); x.typed() && x.t.Kind() == reflect.Chan {
				return &ctype{t: x.t.Elem(), compiled: x.compiled}
			}
		}
	case *ast.TypeAssertExpr:
		if e.Type != nil {
			return r.declType(e.Type, sc)
		}
	case *ast.CompositeLit:
		if e.Type != nil {
			return r.declType(e.Type, sc)
		}
	}
	return nil
}

// classOf tells what shape the value of e has: the class of its type when the
// resolver knows the type, else what its form says (a literal, len, arithmetic,
// the result of a function whose signature it has).
func (r *typeResolver) classOf(e ast.Expr, sc *scope) class {
	if c := r.typeOf(e, sc).class(); c != clUnknown {
		return c
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		switch e.Kind {
		case token.INT, token.CHAR:
			return clInt
		case token.STRING:
			return clOther
		}
	case *ast.CompositeLit:
		return clOther
	case *ast.FuncLit:
		return typeClass(e.Type)
	case *ast.ParenExpr:
		return r.classOf(e.X, sc)
	case *ast.UnaryExpr:
		switch e.Op {
		case token.SUB, token.ADD, token.XOR:
			return r.classOf(e.X, sc)
		case token.AND:
			return clOther
		}
	case *ast.BinaryExpr:
		switch e.Op {
		case token.SUB, token.MUL, token.QUO, token.REM, token.SHL, token.SHR, token.AND, token.OR, token.XOR, token.AND_NOT, token.ADD:
			if c := r.classOf(e.X, sc); c != clUnknown {
				return c
			}
			return r.classOf(e.Y, sc)
		}
	case *ast.Ident:
		if _, local := sc.lookup(e.Name); local {
			return clUnknown // its declaration said all there is
		}
		if v, ok := r.env.global(e.Name); ok {
			return reflectClass(v) // constants, and values held in interfaces
		}
		if ft := r.userSig(e.Name); ft != nil {
			return typeClass(ft) // a function of an earlier cell, as a value
		}
	case *ast.SelectorExpr:
		// a field of an earlier cell's variable, by its dynamic value
		if id, ok := e.X.(*ast.Ident); ok && !r.isLocal(id.Name, sc) {
			if v, ok := r.env.global(id.Name); ok {
				for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && !v.IsNil() {
					v = v.Elem()
				}
				if v.IsValid() && v.Kind() == reflect.Struct {
					return reflectClass(v.FieldByName(e.Sel.Name))
				}
			}
		}
	case *ast.CallExpr:
		return r.callClass(e, sc)
	}
	return clUnknown
}

// callClass is the shape of a call's result from the callee's signature.
func (r *typeResolver) callClass(e *ast.CallExpr, sc *scope) class {
	switch fn := ast.Unparen(e.Fun).(type) {
	case *ast.Ident:
		switch {
		case fn.Name == "len" || fn.Name == "cap" || intTypes[fn.Name]:
			return clInt
		case fn.Name == "make" || fn.Name == "append" || fn.Name == "new" || fn.Name == "string":
			return clOther
		case fn.Name == "min" || fn.Name == "max" || fn.Name == minFunc || fn.Name == maxFunc:
			for _, a := range e.Args {
				if c := r.classOf(a, sc); c != clUnknown {
					return c
				}
			}
		}
		if path, name, ok := shimOf(fn.Name); ok {
			return shimResultClass(path, name)
		}
		if ft := r.funcSig(fn.Name, sc); ft != nil {
			return resultClass(ft)
		}
	case *ast.SelectorExpr:
		if path, ok := r.packageOf(fn.X, sc); ok {
			if c := shimResultClass(path, fn.Sel.Name); c != clUnknown {
				return c
			}
			if v, ok := r.env.symbol(path, fn.Sel.Name); ok && v.Kind() == reflect.Func && v.Type().NumOut() == 1 {
				return reflectTypeClass(v.Type().Out(0))
			}
			return clUnknown
		}
		if ft := r.methodSig(fn.Sel.Name); ft != nil {
			return resultClass(ft)
		}
	case *ast.IndexExpr, *ast.IndexListExpr: // explicit instantiation f[int](…)
		var x ast.Expr
		if ie, ok := fn.(*ast.IndexExpr); ok {
			x = ie.X
		} else {
			x = fn.(*ast.IndexListExpr).X
		}
		if id, ok := x.(*ast.Ident); ok {
			if ft := r.funcSig(id.Name, sc); ft != nil {
				return resultClass(ft)
			}
		}
	}
	return clUnknown
}

// shimResultClass is the shape of the result of a shim of the prelude.
func shimResultClass(path, name string) class {
	fd := shimFor(path, name)
	if fd == nil {
		return clUnknown
	}
	if c := resultClass(fd.Type); c != clUnknown {
		return c
	}
	return clOther
}

// funcSig returns the signature of the function name calls at sc: one this
// source declares (not hidden by a local name), or one of an earlier cell.
func (r *typeResolver) funcSig(name string, sc *scope) *ast.FuncType {
	if where := sc.where(name); where != nil {
		if where == r.top {
			return r.funcs[name]
		}
		return nil
	}
	return r.userSig(name)
}

// methodSig returns the signature of a method named name that this source or an
// earlier cell declares (whichever its receiver: the resolver does not know
// the types of the user's values well enough to tell).
func (r *typeResolver) methodSig(name string) *ast.FuncType {
	if ft := r.methods[name]; ft != nil {
		return ft
	}
	return r.userSig("." + name)
}

// userSig returns the signature of a function (".M": a method) an earlier cell
// declared (nil: none).
func (r *typeResolver) userSig(name string) *ast.FuncType {
	if fd, ok := r.earlierDecl(name).(*ast.FuncDecl); ok {
		return fd.Type
	}
	return nil
}

// userType returns the declaration of the user's type name at sc (nil: none):
// one of this source, or of an earlier cell.
func (r *typeResolver) userType(name string, sc *scope) *ast.TypeSpec {
	if where := sc.where(name); where != nil {
		if where == r.top {
			return r.types[name]
		}
		return nil
	}
	if _, global := r.env.global(name); global {
		return nil
	}
	if gd, ok := r.earlierDecl(name).(*ast.GenDecl); ok && len(gd.Specs) == 1 {
		ts, _ := gd.Specs[0].(*ast.TypeSpec)
		return ts
	}
	return nil
}

// earlierDecl parses the declaration of a function or type an earlier cell
// declared (env.earlier), once (nil: none).
func (r *typeResolver) earlierDecl(name string) ast.Decl {
	if d, ok := r.earlierDecls[name]; ok {
		return d
	}
	var d ast.Decl
	if src, ok := r.env.earlier(name); ok && src != "" {
		file, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+src, parser.SkipObjectResolution)
		if err == nil && len(file.Decls) == 1 {
			d = file.Decls[0]
		}
	}
	put(&r.earlierDecls, name, d)
	return d
}

// isLocal reports whether name is declared by this source at sc.
func (r *typeResolver) isLocal(name string, sc *scope) bool {
	_, ok := sc.lookup(name)
	return ok
}

// isPackage reports whether name refers to an imported package at sc: not a
// name of this source or a variable of an earlier cell.
func (r *typeResolver) isPackage(name string, sc *scope) bool {
	if r.isLocal(name, sc) {
		return false
	}
	if _, global := r.env.global(name); global {
		return false
	}
	_, ok := r.env.pkg(name)
	return ok
}

// packageOf returns the import path of the package x names at sc.
func (r *typeResolver) packageOf(x ast.Expr, sc *scope) (string, bool) {
	id, ok := x.(*ast.Ident)
	if !ok || !r.isPackage(id.Name, sc) {
		return "", false
	}
	return r.env.pkg(id.Name)
}

// builtin reports whether name is the predeclared function of that name at sc
// (no name of this source hides it).
func (r *typeResolver) builtin(name string, sc *scope) bool {
	if r.isLocal(name, sc) {
		return false
	}
	_, global := r.env.global(name)
	return !global
}

// usable reports whether name means the predeclared or package name here (no
// variable, type or function of the user's hides it).
func (r *typeResolver) usable(name string, sc *scope) bool {
	if r.isLocal(name, sc) {
		return false
	}
	if _, global := r.env.global(name); global {
		return false
	}
	_, earlier := r.env.earlier(name)
	return !earlier
}

// typeClass classifies a type expression.
func typeClass(t ast.Expr) class {
	switch t := t.(type) {
	case *ast.Ident:
		if intTypes[t.Name] {
			return clInt
		}
		if t.Name == "string" {
			return clOther
		}
	case *ast.ParenExpr:
		return typeClass(t.X)
	case *ast.ArrayType, *ast.MapType, *ast.ChanType:
		return clOther
	case *ast.FuncType:
		if t.Params != nil && len(t.Params.List) == 1 && len(t.Params.List[0].Names) <= 1 {
			if y, ok := t.Params.List[0].Type.(*ast.FuncType); ok && y.Params != nil {
				switch countFields(y.Params) {
				case 1:
					return clSeq1
				case 2:
					return clSeq2
				}
			}
		}
	case *ast.IndexExpr: // iter.Seq[V]
		if sel, ok := t.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Seq" {
			return clSeq1
		}
	case *ast.IndexListExpr: // iter.Seq2[K, V]
		if sel, ok := t.X.(*ast.SelectorExpr); ok && sel.Sel.Name == "Seq2" {
			return clSeq2
		}
	}
	return clUnknown
}

// resultClass is the class of a function's single result.
func resultClass(ft *ast.FuncType) class {
	if ft.Results == nil || len(ft.Results.List) != 1 || len(ft.Results.List[0].Names) > 1 {
		return clUnknown
	}
	return typeClass(ft.Results.List[0].Type)
}

func countFields(fl *ast.FieldList) int {
	n := 0
	for _, f := range fl.List {
		n += max(len(f.Names), 1)
	}
	return n
}

// reflectClass classifies a live value of an earlier cell.
func reflectClass(v reflect.Value) class {
	if !v.IsValid() {
		return clUnknown
	}
	if isConstant(v) && v.CanInterface() {
		if c, ok := v.Interface().(constant.Value); ok {
			if c.Kind() == constant.Int {
				return clInt
			}
			return clOther
		}
	}
	for v.Kind() == reflect.Interface && !v.IsNil() {
		v = v.Elem()
	}
	return reflectTypeClass(v.Type())
}

func reflectTypeClass(t reflect.Type) class {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return clInt
	case reflect.Func:
		if t.NumIn() == 1 && t.In(0).Kind() == reflect.Func {
			switch t.In(0).NumIn() {
			case 1:
				return clSeq1
			case 2:
				return clSeq2
			}
		}
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String, reflect.Chan, reflect.Pointer:
		return clOther
	}
	return clUnknown
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

// typeOfTypeExpr returns the reflect type of a type expression built from
// predeclared types, types of compiled packages and the user's types made of
// them; named tells whether e names a compiled package's type (pkg.T), which
// yaegi knows only as a reflect type.
func (r *typeResolver) typeOfTypeExpr(e ast.Expr, sc *scope) (t reflect.Type, named, ok bool) {
	defer func() {
		if recover() != nil { // reflect refused to build the type
			t, named, ok = nil, false, false
		}
	}()
	sub := func(e ast.Expr) (reflect.Type, bool) {
		t, _, ok := r.typeOfTypeExpr(e, sc)
		return t, ok
	}
	switch e := e.(type) {
	case *ast.ParenExpr:
		return r.typeOfTypeExpr(e.X, sc)
	case *ast.Ident:
		if t, ok := predeclared[e.Name]; ok && r.usable(e.Name, sc) {
			return t, false, true
		}
		// a type of the user's: yaegi builds it, its fields keep their types
		ts := r.userType(e.Name, sc)
		if ts == nil || ts.TypeParams != nil || r.building[e.Name] {
			return nil, false, false
		}
		put(&r.building, e.Name, true)
		defer delete(r.building, e.Name)
		t, named, ok := r.typeOfTypeExpr(ts.Type, r.top)
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
		if !ok || !r.isPackage(pk.Name, sc) {
			return nil, false, false
		}
		path, _ := r.env.pkg(pk.Name)
		v, ok := r.env.symbol(path, e.Sel.Name)
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

func embeddedName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return embeddedName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.Ident:
		return t.Name
	}
	return ""
}

// compiledIterator notes a range over an iterator of a compiled package's type
// (bytes.Lines(b), an iter.Seq[T] of a compiled package): yaegi v0.16.1 cannot
// infer the type parameter of the pull loop from it ("undefined type for V"), so
// the range converts it to its own type written out,
// (func(func([]byte) bool))(bytes.Lines(b)), as generic call arguments are
// (compiledargs.go).
func (r *typeResolver) compiledIterator(s *ast.RangeStmt, sc *scope) {
	if c := r.ranges[s]; c != clSeq1 && c != clSeq2 {
		return
	}
	at := r.typeOf(s.X, sc)
	if !at.opaque() {
		return
	}
	w := typeWriter{pos: s.X.Pos(), usable: func(n string) bool { return r.usable(n, sc) }, importName: r.env.importName}
	if te, ok := w.typeLit(at.t); ok {
		put(&r.rangeConv, s, ast.Expr(&ast.ParenExpr{Lparen: s.X.Pos(), X: te, Rparen: s.X.Pos()}))
	}
}
