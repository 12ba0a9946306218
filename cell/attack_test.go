package cell

import (
	"errors"
	"runtime/debug"
	"strings"
	"testing"
)

// TestAttackGoroutinePanicKeepsFuncLiterals: a goroutine that panics while its
// cell runs ends the cell with one error, and func literals made by earlier cells
// still return their values (yaegi's stop, which disabled them, is not used when
// the cell ends by itself).
func TestAttackGoroutinePanicKeepsFuncLiterals(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "g := func() int { return 7 }\nfunc mk(n int) func() int { return func() int { return n } }\nh := mk(5)")
	cells := []string{
		"go func() { panic(\"x\") }()",
		"import \"time\"\ngo func() { panic(\"x\") }()\ntime.Sleep(100 * time.Millisecond)",
		"import \"sync\"\nvar wg sync.WaitGroup\nwg.Add(1)\ngo func() {\n\tdefer wg.Done()\n\tpanic(\"x\")\n}()\nwg.Wait()",
	}
	for _, c := range cells {
		_, err := s.Execute(t.Context(), c)
		var e *Error
		if err != nil && (!errors.As(err, &e) || e.Name != "GoroutinePanic") {
			t.Fatalf("cell %q: %v", c, err)
		}
		if got := s.exec(t, "g() + h()"); got != "12" {
			t.Fatalf("after cell %q (error %v): g() + h() = %s, want 12", c, err, got)
		}
	}
}

// TestAttackGoroutinePanicStuckCellRefusesStaleFuncs: a cell that does not end
// after its goroutine panicked (it waits for the goroutine forever) has to be
// stopped in yaegi, which disables func literals made earlier. The error says
// so, and calling such a function afterwards panics with the reason instead of
// returning a zero value.
func TestAttackGoroutinePanicStuckCellRefusesStaleFuncs(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "g := func() int { return 7 }\nfunc named() int { return 3 }\ntype holder struct{ F func() int }\nhd := &holder{F: g}\nfs := map[string]func() int{\"g\": g}")
	// The goroutine panics after a moment, so that the cell is waiting on done by
	// then and has to be stopped.
	e := s.fail(t, "done := make(chan int)\ngo func() {\n\ttime.Sleep(200 * time.Millisecond)\n\tpanic(\"x\")\n\tdone <- 1\n}()\n<-done")
	tb := strings.Join(e.Traceback, "\n")
	if e.Name != "GoroutinePanic" {
		t.Fatalf("got %s: %s\n%s", e.Name, e.Value, tb)
	}
	if !strings.Contains(tb, "func literals") {
		// On a machine so loaded that the cell ended by itself when asked (it had not
		// reached <-done yet), nothing was stopped and every function still runs.
		t.Logf("the cell ended without a stop: %s", tb)
		if got := s.exec(t, "g() + hd.F() + fs[\"g\"]()"); got != "21" {
			t.Fatalf("no stop, but the func literals give %s", got)
		}
		return
	}
	if !strings.Contains(tb, "fs, g, hd") {
		t.Fatalf("the stop does not name the stale variables: %s\n%s", e.Value, tb)
	}
	for _, call := range []string{"g()", "hd.F()", "fs[\"g\"]()"} {
		e := s.fail(t, call)
		if e.Name != "Panic" || !strings.Contains(e.Value, "no longer runs") || !strings.Contains(e.Value, "re-run the cell") {
			t.Fatalf("%s after the stop: %s: %s, want a panic naming the reason", call, e.Name, e.Value)
		}
	}
	if got := s.exec(t, "named()"); got != "3" {
		t.Fatalf("named function after the stop: %q", got)
	}
	if got := s.exec(t, "g = func() int { return 7 }\ng()"); got != "7" {
		t.Fatalf("a func literal made again: %q", got)
	}
}

// TestAttackInfiniteRecursion: a recursion that never ends would overflow the
// goroutine stack, which Go cannot recover (the process dies). The session stops
// it first: the cell fails with StackOverflow, the variables of earlier cells are
// kept, and a func literal made before the stop panics with the reason instead of
// returning a zero value.
func TestAttackInfiniteRecursion(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(256 << 20)) // as golem kernel runs
	s := newTestSession(t)
	s.exec(t, "kept := 41\ng := func() int { return 7 }")
	e := s.fail(t, "func R(n int) int { return R(n+1) + 1 }\nR(0)")
	if e.Name != "StackOverflow" {
		t.Fatalf("got %s: %s", e.Name, e.Value)
	}
	if got := s.exec(t, "kept + 1"); got != "42" {
		t.Fatalf("variable after the stop: %q", got)
	}
	if e := s.fail(t, "g()"); e.Name != "Panic" || !strings.Contains(e.Value, "no longer runs") {
		t.Fatalf("func literal after the stop: %s: %s", e.Name, e.Value)
	}
	// In a goroutine the cell started, and through a method.
	e = s.fail(t, "type T struct{}\nfunc (t T) M(n int) int { return t.M(n+1) + 1 }\ndone := make(chan int)\ngo func() { done <- T{}.M(0) }()\n<-done")
	if e.Name != "StackOverflow" {
		t.Fatalf("recursion in a goroutine: %s: %s", e.Name, e.Value)
	}
	if got := s.exec(t, "import \"time\"\ntime.Sleep(100 * time.Millisecond)\nkept + 1"); got != "42" {
		t.Fatalf("variable after the second stop: %q", got)
	}
}

// TestAttackHugeAllocation: a make larger than the memory available fails with a
// panic that says so; Go itself would end the process ("fatal error: out of
// memory") or the OOM killer would. Variables are kept; ordinary makes, makes in
// generic functions and make with a capacity still work.
func TestAttackHugeAllocation(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "kept := 41")
	for _, c := range []string{
		"b := make([]byte, 1<<47)",
		"var n int64 = 1 << 40\nf := make([]float64, 0, n)",
		"type big struct{ a [1 << 20]byte }\nfunc alloc(n int) []big { return make([]big, n) }\nx := alloc(1 << 30)",
	} {
		e := s.fail(t, c)
		if e.Name != "Panic" || !strings.Contains(e.Value, "of memory available") {
			t.Fatalf("%q: %s: %s", c, e.Name, e.Value)
		}
	}
	if got := s.exec(t, "kept + 1"); got != "42" {
		t.Fatalf("variable after the refused allocations: %q", got)
	}
	got := s.exec(t, "func Fill[T any](v T, n int) []T {\n\ts := make([]T, n)\n\tfor i := range s {\n\t\ts[i] = v\n\t}\n\treturn s\n}\nys := make([]int32, 3, 10)\nlen(Fill(\"x\", 4)) + len(ys) + cap(ys) + len(make([]byte, uint8(2)))")
	if got != "19" {
		t.Fatalf("ordinary makes: %q, want 19", got)
	}
}
