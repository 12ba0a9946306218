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
// inspection and is-complete requests, runs a Jupyter subshell's cells beside the
// main cell's long library calls (concurrent.go) and is debugged through yaegi's
// debugger (debug.go).
//
// A cell's Go goes through one ordered table of passes (passes.go) that rewrite it
// into what yaegi runs and then run it; each gap of yaegi a pass closes has a file
// named after it that opens with the bug (rangeint.go, tuple.go, …), and the Go
// the rewritten code calls is the prelude, ordinary files in cell/prelude. The
// Jupyter wire protocol lives in the kernel package; this package knows nothing
// about sockets. What a cell can import from golem is in cell/symbols.
package cell

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

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

	explained bool // the message already says which names are undefined (undefined.go)
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

	mu sync.Mutex // held while a cell of the main shell runs
	// turns decides whose turn it is to compile and run: the main shell's cell
	// or a subshell's (concurrent.go).
	turns turns
	in    *interp.Interpreter
	rt    *runtimeHooks
	st    *cellState

	closed atomic.Bool
	cells  atomic.Int64 // cells run so far (the id of the last one)
	reexec atomic.Value // string: the kernel binary a %get asked to restart into (get.go)

	debug debugState // the Jupyter debugger (debug.go)
}

// cellState is what the session remembers about the user's code across cells.
type cellState struct {
	typeVer  map[string]int          // type name -> how many times it was declared
	generics map[string]bool         // names of generic functions the user declared
	imports  map[string]string       // package name in cells -> import path
	names    map[string]bool         // package-level names the user declared
	types    map[string]*typeInfo    // declared types (fields, methods, source)
	funcs    map[string]string       // declared functions -> source of the signature
	funcSrc  map[string]string       // declared functions -> whole source (Inspect with detail)
	methods  map[string]string       // declared methods by name -> source of the last one's signature
	results  map[string]int          // result counts of declared functions (".M" for methods)
	rtypes   map[reflect.Type]string // yaegi's reflect types of the user's struct types
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
		names: map[string]bool{}, types: map[string]*typeInfo{}, funcs: map[string]string{}, funcSrc: map[string]string{}, methods: map[string]string{}, results: map[string]int{},
		compiled: map[string]reflect.Type{}, defined: map[string]bool{}, hidden: map[string]bool{}}
}

// cellRun is the bookkeeping of the cell being executed.
type cellRun struct {
	id      int64       // 1, 2, … in the order cells run
	goPanic chan *Error // first panic of a goroutine started by a cell, while this cell runs
	// concurrent: a subshell's cell (concurrent.go), run beside the main shell's;
	// noYield: the main cell keeps the yaegi lock while its code runs (a
	// whole-program cell, which swaps the interpreter)
	concurrent, noYield bool
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
	s.turns.init()
	registerSession(s)
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
	unregisterSession(s)
	if s.tryLockIdle() {
		s.in = nil
		s.unlockIdle()
	}
}

// tryLockIdle takes both locks when no cell runs (Complete, Inspect, Close).
func (s *Session) tryLockIdle() bool {
	if !s.mu.TryLock() {
		return false
	}
	if !s.turns.trySub() {
		s.mu.Unlock()
		return false
	}
	return true
}

func (s *Session) unlockIdle() { s.turns.subEnd(); s.mu.Unlock() }

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

// Execute runs one cell. Cancelling ctx is an interrupt, in two stages: the
// cell's context (display.Context) is cancelled, so that golem's long library
// calls return at their next step (Execute waits up to 10 s for them), and a cell
// still running a second after that is stopped in yaegi; Execute then returns an
// *Error named "Interrupted". The returned bundle is the execute_result (nil when
// the cell has no trailing expression). All user-visible failures come back as
// *Error.
func (s *Session) Execute(ctx context.Context, code string) (display.Bundle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.turns.mainBegin()
	defer s.turns.mainEnd()
	return s.execute(ctx, code, false)
}

// execute runs a cell holding the yaegi lock (and, unless concurrent, the main lock).
func (s *Session) execute(ctx context.Context, code string, concurrent bool) (display.Bundle, error) {
	if s.closed.Load() || s.in == nil {
		return nil, &Error{Name: "SessionClosed", Value: "the session was closed"}
	}
	run := &cellRun{id: s.cells.Add(1), goPanic: make(chan *Error, 1), concurrent: concurrent}
	s.rt.mu.Lock()
	pending := s.rt.pending
	s.rt.pending = nil
	prev := s.rt.running // the main shell's cell, when this one is a subshell's
	s.rt.running = run
	s.rt.mu.Unlock()
	defer func() {
		s.rt.mu.Lock()
		s.rt.running = prev
		s.rt.mu.Unlock()
	}()
	for _, e := range pending {
		reportEarlierPanic(s.opts.Stderr, e)
	}
	if !concurrent {
		defer s.debug.beginCell(code)()
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

// runGo runs Go source that starts at line firstLine of the cell: it parses it
// and walks the passes (passes.go) over it, the last of which runs it.
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
	file := s.lineFile()
	imports, decls, body, err := parseCellAs(s.in.FileSet(), file, src, chunks, firstLine)
	if err != nil {
		return nil, err
	}
	// What the cell defines, so that a failing cell can take it back
	// (undefined.go).
	for _, id := range topNames(imports, decls, body) {
		run.defined = append(run.defined, id.Name)
	}
	u := newUnit(&sessionEnv{s: s}, s.in.FileSet(), imports, decls, body)
	u.sess = &cellExec{s: s, ctx: ctx, run: run, last: last}
	defer func() {
		if err == nil {
			return
		}
		// in the words of Go, from the cell as written
		err = explainRange(err, u.unknown)
		err = explainGeneric(err, u.res)
		if imports, decls, body, perr := parseCellAs(s.in.FileSet(), file, src, chunks, firstLine); perr == nil {
			err = s.explainCompileError(err, imports, decls, body)
		}
	}()
	if err := u.rewrite(); err != nil {
		return nil, err
	}
	return u.sess.result, nil
}

// parseCell parses the chunks of a cell's Go source (src starts at line firstLine
// of the cell): its imports and its declarations as files, its statements as the
// body of a function. Positions are the cell's (cell:LINE:COL).
func parseCell(fset *token.FileSet, src []byte, chunks []chunk, firstLine int) (imports, decls *ast.File, body *ast.BlockStmt, err error) {
	return parseCellAs(fset, "cell", src, chunks, firstLine)
}

// parseCellAs is parseCell with positions in file (the debugger's file of the
// cell while a client is attached, debug.go).
func parseCellAs(fset *token.FileSet, file string, src []byte, chunks []chunk, firstLine int) (imports, decls *ast.File, body *ast.BlockStmt, err error) {
	has := map[chunkKind]bool{}
	for _, c := range chunks {
		has[c.kind] = true
	}
	lineDir := fmt.Sprintf("//line %s:%d:1\n", file, firstLine)
	keep := func(want chunkKind) func(chunkKind) bool { return func(k chunkKind) bool { return k == want } }
	if has[chunkImport] {
		if imports, err = parseSource(fset, "package main\n"+lineDir+string(blankOut(src, chunks, keep(chunkImport)))); err != nil {
			return nil, nil, nil, err
		}
	}
	if has[chunkDecl] {
		if decls, err = parseSource(fset, "package main\n"+lineDir+string(blankOut(src, chunks, keep(chunkDecl)))); err != nil {
			return nil, nil, nil, err
		}
	}
	if has[chunkStmt] {
		f, err := parseSource(fset, "package main\nfunc main() {\n"+lineDir+string(blankOut(src, chunks, keep(chunkStmt)))+"\n}\n")
		if err != nil {
			return nil, nil, nil, err
		}
		body = f.Decls[0].(*ast.FuncDecl).Body
	}
	return imports, decls, body, nil
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
	run.noYield = true // a subshell cell must not see the swapped interpreter
	defer func() { s.in, run.noYield = main, false }()
	f, err := s.parseFile(fmt.Sprintf("//line %s:%d:1\n", s.lineFile(), firstLine) + code)
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
	dropPreludeImports(f)
	u, err := rewriteFile(f, sub.FileSet())
	if err != nil {
		return err
	}
	_, err = s.compileRun(ctx, run, f)
	return explainGeneric(err, u.res)
}

// parseFile parses generated source with the interpreter's file set, so that
// positions in yaegi's errors are cell positions (through the //line directive).
func (s *Session) parseFile(text string) (*ast.File, error) { return parseSource(s.in.FileSet(), text) }

// parseSource parses generated source under the file name "cell".
func parseSource(fset *token.FileSet, text string) (*ast.File, error) {
	f, err := parser.ParseFile(fset, "cell", text, parser.SkipObjectResolution)
	if err != nil {
		return nil, syntaxError(err)
	}
	return f, nil
}
