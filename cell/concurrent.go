package cell

// Cells of Jupyter subshells (JEP 91): a subshell's cell runs beside the main
// shell's, in the same interpreter, so it sees the notebook's variables (the model
// being trained, its train.Progress).
//
// yaegi v0.16.1 does not allow two Evals on one interpreter at once: compiling
// changes the interpreter's scopes and global frame (measured with go test -race:
// the start of one program's Execute, which resizes the global frame, races with
// another's compile reading it), and the session's maps of declared names and
// types change with every cell. So a subshell's cell never runs beside the main
// shell's interpreted code. It runs beside it only while the main cell's code is
// inside a long golem library call (display.Call: train.Train, Resume, FineTune,
// data.Pipeline.Run, eval.Generate, …), where that code is compiled Go and touches
// no interpreter state; or, of course, when no main cell runs. A subshell cell
// sent while the main cell runs interpreted code (a loop, time.Sleep) waits for
// the next such call or for the cell's end. When the library call returns while a
// subshell cell runs, the main cell waits for it. Subshell cells run one at a time.
//
// A subshell cell must not wait for the main cell (a channel the main cell sends
// on later): the main cell may be waiting for it, and both would wait forever.

//
// What a subshell cell shares with the main cell is shared memory without any
// guard: reading a variable the main cell is writing is a data race. Read what is
// built for it — train.Current().Snapshot(), Progress.WithModel — or values the
// main cell no longer changes.

import (
	"context"
	"reflect"
	"sync"

	"github.com/traefik/yaegi/interp"

	"github.com/golem-lm/golem/display"
)

// ExecuteConcurrent runs one cell of a subshell (see the file comment): at once
// when no cell runs, beside the main shell's cell while that cell is inside a long
// library call, and otherwise as soon as one of the two holds. Cancelling ctx
// interrupts this cell; a cell that must be stopped inside yaegi stops every
// program running in the interpreter, the main cell's too (yaegi's stop is
// global).
func (s *Session) ExecuteConcurrent(ctx context.Context, code string) (display.Bundle, error) {
	s.turns.subBegin()
	defer s.turns.subEnd()
	return s.execute(ctx, code, true)
}

// execProgram runs a compiled program in the interpreter in (under the
// debugger, debug.go, when a client is attached and the cell is the main
// shell's).
func (s *Session) execProgram(ctx context.Context, run *cellRun, in *interp.Interpreter, prog *interp.Program) (reflect.Value, error) {
	if !run.concurrent && !run.noYield && s.debug.debugging() {
		return s.debug.runDebug(ctx, in, prog)
	}
	return in.ExecuteWithContext(ctx, prog)
}

// turns decides when a subshell cell may use the interpreter.
type turns struct {
	mu   sync.Mutex
	cond *sync.Cond
	main bool            // a main-shell cell is in progress
	run  context.Context // its cell context while its compiled code runs (nil otherwise)
	gen  int             // counts main cells, so a call outliving its cell is not counted
	long int             // long library calls of that code in progress
	sub  bool            // a subshell cell (or Complete/Inspect) uses the interpreter
	// exclusive: subshell cells never run beside a main cell (while the
	// debugger is attached: yaegi's debugger would see their frames too)
	exclusive bool
	wait      int // subshell cells waiting for their turn
}

func (t *turns) init() { t.cond = sync.NewCond(&t.mu) }

func (t *turns) mainBegin() {
	t.mu.Lock()
	for t.sub {
		t.cond.Wait()
	}
	t.main, t.gen, t.long, t.run = true, t.gen+1, 0, nil
	t.mu.Unlock()
}

func (t *turns) mainEnd() {
	t.mu.Lock()
	t.main, t.long, t.run = false, 0, nil
	t.cond.Broadcast()
	t.mu.Unlock()
}

// runBegin and runEnd bracket the main cell's compiled code running: long calls
// under ctx open the interpreter to subshells. runEnd waits for a subshell cell
// that runs, so the main cell's next compilation is its own.
func (t *turns) runBegin(ctx context.Context) {
	t.mu.Lock()
	t.run, t.long = ctx, 0
	t.mu.Unlock()
}

func (t *turns) runEnd() {
	t.mu.Lock()
	t.run, t.long = nil, 0
	for t.sub {
		t.cond.Wait()
	}
	t.mu.Unlock()
}

// call is the display.Call hook: a long call watching the running main cell's
// context lets subshell cells in until it returns; the main cell's code then
// waits for the subshell cell that runs.
func (t *turns) call(ctx context.Context) (end func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.main || t.run == nil || ctx != t.run || t.sub {
		// not the main cell's code (or a subshell cell's own call, which it
		// makes while it holds the interpreter)
		return nil
	}
	gen := t.gen
	t.long++
	t.cond.Broadcast()
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.gen != gen || t.run == nil {
			return
		}
		t.long--
		for t.long == 0 && t.sub {
			t.cond.Wait()
		}
	}
}

func (t *turns) subBegin() {
	t.mu.Lock()
	t.wait++
	for !t.subMayRun() {
		t.cond.Wait()
	}
	t.wait--
	t.sub = true
	t.mu.Unlock()
}

func (t *turns) subMayRun() bool {
	return !t.sub && (!t.main || (!t.exclusive && t.run != nil && t.long > 0))
}

func (t *turns) setExclusive(on bool) {
	t.mu.Lock()
	t.exclusive = on
	t.cond.Broadcast()
	t.mu.Unlock()
}

// waiting is how many subshell cells wait for their turn.
func (t *turns) waiting() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.wait
}

// trySub is subBegin without waiting.
func (t *turns) trySub() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.subMayRun() || t.main {
		return false
	}
	t.sub = true
	return true
}

func (t *turns) subEnd() {
	t.mu.Lock()
	t.sub = false
	t.cond.Broadcast()
	t.mu.Unlock()
}

// The display.Call hook is one per process; it asks every open session.
var (
	sessionsMu sync.Mutex
	sessions   = map[*Session]bool{}
)

func registerSession(s *Session) {
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	sessions[s] = true
	display.SetCallHook(callHook)
}

func unregisterSession(s *Session) {
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	delete(sessions, s)
}

func callHook(ctx context.Context) (end func()) {
	sessionsMu.Lock()
	var ends []func()
	for s := range sessions {
		if e := s.turns.call(ctx); e != nil {
			ends = append(ends, e)
		}
	}
	sessionsMu.Unlock()
	if len(ends) == 0 {
		return nil
	}
	return func() {
		for _, e := range ends {
			e()
		}
	}
}
