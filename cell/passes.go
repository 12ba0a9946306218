package cell

import (
	"fmt"
	"go/ast"
	"go/token"
)

// A pass is one step from the Go of a cell to Go that yaegi v0.16.1 runs. Every
// pass has the same shape: it reads and rewrites the unit, and returns an error
// only for something it cannot do (a rewrite that finds user code it cannot
// handle adds a message with u.fail instead, and the walk stops after the pass).
type pass struct {
	name string
	run  func(u *unit) error
}

// passes are the steps of a cell, in order; runGo walks them. The passes made
// with session use the notebook's session, and do nothing for a whole file
// (Rewrite, a whole-program cell, which walk the same table) or in a test without
// yaegi. Each gap of yaegi a pass closes is described at the top of its file.
var passes = []pass{
	{"hidden names", session(hiddenNames)},          // undefined.go: a failed cell defined nothing
	{"imports", session(runImports)},                // imports.go: known imports dropped, the rest run, std packages auto-imported
	{"resolve", resolve},                            // types.go: the types of the cell's names
	{"compiled arguments", compiledArgs},            // compiledargs.go: generic calls on values of compiled types
	{"switches", switches},                          // switch.go: a switch on an interface value, case lists without tag
	{"remember", session(remember)},                 // declared.go: what the cell declares, for later cells
	{"user main", userMain},                         // usermain.go: a notebook's own func main
	{"untyped nil", untypedNil},                     // niltuple.go: tuple assignments with an untyped nil
	{"range over int", rangeOverInt},                // rangeint.go
	{"range over functions", rangeOverFunc},         // rangefunc.go
	{"loop variables", loopVars},                    // loopvar.go: one variable per iteration
	{"goroutines", goroutines},                      // goroutine.go: a goroutine's panic does not end the process
	{"unnamed parameters", unnamedParams},           // unnamedparams.go: compiled code calling a func(int)
	{"min and max", minMax},                         // minmax.go
	{"clear", clearBuiltin},                         // clear.go
	{"shims", shims},                                // shims.go: generic functions of slices, maps, cmp, iter, strings
	{"make sizes", makeSizes},                       // memory.go: make larger than the memory fails the cell
	{"top-level blocks", topLevelBlocks},            // topblock.go: tuple definitions in blocks at the top level
	{"redeclared types", session(redeclaredTypes)},  // redefine.go: a redeclared type is a new type
	{"definitions from generic calls", genericVars}, // genericdefine.go: package vars bound like statements
	{"redefined variables", session(redefinedVars)}, // redefine.go: a redefined variable is assigned
	{"package tuples", packageTuples},               // tuple.go: var a, b = f() at package level
	{"run", session(runUnit)},                       // run.go: compile and run, statements in parts
}

// session makes a pass of a step that needs the session running the cell.
func session(step func(u *unit, x *cellExec) error) func(*unit) error {
	return func(u *unit) error {
		if u.sess == nil {
			return nil
		}
		return step(u, u.sess)
	}
}

// unit is Go source on its way to yaegi: the Go of one cell (its imports,
// declarations and statements, any of which may be nil) or a whole file (decls),
// and what the passes learn and leave for the next ones.
type unit struct {
	env  env
	fset *token.FileSet
	// imports, decls and body are the cell's; a whole file is decls alone
	imports, decls *ast.File
	body           *ast.BlockStmt
	file           bool // a whole file: Rewrite, or a whole-program cell
	res            *typeResolver
	sess           *cellExec // the session running the cell (nil: a whole file, or a test)

	seq     int                     // hidden names made so far
	made    map[ast.Node]bool       // nodes the passes generated, not rewritten again
	asFunc  map[*ast.BlockStmt]bool // top-level blocks to run as the body of a function
	unknown []string                // range loops whose operand the resolver could not classify
	errs    []string                // what the passes could not rewrite, with positions

	// early and late: package-level var specs that run like statements, before
	// and after the cell's other declarations (genericdefine.go, redefine.go);
	// temps: temporaries of package tuples, reset after the declarations ran
	early, late []ast.Stmt
	temps       []string
}

func newUnit(e env, fset *token.FileSet, imports, decls *ast.File, body *ast.BlockStmt) *unit {
	return &unit{env: e, fset: fset, imports: imports, decls: decls, body: body} // the maps are made when first written
}

// rewrite walks the passes over u; it stops at the first error, or after a pass
// that could not rewrite something.
func (u *unit) rewrite() error {
	for _, p := range passes {
		if err := p.run(u); err != nil {
			return err
		}
		if len(u.errs) > 0 {
			return &Error{Name: "CompileError", Value: u.errs[0], Traceback: u.errs}
		}
	}
	return nil
}

// tmp returns a fresh hidden name.
func (u *unit) tmp(base string) string {
	u.seq++
	return fmt.Sprintf("_golem%s%d", base, u.seq)
}

// where is a position as the user sees it (cell:L:C).
func (u *unit) where(p token.Pos) string {
	if u.fset == nil || !p.IsValid() {
		return "cell"
	}
	pos := u.fset.Position(p)
	return fmt.Sprintf("%s:%d:%d", pos.Filename, pos.Line, pos.Column)
}

// fail records what a pass could not rewrite, at p.
func (u *unit) fail(p token.Pos, format string, a ...any) {
	u.errs = append(u.errs, u.where(p)+": "+fmt.Sprintf(format, a...))
}

// walkContext says where a node is.
type walkContext struct {
	inFunc  bool // in a function body (else at the top level of a cell)
	generic bool // in a generic function or a method of a generic type
}

// walk calls visit for every node of the unit, depth first, as ast.Inspect does
// (a false result skips the node's children), with the node's context. A node's
// children are read after visit: visit may replace them.
func (u *unit) walk(visit func(n ast.Node, c walkContext) bool) {
	if u.decls != nil {
		for _, d := range u.decls.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Body != nil {
					ast.Walk(&walker{visit, walkContext{inFunc: true, generic: isGenericFunc(d)}}, d.Body)
				}
			case *ast.GenDecl:
				ast.Walk(&walker{visit, walkContext{}}, d)
			}
		}
	}
	if u.body != nil {
		ast.Walk(&walker{visit, walkContext{}}, u.body)
	}
}

// walker is the ast.Visitor of unit.walk: function literals change the context.
type walker struct {
	visit func(n ast.Node, c walkContext) bool
	c     walkContext
}

func (w *walker) Visit(n ast.Node) ast.Visitor {
	if n == nil || !w.visit(n, w.c) {
		return nil
	}
	if fl, ok := n.(*ast.FuncLit); ok {
		ast.Walk(&walker{w.visit, walkContext{inFunc: true, generic: w.c.generic}}, fl.Body)
		return nil
	}
	return w
}

// eachStmt replaces every statement of every statement list of the unit (blocks,
// case and select clauses) by what f returns for it, outermost first: f sees the
// statements it returned when the walk reaches them. Statements the passes made
// (u.made) are left alone.
func (u *unit) eachStmt(f func(st ast.Stmt, c walkContext) ast.Stmt) {
	list := func(l []ast.Stmt, c walkContext) []ast.Stmt {
		for i, st := range l {
			if !u.made[st] {
				l[i] = f(st, c)
			}
		}
		return l
	}
	u.walk(func(n ast.Node, c walkContext) bool {
		switch n := n.(type) {
		case *ast.BlockStmt:
			n.List = list(n.List, c)
		case *ast.CaseClause:
			n.Body = list(n.Body, c)
		case *ast.CommClause:
			n.Body = list(n.Body, c)
		}
		return true
	})
}

// eachRange calls f for every range loop of the unit, with its label; the loop
// (its label included) is replaced by what f returns, unless that is nil.
func (u *unit) eachRange(f func(r *ast.RangeStmt, label *ast.LabeledStmt, c walkContext) ast.Stmt) {
	u.eachStmt(func(st ast.Stmt, c walkContext) ast.Stmt {
		label, inner := unlabel(st)
		if r, ok := inner.(*ast.RangeStmt); ok {
			if out := f(r, label, c); out != nil {
				return out
			}
		}
		return st
	})
}

// eachCall calls f for every call of the unit.
func (u *unit) eachCall(f func(c *ast.CallExpr, w walkContext)) {
	u.walk(func(n ast.Node, w walkContext) bool {
		if c, ok := n.(*ast.CallExpr); ok {
			f(c, w)
		}
		return true
	})
}

// unlabel returns the statement under st's labels, and its innermost label.
func unlabel(st ast.Stmt) (*ast.LabeledStmt, ast.Stmt) {
	var label *ast.LabeledStmt
	for {
		ls, ok := st.(*ast.LabeledStmt)
		if !ok {
			return label, st
		}
		label, st = ls, ls.Stmt
	}
}

// relabel puts s under label (when there is one) and returns what replaces the
// labelled statement.
func relabel(label *ast.LabeledStmt, s ast.Stmt) ast.Stmt {
	if label == nil {
		return s
	}
	label.Stmt = s
	return label
}

// builtinCall reports whether c calls the predeclared function name: not a
// function or variable of the cell's, nor a name an earlier cell declared.
func (u *unit) builtinCall(c *ast.CallExpr, name string) bool {
	id, ok := c.Fun.(*ast.Ident)
	if !ok || id.Name != name || u.res.local[id] {
		return false
	}
	_, earlier := u.env.earlier(name)
	return !earlier
}

// packageOf returns the import path of the package that x names (a qualifier
// that is not a name of the cell's or a variable of an earlier cell).
func (u *unit) packageOf(x ast.Expr) (string, bool) {
	id, ok := x.(*ast.Ident)
	if !ok || u.res.local[id] {
		return "", false
	}
	if _, global := u.env.global(id.Name); global {
		return "", false
	}
	return u.env.pkg(id.Name)
}

// resolve runs the type resolver over the unit (types.go).
func resolve(u *unit) error {
	u.res = newTypeResolver(u.env, u.where)
	u.res.learn(u.decls, u.body)
	return nil
}

func ident(pos token.Pos, name string) *ast.Ident { return &ast.Ident{NamePos: pos, Name: name} }

func isBlankIdent(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "_"
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
