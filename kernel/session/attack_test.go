package session

import (
	"errors"
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
	e := s.fail(t, "done := make(chan int)\ngo func() {\n\tpanic(\"x\")\n\tdone <- 1\n}()\n<-done")
	tb := strings.Join(e.Traceback, "\n")
	if e.Name != "GoroutinePanic" || !strings.Contains(tb, "func literals") || !strings.Contains(tb, "fs, g, hd") {
		t.Fatalf("got %s: %s\n%s", e.Name, e.Value, tb)
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
