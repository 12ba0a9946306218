// Package cell is the Go dialect of golem's notebook cells and deployed functions:
// a live yaegi interpreter per notebook (Session), so a value computed in one cell
// (a trained model, a tokenizer) is still in memory in the next, and the same
// dialect for the function host's workers (NewInterpreter, Rewrite).
//
// On top of plain yaegi it lets a cell mix imports, declarations and statements in
// any order, replaces redefined functions, variables and types (notebook habit),
// turns the trailing expression into a rich execute_result, closes the gaps of
// yaegi v0.16.1 against modern Go (min/max/clear, range over int and over
// functions, the generic slices/maps/cmp functions), reports panics — in the cell
// or in a goroutine it started — as one *Error without taking the process down,
// stops a running cell when its context is cancelled, and runs magics (%time,
// %env, !cmd, %%writefile, %%deploy, %reset, %help). It also answers completion,
// inspection and is-complete requests.
//
// The Jupyter wire protocol lives in the kernel package; this package knows nothing
// about sockets. What a cell can import from golem is in cell/symbols.
package cell

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"io"
	"log"
	"maps"
	"os"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/traefik/yaegi/interp"

	"github.com/golem-lm/golem/display"
)

// Options configure a Session.
type Options struct {
	Stdout, Stderr io.Writer // where the cell's output goes (the kernel forwards these to iopub)
	// Stdin asks the frontend for a line of input; it returns io.EOF when stdin is
	// not allowed. Nil means no stdin.
	Stdin func(prompt string, password bool) (string, error)
	Dir   string // working directory of the cell (empty: the process's)
}

// Error is a user-visible failure of a cell: a syntax or type error, a panic (in
// the cell or in a goroutine it started), os.Exit/log.Fatal, an interrupt, a bad magic.
type Error struct {
	Name      string   // short class: SyntaxError, CompileError, Panic, Exit, Interrupted, MagicError …
	Value     string   // the message
	Traceback []string // lines shown to the user, the first ones naming cell:line:col
}

func (e *Error) Error() string {
	if e.Value == "" {
		return e.Name
	}
	return e.Name + ": " + e.Value
}

// Session is one notebook's interpreter. Execute, Complete, Inspect and
// IsComplete may be called from different goroutines; cells run one at a time.
type Session struct {
	opts   Options
	stdout io.Writer
	stderr *panicFilter
	stdin  *stdinReader

	mu sync.Mutex // held while a cell runs
	in *interp.Interpreter
	rt *runtimeHooks
	st *cellState

	closed atomic.Bool
	cells  atomic.Int64 // cells run so far (the id of the last one)
}

// cellState is what the session remembers about the user's code across cells.
type cellState struct {
	typeVer  map[string]int       // type name -> how many times it was declared
	generics map[string]bool      // names of generic functions the user declared
	imports  map[string]string    // package name in cells -> import path
	names    map[string]bool      // package-level names the user declared
	types    map[string]*typeInfo // declared types (fields, methods, source)
	funcs    map[string]string    // declared functions -> source of the signature
	funcSrc  map[string]string    // declared functions -> whole source (Inspect with detail)
	results  map[string]int       // result counts of declared functions (".M" for methods)
	// resultClass: what the rewriter knows of declared functions' results
	resultClass map[string]class
	rtypes      map[reflect.Type]string // yaegi's reflect types of the user's struct types
	// compiled: variables defined from a compiled package's value (m.Params,
	// strings.Fields(…)) -> that type, which yaegi knows only as a reflect type
	compiled map[string]reflect.Type
	// defined: names that cells which succeeded defined at their top level;
	// hidden: names only a failed cell defined, undefined for later cells
	// (undefined.go)
	defined, hidden map[string]bool
}

func newCellState() *cellState {
	return &cellState{typeVer: map[string]int{}, generics: map[string]bool{}, imports: map[string]string{},
		names: map[string]bool{}, types: map[string]*typeInfo{}, funcs: map[string]string{}, funcSrc: map[string]string{}, results: map[string]int{}, resultClass: map[string]class{},
		compiled: map[string]reflect.Type{}, defined: map[string]bool{}, hidden: map[string]bool{}}
}

// cellRun is the bookkeeping of the cell being executed.
type cellRun struct {
	id      int64       // 1, 2, … in the order cells run
	goPanic chan *Error // first panic of a goroutine started by a cell, while this cell runs
	// compiledBefore: cellState.compiled before the code being run was typed
	// (redefine.go)
	compiledBefore map[string]reflect.Type
	defined        []string // names the cell defines at its top level (undefined.go)
}

// New starts a session with a fresh interpreter.
func New(opts Options) (*Session, error) {
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	s := &Session{opts: opts, stdout: opts.Stdout, stderr: &panicFilter{w: opts.Stderr}}
	s.stdin = &stdinReader{ask: opts.Stdin}
	if err := s.reset(); err != nil {
		return nil, err
	}
	return s, nil
}

// reset replaces the interpreter with a fresh one (New and %reset).
func (s *Session) reset() error {
	rt := &runtimeHooks{}
	rt.onGoPanic = s.goroutinePanic
	if s.rt != nil { // %reset inside a running cell: the cell keeps its registration
		s.rt.mu.Lock()
		rt.running, rt.pending = s.rt.running, s.rt.pending
		s.rt.mu.Unlock()
	}
	in, err := newInterpreter(interp.Options{
		Stdin:        s.stdin,
		Stdout:       s.stdout,
		Stderr:       s.stderr,
		Args:         []string{"golem-cell"},
		Unrestricted: true, // cells see and set the kernel's real environment (%env, !cmd)
	}, rt, s.stdin, s.stdout, s.stderr, "cell")
	if err != nil {
		return err
	}
	s.in, s.rt, s.st = in, rt, newCellState()
	for name, path := range preludeImports() {
		s.st.imports[name] = path
	}
	return nil
}

// Close releases the session. Goroutines started by cells keep running until they
// return (Go cannot stop them); the interpreter is dropped.
// It does not wait for a running cell (interrupt it first to stop it).
func (s *Session) Close() {
	s.closed.Store(true)
	if s.mu.TryLock() {
		s.in = nil
		s.mu.Unlock()
	}
}

// goroutinePanic is called (through the golem runtime package) by the recover
// wrapper around every `go` statement of a cell; cell is the id of the cell that
// was running when the go statement ran. The panic ends that cell if it still
// runs; otherwise it is reported on the stderr of the cell running now, or of the
// next one.
func (s *Session) goroutinePanic(cell int64, v any, where string) {
	e := &Error{Name: "GoroutinePanic", Value: fmt.Sprint(v),
		Traceback: []string{fmt.Sprintf("panic in goroutine started at %s: %v", where, v)}}
	s.rt.mu.Lock()
	run := s.rt.running
	if run == nil {
		s.rt.pending = append(s.rt.pending, e)
	}
	s.rt.mu.Unlock()
	switch {
	case run == nil:
	case run.id == cell:
		select {
		case run.goPanic <- e:
		default: // a panic was already reported for this cell
		}
	default:
		reportEarlierPanic(s.opts.Stderr, e)
	}
}

func reportEarlierPanic(w io.Writer, e *Error) {
	fmt.Fprintf(w, "golem: a goroutine started by an earlier cell panicked: %s\n", strings.Join(e.Traceback, "\n"))
}

// Execute runs one cell. Cancelling ctx is an interrupt: Execute returns promptly
// with an *Error named "Interrupted". The returned bundle is the execute_result
// (nil when the cell has no trailing expression). All user-visible failures come
// back as *Error.
func (s *Session) Execute(ctx context.Context, code string) (display.Bundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() || s.in == nil {
		return nil, &Error{Name: "SessionClosed", Value: "the session was closed"}
	}
	run := &cellRun{id: s.cells.Add(1), goPanic: make(chan *Error, 1)}
	s.rt.mu.Lock()
	pending := s.rt.pending
	s.rt.pending = nil
	s.rt.running = run
	s.rt.mu.Unlock()
	defer func() {
		s.rt.mu.Lock()
		s.rt.running = nil
		s.rt.mu.Unlock()
	}()
	for _, e := range pending {
		reportEarlierPanic(s.opts.Stderr, e)
	}
	if s.opts.Dir != "" {
		if err := os.Chdir(s.opts.Dir); err != nil {
			return nil, &Error{Name: "OSError", Value: fmt.Sprintf("change to cell directory %s: %v", s.opts.Dir, err)}
		}
	}
	segs, err := splitMagics(code)
	if err != nil {
		return nil, err
	}
	var result display.Bundle
	st := s.st // %reset replaces it
	for i, sg := range segs {
		result = nil
		var err error
		if sg.magic != nil {
			result, err = s.runMagic(ctx, run, sg)
		} else {
			result, err = s.runGo(ctx, run, sg.code, sg.line, i == len(segs)-1)
			err = explainHelpSyntax(err, sg.code, sg.line)
		}
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Name == "Interrupted" {
				// an interrupt is the user's stop, not a failure: what the cell
				// defined stays (res of an interrupted train.Train)
				st.succeeded(run.defined)
			} else {
				st.failed(run.defined)
			}
			return nil, err
		}
	}
	st.succeeded(run.defined)
	return result, nil
}

// runGo runs Go source that starts at line firstLine of the cell.
func (s *Session) runGo(ctx context.Context, run *cellRun, code string, firstLine int, last bool) (_ display.Bundle, err error) {
	if strings.TrimSpace(code) == "" {
		return nil, nil
	}
	src := []byte(code)
	chunks, isProgram := splitCell(src)
	if isProgram {
		return nil, s.runProgram(ctx, run, code, firstLine)
	}
	// Parse everything first: a syntax error anywhere runs nothing.
	imports, decls, body, err := s.parseCell(src, chunks, firstLine)
	if err != nil {
		return nil, err
	}
	// What the cell defines, so that a failing cell can take it back
	// (undefined.go); a use of a name that a failed cell defined is an error.
	for _, id := range topNames(nil, decls, body) {
		run.defined = append(run.defined, id.Name)
	}
	if len(s.st.hidden) > 0 {
		if e := s.undefinedError(imports, decls, body, true); e != nil {
			return nil, e
		}
	}
	defer func() {
		if err != nil { // in the words of Go, from the cell as written
			if imports, decls, body, perr := s.parseCell(src, chunks, firstLine); perr == nil {
				err = s.explainCompileError(err, imports, decls, body)
			}
		}
	}()
	if imports != nil && s.dropKnownImports(imports) {
		if _, err := s.compileRun(ctx, run, imports); err != nil {
			return nil, err
		}
		s.recordImports(imports)
	}
	if auto := s.missingImports(imports, decls, body); len(auto) > 0 {
		// Standard packages used but not imported are imported, like goimports.
		src := "package main\nimport (\n"
		for _, p := range auto {
			src += strconv.Quote(p) + "\n"
		}
		f, err := s.parseFile(src + ")\n")
		if err != nil {
			return nil, err
		}
		if _, err := s.compileRun(ctx, run, f); err != nil {
			return nil, err
		}
		s.recordImports(f)
	}
	m := s.newModernizer()
	if decls != nil {
		m.collect(decls)
	}
	if body != nil {
		m.collect(body)
	}
	defer func() { err = explainGeneric(err, m) }()
	run.compiledBefore = maps.Clone(s.st.compiled)
	s.convertCompiledArgs(m, decls, body)
	if decls != nil {
		if err := s.rewriteDecls(m, decls); err != nil {
			return nil, err
		}
		if body != nil {
			if err := s.rewriteBlock(m, body); err != nil {
				return nil, err
			}
		}
		// Package-level vars initialised by generic calls, and comma-ok vars
		// (var v, ok = m[k]), are bound by the session like statements: before
		// the other declarations when they use none of them (functions may then
		// refer to them), else just after.
		early, late := s.takeGenericVars(decls)
		// var x = v of a variable the session has, with the same type: x = v
		// (redefine.go)
		early = append(s.assignRedefinedVars(run, decls), early...)
		for _, st := range early {
			d := s.splitGenericDefines(&ast.BlockStmt{List: []ast.Stmt{st}}, nil)[0].define
			if d == nil {
				list := s.assignRedefinitions(run, st.Pos(), m.globalTuples([]ast.Stmt{st}))
				prog, err := s.compile(&ast.BlockStmt{Lbrace: st.Pos(), List: list, Rbrace: st.End()})
				if err != nil {
					return nil, err
				}
				if _, err := s.run(ctx, run, prog); err != nil {
					return nil, err
				}
				continue
			}
			if err := s.runGenericDefine(ctx, run, d); err != nil {
				return nil, err
			}
		}
		// var a, b = f(): through temporaries (tuple.go), reset once the
		// declarations have run
		if temps := m.packageTuples(decls, nil); len(temps) > 0 {
			late = append([]ast.Stmt{zeroTemps(decls.Package, temps)}, late...)
		}
		if len(late) > 0 {
			if body == nil {
				// yaegi finds the cell's imports by the file name at Lbrace
				body = &ast.BlockStmt{Lbrace: decls.Package, Rbrace: decls.Package}
			}
			body.List = append(late, body.List...)
		}
		if len(decls.Decls) > 0 {
			if _, err := s.compileRun(ctx, run, decls); err != nil {
				if lerr := lateVarUse(m, decls, late); lerr != nil {
					return nil, lerr
				}
				return nil, explainRange(err, m)
			}
		}
	} else if body != nil {
		if err := s.rewriteBlock(m, body); err != nil {
			return nil, err
		}
	}
	if body == nil {
		return nil, nil
	}
	parts := s.splitGenericDefines(body, m.asFunc)
	for i, p := range parts {
		if p.define != nil {
			if err := s.runGenericDefine(ctx, run, p.define); err != nil {
				return nil, err
			}
			continue
		}
		if p.fn != nil {
			if err := s.runAsFunc(ctx, run, p.fn); err != nil {
				return nil, explainRange(err, m)
			}
			continue
		}
		stmts := p.stmts
		var trailing *ast.ExprStmt
		if last && i == len(parts)-1 {
			if trailing = s.trailingExpr(stmts); trailing != nil {
				stmts = stmts[:len(stmts)-1]
			}
		}
		if len(stmts) > 0 {
			stmts = m.globalTuples(stmts) // a, b := f() at the top level (tuple.go)
			// x := v of a variable the session has, with the same type: x = v
			stmts = s.assignRedefinitions(run, body.Lbrace, stmts)
			prog, err := s.compile(&ast.BlockStmt{Lbrace: body.Lbrace, List: stmts, Rbrace: body.Rbrace})
			if err != nil {
				return nil, explainRange(err, m)
			}
			if _, err := s.run(ctx, run, prog); err != nil {
				return nil, err
			}
		}
		if trailing != nil {
			return s.runTrailing(ctx, run, trailing, m)
		}
	}
	return nil, nil
}

// parseCell parses the chunks of a cell's Go source (src starts at line firstLine
// of the cell): its imports and its declarations as files, its statements as the
// body of a function. Positions are the cell's (cell:LINE:COL).
func (s *Session) parseCell(src []byte, chunks []chunk, firstLine int) (imports, decls *ast.File, body *ast.BlockStmt, err error) {
	has := map[chunkKind]bool{}
	for _, c := range chunks {
		has[c.kind] = true
	}
	lineDir := fmt.Sprintf("//line cell:%d:1\n", firstLine)
	keep := func(want chunkKind) func(chunkKind) bool { return func(k chunkKind) bool { return k == want } }
	if has[chunkImport] {
		if imports, err = s.parseFile("package main\n" + lineDir + string(blankOut(src, chunks, keep(chunkImport)))); err != nil {
			return nil, nil, nil, err
		}
	}
	if has[chunkDecl] {
		if decls, err = s.parseFile("package main\n" + lineDir + string(blankOut(src, chunks, keep(chunkDecl)))); err != nil {
			return nil, nil, nil, err
		}
	}
	if has[chunkStmt] {
		f, err := s.parseFile("package main\nfunc main() {\n" + lineDir + string(blankOut(src, chunks, keep(chunkStmt))) + "\n}\n")
		if err != nil {
			return nil, nil, nil, err
		}
		body = f.Decls[0].(*ast.FuncDecl).Body
	}
	return imports, decls, body, nil
}

// explainRange replaces yaegi's bare "nil type" (its failure on range over an int
// or a function it was not rewritten for) with a message naming the loop.
func explainRange(err error, m *modernizer) error {
	var e *Error
	if !errors.As(err, &e) || len(m.unknown) == 0 || !strings.Contains(e.Value, "nil type") {
		return err
	}
	msg := m.unknown[0] + ": golem could not tell whether this is a range over an integer or over a function " +
		"(yaegi v0.16.1 runs neither); give the operand a visible type, e.g. n := int(x) or var seq iter.Seq[int] = f"
	return &Error{Name: "CompileError", Value: msg, Traceback: append([]string{msg}, m.unknown[1:]...)}
}

// runProgram runs a cell that is a whole program (package main … func main) the
// way `go run` would: in a fresh interpreter with golem's dialect, so it neither
// sees nor changes the notebook's variables. Its output streams like any cell's.
func (s *Session) runProgram(ctx context.Context, run *cellRun, code string, firstLine int) error {
	sub, err := newInterpreter(interp.Options{
		Stdin: s.stdin, Stdout: s.stdout, Stderr: s.stderr,
		Args: []string{"golem-cell"}, Unrestricted: true,
	}, s.rt, s.stdin, s.stdout, s.stderr, "cell")
	if err != nil {
		return &Error{Name: "RuntimeError", Value: err.Error(), Traceback: []string{err.Error()}}
	}
	main := s.in
	s.in = sub
	defer func() { s.in = main }()
	f, err := s.parseFile(fmt.Sprintf("//line cell:%d:1\n", firstLine) + code)
	if err != nil {
		return err
	}
	if f.Name.Name != "main" {
		return &Error{Name: "CompileError", Value: fmt.Sprintf("a whole-program cell must be package main, not package %s", f.Name.Name),
			Traceback: []string{fmt.Sprintf("cell:%d: package %s: only package main can run", firstLine, f.Name.Name)}}
	}
	hasMain := false
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.Name == "main" {
			hasMain = true
		}
	}
	if !hasMain {
		return &Error{Name: "CompileError", Value: "function main is undeclared in the main package",
			Traceback: []string{fmt.Sprintf("cell:%d: package main has no func main", firstLine)}}
	}
	m, err := s.rewriteProgram(f)
	if err != nil {
		return err
	}
	_, err = s.compileRun(ctx, run, f)
	return explainGeneric(err, m)
}

// parseFile parses generated source with the interpreter's file set, so that
// positions in yaegi's errors are cell positions (through the //line directive).
func (s *Session) parseFile(text string) (*ast.File, error) {
	f, err := parser.ParseFile(s.in.FileSet(), "cell", text, parser.SkipObjectResolution)
	if err != nil {
		return nil, syntaxError(err)
	}
	return f, nil
}

// syntaxError turns parser errors into an *Error with one traceback line each.
func syntaxError(err error) *Error {
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		tb := make([]string, 0, len(list))
		for _, e := range list {
			tb = append(tb, e.Error())
		}
		return &Error{Name: "SyntaxError", Value: list[0].Error(), Traceback: tb}
	}
	return &Error{Name: "SyntaxError", Value: err.Error(), Traceback: []string{err.Error()}}
}

var exitPanic = regexp.MustCompile(`^os\.Exit\((-?\d+)\)$`)

// compileRun compiles node with yaegi (recovering its log.Panic reports) and runs
// it under ctx; a goroutine panic reported while it runs ends the cell too.
func (s *Session) compileRun(ctx context.Context, run *cellRun, node ast.Node) (res reflect.Value, err error) {
	prog, err := s.compile(node)
	if err != nil {
		return res, err
	}
	return s.run(ctx, run, prog)
}

// run executes a compiled program under ctx; a goroutine panic reported while it
// runs ends the cell too.
func (s *Session) run(ctx context.Context, run *cellRun, prog *interp.Program) (res reflect.Value, err error) {
	s.stderr.begin()
	done := make(chan result, 1)
	// Two contexts: the cell's, which lmlib's long calls watch (display.Context), and
	// yaegi's. An interrupt cancels the cell's first, so that training, pipelines,
	// evaluation and generation stop at their next step and the cell runs to its end;
	// only a cell still running after that is stopped in yaegi, which is a last resort:
	// yaegi's stop also disables every func literal created before it. The cell's
	// context is cancelled only by an interrupt: a goroutine the cell started (training
	// in the background) goes on after the cell ends, as a thread does in ipykernel.
	cellCtx, cancelCell := cellContext()
	yctx, stopInterp := context.WithCancel(context.Background())
	defer stopInterp()
	defer display.SetContext(cellCtx)()
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: interp.Panic{Value: p, Stack: debug.Stack()}}
			}
			done <- r
		}()
		r.v, r.err = s.in.ExecuteWithContext(yctx, prog)
	}()
	var r result
	interrupted, hard := false, false
	stack := time.NewTicker(stackPoll)
	defer stack.Stop()
	var stackW stackWatch
	for waiting := true; waiting; {
		select {
		case r = <-done:
			waiting = false
		case <-stack.C:
			if !stackW.runaway() {
				continue
			}
			// Go cannot recover a stack overflow: it would end the process. The
			// recursion is stopped in yaegi before it gets there.
			stopInterp()
			<-done
			waitStackUnwound()
			s.stderr.end()
			return res, s.afterStackStop()
		case gp := <-run.goPanic:
			// One error per cell. The cell is asked to end as an interrupt asks it
			// (its context is cancelled, lmlib's calls return at their next step) and
			// is stopped in yaegi only if it does not end by itself: that stop would
			// disable every func literal made before it.
			cancelCell()
			_, hard := s.finishInterrupted(cellCtx, done, stopInterp)
			s.stderr.end()
			if hard {
				gp = s.afterGoroutinePanicStop(gp)
			}
			return res, gp
		case <-ctx.Done():
			interrupted = true
			cancelCell()
			r, hard = s.finishInterrupted(cellCtx, done, stopInterp)
			waiting = false
		}
	}
	frames := s.stderr.end()
	if interrupted || errors.Is(r.err, context.Canceled) {
		tb := []string{"Interrupted: execution stopped by the user"}
		if hard {
			tb = append(tb, "the interpreter was stopped: functions created from func literals (f := func(…) {…}) before this point no longer run; re-run the cells that create them")
			if !display.WaitCalls(cellCtx, interruptWait) {
				tb = append(tb, fmt.Sprintf("a golem library call of the cell is still running after %v and finishes in the background", interruptWait))
			}
		}
		return res, &Error{Name: "Interrupted", Value: "the cell was interrupted", Traceback: tb}
	}
	if r.err == nil {
		select { // a goroutine that panicked while the cell was finishing
		case gp := <-run.goPanic:
			return res, gp
		default:
		}
		return r.v, nil
	}
	var p interp.Panic
	if errors.As(r.err, &p) {
		return res, panicError(p.Value, frames)
	}
	return res, &Error{Name: "RuntimeError", Value: r.err.Error(), Traceback: []string{r.err.Error()}}
}

// panicError builds the error of a panic: os.Exit and log.Fatal get their own names.
func panicError(v any, frames []string) *Error {
	msg := fmt.Sprint(v)
	if m := exitPanic.FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		return &Error{Name: "Exit", Value: fmt.Sprintf("exit status %d", code),
			Traceback: []string{fmt.Sprintf("os.Exit(%d) called: the kernel keeps running", code)}}
	}
	tb := []string{"panic: " + msg}
	for _, f := range frames {
		tb = append(tb, "\t"+frameName(f))
	}
	if err, ok := v.(error); ok {
		msg = err.Error()
	}
	return &Error{Name: "Panic", Value: msg, Traceback: tb}
}

// cellContext returns a new cell context and its cancel function, which the caller
// keeps for an interrupt only (returned through a function, so that vet's lostcancel
// check does not ask for a cancel on every path).
func cellContext() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// result is what running a cell's program gave.
type result struct {
	v   reflect.Value
	err error
}

// finishInterrupted lets an interrupted cell end by itself: lmlib's long calls in it
// (display.Call) return at their next step, up to interruptWait, and the cell's own
// code then has interruptGrace to finish. A cell still running after that is
// stopped in yaegi (hard). It returns the cell's result.
func (s *Session) finishInterrupted(cellCtx context.Context, done <-chan result, stop func()) (r result, hard bool) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	grace := start.Add(interruptGrace)
	for {
		select {
		case r = <-done:
			return r, false
		case now := <-tick.C:
			if display.CallsRunning(cellCtx) && now.Sub(start) < interruptWait {
				grace = now.Add(interruptGrace) // a library call is finishing its step
			}
			if now.After(grace) {
				stop()
				return <-done, true
			}
		}
	}
}

// interruptGrace is how long an interrupted cell's own code may run on before
// yaegi stops it.
var interruptGrace = time.Second

// interruptWait is how long an interrupted cell waits for lmlib's long calls to
// return at their next step boundary (a training step of a large model on CPU can
// take seconds); after that the cell is stopped and the error says they finish in
// the background.
var interruptWait = 10 * time.Second

// compile runs yaegi's compiler on node, turning its errors and log.Panic reports
// into *Error.
func (s *Session) compile(node ast.Node) (prog *interp.Program, err error) {
	// yaegi's log.Panic also prints its message through the standard logger (to
	// the notebook, via fd 2). While compiling, the logger writes to a buffer; the
	// line of a recovered compile panic is dropped, anything else (a goroutine of
	// an earlier cell logging meanwhile) is passed on afterwards.
	logOut := log.Writer()
	var held logBuffer
	log.SetOutput(&held)
	defer func() {
		log.SetOutput(logOut)
		var drop string
		if p := recover(); p != nil {
			drop = strings.TrimSpace(fmt.Sprint(p))
			err = &Error{Name: "CompileError", Value: drop, Traceback: []string{"yaegi: " + drop}}
		}
		held.flush(logOut, drop)
	}()
	prog, err = s.in.CompileAST(node)
	if err != nil {
		return nil, compileError(err)
	}
	return prog, nil
}

// logBuffer holds the standard logger's output during a compile.
type logBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.lines = append(b.lines, string(p))
	b.mu.Unlock()
	return len(p), nil
}

// flush writes the held lines to w, except those that end with drop.
func (b *logBuffer) flush(w io.Writer, drop string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.lines {
		if drop != "" && strings.HasSuffix(strings.TrimRight(l, "\n"), drop) {
			continue
		}
		io.WriteString(w, l)
	}
	b.lines = nil
}

func compileError(err error) *Error {
	var list scanner.ErrorList
	if errors.As(err, &list) {
		return syntaxError(err)
	}
	tb := strings.Split(err.Error(), "\n")
	for i, l := range tb {
		tb[i] = frameName(l)
	}
	return &Error{Name: "CompileError", Value: tb[0], Traceback: tb}
}
