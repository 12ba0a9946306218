package cell

// Definitions from generic calls.
//
// yaegi v0.16.1 cannot bind the result of a generic function to a new global:
// `y := slices.Max(xs)` at the top level of a cell panics ("nil reflect type"),
// and so does a package-level var set from a generic call. In a function it
// works. So the session cuts a cell's statements at each definition whose value
// calls a generic function (a shim, min or max, or the user's: splitGenericDefines)
// and evaluates the value in a function, reads the value's dynamic type and
// defines the variable with that type written in Go (typeExpr: the user's struct
// types by probing yaegi's reflect types for them); when the type cannot be
// written, the variable is an any and a note goes to stderr. The definitions from
// generic calls pass takes such package-level var specs out of the cell's
// declarations, with the comma-ok ones (var v, ok = m[k], tuple.go), to run like
// statements: before the other declarations when their values use none of the
// cell's names (functions may then refer to them), else just after.

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"reflect"
	"sort"
	"strings"
)

// genericVars takes the package-level var specs that run like statements out of
// the cell's declarations.
func genericVars(u *unit) error {
	if u.file || u.decls == nil {
		return nil
	}
	early, late := u.takeGenericVars(u.decls)
	u.early = append(u.early, early...)
	u.late = append(u.late, late...)
	return nil
}

// genericCall reports whether e calls a generic function anywhere (not in
// function literals): a generic function of the prelude (min, max, the shims), or
// one the cell or an earlier cell declares.
func (u *unit) genericCall(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if found {
			return false
		}
		if _, ok := n.(*ast.FuncLit); ok {
			return false
		}
		if c, ok := n.(*ast.CallExpr); ok && u.genericFunc(c.Fun) {
			found = true
		}
		return !found
	})
	return found
}

func (u *unit) anyGenericCall(list []ast.Expr) bool {
	for _, e := range list {
		if u.genericCall(e) {
			return true
		}
	}
	return false
}

// genericFunc reports whether fun names a generic function (explicitly
// instantiated or not).
func (u *unit) genericFunc(fun ast.Expr) bool {
	switch f := fun.(type) {
	case *ast.IndexExpr:
		fun = f.X
	case *ast.IndexListExpr:
		fun = f.X
	}
	id, ok := fun.(*ast.Ident)
	if !ok {
		return false
	}
	if genericPrelude(id.Name) || u.res.generics[id.Name] != nil {
		return true
	}
	ft := u.res.userSig(id.Name)
	return ft != nil && ft.TypeParams != nil
}

// stmtPart is a run of top-level statements, or one definition whose value comes
// from a generic function.
type stmtPart struct {
	stmts  []ast.Stmt
	define *genericDefine
	fn     *ast.BlockStmt // statements to run as the body of a function
}

// genericDefine is `a, b := rhs…` (or `var a, b = rhs…`) at the top level of a
// cell where rhs calls a generic function.
type genericDefine struct {
	names []*ast.Ident
	rhs   []ast.Expr
	pos   token.Pos
}

// splitGenericDefines cuts the top-level statements at each definition whose value
// comes from a generic call. yaegi v0.16.1 panics ("nil reflect type") when such a
// value is bound to a new global; the session evaluates the value inside a
// function, reads its dynamic type and defines the variable with that type.
func (u *unit) splitGenericDefines(list []ast.Stmt) []stmtPart {
	var parts []stmtPart
	var cur []ast.Stmt
	for _, st := range list {
		var d *genericDefine
		if blk, ok := st.(*ast.BlockStmt); ok && u.asFunc[blk] {
			if len(cur) > 0 {
				parts = append(parts, stmtPart{stmts: cur})
				cur = nil
			}
			parts = append(parts, stmtPart{fn: blk})
			continue
		}
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE && u.anyGenericCall(st.Rhs) {
				d = &genericDefine{rhs: st.Rhs, pos: st.Pos()}
				for _, l := range st.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						d.names = append(d.names, id)
					} else {
						d = nil
						break
					}
				}
			}
		case *ast.DeclStmt:
			if gd, ok := st.Decl.(*ast.GenDecl); ok && gd.Tok == token.VAR && len(gd.Specs) == 1 {
				if vs := gd.Specs[0].(*ast.ValueSpec); vs.Type == nil && u.anyGenericCall(vs.Values) {
					d = &genericDefine{names: vs.Names, rhs: vs.Values, pos: st.Pos()}
				}
			}
		}
		if d == nil {
			cur = append(cur, st)
			continue
		}
		if len(cur) > 0 {
			parts = append(parts, stmtPart{stmts: cur})
			cur = nil
		}
		parts = append(parts, stmtPart{define: d})
	}
	if len(cur) > 0 || len(parts) == 0 {
		parts = append(parts, stmtPart{stmts: cur})
	}
	return parts
}

// runGenericDefine evaluates the values in a function literal (where yaegi handles
// generics), then binds each name with the dynamic type of its value.
func (x *cellExec) runGenericDefine(u *unit, d *genericDefine) error {
	s := x.s
	pos := d.pos
	var tmps, ret []ast.Expr
	for i, n := range d.names {
		if n.Name == "_" {
			tmps = append(tmps, ident(pos, "_"))
			continue
		}
		t := ident(pos, fmt.Sprintf("_golemV%d", i))
		tmps = append(tmps, t)
		ret = append(ret, ident(pos, t.Name))
	}
	// The types are reported by a compiled function called with the typed
	// values: in an []any, yaegi keeps an interpreted value with methods wrapped.
	typesOf := func() []ast.Expr {
		out := make([]ast.Expr, len(ret))
		for i, r := range ret {
			out[i] = ident(pos, r.(*ast.Ident).Name)
		}
		return out
	}
	body := &ast.BlockStmt{Lbrace: pos, Rbrace: pos, List: []ast.Stmt{
		&ast.AssignStmt{Lhs: tmps, TokPos: pos, Tok: token.DEFINE, Rhs: d.rhs},
		&ast.AssignStmt{Lhs: []ast.Expr{ident(pos, "_golemVals")}, TokPos: pos, Tok: token.ASSIGN,
			Rhs: []ast.Expr{&ast.CompositeLit{Type: &ast.ArrayType{Lbrack: pos, Elt: ident(pos, "any")}, Lbrace: pos, Elts: ret, Rbrace: pos}}},
		&ast.ExprStmt{X: &ast.CallExpr{Fun: &ast.SelectorExpr{X: ident(pos, rtName), Sel: ident(pos, "Types")},
			Lparen: pos, Args: typesOf(), Rparen: pos}},
	}}
	s.rt.takeTypes()
	if err := s.runAsFunc(x.ctx, x.run, body); err != nil {
		return err
	}
	types := s.rt.takeTypes()
	var lhs, rhs []string
	k := 0
	for _, n := range d.names {
		if n.Name == "_" {
			continue
		}
		expr := fmt.Sprintf("_golemVals[%d]", k)
		if k < len(types) && types[k] != nil {
			if t := s.typeExpr(types[k]); t != "" {
				expr += ".(" + t + ")"
			} else {
				fmt.Fprintf(s.opts.Stderr, "golem: %s: %s holds a %s that golem cannot name; it has type any here\n",
					s.in.FileSet().Position(pos), n.Name, types[k])
			}
		}
		lhs, rhs = append(lhs, n.Name), append(rhs, expr)
		k++
	}
	if len(lhs) == 0 {
		return nil
	}
	p := s.in.FileSet().Position(pos)
	src := fmt.Sprintf("package main\nfunc main() {\n//line %s:%d:%d\n%s := %s; _golemVals = nil\n}\n",
		p.Filename, p.Line, p.Column, strings.Join(lhs, ", "), strings.Join(rhs, ", "))
	f, err := s.parseFile(src)
	if err != nil {
		return err
	}
	body = f.Decls[0].(*ast.FuncDecl).Body
	return x.runStmts(u, body.List, body.Lbrace, body.Rbrace)
}

// typeExpr writes t as Go source usable in a cell ("" when it cannot): the
// user's struct types by name (yaegi's reflect types for them are unnamed),
// compiled named types as pkg.Name.
func (s *Session) typeExpr(t reflect.Type) string {
	w := typeWriter{usable: s.freeName, importName: s.pkgRef, userStruct: s.userStruct}
	e, ok := w.typeAST(t)
	if !ok {
		return ""
	}
	return types.ExprString(e)
}

// userStruct is the name of the user's struct type whose reflect type yaegi
// built as t ("": none).
func (s *Session) userStruct(t reflect.Type) string {
	if s.st.rtypes == nil {
		s.probeTypes()
	}
	return s.st.rtypes[t]
}

// probeTypes learns yaegi's reflect types of the user's struct types by building
// a zero value of each.
func (s *Session) probeTypes() {
	s.st.rtypes = map[reflect.Type]string{}
	var names []string
	for n, ti := range s.st.types {
		if ti.fields != "" && s.st.typeVer[n] > 0 && !s.st.generics[n] {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return
	}
	sort.Strings(names)
	var elts []string
	for _, n := range names {
		elts = append(elts, "*new("+n+")")
	}
	s.rt.takeTypes()
	if err := s.runInternal("_golemrt.Types(" + strings.Join(elts, ", ") + ")"); err != nil {
		return
	}
	for i, t := range s.rt.takeTypes() {
		if i < len(names) && t != nil {
			if _, dup := s.st.rtypes[t]; !dup {
				s.st.rtypes[t] = names[i]
			}
		}
	}
}

// runInternal compiles and runs session-internal statements (under the cell's
// file name, so they see the implicit imports), turning yaegi panics into errors.
func (s *Session) runInternal(stmts string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	f, err := s.parseFile("package main\nfunc main() {\n" + stmts + "\n}\n")
	if err != nil {
		return err
	}
	prog, err := s.compile(f.Decls[0].(*ast.FuncDecl).Body)
	if err != nil {
		return err
	}
	_, err = s.in.Execute(prog)
	return err
}

// takeGenericVars removes from a cell's declarations the `var` specs whose values
// call generic functions, and the comma-ok ones (var v, ok = m[k], see tuple.go),
// and returns them as statements (one spec each): early ones use no name the cell
// declares, late ones do.
func (u *unit) takeGenericVars(f *ast.File) (early, late []ast.Stmt) {
	declared := fileNames(f) // redefine.go
	for _, vs := range takeVarSpecs(f, func(vs *ast.ValueSpec) bool {
		return (vs.Type == nil && u.anyGenericCall(vs.Values)) || commaOkSpec(vs)
	}) {
		st := &ast.DeclStmt{Decl: &ast.GenDecl{TokPos: vs.Pos(), Tok: token.VAR, Specs: []ast.Spec{vs}}}
		if usesAny(vs.Values, declared) {
			late = append(late, st)
		} else {
			early = append(early, st)
		}
	}
	return early, late
}

// takeVarSpecs removes from f's declarations the var specs take accepts and
// returns them in order.
func takeVarSpecs(f *ast.File, take func(*ast.ValueSpec) bool) []*ast.ValueSpec {
	var out []*ast.ValueSpec
	for _, sp := range removeSpecs(f, token.VAR, func(sp ast.Spec) bool { return take(sp.(*ast.ValueSpec)) }) {
		out = append(out, sp.(*ast.ValueSpec))
	}
	return out
}
