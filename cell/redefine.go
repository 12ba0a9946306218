package cell

// Redefinition: a notebook runs a changed cell again.
//
// Types. yaegi v0.16.1 silently keeps the old type when a type is declared again:
// re-running a changed `type T struct{…}` would change nothing. The redeclared
// types pass compiles a redeclared type T as T_v2 (T_v3, …) and declares T an
// alias of it: the new fields and methods are T's; values made earlier keep the
// old type.
//
// Variables. yaegi makes a new variable for every top-level definition of a name,
// even one the session already has: functions compiled earlier keep reading the
// old variable (`x := 1`, `func G() int { return x }`, `x := 2`: G() was 1). A
// notebook user expects the value to change, as re-running a cell in Python does.
// So a definition at the top level of a cell (`x := v`, `a, b := v1, v2`,
// `var x = v`, `var x T = v`, a package-level `var` of a cell's declarations)
// whose names are all variables the session already has — of an earlier cell, or
// defined by an earlier statement of the same cell — with the same types becomes
// an assignment to them (assignRedefinitions, which runs on every list of
// statements the session compiles at the top level: run.go runStmts; the
// redefined variables pass takes such package-level specs out of the cell's
// declarations). The definitions of several variables from one value are by then
// definitions from one value per variable (tuple.go), so `m, err := gpt.New(…)`
// assigns m and err when both keep their types. When only some names keep their
// type, those are assigned and the others defined, provided each value is a plain
// operand (as tuple.go's temporaries are); otherwise the statement is left alone.
//
// Types are compared by yaegi itself: the session compiles (never runs) a function
// literal holding the statements of the cell before the definition, then
// `var q = v; p := &x; p = &q`, which compiles only when the types are
// identical. A definition with another type makes a new variable, as before:
// functions compiled against the old one keep the old variable (and its type)
// until their cell runs again. A redeclared struct type is a new type (T_v2), so a
// value of it is a new variable too.

import (
	"fmt"
	"go/ast"
	"go/token"
)

// redeclaredTypes compiles each type the session has already as a new type T_vN,
// with T its alias (session).
func redeclaredTypes(u *unit, x *cellExec) error {
	if u.decls == nil {
		return nil
	}
	st := x.s.st
	rename := map[string]string{}
	for _, d := range u.decls.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, sp := range gd.Specs {
			ts := sp.(*ast.TypeSpec)
			if ts.TypeParams != nil || ts.Assign.IsValid() {
				continue
			}
			name := ts.Name.Name
			v := st.typeVer[name]
			st.typeVer[name] = v + 1
			if v > 0 {
				rename[name] = fmt.Sprintf("%s_v%d", name, v+1)
			}
		}
	}
	if len(rename) == 0 {
		return nil
	}
	st.rtypes = nil // struct types changed: probe again when needed
	f := u.decls
	renameTypes(f, rename)
	for old, nw := range rename {
		f.Decls = append(f.Decls, &ast.GenDecl{Tok: token.TYPE, Specs: []ast.Spec{&ast.TypeSpec{
			Name: ident(f.Package, old), Assign: f.Package, Type: ident(f.Package, nw)}}})
	}
	return nil
}

// renameTypes renames references to types in f (not field names, selectors or keys).
func renameTypes(f *ast.File, rename map[string]string) {
	skip := map[*ast.Ident]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			skip[n.Sel] = true
		case *ast.StructType:
			for _, fl := range n.Fields.List {
				for _, id := range fl.Names {
					skip[id] = true
				}
			}
		case *ast.KeyValueExpr:
			if id, ok := n.Key.(*ast.Ident); ok {
				skip[id] = true
			}
		case *ast.Ident:
			if nw, ok := rename[n.Name]; ok && !skip[n] {
				n.Name = nw
			}
		}
		return true
	})
}

// redefinedVars takes from the cell's declarations the var specs of variables the
// session has with the same types, as assignments run before the declarations
// (session).
func redefinedVars(u *unit, x *cellExec) error {
	if u.decls == nil {
		return nil
	}
	u.early = append(x.s.assignRedefinedVars(x.run, u.decls), u.early...)
	return nil
}

// assignRedefinitions rewrites the definitions in list (statements yaegi compiles
// at the top level of a cell, the file of the cell at pos) whose names are all
// variables of the same types into assignments.
func (s *Session) assignRedefinitions(run *cellRun, pos token.Pos, list []ast.Stmt) []ast.Stmt {
	isVar := s.globalVars(run)
	defined := map[string]bool{} // by earlier statements of list
	var out []ast.Stmt
	for _, st := range list {
		names, values, typ, ok := defineParts(st)
		if ok {
			same := make([]bool, len(names))
			nSame, nNew := 0, 0
			for i, n := range names {
				switch {
				case n.Name == "_":
				case (defined[n.Name] && sameOrigin(run, s.st, n.Name) || isVar(n.Name)) && s.sameType(pos, out, names, values, typ, i):
					same[i] = true
					nSame++
				default:
					nNew++
				}
			}
			switch {
			case nSame > 0 && nNew == 0:
				st = assignment(st.Pos(), names, values)
			case nSame > 0 && splittable(names, values):
				for i, n := range names {
					one := []*ast.Ident{n}
					v := []ast.Expr{values[i]}
					switch {
					case same[i]:
						out = append(out, assignment(st.Pos(), one, v))
					case n.Name != "_":
						out = append(out, defineLike(st, one, v, typ))
					}
				}
				st = nil
			}
			for _, n := range names {
				defined[n.Name] = true
			}
		}
		if st != nil {
			out = append(out, st)
		}
	}
	return out
}

// globalVars returns a test of whether a name is a variable of the session (not
// a constant or a session temporary) that the code being run may assign.
func (s *Session) globalVars(run *cellRun) func(string) bool {
	var g map[string]bool
	return func(name string) bool {
		if g == nil {
			g = map[string]bool{}
			for n, v := range s.globals() {
				if v.IsValid() && !isConstant(v) && !isTemp(n) {
					g[n] = true
				}
			}
		}
		return g[name] && sameOrigin(run, s.st, name)
	}
}

// sameOrigin reports whether the type resolver (types.go) saw the variable name as
// of a compiled package's type both before and after the code being run.
// A variable defined from a compiled value (p := m.Params) has a type yaegi
// cannot take apart; one defined from []float32{…} has the same type, built by
// yaegi. The rewriter converts generic call arguments by what it knows of the
// last definition, so assigning the first from the second would leave a variable
// it misjudges: such a definition makes a new variable.
func sameOrigin(run *cellRun, st *cellState, name string) bool {
	return run.compiledBefore[name] == st.compiled[name]
}

func isTemp(name string) bool { return len(name) > 6 && name[:6] == "_golem" }

// defineParts returns the names, values and type of a definition `names :=
// values` or `var names [typ] = values` with one value per name.
func defineParts(st ast.Stmt) (names []*ast.Ident, values []ast.Expr, typ ast.Expr, ok bool) {
	switch st := st.(type) {
	case *ast.AssignStmt:
		if st.Tok != token.DEFINE || len(st.Lhs) != len(st.Rhs) {
			return nil, nil, nil, false
		}
		for _, l := range st.Lhs {
			id, ok := l.(*ast.Ident)
			if !ok {
				return nil, nil, nil, false
			}
			names = append(names, id)
		}
		return names, st.Rhs, nil, true
	case *ast.DeclStmt:
		gd, ok := st.Decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR || len(gd.Specs) != 1 {
			return nil, nil, nil, false
		}
		vs := gd.Specs[0].(*ast.ValueSpec)
		if len(vs.Values) != len(vs.Names) {
			return nil, nil, nil, false
		}
		return vs.Names, vs.Values, vs.Type, true
	}
	return nil, nil, nil, false
}

// specParts is defineParts for a package-level var spec, which may also take
// several names from one value.
func specParts(vs *ast.ValueSpec) bool {
	return len(vs.Values) == len(vs.Names) || (len(vs.Values) == 1 && len(vs.Names) > 1)
}

// splittable reports whether `names := values` may run one name at a time: no
// value calls anything or names one of the names.
func splittable(names []*ast.Ident, values []ast.Expr) bool {
	lhs := map[string]bool{}
	for _, n := range names {
		lhs[n.Name] = true
	}
	for _, v := range values {
		if !sideEffectFree(v) {
			return false
		}
	}
	return !usesAny(values, lhs)
}

// assignment returns `names = values`.
func assignment(pos token.Pos, names []*ast.Ident, values []ast.Expr) ast.Stmt {
	lhs := make([]ast.Expr, len(names))
	for i, n := range names {
		lhs[i] = ident(n.Pos(), n.Name)
	}
	return &ast.AssignStmt{Lhs: lhs, TokPos: pos, Tok: token.ASSIGN, Rhs: values}
}

// defineLike returns a definition of names from values of the same form as st.
func defineLike(st ast.Stmt, names []*ast.Ident, values []ast.Expr, typ ast.Expr) ast.Stmt {
	if _, ok := st.(*ast.DeclStmt); ok {
		return &ast.DeclStmt{Decl: &ast.GenDecl{TokPos: st.Pos(), Tok: token.VAR,
			Specs: []ast.Spec{&ast.ValueSpec{Names: names, Type: typ, Values: values}}}}
	}
	lhs := make([]ast.Expr, len(names))
	for i, n := range names {
		lhs[i] = n
	}
	return &ast.AssignStmt{Lhs: lhs, TokPos: st.Pos(), Tok: token.DEFINE, Rhs: values}
}

// sameType reports whether `var names [typ] = values`, after the statements
// prefix, gives names[i] the type the variable names[i] has there. It compiles,
// without running it, a function literal:
//
//	if false { func() { prefix…; var _golemQ0, _golemQ1 [typ] = values; p := &name; p = &_golemQi }() }
func (s *Session) sameType(pos token.Pos, prefix []ast.Stmt, names []*ast.Ident, values []ast.Expr, typ ast.Expr, i int) bool {
	qs := make([]*ast.Ident, len(names))
	for j, n := range names {
		qs[j] = ident(pos, "_")
		if n.Name != "_" {
			qs[j] = ident(pos, fmt.Sprintf("_golemQ%d", j))
		}
	}
	addr := func(name string) ast.Expr { return &ast.UnaryExpr{OpPos: pos, Op: token.AND, X: ident(pos, name)} }
	body := append(append([]ast.Stmt{}, prefix...),
		&ast.DeclStmt{Decl: &ast.GenDecl{TokPos: pos, Tok: token.VAR, Specs: []ast.Spec{&ast.ValueSpec{Names: qs, Type: typ, Values: values}}}},
		define(pos, []string{"_golemP"}, []ast.Expr{addr(names[i].Name)}),
		&ast.AssignStmt{Lhs: []ast.Expr{ident(pos, "_golemP")}, TokPos: pos, Tok: token.ASSIGN, Rhs: []ast.Expr{addr(qs[i].Name)}},
	)
	lit := &ast.FuncLit{Type: &ast.FuncType{Func: pos, Params: &ast.FieldList{Opening: pos, Closing: pos}},
		Body: &ast.BlockStmt{Lbrace: pos, List: body, Rbrace: pos}}
	probe := &ast.IfStmt{If: pos, Cond: ident(pos, "false"), Body: &ast.BlockStmt{Lbrace: pos, List: []ast.Stmt{
		&ast.ExprStmt{X: &ast.CallExpr{Fun: lit, Lparen: pos, Rparen: pos}}}, Rbrace: pos}}
	_, err := s.compile(&ast.BlockStmt{Lbrace: pos, List: []ast.Stmt{probe}, Rbrace: pos})
	return err == nil
}

// assignRedefinedVars takes from a cell's declarations the var specs whose names
// are all variables of the session with the same types and whose values use no
// name the cell declares, and returns them as assignments, to run before the
// declarations.
func (s *Session) assignRedefinedVars(run *cellRun, f *ast.File) []ast.Stmt {
	isVar := s.globalVars(run)
	declared := fileNames(f)
	var out []ast.Stmt
	for _, vs := range takeVarSpecs(f, func(vs *ast.ValueSpec) bool {
		return s.redefinedSpec(f.Package, vs, isVar, declared)
	}) {
		out = append(out, assignment(vs.Pos(), vs.Names, vs.Values))
	}
	return out
}

func (s *Session) redefinedSpec(pos token.Pos, vs *ast.ValueSpec, isVar func(string) bool, declared map[string]bool) bool {
	if !specParts(vs) || usesAny(vs.Values, declared) {
		return false
	}
	n := 0
	for _, id := range vs.Names {
		if id.Name == "_" {
			continue
		}
		if !isVar(id.Name) {
			return false
		}
		n++
	}
	if n == 0 {
		return false
	}
	for i, id := range vs.Names {
		if id.Name != "_" && !s.sameType(pos, nil, vs.Names, vs.Values, vs.Type, i) {
			return false
		}
	}
	return true
}

// fileNames returns the package-level names a cell's declarations declare.
func fileNames(f *ast.File) map[string]bool {
	declared := map[string]bool{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv == nil {
				declared[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, sp := range d.Specs {
				switch sp := sp.(type) {
				case *ast.TypeSpec:
					declared[sp.Name.Name] = true
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						declared[n.Name] = true
					}
				}
			}
		}
	}
	return declared
}

// usesAny reports whether an expression of list names one of names.
func usesAny(list []ast.Expr, names map[string]bool) bool {
	found := false
	for _, v := range list {
		ast.Inspect(v, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && names[id.Name] {
				found = true
			}
			return !found
		})
	}
	return found
}
