package cell

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

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
func (s *Session) splitGenericDefines(body *ast.BlockStmt, asFunc map[*ast.BlockStmt]bool) []stmtPart {
	var parts []stmtPart
	var cur []ast.Stmt
	for _, st := range body.List {
		var d *genericDefine
		if blk, ok := st.(*ast.BlockStmt); ok && asFunc[blk] {
			if len(cur) > 0 {
				parts = append(parts, stmtPart{stmts: cur})
				cur = nil
			}
			parts = append(parts, stmtPart{fn: blk})
			continue
		}
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE && s.anyGeneric(st.Rhs) {
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
				if vs := gd.Specs[0].(*ast.ValueSpec); vs.Type == nil && s.anyGeneric(vs.Values) {
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

func (s *Session) anyGeneric(list []ast.Expr) bool {
	for _, e := range list {
		if s.genericCall(e) {
			return true
		}
	}
	return false
}

// runGenericDefine evaluates the values in a function literal (where yaegi handles
// generics), then binds each name with the dynamic type of its value.
func (s *Session) runGenericDefine(ctx context.Context, run *cellRun, d *genericDefine) error {
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
		&ast.ExprStmt{X: &ast.CallExpr{Fun: &ast.SelectorExpr{X: ident(pos, "_golemrt"), Sel: ident(pos, "Types")},
			Lparen: pos, Args: typesOf(), Rparen: pos}},
	}}
	s.rt.takeTypes()
	if err := s.runAsFunc(ctx, run, body); err != nil {
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
	body.List = s.assignRedefinitions(run, body.Lbrace, body.List) // redefine.go
	_, err = s.compileRun(ctx, run, body)
	return err
}

// typeExpr writes t as Go source usable in a cell ("" when it cannot): the
// user's struct types by name (yaegi's reflect types for them are unnamed),
// compiled named types as pkg.Name.
func (s *Session) typeExpr(t reflect.Type) string {
	if t.Kind() == reflect.Struct && t.Name() == "" {
		if s.st.rtypes == nil {
			s.probeTypes()
		}
		if n, ok := s.st.rtypes[t]; ok {
			return n
		}
	}
	if t.Name() != "" {
		if t.PkgPath() == "" {
			return t.Name()
		}
		if r, _ := utf8.DecodeRuneInString(t.Name()); !unicode.IsUpper(r) || strings.ContainsAny(t.Name(), "[]") {
			return "" // unexported, or an instance of a generic type
		}
		name, ok := s.pkgRef(t.PkgPath(), s.freeName)
		if !ok {
			return ""
		}
		return name + "." + t.Name()
	}
	sub := func(e reflect.Type) (string, bool) {
		x := s.typeExpr(e)
		return x, x != ""
	}
	switch t.Kind() {
	case reflect.Slice:
		if e, ok := sub(t.Elem()); ok {
			return "[]" + e
		}
	case reflect.Array:
		if e, ok := sub(t.Elem()); ok {
			return fmt.Sprintf("[%d]%s", t.Len(), e)
		}
	case reflect.Pointer:
		if e, ok := sub(t.Elem()); ok {
			return "*" + e
		}
	case reflect.Map:
		k, ok1 := sub(t.Key())
		e, ok2 := sub(t.Elem())
		if ok1 && ok2 {
			return "map[" + k + "]" + e
		}
	case reflect.Chan:
		if e, ok := sub(t.Elem()); ok {
			switch t.ChanDir() {
			case reflect.RecvDir:
				return "<-chan " + e
			case reflect.SendDir:
				return "chan<- " + e
			}
			return "chan " + e
		}
	case reflect.Func:
		var in, out []string
		for i := 0; i < t.NumIn(); i++ {
			x, ok := sub(t.In(i))
			if !ok {
				return ""
			}
			if t.IsVariadic() && i == t.NumIn()-1 {
				x = "..." + strings.TrimPrefix(x, "[]")
			}
			in = append(in, x)
		}
		for i := 0; i < t.NumOut(); i++ {
			x, ok := sub(t.Out(i))
			if !ok {
				return ""
			}
			out = append(out, x)
		}
		r := "func(" + strings.Join(in, ", ") + ")"
		switch len(out) {
		case 0:
		case 1:
			r += " " + out[0]
		default:
			r += " (" + strings.Join(out, ", ") + ")"
		}
		return r
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return "any"
		}
	case reflect.Struct:
		var fields []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			x, ok := sub(f.Type)
			if !ok || f.PkgPath != "" {
				return ""
			}
			fields = append(fields, f.Name+" "+x)
		}
		return "struct{" + strings.Join(fields, "; ") + "}"
	}
	return ""
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

// evalQuiet evaluates session-internal code, turning a yaegi panic into an error.
func (s *Session) evalQuiet(src string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", p)
		}
	}()
	_, err = s.in.Eval(src)
	return err
}

// takeGenericVars removes from a cell's declarations the `var` specs whose values
// call generic functions, and the comma-ok ones (var v, ok = m[k], see tuple.go),
// and returns them as statements (one spec each): early ones use no name the cell
// declares, late ones do.
func (s *Session) takeGenericVars(f *ast.File) (early, late []ast.Stmt) {
	declared := fileNames(f) // redefine.go
	for _, vs := range takeVarSpecs(f, func(vs *ast.ValueSpec) bool {
		return (vs.Type == nil && s.anyGeneric(vs.Values)) || commaOkSpec(vs)
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

// takeVarSpecs removes from f's declarations the `var` specs take accepts (dropping
// a declaration left empty) and returns them in order.
func takeVarSpecs(f *ast.File, take func(*ast.ValueSpec) bool) []*ast.ValueSpec {
	var out []*ast.ValueSpec
	decls := f.Decls[:0]
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			decls = append(decls, d)
			continue
		}
		specs := gd.Specs[:0]
		for _, sp := range gd.Specs {
			if vs := sp.(*ast.ValueSpec); take(vs) {
				out = append(out, vs)
				continue
			}
			specs = append(specs, sp)
		}
		gd.Specs = specs
		if len(specs) > 0 {
			decls = append(decls, gd)
		}
	}
	f.Decls = decls
	return out
}

// runAsFunc runs statements as the body of the init function of a one-function
// file: in a function, yaegi binds generic results; and unlike a function literal
// called at the top level, it does not copy the whole global frame.
func (s *Session) runAsFunc(ctx context.Context, run *cellRun, body *ast.BlockStmt) error {
	f, err := parser.ParseFile(s.in.FileSet(), "cell", fmt.Sprintf("package main\n//line cell:%d:1\nfunc init() {\n}\n", funcBodyLine), parser.SkipObjectResolution)
	if err != nil {
		return err
	}
	f.Decls[0].(*ast.FuncDecl).Body.List = body.List
	_, err = s.compileRun(ctx, run, f)
	return err
}
