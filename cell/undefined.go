package cell

// Errors a newcomer can act on. yaegi v0.16.1 reports a name that is not defined
// in terms of its own internals ("constant definition loop", "CFG post-order
// panic: incomplete type ctx", "invalid memory address or nil pointer
// dereference"). When a cell fails to compile, golem resolves the cell's
// identifiers itself (scopes of the cell, the session's names, the universe) and,
// when some are undefined, says so as Go does, with the cell position and the
// import a package name is missing: `cell:1:6: undefined: api (missing import
// "github.com/golem-lm/golem/functions/api"?)`.
//
// A cell that fails defines nothing: the names it defined for the first time are
// hidden afterwards (yaegi cannot take a definition back), so a later cell using
// one gets `undefined: zz (its cell failed, so it defined nothing: run it again)`.
// An interrupted cell is not a failed one: what it defined stays, so that
// `res, err := train.Train(…)` interrupted leaves res for the next cell.

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/golem-lm/golem/cell/symbols"
)

// freeUse is an identifier a cell uses without declaring it.
type freeUse struct {
	name      string
	pos       token.Pos
	qualifier bool // used as X in X.Sel (a package name, when it is one)
}

// nameResolver walks a cell and collects the identifiers it uses that neither the
// cell's scopes nor its top level declare.
type nameResolver struct {
	top    map[string]bool   // names the cell declares at its top level
	scopes []map[string]bool // innermost last
	uses   []freeUse
}

func (r *nameResolver) push() { r.scopes = append(r.scopes, map[string]bool{}) }
func (r *nameResolver) pop()  { r.scopes = r.scopes[:len(r.scopes)-1] }
func (r *nameResolver) declare(id *ast.Ident) {
	if id != nil && len(r.scopes) > 0 {
		r.scopes[len(r.scopes)-1][id.Name] = true
	}
}

func (r *nameResolver) declared(name string) bool {
	if name == "_" || r.top[name] {
		return true
	}
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if r.scopes[i][name] {
			return true
		}
	}
	return false
}

func (r *nameResolver) use(id *ast.Ident, qualifier bool) {
	if !r.declared(id.Name) {
		r.uses = append(r.uses, freeUse{id.Name, id.Pos(), qualifier})
	}
}

// topNames are the names a cell declares at its top level: imports,
// declarations, and the definitions of its top-level statements.
func topNames(imports, decls *ast.File, body *ast.BlockStmt) []*ast.Ident {
	var out []*ast.Ident
	for _, f := range []*ast.File{imports, decls} {
		if f == nil {
			continue
		}
		for _, d := range f.Decls {
			out = append(out, declNames(d)...)
		}
	}
	if body != nil {
		for _, st := range body.List {
			switch st := st.(type) {
			case *ast.AssignStmt:
				if st.Tok == token.DEFINE {
					for _, l := range st.Lhs {
						if id, ok := l.(*ast.Ident); ok {
							out = append(out, id)
						}
					}
				}
			case *ast.DeclStmt:
				out = append(out, declNames(st.Decl)...)
			}
		}
	}
	return out
}

// declNames are the names a declaration binds (not methods).
func declNames(d ast.Decl) []*ast.Ident {
	var out []*ast.Ident
	switch d := d.(type) {
	case *ast.FuncDecl:
		if d.Recv == nil {
			out = append(out, d.Name)
		}
	case *ast.GenDecl:
		for _, sp := range d.Specs {
			switch sp := sp.(type) {
			case *ast.ImportSpec:
				if sp.Name != nil {
					out = append(out, sp.Name)
				} else if p, err := unquote(sp.Path.Value); err == nil {
					out = append(out, &ast.Ident{NamePos: sp.Pos(), Name: path.Base(p)})
				}
			case *ast.TypeSpec:
				out = append(out, sp.Name)
			case *ast.ValueSpec:
				out = append(out, sp.Names...)
			}
		}
	}
	return out
}

func unquote(s string) (string, error) {
	if len(s) < 2 {
		return "", errors.New("bad import path")
	}
	return s[1 : len(s)-1], nil
}

// freeIdents lists the identifiers a cell uses that it does not declare, in
// the order they appear.
func freeIdents(imports, decls *ast.File, body *ast.BlockStmt) []freeUse {
	r := &nameResolver{top: map[string]bool{}}
	for _, id := range topNames(imports, decls, body) {
		r.top[id.Name] = true
	}
	if decls != nil {
		for _, d := range decls.Decls {
			r.decl(d)
		}
	}
	if body != nil {
		r.block(body.List)
	}
	sort.SliceStable(r.uses, func(i, j int) bool { return r.uses[i].pos < r.uses[j].pos })
	return r.uses
}

func (r *nameResolver) decl(d ast.Decl) {
	switch d := d.(type) {
	case *ast.FuncDecl:
		r.push()
		defer r.pop()
		if d.Recv != nil {
			r.fields(d.Recv, true)
			// the receiver's type parameters: func (l *List[T]) …
			for _, f := range d.Recv.List {
				t := f.Type
				if st, ok := t.(*ast.StarExpr); ok {
					t = st.X
				}
				switch ix := t.(type) {
				case *ast.IndexExpr:
					if id, ok := ix.Index.(*ast.Ident); ok {
						r.declare(id)
					}
				case *ast.IndexListExpr:
					for _, e := range ix.Indices {
						if id, ok := e.(*ast.Ident); ok {
							r.declare(id)
						}
					}
				}
			}
		}
		r.funcType(d.Type, true)
		if d.Body != nil {
			r.block(d.Body.List)
		}
	case *ast.GenDecl:
		for _, sp := range d.Specs {
			switch sp := sp.(type) {
			case *ast.TypeSpec:
				r.declare(sp.Name)
				r.push()
				if sp.TypeParams != nil {
					r.fields(sp.TypeParams, true)
				}
				r.expr(sp.Type)
				r.pop()
			case *ast.ValueSpec:
				if sp.Type != nil {
					r.expr(sp.Type)
				}
				for _, v := range sp.Values {
					r.expr(v)
				}
				for _, n := range sp.Names {
					r.declare(n)
				}
			}
		}
	}
}

// fields visits the types of a field list and, with bind, declares its names
// (parameters, results, receivers, type parameters).
func (r *nameResolver) fields(fl *ast.FieldList, bind bool) {
	if fl == nil {
		return
	}
	if bind { // type parameters may refer to each other
		for _, f := range fl.List {
			for _, n := range f.Names {
				r.declare(n)
			}
		}
	}
	for _, f := range fl.List {
		r.expr(f.Type)
	}
}

func (r *nameResolver) funcType(ft *ast.FuncType, bind bool) {
	if ft.TypeParams != nil {
		r.fields(ft.TypeParams, bind)
	}
	r.fields(ft.Params, bind)
	r.fields(ft.Results, bind)
}

func (r *nameResolver) block(list []ast.Stmt) {
	r.push()
	for _, s := range list {
		r.stmt(s)
	}
	r.pop()
}

func (r *nameResolver) stmt(s ast.Stmt) {
	switch s := s.(type) {
	case nil:
	case *ast.BlockStmt:
		r.block(s.List)
	case *ast.AssignStmt:
		for _, e := range s.Rhs {
			r.expr(e)
		}
		for _, l := range s.Lhs {
			if id, ok := l.(*ast.Ident); ok && s.Tok == token.DEFINE {
				r.declare(id)
			} else {
				r.expr(l)
			}
		}
	case *ast.DeclStmt:
		r.decl(s.Decl)
	case *ast.RangeStmt:
		r.expr(s.X)
		r.push()
		for _, e := range []ast.Expr{s.Key, s.Value} {
			if id, ok := e.(*ast.Ident); ok && s.Tok == token.DEFINE {
				r.declare(id)
			} else if e != nil {
				r.expr(e)
			}
		}
		r.block(s.Body.List)
		r.pop()
	case *ast.ForStmt:
		r.push()
		r.stmt(s.Init)
		if s.Cond != nil {
			r.expr(s.Cond)
		}
		r.stmt(s.Post)
		r.block(s.Body.List)
		r.pop()
	case *ast.IfStmt:
		r.push()
		r.stmt(s.Init)
		r.expr(s.Cond)
		r.block(s.Body.List)
		r.stmt(s.Else)
		r.pop()
	case *ast.SwitchStmt:
		r.push()
		r.stmt(s.Init)
		if s.Tag != nil {
			r.expr(s.Tag)
		}
		for _, c := range s.Body.List {
			cc := c.(*ast.CaseClause)
			for _, e := range cc.List {
				r.expr(e)
			}
			r.block(cc.Body)
		}
		r.pop()
	case *ast.TypeSwitchStmt:
		r.push()
		r.stmt(s.Init)
		var bound *ast.Ident
		switch a := s.Assign.(type) {
		case *ast.AssignStmt:
			for _, e := range a.Rhs {
				r.expr(e)
			}
			if len(a.Lhs) == 1 {
				bound, _ = a.Lhs[0].(*ast.Ident)
			}
		case *ast.ExprStmt:
			r.expr(a.X)
		}
		for _, c := range s.Body.List {
			cc := c.(*ast.CaseClause)
			for _, e := range cc.List {
				r.expr(e)
			}
			r.push()
			r.declare(bound)
			r.block(cc.Body)
			r.pop()
		}
		r.pop()
	case *ast.SelectStmt:
		for _, c := range s.Body.List {
			cc := c.(*ast.CommClause)
			r.push()
			r.stmt(cc.Comm)
			r.block(cc.Body)
			r.pop()
		}
	case *ast.LabeledStmt:
		r.stmt(s.Stmt)
	case *ast.BranchStmt, *ast.EmptyStmt, *ast.BadStmt:
	default: // expression, send, inc/dec, return, go, defer statements
		ast.Inspect(s, func(n ast.Node) bool {
			if e, ok := n.(ast.Expr); ok {
				r.expr(e)
				return false
			}
			return true
		})
	}
}

func (r *nameResolver) expr(e ast.Expr) {
	switch e := e.(type) {
	case nil:
	case *ast.Ident:
		r.use(e, false)
	case *ast.SelectorExpr:
		if id, ok := e.X.(*ast.Ident); ok {
			r.use(id, true)
		} else {
			r.expr(e.X)
		}
	case *ast.CompositeLit:
		r.expr(e.Type)
		for _, el := range e.Elts {
			if kv, ok := el.(*ast.KeyValueExpr); ok {
				if _, field := kv.Key.(*ast.Ident); !field { // a field name, or a key
					r.expr(kv.Key)
				}
				r.expr(kv.Value)
			} else {
				r.expr(el)
			}
		}
	case *ast.FuncLit:
		r.push()
		r.funcType(e.Type, true)
		r.block(e.Body.List)
		r.pop()
	case *ast.FuncType:
		r.push()
		r.funcType(e, false)
		r.pop()
	case *ast.StructType:
		r.fields(e.Fields, false)
	case *ast.InterfaceType:
		for _, f := range e.Methods.List {
			if ft, ok := f.Type.(*ast.FuncType); ok {
				r.expr(ft)
			} else {
				r.expr(f.Type) // an embedded interface or a type union
			}
		}
	default:
		ast.Inspect(e, func(n ast.Node) bool {
			if n == ast.Node(e) {
				return true
			}
			if c, ok := n.(ast.Expr); ok {
				r.expr(c)
				return false
			}
			return true
		})
	}
}

// golemPackages maps the name of each golem package a cell may import to its path.
var golemPackages = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for k := range symbols.Symbols {
		p := path.Dir(k)
		out[path.Base(p)] = p
	}
	return out
})

// undefinedHints explains names a newcomer may expect to exist.
var undefinedHints = map[string]string{
	"ctx": "a cell has no ctx: use display.Context(), the cell's context, which an interrupt cancels, or context.Background()",
	"assets": `the texts that ship with golem are data.Shipped("opticks"), "tom-sawyer", "html", "brown", "go-source", ` +
		`from "github.com/golem-lm/golem/lmlib/data"`,
}

// known reports whether a name the cell does not declare is defined: by an
// earlier cell, the session's imports, the prelude, the universe, or (as a
// qualifier) a standard package golem imports by itself.
func (s *Session) known(u freeUse, globals map[string]bool) bool {
	n := u.name
	if s.st.hidden[n] {
		return false
	}
	if strings.HasPrefix(n, "_golem") || types.Universe.Lookup(n) != nil || s.st.names[n] || globals[n] {
		return true
	}
	if _, ok := s.st.imports[n]; ok {
		return true
	}
	if _, ok := preludeImports()[n]; ok {
		return true
	}
	if _, ok := stdPackageByName()[n]; ok && u.qualifier {
		return true
	}
	return false
}

// undefinedMessage is Go's "undefined: name" with what may fix it.
func (s *Session) undefinedMessage(u freeUse) string {
	msg := "undefined: " + u.name
	if s.st.hidden[u.name] {
		return msg + " (its cell failed, so it defined nothing: run it again)"
	}
	if h, ok := undefinedHints[u.name]; ok {
		return msg + " (" + h + ")"
	}
	if p, ok := golemPackages()[u.name]; ok && u.qualifier {
		return msg + fmt.Sprintf(" (missing import %q?)", p)
	}
	return msg
}

// hiddenNames fails a cell that uses a name only a failed cell defined (session).
func hiddenNames(u *unit, x *cellExec) error {
	if len(x.s.st.hidden) == 0 {
		return nil
	}
	if e := x.s.undefinedError(u.imports, u.decls, u.body, true); e != nil {
		return e
	}
	return nil
}

// undefinedError returns a CompileError listing the names the cell uses that
// are not defined, with their cell positions, or nil when there are none.
func (s *Session) undefinedError(imports, decls *ast.File, body *ast.BlockStmt, onlyHidden bool) *Error {
	uses := freeIdents(imports, decls, body)
	if len(uses) == 0 {
		return nil
	}
	var globals map[string]bool
	if !onlyHidden {
		globals = map[string]bool{}
		for n := range s.globals() {
			globals[n] = true
		}
	}
	var lines []string
	seen := map[string]bool{}
	for _, u := range uses {
		if seen[u.name] || onlyHidden && !s.st.hidden[u.name] || !onlyHidden && s.known(u, globals) {
			continue
		}
		seen[u.name] = true
		pos := s.in.FileSet().Position(u.pos)
		lines = append(lines, fmt.Sprintf("%s:%d:%d: %s", pos.Filename, pos.Line, pos.Column, s.undefinedMessage(u)))
	}
	if len(lines) == 0 {
		return nil
	}
	return &Error{Name: "CompileError", Value: lines[0], Traceback: lines, explained: true}
}

// yaegiJargon matches yaegi's messages for an undefined name (and the other
// failures it reports in terms of its own internals).
var yaegiJargon = regexp.MustCompile(`undefined: |definition loop|CFG post-order panic|incomplete type|invalid memory address|nil pointer dereference|nil type`)

// explainCompileError replaces yaegi's message for a cell that did not compile
// with Go's "undefined: name" lines when the cell uses names that are not
// defined; other compile errors are kept, followed by those lines.
func (s *Session) explainCompileError(err error, imports, decls *ast.File, body *ast.BlockStmt) error {
	var e *Error
	if !errors.As(err, &e) || e.explained || e.Name != "CompileError" && e.Name != "RuntimeError" {
		return err
	}
	if e.Name == "RuntimeError" && !strings.Contains(e.Value, "definition loop") {
		return err
	}
	u := s.undefinedError(imports, decls, body, false)
	if u == nil {
		return err
	}
	if yaegiJargon.MatchString(e.Value) {
		return u
	}
	e.Traceback = append(e.Traceback, u.Traceback...)
	return e
}

// helpLine matches a line that asks for documentation (`train.Train?`).
var helpLine = regexp.MustCompile(`^\s*([\pL_][\pL\pN_]*(?:\.[\pL_][\pL\pN_]*)*)\?\??\s*$`)

// explainHelpSyntax turns the syntax error of `name?` on a line of a longer cell
// (illegal character U+003F '?') into a message saying how to get the help.
func explainHelpSyntax(err error, code string, firstLine int) error {
	var e *Error
	if !errors.As(err, &e) || e.Name != "SyntaxError" || !strings.Contains(e.Value, "U+003F '?'") {
		return err
	}
	for i, line := range strings.Split(code, "\n") {
		if m := helpLine.FindStringSubmatch(line); m != nil {
			msg := fmt.Sprintf("cell:%d:%d: %s asks for documentation, which works only as a cell of its own: "+
				"run %s in a new cell, or put the cursor after %s and press Shift+Tab",
				firstLine+i, len(line)-len(strings.TrimLeft(line, " \t"))+1, strings.TrimSpace(line), strings.TrimSpace(line), m[1])
			return &Error{Name: "SyntaxError", Value: msg, Traceback: []string{msg}}
		}
	}
	return err
}

// failed hides the names a failed cell defined for the first time.
func (st *cellState) failed(names []string) {
	for _, n := range names {
		if !st.defined[n] && n != "_" {
			st.hidden[n] = true
		}
	}
}

// succeeded records the names a cell defined.
func (st *cellState) succeeded(names []string) {
	for _, n := range names {
		st.defined[n] = true
		delete(st.hidden, n)
	}
}
