package cell

import (
	"context"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"

	"github.com/golem-lm/golem/display"
)

func (ts *testSession) execConcurrent(t testing.TB, code string) string {
	t.Helper()
	b, err := ts.ExecuteConcurrent(context.Background(), code)
	if err != nil {
		t.Fatalf("concurrent cell %q: %v\nstderr: %s", code, err, ts.errOut.String())
	}
	if b == nil {
		return ""
	}
	s, _ := b["text/plain"].(string)
	return s
}

// blockingCall exports golemtest.Block to the session: a long library call
// (display.Call) that says it started and returns when gate is closed.
func blockingCall(t *testing.T, s *testSession) (started chan struct{}, gate chan struct{}) {
	started, gate = make(chan struct{}, 1), make(chan struct{})
	err := s.in.Use(interp.Exports{"golemtest/golemtest": {
		"Block": reflect.ValueOf(func() int {
			_, end := display.Call(nil)
			defer end()
			started <- struct{}{}
			<-gate
			return 10
		}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	return started, gate
}

// TestExecuteConcurrentBesideRunningCell: a subshell's cell compiles, runs, reads
// and writes the notebook's variables and declares a function while the main
// cell is inside a long library call; the main cell then sees what it wrote.
func TestExecuteConcurrentBesideRunningCell(t *testing.T) {
	s := newTestSession(t)
	started, gate := blockingCall(t, s)
	s.exec(t, "import \"golemtest\"\nx := 1")
	type out struct {
		res string
		err error
	}
	done := make(chan out, 1)
	go func() {
		b, err := s.Execute(context.Background(), "y := golemtest.Block()\nx * y")
		o := out{err: err}
		if b != nil {
			o.res, _ = b["text/plain"].(string)
		}
		done <- o
	}()
	<-started
	if got := s.execConcurrent(t, "func Twice(n int) int { return 2 * n }\nx = Twice(2)\nx"); got != "4" {
		t.Fatalf("subshell cell beside the main cell gave %q, want 4", got)
	}
	select {
	case o := <-done:
		t.Fatalf("the main cell ended before it was let go: %v %v", o.res, o.err)
	default:
	}
	close(gate)
	o := <-done
	if o.err != nil || o.res != "40" {
		t.Fatalf("main cell: %q %v, want 40", o.res, o.err)
	}
	if got := s.exec(t, "Twice(x)"); got != "8" {
		t.Errorf("a later cell calling the subshell's function: %q", got)
	}
}

// TestExecuteConcurrentWaitsForInterpretedCode: while the main cell runs
// interpreted code or a call not marked as a long library call, a subshell cell
// waits, and runs once the main cell is inside its long call.
func TestExecuteConcurrentWaitsForInterpretedCode(t *testing.T) {
	s := newTestSession(t)
	started, gate := blockingCall(t, s)
	begun, hold := make(chan struct{}, 1), make(chan struct{})
	err := s.in.Use(interp.Exports{"golemhold/golemhold": {
		"Begun": reflect.ValueOf(func() { begun <- struct{}{} }),
		"Hold":  reflect.ValueOf(func() { <-hold }),
	}})
	if err != nil {
		t.Fatal(err)
	}
	s.exec(t, "import \"golemtest\"\nimport \"golemhold\"\nn := 0")
	mainDone := make(chan error, 1)
	go func() {
		_, err := s.Execute(context.Background(), "golemhold.Begun()\ngolemhold.Hold()\nn = 1\ngolemtest.Block()")
		mainDone <- err
	}()
	<-begun
	probe := make(chan string, 1)
	go func() { probe <- s.execConcurrent(t, "n") }()
	for s.turns.waiting() == 0 { // the probe waits while the main cell is in Hold
		runtime.Gosched()
	}
	close(hold)
	<-started
	if got := <-probe; got != "1" {
		t.Fatalf("subshell saw n = %q, want 1: it ran beside the main cell's interpreted code", got)
	}
	close(gate)
	if err := <-mainDone; err != nil {
		t.Fatal(err)
	}
}

// TestExecuteConcurrentErrors: a failing subshell cell is an *Error and leaves
// the session usable; when no main cell runs it is an ordinary cell.
func TestExecuteConcurrentErrors(t *testing.T) {
	s := newTestSession(t)
	_, err := s.ExecuteConcurrent(context.Background(), "undefinedName + 1")
	if err == nil || !strings.Contains(err.Error(), "undefinedName") {
		t.Fatalf("undefined name: %v", err)
	}
	_, err = s.ExecuteConcurrent(context.Background(), "var a []int\na[3]")
	if e, ok := err.(*Error); !ok || e.Name != "Panic" {
		t.Fatalf("index panic: %#v", err)
	}
	if got := s.execConcurrent(t, "y := 3\ny * y"); got != "9" {
		t.Fatalf("after errors: %q", got)
	}
	if got := s.exec(t, "y + 1"); got != "4" {
		t.Fatalf("main shell after subshell cells: %q", got)
	}
}
