package cell

// Compiling and running code in yaegi: recovering its log.Panic reports, streaming
// the output, turning panics into errors, interrupts in two stages, and the stack
// watch (stale.go) while a cell runs.

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/scanner"
	"io"
	"log"
	"reflect"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/traefik/yaegi/interp"

	"github.com/golem-lm/golem/display"
)

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
	filter := s.stderr
	if run.concurrent { // the panic frames printed meanwhile stay with the main cell's filter
		filter = &panicFilter{w: io.Discard}
	}
	filter.begin()
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
	if !run.concurrent { // display.Context stays the main shell's cell's
		defer display.SetContext(cellCtx)()
	}
	in := s.in
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r = result{err: interp.Panic{Value: p, Stack: debug.Stack()}}
			}
			done <- r
		}()
		r.v, r.err = s.execProgram(yctx, run, in, prog)
	}()
	if !run.concurrent && !run.noYield {
		// While the main shell's code is inside a long library call, a subshell's
		// cell may compile and run (concurrent.go).
		s.turns.runBegin(cellCtx)
		defer s.turns.runEnd()
	}
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
			filter.end()
			return res, s.afterStackStop()
		case gp := <-run.goPanic:
			// One error per cell. The cell is asked to end as an interrupt asks it
			// (its context is cancelled, lmlib's calls return at their next step) and
			// is stopped in yaegi only if it does not end by itself: that stop would
			// disable every func literal made before it.
			cancelCell()
			_, hard := s.finishInterrupted(cellCtx, done, stopInterp)
			filter.end()
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
	frames := filter.end()
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
