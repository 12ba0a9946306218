package cell

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	gostd "github.com/golem-lm/golem/cell/stdlib"
	"github.com/golem-lm/golem/cell/symbols"
	"github.com/golem-lm/golem/display"
)

// exitSignal is the panic value of os.Exit and log.Fatal in a cell: the session
// turns it into an *Error named "Exit" instead of ending the process.
type exitSignal struct{ code int }

func (e exitSignal) String() string { return fmt.Sprintf("os.Exit(%d)", e.code) }

// runtimeHooks connects interpreted code to the session that runs it.
type runtimeHooks struct {
	mu        sync.Mutex
	running   *cellRun // the cell now running (nil between cells)
	pending   []*Error // goroutine panics that happened between cells
	result    display.Bundle
	resultErr error // the non-nil error a cell's trailing call returned
	types     []reflect.Type
	onGoPanic func(cell int64, v any, where string)
}

// goPanic receives the panic of a goroutine started by a go statement that ran
// while cell was running (0: between cells).
func (rt *runtimeHooks) goPanic(cell int64, v any, where string) { rt.onGoPanic(cell, v, where) }

// cell is the id of the cell now running (0 between cells).
func (rt *runtimeHooks) cell() int64 {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.running == nil {
		return 0
	}
	return rt.running.id
}

// setResult receives the bundle of a cell's trailing expression.
func (rt *runtimeHooks) setResult(b display.Bundle) {
	rt.mu.Lock()
	rt.result = b
	rt.mu.Unlock()
}

// setTypes receives the dynamic types of values (nil for a nil interface).
func (rt *runtimeHooks) setTypes(vals ...any) {
	ts := make([]reflect.Type, len(vals))
	for i, v := range vals {
		ts[i] = reflect.TypeOf(v)
	}
	rt.mu.Lock()
	rt.types = ts
	rt.mu.Unlock()
}

// takeTypes returns and forgets the last reported types.
func (rt *runtimeHooks) takeTypes() []reflect.Type {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	ts := rt.types
	rt.types = nil
	return ts
}

// takeResult returns and forgets the last result (nil when it is empty) and the
// error of a trailing call that failed.
func (rt *runtimeHooks) takeResult() (display.Bundle, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	b, err := rt.result, rt.resultErr
	rt.result, rt.resultErr = nil, nil
	if len(b) == 0 {
		b = nil
	}
	return b, err
}

// NewInterpreter returns a yaegi interpreter set up with golem's dialect: the
// standard library, golem's own packages (cell/symbols: display, lmlib, functions), the modern-Go
// shims (min, max, clear, the generic slices/maps/cmp/iter functions) and
// os.Exit/log.Fatal turned into panics. Source meant for it should first go through
// Rewrite (range over int and functions, goroutine panic recovery). The function
// host uses it so deployed functions are written in the same Go as notebook cells.
// A panic in a goroutine started by rewritten code is printed to opts.Stderr.
func NewInterpreter(opts interp.Options) (*interp.Interpreter, error) {
	stderr := opts.Stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	rt := &runtimeHooks{onGoPanic: func(_ int64, v any, where string) {
		fmt.Fprintf(stderr, "panic in goroutine started at %s: %v\n", where, v)
	}}
	return newInterpreter(opts, rt, nil, nil, nil, interp.DefaultSourceName)
}

// runtimeExports are the compiled functions that rewritten cells call as
// _golemrt.F (declared in cell/prelude/golemrt): some are bound to rt, the session
// (or function host) the interpreter belongs to.
func runtimeExports(rt *runtimeHooks) map[string]reflect.Value {
	return map[string]reflect.Value{
		"Cell":       reflect.ValueOf(rt.cell),
		"GoPanic":    reflect.ValueOf(rt.goPanic),
		"MakeSize":   reflect.ValueOf(makeSize),
		"Clear":      reflect.ValueOf(clearValue),
		"Format":     reflect.ValueOf(formatValue),
		"Rich":       reflect.ValueOf(richValue),
		"Result":     reflect.ValueOf(rt.setResult),
		"Results":    reflect.ValueOf(rt.setResults),
		"Types":      reflect.ValueOf(rt.setTypes),
		"Zero":       reflect.ValueOf(zeroValues),
		"ClosedChan": reflect.ValueOf(closedChan),
		"Unwrap":     reflect.ValueOf(unwrapError),
	}
}

// unwrapError returns the errors err wraps (nil: none).
func unwrapError(err error) []error {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if inner := u.Unwrap(); inner != nil {
			return []error{inner}
		}
	case interface{ Unwrap() []error }:
		return u.Unwrap()
	}
	return nil
}

// newInterpreter builds an interpreter; stdin/stdout/stderr, when not nil, replace
// os.Stdin/os.Stdout/os.Stderr inside cells (they are then io.Reader/io.Writer).
//
// yaegi keys imports by the file name of the code that imports them, so the
// prelude is compiled under fileName: the name later code is compiled under
// ("cell" for the session, interp.DefaultSourceName for plain Eval).
func newInterpreter(opts interp.Options, rt *runtimeHooks, stdin io.Reader, stdout, stderr io.Writer, fileName string) (in *interp.Interpreter, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("set up interpreter: %v", p)
		}
	}()
	in = interp.New(opts)
	if err := in.Use(stdlib.Symbols); err != nil {
		return nil, fmt.Errorf("load standard library symbols: %w", err)
	}
	// after yaegi's tables: what the installed Go added since Go 1.22
	if err := in.Use(gostd.Symbols); err != nil {
		return nil, fmt.Errorf("load the standard library symbols of the installed Go: %w", err)
	}
	if err := in.Use(symbols.Symbols); err != nil {
		return nil, fmt.Errorf("load golem symbols: %w", err)
	}
	if err := in.Use(interp.Exports{rtPath + "/golemrt": runtimeExports(rt)}); err != nil {
		return nil, fmt.Errorf("load golem runtime: %w", err)
	}
	osSyms := map[string]reflect.Value{
		"Exit": reflect.ValueOf(func(code int) { panic(exitSignal{code}) }),
	}
	if stdin != nil {
		osSyms["Stdin"] = reflect.ValueOf(&stdin).Elem()
	}
	if stdout != nil {
		osSyms["Stdout"] = reflect.ValueOf(&stdout).Elem()
	}
	if stderr != nil {
		osSyms["Stderr"] = reflect.ValueOf(&stderr).Elem()
	}
	logSyms := map[string]reflect.Value{}
	if out, ok := in.Symbols("log")["log"]["Output"]; ok {
		if output, ok := out.Interface().(func(int, string) error); ok {
			fatal := func(s string) { output(3, s); panic(exitSignal{1}) }
			logSyms["Fatal"] = reflect.ValueOf(func(v ...any) { fatal(fmt.Sprint(v...)) })
			logSyms["Fatalf"] = reflect.ValueOf(func(f string, v ...any) { fatal(fmt.Sprintf(f, v...)) })
			logSyms["Fatalln"] = reflect.ValueOf(func(v ...any) { fatal(fmt.Sprintln(v...)) })
		}
	}
	if err := in.Use(interp.Exports{"os/os": osSyms, "log/log": logSyms}); err != nil {
		return nil, fmt.Errorf("override os symbols: %w", err)
	}
	if stdin != nil {
		// fmt.Scan* read the same line-buffered stdin as os.Stdin. (Use with a
		// "fmt/fmt" key would reload the whole standard library, so the
		// interpreter's own table is patched.)
		if fmtSyms := in.Symbols("fmt")["fmt"]; fmtSyms != nil {
			fmtSyms["Scan"] = reflect.ValueOf(func(a ...any) (int, error) { return fmt.Fscan(stdin, a...) })
			fmtSyms["Scanln"] = reflect.ValueOf(func(a ...any) (int, error) { return fmt.Fscanln(stdin, a...) })
			fmtSyms["Scanf"] = reflect.ValueOf(func(f string, a ...any) (int, error) { return fmt.Fscanf(stdin, f, a...) })
		}
	}
	if err := compilePrelude(in, fileName); err != nil {
		return nil, err
	}
	return in, nil
}

// stdinReader is the interpreter's standard input: each time a cell reads and the
// buffer is empty it asks the frontend for one line (input_request) and hands it
// out with its newline. It returns io.EOF when the frontend does not allow stdin.
type stdinReader struct {
	mu  sync.Mutex
	ask func(prompt string, password bool) (string, error)
	buf []byte
}

func (r *stdinReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		if r.ask == nil {
			return 0, io.EOF
		}
		line, err := r.ask("", false)
		if err != nil {
			return 0, err
		}
		r.buf = append(r.buf, line...)
		r.buf = append(r.buf, '\n')
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// panicFilter is the interpreter's stderr. yaegi prints one line
// "cell:L:C: panic: main.f(...)" per interpreted frame while a panic unwinds; while
// a cell runs those lines are kept (they become the error's traceback) instead of
// being streamed. Everything else passes through at once.
type panicFilter struct {
	w      io.Writer
	mu     sync.Mutex
	on     bool
	frames []string
}

var panicFrame = regexp.MustCompile(`^(cell|_\.go|[^\s:]+\.go|[^\s:]+\.go/cell):\d+:\d+: panic(: .*)?\n?$`)

// Generated code is compiled under the cell's file name (yaegi keys imports by
// it) at line numbers far beyond any cell; frameName renames those positions.
const (
	preludeLine  = 1000001 // the prelude and its shims
	resultLine   = 2000001 // the function computing a cell's result
	funcBodyLine = 3000001 // statements run as a function body
)

var framePos = regexp.MustCompile(`^cell:(\d+):(\d+)`)

// frameName maps a position of generated code to golem-prelude:L:C,
// golem-result:L:C or golem-func:L:C; user positions are left alone.
func frameName(line string) string {
	m := framePos.FindStringSubmatchIndex(line)
	if m == nil {
		return line
	}
	n, _ := strconv.Atoi(line[m[2]:m[3]])
	for _, g := range []struct {
		base int
		name string
	}{{funcBodyLine, "golem-func"}, {resultLine, "golem-result"}, {preludeLine, "golem-prelude"}} {
		if n >= g.base {
			return fmt.Sprintf("%s:%d:%s", g.name, n-g.base+1, line[m[4]:m[5]]) + line[m[1]:]
		}
	}
	return line
}

func (f *panicFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	if f.on && panicFrame.Match(p) {
		f.frames = append(f.frames, strings.TrimRight(string(p), "\n"))
		f.mu.Unlock()
		return len(p), nil
	}
	f.mu.Unlock()
	return f.w.Write(p)
}

func (f *panicFilter) begin() {
	f.mu.Lock()
	f.on, f.frames = true, nil
	f.mu.Unlock()
}

func (f *panicFilter) end() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.on = false
	fr := f.frames
	f.frames = nil
	return fr
}

// formatValue is the text/plain form of a cell result: Go's %v, except strings
// (and errors' messages are left as is) are quoted like %q so "" and spaces show.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	}
	// fmt calls Error and String, and shows "<nil>" where they panic on a nil
	// pointer
	return fmt.Sprintf("%v", v)
}

// symbols is in.Symbols(path) without its panics (it fails on source packages
// that declare generic types, such as the iter shim).
func (s *Session) symbols(path string) (out interp.Exports) {
	defer func() {
		if recover() != nil {
			out = nil
		}
	}()
	return s.in.Symbols(path)
}

// globals is in.Globals() without its panic after a failed compile (yaegi adds
// the symbols of a cell that did not compile without growing the frame).
func (s *Session) globals() (g map[string]reflect.Value) {
	defer func() {
		if recover() != nil {
			g = map[string]reflect.Value{}
		}
	}()
	return s.in.Globals()
}
