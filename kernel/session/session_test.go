package session

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a goroutine-safe output sink for tests.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *syncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.b.Reset()
}

type testSession struct {
	*Session
	out, errOut *syncBuffer
}

func newTestSession(t testing.TB) *testSession {
	t.Helper()
	out, errOut := &syncBuffer{}, &syncBuffer{}
	s, err := New(Options{Stdout: out, Stderr: errOut})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(s.Close)
	return &testSession{s, out, errOut}
}

// exec runs a cell that must succeed and returns its text/plain result ("" if none).
func (ts *testSession) exec(t testing.TB, code string) string {
	t.Helper()
	b, err := ts.Execute(context.Background(), code)
	if err != nil {
		t.Fatalf("cell %q: %v\nstderr: %s", code, err, ts.errOut.String())
	}
	if b == nil {
		return ""
	}
	s, _ := b["text/plain"].(string)
	return s
}

// fail runs a cell that must fail and returns its *Error.
func (ts *testSession) fail(t testing.TB, code string) *Error {
	t.Helper()
	_, err := ts.Execute(context.Background(), code)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("cell %q: want *Error, got %v", code, err)
	}
	return e
}

func TestValuesSurviveBetweenCells(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "x := 40")
	if got := s.exec(t, "x + 2"); got != "42" {
		t.Fatalf("x+2 = %q, want 42", got)
	}
}

func TestMixedCell(t *testing.T) {
	s := newTestSession(t)
	got := s.exec(t, `type P struct{ A int }
p := P{3}
import "strings"
func (p P) Twice() int { return 2 * p.A }
const k = 10
strings.Repeat("ab", p.Twice()) + string(rune('0'+k-9))`)
	if got != `"abababababab1"` {
		t.Fatalf("got %q", got)
	}
}

func TestTrailingExpression(t *testing.T) {
	s := newTestSession(t)
	for _, c := range []struct{ code, want string }{
		{"1 + 1", "2"},
		{`"hi"`, `"hi"`},
		{"x := 5", ""},
		{"x = 6", ""},
		{`import "fmt"; fmt.Println("printed")`, ""},
		{"func none() {}; none()", ""},
		{"func two() (int, string) { return 1, \"a\" }; two()", ""},
		{"x * 2", "12"},
		{"nil", ""},
		{"[]int{1, 2}", "[1 2]"},
		{`import "errors"; errors.New("boom")`, "boom"},
	} {
		if got := s.exec(t, c.code); got != c.want {
			t.Errorf("cell %q: result %q, want %q", c.code, got, c.want)
		}
	}
	if !strings.Contains(s.out.String(), "printed\n") {
		t.Errorf("stdout %q lacks fmt.Println output", s.out.String())
	}
}

func TestRedefinition(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "x := 1")
	s.exec(t, "x := \"two\"")
	if got := s.exec(t, "x"); got != `"two"` {
		t.Fatalf("x = %s", got)
	}
	s.exec(t, "func f() int { return 1 }")
	s.exec(t, "func f() int { return 2 }")
	if got := s.exec(t, "f()"); got != "2" {
		t.Fatalf("f() = %s after redefinition", got)
	}
	s.exec(t, "var v = 1")
	s.exec(t, "var v = 2.5")
	if got := s.exec(t, "v"); got != "2.5" {
		t.Fatalf("v = %s", got)
	}
}

func TestSyntaxErrorLine(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "a := 1\nb := 2\nc := a b")
	if e.Name != "SyntaxError" || !strings.HasPrefix(e.Traceback[0], "cell:3:") {
		t.Fatalf("got %+v", e)
	}
	e = s.fail(t, "a := 1\n\nfmt2.Println(a)")
	if !strings.HasPrefix(e.Value, "cell:3:") || !strings.Contains(e.Value, "undefined: fmt2") {
		t.Fatalf("type error: got %+v", e)
	}
}

func TestPanicIsOneError(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "func boom() { panic(\"kaboom\") }\n\nboom()")
	if e.Name != "Panic" || e.Value != "kaboom" {
		t.Fatalf("got %+v", e)
	}
	if strings.Contains(s.errOut.String(), "panic") {
		t.Errorf("panic frames leaked to stderr: %q", s.errOut.String())
	}
	if got := s.exec(t, "1"); got != "1" {
		t.Fatalf("session unusable after panic: %q", got)
	}
}

func TestInterruptBusyLoop(t *testing.T) {
	s := newTestSession(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Execute(ctx, "n := 0\nfor {\n\tn++\n}")
	var e *Error
	if !errors.As(err, &e) || e.Name != "Interrupted" {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("interrupt took %v", d)
	}
	if got := s.exec(t, "3 * 3"); got != "9" {
		t.Fatalf("after interrupt: %q", got)
	}
}
