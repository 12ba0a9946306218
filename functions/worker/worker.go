// Package worker is the process that runs user functions for the golem function host.
//
// The host (package functions) starts `golem worker` and talks to it over pipes: it
// writes one JSON Request per line to the worker's stdin and reads JSON Responses
// from file descriptor 3. Whatever the function prints to stdout or stderr goes to
// the host as log lines; after each request the worker writes an end marker there so
// the host knows it has every line of that call. The worker never enforces limits
// itself: the host kills it on timeout, memory or cancel, and a panic in a goroutine
// of the user's code kills only this process.
package worker

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/golem-lm/golem/cell"
	"github.com/golem-lm/golem/cell/symbols"
	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// Operations of a Request.
const (
	OpCompile = "compile" // compile Source and check Entry's signature
	OpCheck   = "check"   // decode Input into Entry's input type without calling it
	OpCall    = "call"    // call Entry with Input
	// OpBind dedicates the worker to Function and writes its Secrets into the
	// worker's secrets directory (GOLEM_SECRETS_DIR, read by fn.Secret). A bound
	// worker refuses requests for any other function.
	OpBind = "bind"
)

// Request is one line the host writes to the worker.
type Request struct {
	ID       string            `json:"id"`
	Op       string            `json:"op"`
	Function string            `json:"function,omitempty"`
	Secrets  map[string]string `json:"secrets,omitempty"`
	Source   string            `json:"source"`
	Entry    string            `json:"entry,omitempty"`
	Input    json.RawMessage   `json:"input,omitempty"`
	Strict   bool              `json:"strict,omitempty"`
	Timeout  time.Duration     `json:"timeout,omitempty"`
	MemoryMB int64             `json:"memory_mb,omitempty"`
}

// Response types.
const (
	TypeProgress = "progress"
	TypeResult   = "result"
	TypeError    = "error"
)

// Response is one message the worker writes back; a request gets any number of
// progress responses and then exactly one result or error.
type Response struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Output    json.RawMessage `json:"output,omitempty"`
	Signature string          `json:"signature,omitempty"`
	Dialect   string          `json:"dialect,omitempty"`
	Error     string          `json:"error,omitempty"`
	Kind      string          `json:"kind,omitempty"`
	Field     string          `json:"field,omitempty"`
	Progress  float64         `json:"progress,omitempty"`
	Note      string          `json:"note,omitempty"`
	// Recycle asks the host to replace this worker after the call: the function left
	// goroutines or processes running, or the worker holds many compiled functions.
	Recycle bool `json:"recycle,omitempty"`
}

// EndMarker starts the line the worker prints to stdout after each request.
const EndMarker = "\x1egolem-end "

// Main runs the worker loop until in is closed. Responses go to out; function
// output is whatever the process's stdout and stderr are.
func Main(in io.Reader, out io.Writer) error {
	w := &worker{out: json.NewEncoder(out), cache: map[string]*compiled{}}
	dec := json.NewDecoder(bufio.NewReaderSize(in, 1<<16))
	for {
		var req Request
		if err := dec.Decode(&req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("worker: read request: %w", err)
		}
		resp := w.handle(&req)
		resp.ID = req.ID
		fmt.Fprintf(os.Stdout, "%s%s\n", EndMarker, req.ID)
		w.send(resp)
	}
}

// RunProcess is the body of `golem worker`: requests on stdin, responses on fd 3.
func RunProcess() error {
	var st syscall.Stat_t
	if err := syscall.Fstat(3, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		return errors.New("file descriptor 3 is not the response pipe: golem worker is started by golem serve, not by hand")
	}
	return Main(os.Stdin, os.NewFile(3, "golem-worker-responses"))
}

type worker struct {
	mu    sync.Mutex
	out   *json.Encoder
	cache map[string]*compiled
	bound string // the function this worker is dedicated to, once bound
}

func (w *worker) send(r Response) {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.out.Encode(r)
}

type compiled struct {
	fn        reflect.Value
	withCtx   bool
	in        reflect.Type // nil when the function takes no input
	resultIdx int          // index of the result value, -1 when only error
	errIdx    int          // index of the error, -1 when none
	signature string
}

var (
	ctxType = reflect.TypeOf((*context.Context)(nil)).Elem()
	errType = reflect.TypeOf((*error)(nil)).Elem()
)

// NewInterpreter makes the interpreter one function's source is compiled in: the
// notebook kernel's (cell.NewInterpreter: the standard library, golem's lmlib
// packages, the modern-Go shims) plus package fn, so a deployed function is written
// in the same Go as a notebook cell. Should the kernel's set-up fail, the worker
// uses plain yaegi with the standard library and lmlib, and says so in the
// Dialect of its compile responses.
func NewInterpreter() (*interp.Interpreter, error) {
	// The worker's environment (the host strips its API keys) is the function's. A
	// panic in a goroutine of the function is reported on stderr and ends the worker,
	// as it would a compiled program.
	opts := interp.Options{Env: os.Environ(), Stderr: goPanicExit{}}
	i, err := cell.NewInterpreter(opts)
	if err != nil {
		plainOnce.Do(func() { dialect = "plain yaegi (notebook dialect unavailable: " + err.Error() + ")" })
		i = interp.New(opts)
		if err := i.Use(stdlib.Symbols); err != nil {
			return nil, err
		}
		if err := i.Use(symbols.Symbols); err != nil {
			return nil, err
		}
	}
	if err := i.Use(fn.Symbols); err != nil {
		return nil, err
	}
	return i, nil
}

// goPanicExit is the interpreter's stderr: it passes everything on, and exits the
// process after the kernel runtime's report of a panic in a goroutine.
type goPanicExit struct{}

func (goPanicExit) Write(b []byte) (int, error) {
	n, err := os.Stderr.Write(b)
	if bytes.HasPrefix(b, []byte("panic in goroutine")) {
		os.Exit(2)
	}
	return n, err
}

var (
	plainOnce sync.Once
	dialect   = "notebook" // what NewInterpreter gave: reported with each compile
)

// compile evaluates source and finds entry. The source first goes through the
// notebook's rewrite (cell.Rewrite: range over int and functions, min/max/clear,
// the generic slices/maps functions, recovered goroutine panics); when the rewritten
// source does not compile, the original is compiled too, so errors carry the
// positions of what the user wrote.
func compile(source, entry string) (*compiled, error) {
	if entry == "" {
		entry = "Handle"
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "function.go", source, parser.PackageClauseOnly)
	if err != nil {
		return nil, err
	}
	pkg := f.Name.Name
	var rwErr error
	if dialect == "notebook" {
		// The shims live in package main of the interpreter: compile the function
		// there (each function has an interpreter of its own).
		off := fset.Position(f.Name.Pos()).Offset
		asMain := source[:off] + "main" + source[off+len(pkg):]
		rewritten, err := cell.Rewrite(asMain)
		if err == nil {
			rewritten, err = dropPreludeImports(rewritten)
		}
		if err == nil {
			var c *compiled
			if c, err = evalEntry(rewritten, "main", entry); err == nil {
				return c, nil
			}
			rwErr = err
		}
	}
	c, err := evalEntry(source, pkg, entry)
	if err != nil && rwErr != nil && !strings.HasPrefix(err.Error(), "function.go:") {
		// The original fails on what only the rewrite handles (yaegi says "nil
		// type" and no position): the rewrite's error is the useful one.
		return nil, fmt.Errorf("%v (line:column of the source as rewritten for the notebook dialect)", rwErr)
	}
	return c, err
}

// preludeImports are imported by the kernel's interpreter set-up already; importing
// them again in package main is an error in yaegi ("redeclared in this block").
var preludeImports = map[string]string{"strings": "strings", "sort": "sort", "github.com/golem-lm/golem/display": "display"}

// dropPreludeImports removes the imports of preludeImports under their own names.
func dropPreludeImports(src string) (string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "function.go", src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	decls := f.Decls[:0]
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT {
			decls = append(decls, d)
			continue
		}
		specs := g.Specs[:0]
		for _, sp := range g.Specs {
			is := sp.(*ast.ImportSpec)
			path, _ := strconv.Unquote(is.Path.Value)
			if name, ok := preludeImports[path]; ok && (is.Name == nil || is.Name.Name == name) {
				continue
			}
			specs = append(specs, sp)
		}
		if len(specs) > 0 {
			g.Specs = specs
			decls = append(decls, g)
		}
	}
	f.Decls = decls
	var b strings.Builder
	if err := printer.Fprint(&b, fset, f); err != nil {
		return "", err
	}
	return b.String(), nil
}

// evalEntry evaluates source in a fresh interpreter and inspects pkg.entry.
func evalEntry(source, pkg, entry string) (c *compiled, err error) {
	defer func() { // yaegi reports some errors by panicking
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%v", r)
		}
	}()
	i, err := NewInterpreter()
	if err != nil {
		return nil, err
	}
	if _, err := i.Eval(source); err != nil {
		msg := err.Error()
		if msg != "" && msg[0] >= '0' && msg[0] <= '9' {
			msg = "function.go:" + msg // yaegi gives line:col without a file name
		}
		msg = strings.ReplaceAll(msg, "_.go:", "function.go:")
		return nil, errors.New(msg)
	}
	v, err := i.Eval(pkg + "." + entry)
	if err != nil && pkg == "main" {
		v, err = i.Eval(entry)
	}
	if err != nil {
		return nil, fmt.Errorf("entry point %s.%s: %v", pkg, entry, err)
	}
	return inspect(v, entry)
}

// inspect checks a function value has an accepted shape:
// func([context.Context,] [In]) ([Out,] [error]) with at most one of each.
func inspect(v reflect.Value, entry string) (*compiled, error) {
	if !v.IsValid() || v.Kind() != reflect.Func {
		return nil, fmt.Errorf("%s is not a function", entry)
	}
	t := v.Type()
	c := &compiled{fn: v, resultIdx: -1, errIdx: -1, signature: fmt.Sprint(t)}
	args := t.NumIn()
	k := 0
	if args > 0 && t.In(0) == ctxType {
		c.withCtx = true
		k = 1
	}
	switch args - k {
	case 0:
	case 1:
		c.in = t.In(k)
	default:
		return nil, fmt.Errorf("%s has %d parameters; want func([context.Context,] Input) (Output, error)", entry, args)
	}
	if t.IsVariadic() {
		return nil, fmt.Errorf("%s is variadic; want func([context.Context,] Input) (Output, error)", entry)
	}
	switch t.NumOut() {
	case 0:
	case 1:
		if t.Out(0) == errType {
			c.errIdx = 0
		} else {
			c.resultIdx = 0
		}
	case 2:
		if t.Out(1) != errType {
			return nil, fmt.Errorf("%s: second result is %s; want error", entry, t.Out(1))
		}
		c.resultIdx, c.errIdx = 0, 1
	default:
		return nil, fmt.Errorf("%s has %d results; want (Output, error)", entry, t.NumOut())
	}
	return c, nil
}

func (w *worker) get(source, entry string) (*compiled, error) {
	sum := sha256.Sum256([]byte(entry + "\x00" + source))
	key := hex.EncodeToString(sum[:])
	if c, ok := w.cache[key]; ok {
		return c, nil
	}
	c, err := compile(source, entry)
	if err != nil {
		return nil, err
	}
	w.cache[key] = c
	return c, nil
}

func (w *worker) handle(req *Request) Response {
	if req.Op == OpBind {
		return w.bind(req)
	}
	if w.bound != "" && req.Function != w.bound {
		return Response{Type: TypeError, Kind: api.KindInternal, Error: fmt.Sprintf("this worker serves function %q only, not %q", w.bound, req.Function)}
	}
	c, err := w.get(req.Source, req.Entry)
	if err != nil {
		return Response{Type: TypeError, Kind: api.KindCompile, Error: err.Error()}
	}
	if req.Op == OpCompile {
		return Response{Type: TypeResult, Signature: c.signature, Dialect: dialect}
	}
	args := make([]reflect.Value, 0, 2)
	if c.withCtx {
		args = append(args, reflect.Value{}) // filled below
	}
	if c.in != nil {
		v, field, err := DecodeInput(req.Input, c.in, req.Strict)
		if err != nil {
			return Response{Type: TypeError, Kind: api.KindInput, Field: field, Error: err.Error()}
		}
		args = append(args, v)
	}
	if req.Op == OpCheck {
		return Response{Type: TypeResult}
	}
	if req.Op != OpCall {
		return Response{Type: TypeError, Kind: api.KindInternal, Error: fmt.Sprintf("unknown op %q", req.Op)}
	}
	ctx := context.Background()
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	ctx = fn.WithReporter(ctx, progressFunc(func(f float64, note string) {
		w.send(Response{ID: req.ID, Type: TypeProgress, Progress: f, Note: note})
	}))
	if c.withCtx {
		args[0] = reflect.ValueOf(&ctx).Elem()
	}
	if req.MemoryMB > 0 {
		debug.SetMemoryLimit(req.MemoryMB << 20 * 9 / 10)
	}
	before := runtime.NumGoroutine()
	restore := display.SetContext(ctx) // lmlib calls without a context of their own stop with the call
	resp := c.call(args)
	restore()
	resp.Recycle = len(w.cache) > maxCached || leftGoroutines(before) || leftProcesses()
	return resp
}

// leftProcesses reports whether the function left processes running in the
// worker's sandbox (whose /proc shows only the sandbox's own processes: its init
// and this worker). Outside a sandbox it cannot tell and says no.
func leftProcesses() bool {
	if os.Getenv("GOLEM_SANDBOX") == "" {
		return false
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == 1 || pid == self {
			continue
		}
		if st, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil && bytes.Contains(st, []byte(") Z ")) {
			continue // a zombie the worker has not reaped: gone already
		}
		return true
	}
	return false
}

// bind dedicates the worker to one function and stores that function's secrets
// as files (mode 0400) in GOLEM_SECRETS_DIR.
func (w *worker) bind(req *Request) Response {
	if w.bound != "" {
		return Response{Type: TypeError, Kind: api.KindInternal, Error: fmt.Sprintf("worker already serves function %q", w.bound)}
	}
	if req.Function == "" {
		return Response{Type: TypeError, Kind: api.KindInternal, Error: "bind: no function named"}
	}
	dir := os.Getenv("GOLEM_SECRETS_DIR")
	if len(req.Secrets) > 0 && dir == "" {
		return Response{Type: TypeError, Kind: api.KindInternal, Error: "bind: the worker has no secrets directory (GOLEM_SECRETS_DIR)"}
	}
	for name, value := range req.Secrets {
		if !fn.ValidSecretName(name) {
			return Response{Type: TypeError, Kind: api.KindInternal, Error: fmt.Sprintf("bind: bad secret name %q", name)}
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o400); err != nil {
			return Response{Type: TypeError, Kind: api.KindInternal, Error: "bind: write secret " + name + ": " + err.Error()}
		}
	}
	w.bound = req.Function
	return Response{Type: TypeResult}
}

// maxCached is how many compiled functions a worker keeps before it asks to be
// replaced (yaegi does not give an interpreter's memory back).
const maxCached = 16

// leftGoroutines reports whether more goroutines run than before the call, after
// giving finishing ones a moment.
func leftGoroutines(before int) bool {
	for i := 0; i < 5; i++ {
		if runtime.NumGoroutine() <= before {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

func (c *compiled) call(args []reflect.Value) (resp Response) {
	defer func() {
		if r := recover(); r != nil {
			resp = Response{Type: TypeError, Kind: api.KindPanic, Error: fmt.Sprintf("panic: %v", r)}
		}
	}()
	outs := c.fn.Call(args)
	if c.errIdx >= 0 {
		if e := outs[c.errIdx]; !e.IsNil() {
			return Response{Type: TypeError, Kind: api.KindUser, Error: e.Interface().(error).Error()}
		}
	}
	if c.resultIdx < 0 {
		return Response{Type: TypeResult, Output: json.RawMessage("null")}
	}
	b, err := json.Marshal(outs[c.resultIdx].Interface())
	if err != nil {
		return Response{Type: TypeError, Kind: api.KindUser, Error: "encode result: " + err.Error()}
	}
	return Response{Type: TypeResult, Output: b}
}

type progressFunc func(float64, string)

func (p progressFunc) Progress(f float64, note string) { p(f, note) }

// DecodeInput decodes JSON input into a new value of type t. Empty input decodes as
// the zero value. With strict, fields t does not have and trailing data are errors.
// On error it names the field at fault where it can.
func DecodeInput(input []byte, t reflect.Type, strict bool) (reflect.Value, string, error) {
	v := reflect.New(t)
	if len(strings.TrimSpace(string(input))) == 0 {
		return v.Elem(), "", nil
	}
	dec := json.NewDecoder(strings.NewReader(string(input)))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v.Interface()); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				return reflect.Value{}, "", fmt.Errorf("input: JSON %s does not fit the input type %s", te.Value, t)
			}
			return reflect.Value{}, field, fmt.Errorf("input field %q: JSON %s does not fit Go type %s", field, te.Value, te.Type)
		case errors.As(err, &se):
			return reflect.Value{}, "", fmt.Errorf("input is not valid JSON (offset %d): %v", se.Offset, err)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return reflect.Value{}, field, fmt.Errorf("input field %q: the input type has no such field", field)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return reflect.Value{}, "", fmt.Errorf("input is not valid JSON: unexpected end of input")
		}
		return reflect.Value{}, "", fmt.Errorf("input: %v", err)
	}
	if strict {
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return reflect.Value{}, "", errors.New("input: data after the JSON value")
		}
	}
	return v.Elem(), "", nil
}
