package cell

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

import (
	"fmt"
	"go/ast"
	"go/printer"
	"go/token"
	"strings"
)

// compiledArgs converts the arguments of generic calls that the resolver found
// to be of a compiled package's type (see above). In a whole file, the packages
// the conversions name are imported under hidden names.
func compiledArgs(u *unit) error {
	for _, cv := range u.res.conversion {
		a := cv.call.Args[cv.arg]
		cv.call.Args[cv.arg] = &ast.CallExpr{Fun: cv.to, Lparen: a.Pos(), Args: []ast.Expr{a}, Rparen: a.End()}
	}
	if fe, ok := u.env.(*fileEnv); ok {
		addImports(u.decls, fe.added)
	}
	return nil
}

// conversion is an argument of a generic call to convert to its own type,
// written out.
type conversion struct {
	call *ast.CallExpr
	arg  int
	to   ast.Expr
}

// genericRisk is a generic call with an argument the rewriter could not convert:
// if yaegi's compiler then fails on it, the error names it.
type genericRisk struct {
	where, call, arg, why string
}

// genericCall converts the opaque arguments of a call of a generic function (a
// shim of the standard library or one the user declared) whose parameter yaegi
// takes apart to infer a type argument.
func (r *typeResolver) genericCall(c *ast.CallExpr, sc *scope) {
	ft, name := r.genericSig(c.Fun, sc)
	if ft == nil {
		return
	}
	put(&r.calls, r.where(c.Pos()), name)
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
		at := r.typeOf(a, sc)
		if !at.typed() {
			if r.maybeCompiled(a, sc) {
				r.risks = append(r.risks, genericRisk{where: r.where(c.Pos()), call: name,
					arg: exprSource(a), why: fmt.Sprintf("golem could not tell the type of %s, which may come from a compiled package", exprSource(a))})
			}
			continue
		}
		if !at.opaque() {
			continue
		}
		w := typeWriter{pos: a.Pos(), usable: func(n string) bool { return r.usable(n, sc) }, importName: r.env.importName}
		te, ok := w.typeLit(at.t) // a named type would be opaque again
		if !ok {
			r.risks = append(r.risks, genericRisk{where: r.where(c.Pos()), call: name,
				arg: exprSource(a), why: fmt.Sprintf("%s has a type of a compiled package that golem cannot write in a cell (%s)", exprSource(a), at.t)})
			continue
		}
		switch te.(type) {
		case *ast.StarExpr, *ast.FuncType, *ast.ChanType:
			te = &ast.ParenExpr{Lparen: a.Pos(), X: te, Rparen: a.Pos()}
		}
		r.conversion = append(r.conversion, conversion{call: c, arg: i, to: te})
	}
}

// maybeCompiled reports whether the value of e may come from a compiled package
// (it calls or selects something the rewriter could not type).
func (r *typeResolver) maybeCompiled(e ast.Expr, sc *scope) bool {
	switch e := ast.Unparen(e).(type) {
	case *ast.Ident:
		if t, ok := sc.lookup(e.Name); ok {
			return !t.typed()
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
	return usesAny([]ast.Expr{p}, tparams)
}

// genericSig returns the signature of the generic function fun calls when fun is
// a shimmed standard function or a generic function of the user, and how the
// call names it.
func (r *typeResolver) genericSig(fun ast.Expr, sc *scope) (*ast.FuncType, string) {
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		pk, ok := f.X.(*ast.Ident)
		if !ok {
			return nil, ""
		}
		if _, local := sc.lookup(pk.Name); local {
			return nil, ""
		}
		path, ok := r.env.pkg(pk.Name)
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
			if ft := r.generics[f.Name]; ft != nil && where == r.top {
				return ft, f.Name
			}
			return nil, ""
		}
		if _, global := r.env.global(f.Name); global {
			return nil, ""
		}
		if ft := r.userSig(f.Name); ft != nil && ft.TypeParams != nil {
			return ft, f.Name
		}
	}
	return nil, ""
}

// explainGeneric replaces yaegi's bare "CFG post-order panic" (a nil pointer
// dereference) on a generic call with a message naming the call and what to do.
func explainGeneric(err error, r *typeResolver) error {
	e, ok := err.(*Error)
	if !ok || !strings.Contains(e.Value, "CFG post-order panic") || r == nil || len(r.calls) == 0 {
		return err
	}
	where := e.Value[:strings.Index(e.Value, "CFG post-order panic")]
	where = strings.TrimSuffix(strings.TrimSpace(where), ":")
	var msg string
	for _, r := range r.risks {
		if r.where == where {
			msg = fmt.Sprintf("%s: %s(…): %s; yaegi v0.16.1 cannot infer type arguments from such a value: "+
				"write its type out, as a conversion (%s([]T(%s)) for a []T) or a variable (var v []T = %s)",
				r.where, r.call, r.why, r.call, r.arg, r.arg)
			break
		}
	}
	if msg == "" {
		call, ok := r.calls[where]
		if !ok {
			return err
		}
		msg = fmt.Sprintf("%s: %s(…): yaegi v0.16.1 cannot infer type arguments from a value whose type comes from "+
			"a compiled package, and golem could not tell the types of the arguments; write the argument's type out, "+
			"as a conversion (%s([]T(x)) for x of type []T) or a variable (var v []T = x)", where, call, call)
	}
	return &Error{Name: "CompileError", Value: msg, Traceback: append([]string{msg}, e.Traceback...)}
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
