package cell

import (
	"fmt"
	"go/ast"
	"go/constant"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

// class is what the rewriter knows about the type of an expression without a type
// checker: enough to tell range over an int from range over a function.
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

// modernizer rewrites the modern Go that yaegi v0.16.1 lacks into Go it runs, and
// wraps goroutines so that their panics are reported instead of killing the process.
type modernizer struct {
	fset    *token.FileSet
	globals map[string]reflect.Value // live values of earlier cells (see global)
	// loadGlobals reads the live values when first needed (nil: there are none)
	loadGlobals func() map[string]reflect.Value
	names       map[string]class // identifiers declared in this source (scope-insensitive)
	results     map[string]class // result class of functions declared here or earlier
	shadow      map[string]bool  // builtins the user redefined (min, max, clear)
	pkgs        func(name string) (string, bool)
	pkgFunc     func(path, name string) (reflect.Value, bool)
	errs        []string
	unknown     []string // range loops whose operand the rewriter could not classify
	seq         int
	made        map[ast.Node]bool // nodes the rewriter generated (not rewritten again)
	// renameMain renames the identifier main (cells that are not whole programs:
	// yaegi runs a declared main after every compile of package main)
	renameMain bool
	// asFunc marks top-level blocks that must run inside a function (yaegi cannot
	// bind generic results in the global scope)
	asFunc map[*ast.BlockStmt]bool

	// For arguments of generic calls whose type comes from a compiled package
	// (compiled.go); each may be nil.
	userFunc func(name string) string // signature source of an earlier cell's function
	userName func(name string) bool   // a name an earlier cell declared
	// userTypeDecl: source of the declaration of an earlier cell's type
	userTypeDecl func(name string) string
	compiledVar  func(name string) reflect.Type // type of compiled origin of an earlier variable
	// refPkg returns the name under which code here refers to the package at
	// path; free tells whether a name is free to import it under
	refPkg      func(path string, free func(name string) bool) (string, bool)
	genericRisk []genericRisk // generic calls with an argument left as it was
	// genericCalls: position -> name of each generic call (for messages)
	genericCalls map[string]string
	imports      map[string]string // whole files: packages the conversions name, to import (name -> path)
	// generic: walking the body of a generic function or a method of a generic
	// type (make's element type may be a type parameter: no size check there)
	generic bool
}

// global returns the live value of a variable or constant of an earlier cell.
func (m *modernizer) global(name string) (reflect.Value, bool) {
	if m.globals == nil && m.loadGlobals != nil {
		m.globals = m.loadGlobals()
		m.loadGlobals = nil
	}
	v, ok := m.globals[name]
	return v, ok
}

func (m *modernizer) tmp(base string) string {
	m.seq++
	return fmt.Sprintf("_golem%s%d", base, m.seq)
}

func (m *modernizer) where(p token.Pos) string {
	if m.fset == nil || !p.IsValid() {
		return "cell"
	}
	pos := m.fset.Position(p)
	return fmt.Sprintf("%s:%d:%d", pos.Filename, pos.Line, pos.Column)
}

// collect learns the classes of the identifiers a piece of code declares.
func (m *modernizer) collect(root ast.Node) {
	set := func(name string, c class) {
		if name == "_" || c == clUnknown {
			return
		}
		if old, ok := m.names[name]; ok && old != c {
			m.names[name] = clUnknown // conflicting declarations: do not guess
			return
		}
		m.names[name] = c
	}
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if n.Recv == nil {
				m.results[n.Name.Name] = resultClass(n.Type)
				if c := typeClass(n.Type); c != clUnknown {
					set(n.Name.Name, c)
					m.results["="+n.Name.Name] = c
				}
				if n.Name.Name == "min" || n.Name.Name == "max" || n.Name.Name == "clear" {
					m.shadow[n.Name.Name] = true
				}
			} else {
				m.results["."+n.Name.Name] = resultClass(n.Type)
			}
		case *ast.Field:
			for _, id := range n.Names {
				set(id.Name, typeClass(n.Type))
			}
		case *ast.ValueSpec:
			for i, id := range n.Names {
				if n.Type != nil {
					set(id.Name, typeClass(n.Type))
				} else if i < len(n.Values) && len(n.Values) == len(n.Names) {
					set(id.Name, m.classify(n.Values[i]))
				}
			}
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						set(id.Name, m.classify(n.Rhs[i]))
					}
				}
			}
		}
		return true
	})
}

// resultClass is the class of a function's single result.
func resultClass(ft *ast.FuncType) class {
	if ft.Results == nil || len(ft.Results.List) != 1 || len(ft.Results.List[0].Names) > 1 {
		return clUnknown
	}
	return typeClass(ft.Results.List[0].Type)
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

func countFields(fl *ast.FieldList) int {
	n := 0
	for _, f := range fl.List {
		if len(f.Names) == 0 {
			n++
		} else {
			n += len(f.Names)
		}
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

// classify guesses the class of an expression.
func (m *modernizer) classify(e ast.Expr) class {
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
		return m.classify(e.X)
	case *ast.UnaryExpr:
		if e.Op == token.SUB || e.Op == token.ADD || e.Op == token.XOR {
			return m.classify(e.X)
		}
		if e.Op == token.AND {
			return clOther
		}
	case *ast.BinaryExpr:
		switch e.Op {
		case token.SUB, token.MUL, token.QUO, token.REM, token.SHL, token.SHR, token.AND, token.OR, token.XOR, token.AND_NOT, token.ADD:
			if c := m.classify(e.X); c != clUnknown {
				return c
			}
			return m.classify(e.Y)
		}
	case *ast.Ident:
		if c, ok := m.names[e.Name]; ok {
			return c
		}
		if v, ok := m.global(e.Name); ok {
			return reflectClass(v)
		}
	case *ast.SelectorExpr:
		if id, ok := e.X.(*ast.Ident); ok {
			if v, ok := m.global(id.Name); ok {
				for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) && !v.IsNil() {
					v = v.Elem()
				}
				if v.IsValid() && v.Kind() == reflect.Struct {
					return reflectClass(v.FieldByName(e.Sel.Name))
				}
			}
		}
	case *ast.CallExpr:
		return m.callClass(e)
	}
	return clUnknown
}

func (m *modernizer) callClass(e *ast.CallExpr) class {
	switch fn := ast.Unparen(e.Fun).(type) {
	case *ast.Ident:
		switch {
		case fn.Name == "len" || fn.Name == "cap" || intTypes[fn.Name]:
			return clInt
		case fn.Name == "make" || fn.Name == "append" || fn.Name == "new" || fn.Name == "string":
			return clOther
		case fn.Name == "min" || fn.Name == "max" || fn.Name == minFunc || fn.Name == maxFunc:
			for _, a := range e.Args {
				if c := m.classify(a); c != clUnknown {
					return c
				}
			}
		case strings.HasPrefix(fn.Name, shimPrefix):
			if path, name, ok := shimOf(fn.Name); ok {
				return shimResultClass(path, name)
			}
		}
		if c, ok := m.results[fn.Name]; ok {
			return c
		}
	case *ast.SelectorExpr:
		if id, ok := fn.X.(*ast.Ident); ok && m.pkgs != nil {
			if path, ok := m.pkgs(id.Name); ok && m.names[id.Name] == clUnknown {
				if c := shimResultClass(path, fn.Sel.Name); c != clUnknown {
					return c
				}
				if v, ok := m.pkgFunc(path, fn.Sel.Name); ok && v.Kind() == reflect.Func && v.Type().NumOut() == 1 {
					return reflectTypeClass(v.Type().Out(0))
				}
				return clUnknown
			}
		}
		if c, ok := m.results["."+fn.Sel.Name]; ok {
			return c
		}
	case *ast.IndexExpr, *ast.IndexListExpr: // explicit instantiation f[int](…)
		var x ast.Expr
		if ie, ok := fn.(*ast.IndexExpr); ok {
			x = ie.X
		} else {
			x = fn.(*ast.IndexListExpr).X
		}
		if id, ok := x.(*ast.Ident); ok {
			return m.results[id.Name]
		}
	}
	return clUnknown
}

// shimResultClass is the class of a shim function's result.
func shimResultClass(pkg, name string) class {
	fd := shimFor(pkg, name)
	if fd == nil {
		return clUnknown
	}
	if c := resultClass(fd.Type); c != clUnknown {
		return c
	}
	return clOther
}

// userMain is what a notebook's own `func main` is called inside the interpreter.
const userMain = "_golemUserMain"

// file rewrites a parsed file (declarations of a cell, or a whole program).
func (m *modernizer) file(f *ast.File) {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" && m.renameMain {
			fd.Name.Name = userMain
		}
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
			m.generic = isGenericFunc(fd)
			m.walk(fd.Body, true)
			m.generic = false
		}
		if gd, ok := d.(*ast.GenDecl); ok {
			m.walk(gd, false)
		}
	}
}

// walk rewrites every statement list and call under root; inFunc tells whether
// root is inside a function body (else it is the top level of a cell).
func (m *modernizer) walk(root ast.Node, inFunc bool) {
	var stack []bool // inFunc per FuncLit depth
	cur := func() bool {
		if len(stack) > 0 {
			return stack[len(stack)-1]
		}
		return inFunc
	}
	var visit func(n ast.Node) bool
	visit = func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			stack = append(stack, true)
			ast.Inspect(n.Body, visit)
			stack = stack[:len(stack)-1]
			return false
		case *ast.BlockStmt:
			n.List = m.stmts(n.List, cur())
		case *ast.CaseClause:
			n.Body = m.stmts(n.Body, cur())
		case *ast.CommClause:
			n.Body = m.stmts(n.Body, cur())
		case *ast.CallExpr:
			m.call(n)
		case *ast.AssignStmt:
			m.checkNil(n)
		case *ast.ValueSpec:
			m.checkNil(n)
		case *ast.Ident:
			if m.renameMain && n.Name == "main" {
				n.Name = userMain
			}
		}
		return true
	}
	ast.Inspect(root, visit)
}

// stmts rewrites one statement list (range loops, go statements).
func (m *modernizer) stmts(list []ast.Stmt, inFunc bool) []ast.Stmt {
	out := list[:0:0]
	for _, st := range list {
		out = append(out, m.stmt(st, inFunc))
	}
	return out
}

func (m *modernizer) stmt(st ast.Stmt, inFunc bool) ast.Stmt {
	if m.made[st] {
		return st
	}
	var label *ast.LabeledStmt
	inner := st
	if ls, ok := st.(*ast.LabeledStmt); ok {
		label, inner = ls, ls.Stmt
	}
	if r := m.nilTupleInit(st, inner); r != nil {
		return r
	}
	switch s := inner.(type) {
	case *ast.AssignStmt:
		if nilTuple(s) && !m.made[s] {
			if r := m.splitNilTuple(s); r != nil {
				if label == nil {
					return r
				}
				label.Stmt = r
				return label
			}
		}
	case *ast.RangeStmt:
		if r := m.rangeStmt(s, label, inFunc); r != nil {
			return r
		}
	case *ast.GoStmt:
		if label == nil {
			return m.goStmt(s)
		}
	case *ast.ForStmt:
		if !m.made[s] {
			m.perIterationFor(s, label)
		}
	}
	return st
}

// perIterationFor gives a three-clause loop whose body makes a closure Go 1.22's
// per-iteration variables (yaegi shares them):
//
//	for i' := 0; i' < n; i'++ { i := i'; body; i' = i }
//
// with every continue of the loop copying back first, so that the body's changes
// to i still drive the loop.
func (m *modernizer) perIterationFor(f *ast.ForStmt, label *ast.LabeledStmt) {
	init, ok := f.Init.(*ast.AssignStmt)
	if !ok || init.Tok != token.DEFINE || !makesClosure(f.Body) {
		return
	}
	rename := map[string]string{}
	var names []string
	for _, l := range init.Lhs {
		id, ok := l.(*ast.Ident)
		if !ok {
			return
		}
		if id.Name == "_" {
			continue
		}
		rename[id.Name] = m.tmp("L")
		names = append(names, id.Name)
	}
	if len(names) == 0 {
		return
	}
	// the loop header uses the hidden variables
	for _, n := range []ast.Node{f.Init, f.Cond, f.Post} {
		if n == nil {
			continue
		}
		ast.Inspect(n, func(n ast.Node) bool {
			if _, ok := n.(*ast.FuncLit); ok {
				return false
			}
			if sel, ok := n.(*ast.SelectorExpr); ok {
				ast.Inspect(sel.X, func(x ast.Node) bool {
					if id, ok := x.(*ast.Ident); ok && rename[id.Name] != "" {
						id.Name = rename[id.Name]
					}
					return true
				})
				return false
			}
			if id, ok := n.(*ast.Ident); ok && rename[id.Name] != "" {
				id.Name = rename[id.Name]
			}
			return true
		})
	}
	pos := f.For
	copyIn := &ast.AssignStmt{TokPos: pos, Tok: token.DEFINE}
	copyBack := func() ast.Stmt {
		a := &ast.AssignStmt{TokPos: pos, Tok: token.ASSIGN}
		for _, n := range names {
			a.Lhs = append(a.Lhs, ident(pos, rename[n]))
			a.Rhs = append(a.Rhs, ident(pos, n))
		}
		return a
	}
	for _, n := range names {
		copyIn.Lhs = append(copyIn.Lhs, ident(pos, n))
		copyIn.Rhs = append(copyIn.Rhs, ident(pos, rename[n]))
	}
	labelName := ""
	if label != nil {
		labelName = label.Label.Name
	}
	// continue statements of this loop copy back first
	var fix func(list []ast.Stmt, depth int) []ast.Stmt
	var walk func(n ast.Node, depth int)
	fix = func(list []ast.Stmt, depth int) []ast.Stmt {
		for i, st := range list {
			if br, ok := st.(*ast.BranchStmt); ok && br.Tok == token.CONTINUE &&
				((br.Label == nil && depth == 0) || (br.Label != nil && br.Label.Name == labelName)) {
				list[i] = &ast.BlockStmt{Lbrace: br.Pos(), List: []ast.Stmt{copyBack(), br}, Rbrace: br.End()}
				continue
			}
			walk(st, depth)
		}
		return list
	}
	walk = func(n ast.Node, depth int) {
		switch n := n.(type) {
		case *ast.BlockStmt:
			n.List = fix(n.List, depth)
		case *ast.IfStmt:
			walk(n.Body, depth)
			if n.Else != nil {
				walk(n.Else, depth)
			}
		case *ast.SwitchStmt:
			walk(n.Body, depth)
		case *ast.TypeSwitchStmt:
			walk(n.Body, depth)
		case *ast.SelectStmt:
			walk(n.Body, depth)
		case *ast.CaseClause:
			n.Body = fix(n.Body, depth)
		case *ast.CommClause:
			n.Body = fix(n.Body, depth)
		case *ast.LabeledStmt:
			walk(n.Stmt, depth)
		case *ast.ForStmt:
			walk(n.Body, depth+1)
		case *ast.RangeStmt:
			walk(n.Body, depth+1)
		}
	}
	f.Body.List = fix(f.Body.List, 0)
	f.Body.List = append(append([]ast.Stmt{copyIn}, f.Body.List...), copyBack())
	m.made[f] = true
}

// isGenericFunc reports whether fd has type parameters or is a method of a
// generic type.
func isGenericFunc(fd *ast.FuncDecl) bool {
	if fd.Type.TypeParams != nil && len(fd.Type.TypeParams.List) > 0 {
		return true
	}
	if fd.Recv != nil && len(fd.Recv.List) > 0 {
		t := fd.Recv.List[0].Type
		if st, ok := t.(*ast.StarExpr); ok {
			t = st.X
		}
		switch t.(type) {
		case *ast.IndexExpr, *ast.IndexListExpr:
			return true
		}
	}
	return false
}

// makeSizes checks the sizes of make([]T, len[, cap]) before make runs:
// `make([]T, n)` becomes `make([]T, _golemrt.MakeSize(int64(n), (*T)(nil)))`,
// which panics with an error when n elements of T are more memory than the
// machine has available. Go would try the allocation and end the process ("fatal
// error: out of memory"), or the OOM killer would end it once the memory is used.
func (m *modernizer) makeSizes(c *ast.CallExpr) {
	if m.generic || len(c.Args) < 2 || m.made[c] {
		return
	}
	at, ok := c.Args[0].(*ast.ArrayType)
	if !ok || at.Len != nil {
		return
	}
	m.made[c] = true
	for i := 1; i < len(c.Args) && i < 3; i++ {
		a := c.Args[i]
		pos := a.Pos()
		elemPtr := &ast.CallExpr{Fun: &ast.ParenExpr{Lparen: pos, X: &ast.StarExpr{Star: pos, X: at.Elt}, Rparen: pos},
			Lparen: pos, Args: []ast.Expr{ident(pos, "nil")}, Rparen: pos}
		c.Args[i] = &ast.CallExpr{Fun: &ast.SelectorExpr{X: ident(pos, "_golemrt"), Sel: ident(pos, "MakeSize")}, Lparen: pos,
			Args:   []ast.Expr{&ast.CallExpr{Fun: ident(pos, "int64"), Lparen: pos, Args: []ast.Expr{a}, Rparen: a.End()}, elemPtr},
			Rparen: a.End()}
	}
}

// call rewrites calls of min/max/clear and of shimmed package functions.
func (m *modernizer) call(c *ast.CallExpr) {
	switch fn := c.Fun.(type) {
	case *ast.Ident:
		if m.shadow[fn.Name] || m.names[fn.Name] != clUnknown {
			return
		}
		switch fn.Name {
		case "make":
			m.makeSizes(c)
		case "min", "max":
			if fn.Name == "min" {
				fn.Name = minFunc
			} else {
				fn.Name = maxFunc
			}
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
		case "clear":
			c.Fun = &ast.SelectorExpr{X: &ast.Ident{NamePos: fn.NamePos, Name: "_golemrt"}, Sel: &ast.Ident{NamePos: fn.NamePos, Name: "Clear"}}
		}
	case *ast.SelectorExpr:
		id, ok := fn.X.(*ast.Ident)
		if !ok || m.names[id.Name] != clUnknown || m.pkgs == nil {
			return
		}
		path, ok := m.pkgs(id.Name)
		if !ok {
			return
		}
		if shimFor(path, fn.Sel.Name) != nil {
			c.Fun = &ast.Ident{NamePos: fn.Pos(), Name: shimName(path, fn.Sel.Name)}
		}
	}
}

func isConstLit(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.UnaryExpr:
		return isConstLit(e.X)
	case *ast.ParenExpr:
		return isConstLit(e.X)
	}
	return false
}

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

func ident(pos token.Pos, name string) *ast.Ident { return &ast.Ident{NamePos: pos, Name: name} }

// rangeStmt rewrites range over an int or a function; nil leaves the loop alone.
func (m *modernizer) rangeStmt(r *ast.RangeStmt, label *ast.LabeledStmt, inFunc bool) ast.Stmt {
	if m.directRange(r) {
		perIterationVars(r, m)
		return nil
	}
	c := m.classify(r.X)
	pos := r.For
	wrapLabel := func(s ast.Stmt) ast.Stmt {
		if label == nil {
			return s
		}
		label.Stmt = s
		return label
	}
	switch c {
	case clInt:
		if r.Value != nil {
			m.errs = append(m.errs, fmt.Sprintf("%s: range over an integer permits only one iteration variable", m.where(r.Value.Pos())))
			return nil
		}
		// { n' := n; for i' := n' - n'; i' < n'; i'++ { i := i'; body } }
		// A hidden counter drives the loop, as in Go: the body may change i without
		// changing the iterations, and each iteration has its own i (closures).
		n := ident(pos, m.tmp("N"))
		ctr := m.tmp("I")
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
			wrapLabel(loop),
		}, Rbrace: r.Body.Rbrace}
	case clSeq1, clSeq2:
		return m.rangeFunc(r, c, wrapLabel, inFunc)
	case clUnknown:
		m.unknown = append(m.unknown, fmt.Sprintf("%s: range over %s", m.where(r.For), exprString(r.X)))
	}
	perIterationVars(r, m)
	return nil
}

// perIterationVars gives a range loop that yaegi runs natively Go 1.22's
// per-iteration variables (yaegi shares them across iterations, which closures
// and goroutines see): the body starts with `k, v := k', v'` when it makes a
// closure.
func perIterationVars(r *ast.RangeStmt, m *modernizer) {
	if r.Tok != token.DEFINE || !makesClosure(r.Body) {
		return
	}
	// for k', v' := range x { k, v := k', v'; body } (k := k confuses yaegi)
	var lhs, rhs []ast.Expr
	for _, p := range []*ast.Expr{&r.Key, &r.Value} {
		id, ok := (*p).(*ast.Ident)
		if !ok || id.Name == "_" {
			continue
		}
		hidden := m.tmp("R")
		lhs = append(lhs, ident(id.Pos(), id.Name))
		rhs = append(rhs, ident(id.Pos(), hidden))
		*p = ident(id.Pos(), hidden)
	}
	if len(lhs) == 0 {
		return
	}
	r.Body.List = append([]ast.Stmt{&ast.AssignStmt{Lhs: lhs, TokPos: r.For, Tok: token.DEFINE, Rhs: rhs}}, r.Body.List...)
}

// makesClosure reports whether n contains a function literal or a go statement.
func makesClosure(n ast.Node) bool {
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.FuncLit, *ast.GoStmt:
			found = true
		}
		return !found
	})
	return found
}

func isBlankIdent(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "_"
}

// directRange turns a range over a standard iterator of a slice, map or string
// into the plain range it stands for (`for v := range slices.Values(s)` is
// `for _, v := range s`), which yaegi runs at full speed instead of through a
// pull loop (a goroutine handoff per element, about 5 µs).
func (m *modernizer) directRange(r *ast.RangeStmt) bool {
	call, ok := r.X.(*ast.CallExpr)
	if !ok || call.Ellipsis.IsValid() {
		return false
	}
	pkg, name := "", ""
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		id, ok := fn.X.(*ast.Ident)
		if !ok || m.names[id.Name] != clUnknown || m.pkgs == nil {
			return false
		}
		if pkg, ok = m.pkgs(id.Name); !ok {
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
func (m *modernizer) rangeFunc(r *ast.RangeStmt, c class, wrapLabel func(ast.Stmt) ast.Stmt, inFunc bool) ast.Stmt {
	pos := r.For
	next, stop, ok := ident(pos, m.tmp("Next")), ident(pos, m.tmp("Stop")), ident(pos, m.tmp("OK"))
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
			m.errs = append(m.errs, fmt.Sprintf("%s: range over %s permits only one iteration variable", m.where(r.Value.Pos()), exprString(r.X)))
			return nil
		}
	} else {
		vars = append(vars, keyOrBlank(r.Key), keyOrBlank(r.Value))
	}
	var recv []ast.Stmt
	if r.Tok == token.ASSIGN {
		tmps := []ast.Expr{}
		for range vars {
			tmps = append(tmps, ident(pos, m.tmp("V")))
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
	m.stopBeforeReturn(r.Body, stopCall)
	loop := &ast.ForStmt{For: pos, Body: &ast.BlockStmt{Lbrace: r.Body.Lbrace, List: append(recv, r.Body.List...), Rbrace: r.Body.Rbrace}}
	stmts := []ast.Stmt{
		&ast.AssignStmt{Lhs: []ast.Expr{next, stop}, TokPos: pos, Tok: token.DEFINE,
			Rhs: []ast.Expr{&ast.CallExpr{Fun: ident(pos, pull), Lparen: pos, Args: []ast.Expr{r.X}, Rparen: pos}}},
		wrapLabel(loop),
		stopCall(),
	}
	block := &ast.BlockStmt{Lbrace: pos, List: stmts, Rbrace: r.Body.Rbrace}
	if !inFunc {
		// the session runs it as the body of a function (see stmtPart.fn)
		m.asFunc[block] = true
	}
	return block
}

// stopBeforeReturn makes every return in body (outside nested function literals)
// stop the iterator first.
func (m *modernizer) stopBeforeReturn(body *ast.BlockStmt, stop func() ast.Stmt) {
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

// goStmt wraps `go f(a, b)` so that a panic in the goroutine is reported to the
// session instead of killing the process. The function value and the arguments
// are evaluated before the goroutine starts, as Go does.
func (m *modernizer) goStmt(g *ast.GoStmt) ast.Stmt {
	pos := g.Go
	call := g.Call
	var pre []ast.Expr
	var preVals []ast.Expr
	fun := call.Fun
	switch f := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
	case *ast.SelectorExpr:
		if id, ok := f.X.(*ast.Ident); ok && m.pkgs != nil && m.names[id.Name] == clUnknown {
			if _, isPkg := m.pkgs(id.Name); isPkg {
				break
			}
		}
		t := ident(pos, m.tmp("F"))
		pre, preVals = append(pre, t), append(preVals, call.Fun)
		fun = ident(pos, t.Name)
	default:
		t := ident(pos, m.tmp("F"))
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
		t := ident(pos, m.tmp("A"))
		pre, preVals = append(pre, t), append(preVals, a)
		args[i] = ident(pos, t.Name)
	}
	// The cell running when the go statement runs: a panic of the goroutine ends
	// that cell if it still runs, and is only reported to a later one.
	cell := ident(pos, m.tmp("C"))
	pre = append([]ast.Expr{cell}, pre...)
	preVals = append([]ast.Expr{&ast.CallExpr{Fun: &ast.SelectorExpr{X: ident(pos, "_golemrt"), Sel: ident(pos, "Cell")}, Lparen: pos, Rparen: pos}}, preVals...)
	rec := ident(pos, m.tmp("R"))
	deferred := &ast.DeferStmt{Defer: pos, Call: &ast.CallExpr{Lparen: pos, Rparen: pos, Fun: &ast.FuncLit{
		Type: &ast.FuncType{Func: pos, Params: &ast.FieldList{}},
		Body: &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{&ast.IfStmt{If: pos,
			Init: &ast.AssignStmt{Lhs: []ast.Expr{rec}, TokPos: pos, Tok: token.DEFINE,
				Rhs: []ast.Expr{&ast.CallExpr{Fun: ident(pos, "recover"), Lparen: pos, Rparen: pos}}},
			Cond: &ast.BinaryExpr{X: ident(pos, rec.Name), OpPos: pos, Op: token.NEQ, Y: ident(pos, "nil")},
			Body: &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{&ast.ExprStmt{X: &ast.CallExpr{
				Fun:    &ast.SelectorExpr{X: ident(pos, "_golemrt"), Sel: ident(pos, "GoPanic")},
				Lparen: pos, Rparen: pos,
				Args: []ast.Expr{ident(pos, cell.Name), ident(pos, rec.Name), &ast.BasicLit{ValuePos: pos, Kind: token.STRING, Value: strconv.Quote(m.where(pos))}},
			}}}},
		}}},
	}}}
	inner := &ast.CallExpr{Fun: fun, Lparen: call.Lparen, Args: args, Ellipsis: call.Ellipsis, Rparen: call.Rparen}
	newGo := &ast.GoStmt{Go: pos, Call: &ast.CallExpr{Lparen: pos, Rparen: pos, Fun: &ast.FuncLit{
		Type: &ast.FuncType{Func: pos, Params: &ast.FieldList{}},
		Body: &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{deferred, &ast.ExprStmt{X: inner}}},
	}}}
	m.made[newGo] = true
	list := []ast.Stmt{&ast.AssignStmt{Lhs: pre, TokPos: pos, Tok: token.DEFINE, Rhs: preVals}, newGo}
	return &ast.BlockStmt{Lbrace: pos, List: list, Rbrace: g.End()}
}

func exprString(e ast.Expr) string {
	var b strings.Builder
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		return exprString(e.Fun) + "(…)"
	}
	b.WriteString("expression")
	return b.String()
}
