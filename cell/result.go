package cell

// A cell's result: the trailing expression becomes the execute_result.
//
//   - A single value shows as its display bundle (_golemShow in the prelude: the
//     value's own rich form — display.Rich, or the methods of an interpreted type —
//     plus its text/plain).
//   - A call's values all show (strconv.Atoi("12") shows 12); when the last one is
//     an error (Go's v, err convention) a nil error is left out and a non-nil one
//     fails the cell with it.
//   - A call with no value, a call that prints or reads (fmt.Println, w.Write,
//     fmt.Scanln: their counts are noise), an assignment, nil show nothing.

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/types"
	"html"
	"regexp"
	"strconv"
	"strings"

	"github.com/traefik/yaegi/interp"

	"github.com/golem-lm/golem/display"
)

// trailingExpr returns the last statement of a cell when it is an expression
// whose value should be shown (not nil, not a call known to return no value).
func (s *Session) trailingExpr(stmts []ast.Stmt) *ast.ExprStmt {
	n := len(stmts)
	if n == 0 {
		return nil
	}
	es, ok := stmts[n-1].(*ast.ExprStmt)
	if !ok || internalCall(es.X) {
		return nil
	}
	if id, ok := es.X.(*ast.Ident); ok && id.Name == "nil" {
		return nil
	}
	if call, ok := ast.Unparen(es.X).(*ast.CallExpr); ok && (s.resultCount(call) == 0 || printCall(call)) {
		return nil
	}
	return es
}

// printCall reports whether call writes output (or reads a line) and returns a
// count and an error that Go code ignores: fmt.Print*, fmt.Fprint*, fmt.Scan*,
// and Write methods.
func printCall(call *ast.CallExpr) bool {
	sel, ok := ast.Unparen(call.Fun).(*ast.SelectorExpr)
	if !ok {
		return false
	}
	switch name := sel.Sel.Name; name {
	case "Write", "WriteString", "WriteByte", "WriteRune":
		return true
	case "Print", "Printf", "Println", "Fprint", "Fprintf", "Fprintln", "Scan", "Scanf", "Scanln":
		id, ok := sel.X.(*ast.Ident)
		return ok && id.Name == "fmt"
	}
	return false
}

// internalCall reports whether e calls golem's runtime (_golemrt.F(…)): a
// statement the session added, never a cell's result.
func internalCall(e ast.Expr) bool {
	if c, ok := e.(*ast.CallExpr); ok {
		if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "_golemrt" {
				return true
			}
		}
	}
	return false
}

// resultSource is the file whose init function computes a cell's result from its
// trailing expression _golemE with n values (yaegi runs init when the file is
// executed: one compile, one run). The body runs in a function, not at the top
// level: yaegi handles generic results there, a failed compile leaves nothing
// behind in the global scope, and no closure is made (a closure at the top level
// copies the whole global frame). For one value the if-false call never runs: it
// makes yaegi reject an expression with no value or several, which the
// definition below would accept (keeping the first value). The typed locals keep
// yaegi's own types, so compiled code receives the real values. A call passes a
// pointer to its last value, so that the runtime sees whether it is an error.
func resultSource(n int, call bool) string {
	var b strings.Builder
	b.WriteString("package main\n//line cell:" + strconv.Itoa(resultLine) + ":1\nfunc init() {\n")
	if n == 1 {
		b.WriteString("\tif false {\n\t\t_golemOne(_golemE)\n\t}\n")
	}
	vars := make([]string, n)
	shows := make([]string, n)
	for i := range vars {
		vars[i] = "_golemT" + strconv.Itoa(i)
		shows[i] = fmt.Sprintf("_golemShow(%s, _golemrt.Format(%s))", vars[i], vars[i])
	}
	b.WriteString("\t" + strings.Join(vars, ", ") + " := _golemE\n")
	if call {
		fmt.Fprintf(&b, "\t_golemrt.Results(&%s, %s)\n", vars[n-1], strings.Join(shows, ", "))
	} else {
		fmt.Fprintf(&b, "\t_golemrt.Result(%s)\n", shows[0])
	}
	b.WriteString("}\n")
	return b.String()
}

// resultMismatch is yaegi's message for n := f() when f has another count of values.
var resultMismatch = regexp.MustCompile(`assignment mismatch: \d+ variables? but .* returns (\d+) values?`)

// runTrailing runs the trailing expression es and returns its display bundle.
// When es has no value it runs as a plain statement and shows nothing.
func (s *Session) runTrailing(ctx context.Context, run *cellRun, es *ast.ExprStmt) (display.Bundle, error) {
	call, isCall := ast.Unparen(es.X).(*ast.CallExpr)
	n := 1
	if isCall {
		if c := s.resultCount(call); c > 1 {
			n = c
		}
	}
	prog, err := s.compileResult(es, n, isCall)
	if err != nil && isCall && n == 1 && s.resultCount(call) != 1 {
		// several values: how many, yaegi says when two do not fit
		if prog, err = s.compileResult(es, 2, true); err != nil {
			if mm := resultMismatch.FindStringSubmatch(err.Error()); mm != nil {
				if c, _ := strconv.Atoi(mm[1]); c > 2 {
					prog, err = s.compileResult(es, c, true)
				}
			}
		}
	}
	if err == nil {
		// the file's init function computes and reports the result
		if _, err := s.run(ctx, run, prog); err != nil {
			return nil, err
		}
		b, rerr := s.rt.takeResult()
		if rerr != nil {
			return nil, returnedError(s, es, rerr)
		}
		return b, nil
	}
	// No value (or an error that the plain statement reports better).
	prog, err = s.compile(&ast.BlockStmt{Lbrace: es.Pos(), List: []ast.Stmt{es}, Rbrace: es.End()})
	if err != nil {
		return nil, err
	}
	_, err = s.run(ctx, run, prog)
	return nil, err
}

// compileResult compiles resultSource(n, call) with es in place of _golemE.
func (s *Session) compileResult(es *ast.ExprStmt, n int, call bool) (*interp.Program, error) {
	f, err := parser.ParseFile(s.in.FileSet(), "cell", resultSource(n, call), parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	ast.Inspect(f.Decls[0].(*ast.FuncDecl).Body, func(node ast.Node) bool {
		switch node := node.(type) {
		case *ast.CallExpr:
			for i, a := range node.Args {
				if id, ok := a.(*ast.Ident); ok && id.Name == "_golemE" {
					node.Args[i] = es.X
				}
			}
		case *ast.AssignStmt:
			for i, r := range node.Rhs {
				if id, ok := r.(*ast.Ident); ok && id.Name == "_golemE" {
					node.Rhs[i] = es.X
				}
			}
		}
		return true
	})
	return s.compile(f)
}

// returnedError is the cell's failure when its trailing call returned a non-nil
// error.
func returnedError(s *Session, es *ast.ExprStmt, err error) *Error {
	msg := errorText(err)
	expr := types.ExprString(es.X)
	if len(expr) > 80 {
		expr = expr[:77] + "..."
	}
	pos := s.in.FileSet().Position(es.Pos())
	return &Error{Name: "Error", Value: msg,
		Traceback: []string{fmt.Sprintf("%s:%d:%d: %s returned an error: %s", pos.Filename, pos.Line, pos.Column, expr, msg)}}
}

// errorText is err.Error(), or a note when that panics (a method of an
// interpreted type on a nil pointer).
func errorText(err error) (s string) {
	defer func() {
		if p := recover(); p != nil {
			s = fmt.Sprintf("%T (its Error method panicked: %v)", err, p)
		}
	}()
	return err.Error()
}

// setResults receives the values of a trailing call: last points to the call's
// last value, bundles are every value's display bundle. A last value of type
// error is left out when nil; when not nil it becomes the cell's error.
func (rt *runtimeHooks) setResults(last any, bundles ...display.Bundle) {
	if p, ok := last.(*error); ok && len(bundles) > 0 {
		if *p != nil {
			rt.mu.Lock()
			rt.resultErr = *p
			rt.mu.Unlock()
			return
		}
		bundles = bundles[:len(bundles)-1]
	}
	rt.setResult(joinBundles(bundles))
}

// joinBundles is the one bundle that shows several values: text/plain joins the
// values' texts (", " when each is one line, else a blank line), and text/html,
// when any value is rich, shows each value in turn.
func joinBundles(bs []display.Bundle) display.Bundle {
	switch len(bs) {
	case 0:
		return nil
	case 1:
		return bs[0]
	}
	texts := make([]string, len(bs))
	sep, rich := ", ", false
	for i, b := range bs {
		texts[i], _ = b["text/plain"].(string)
		if strings.Contains(texts[i], "\n") {
			sep = "\n\n"
		}
		for k := range b {
			if k != "text/plain" {
				rich = true
			}
		}
	}
	out := display.Bundle{"text/plain": strings.Join(texts, sep)}
	if !rich {
		return out
	}
	var h strings.Builder
	for i, b := range bs {
		h.WriteString(`<div style="margin-bottom:0.5em">`)
		if s, ok := b["text/html"].(string); ok {
			h.WriteString(s)
		} else if s, ok := b["image/svg+xml"].(string); ok {
			h.WriteString(s)
		} else if s, ok := b["image/png"].(string); ok {
			h.WriteString(`<img src="data:image/png;base64,` + s + `">`)
		} else if s, ok := b["image/jpeg"].(string); ok {
			h.WriteString(`<img src="data:image/jpeg;base64,` + s + `">`)
		} else {
			h.WriteString("<pre>" + html.EscapeString(texts[i]) + "</pre>")
		}
		h.WriteString("</div>")
	}
	out["text/html"] = h.String()
	return out
}

// richValue is the compiled half of a result's display (the prelude's _golemShow
// asks the interpreted types first): display.Rich of a value of a compiled type —
// an lmlib result that is a display.Renderer, a display.Bundle, a slice of
// structs or maps as a table. nil when the value has no rich form.
func richValue(v any) display.Bundle {
	if b, ok := display.Rich(v); ok {
		return b
	}
	return nil
}
