package cell

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golem-lm/golem/display"
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

// execAll runs cells that must succeed, in order, and returns the last one's result.
func (ts *testSession) execAll(t testing.TB, cells []string) (got string) {
	t.Helper()
	for _, c := range cells {
		got = ts.exec(t, c)
	}
	return got
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
		{"func two() (int, string) { return 1, \"a\" }; two()", `1, "a"`},
		{"x * 2", "12"},
		{"nil", ""},
		{"[]int{1, 2}", "[1 2]"},
		{`import "errors"; e := errors.New("boom"); e`, "boom"},
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

func TestTypeRedefinition(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "type T struct{ A int }\nfunc (t T) Get() int { return t.A }")
	if got := s.exec(t, "T{3}.Get()"); got != "3" {
		t.Fatalf("first T: %q", got)
	}
	// Re-running a changed cell replaces the type and its methods.
	s.exec(t, "type T struct{ B string }\nfunc (t T) Get() string { return t.B + \"!\" }")
	if got := s.exec(t, "T{B: \"x\"}.Get()"); got != `"x!"` {
		t.Fatalf("redefined T: %q", got)
	}
	// Methods added in a later cell attach to the current T.
	s.exec(t, "func (t T) Len() int { return len(t.B) }")
	if got := s.exec(t, "T{B: \"abc\"}.Len()"); got != "3" {
		t.Fatalf("later method: %q", got)
	}
}

func TestReimport(t *testing.T) {
	s := newTestSession(t)
	for i := 0; i < 2; i++ {
		if got := s.exec(t, "import \"fmt\"\nfmt.Sprint(1, 2)"); got != `"1 2"` {
			t.Fatalf("run %d: %q", i, got)
		}
	}
	if got := s.exec(t, "import (\n\t\"github.com/golem-lm/golem/display\"\n)\n1"); got == "" {
		t.Fatal("explicit import of an implicit package failed")
	}
}

func TestGoroutinePanicDuringCell(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "import \"time\"\nfunc work(n int) {\n\tpanic(fmt.Sprint(\"bad \", n))\n}\nimport \"fmt\"\ngo work(7)\ntime.Sleep(5 * time.Second)")
	if e.Name != "GoroutinePanic" || e.Value != "bad 7" || !strings.Contains(e.Traceback[0], "cell:6:1") {
		t.Fatalf("got %+v", e)
	}
	if got := s.exec(t, "2 + 2"); got != "4" {
		t.Fatalf("session unusable: %q", got)
	}
}

func TestGoroutinePanicAfterCell(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "import \"time\"\ngo func() {\n\ttime.Sleep(50 * time.Millisecond)\n\tpanic(\"late\")\n}()")
	time.Sleep(300 * time.Millisecond)
	s.exec(t, "1")
	if !strings.Contains(s.errOut.String(), "late") {
		t.Fatalf("late goroutine panic not reported on the next cell's stderr: %q", s.errOut.String())
	}
}

func TestGoroutineArgumentsEvaluatedAtGo(t *testing.T) {
	s := newTestSession(t)
	got := s.exec(t, "import \"sync\"\nvar wg sync.WaitGroup\nres := make([]int, 3)\nfor i := 0; i < 3; i++ {\n\twg.Add(1)\n\tgo func(k int) {\n\t\tdefer wg.Done()\n\t\tres[k] = k * k\n\t}(i)\n}\nwg.Wait()\nres")
	if got != "[0 1 4]" {
		t.Fatalf("got %q", got)
	}
}

func TestExitAndFatalDoNotKill(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "import \"os\"\nos.Exit(3)")
	if e.Name != "Exit" || !strings.Contains(e.Value, "3") {
		t.Fatalf("os.Exit: %+v", e)
	}
	e = s.fail(t, "import \"log\"\nlog.Fatal(\"fatal here\")")
	if e.Name != "Exit" || !strings.Contains(s.errOut.String(), "fatal here") {
		t.Fatalf("log.Fatal: %+v, stderr %q", e, s.errOut.String())
	}
	if got := s.exec(t, "5"); got != "5" {
		t.Fatal("session unusable after exit")
	}
}

func TestStdin(t *testing.T) {
	var prompts []string
	lines := []string{"alice", "42"}
	out := &syncBuffer{}
	s, err := New(Options{Stdout: out, Stderr: out, Stdin: func(prompt string, password bool) (string, error) {
		prompts = append(prompts, prompt)
		if len(lines) == 0 {
			return "", io.EOF
		}
		l := lines[0]
		lines = lines[1:]
		return l, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Execute(context.Background(), "import (\n\t\"bufio\"\n\t\"os\"\n)\nr := bufio.NewReader(os.Stdin)\nname, _ := r.ReadString('\\n')\nvar n int\nfmt.Sscan(mustLine(r), &n)\nfunc mustLine(r *bufio.Reader) string { l, _ := r.ReadString('\\n'); return l }\nimport \"fmt\"\nfmt.Sprintf(\"%s/%d\", name[:len(name)-1], n+1)")
	if err != nil {
		t.Fatal(err)
	}
	if got := b["text/plain"]; got != `"alice/43"` {
		t.Fatalf("got %v", got)
	}
	if len(prompts) != 2 {
		t.Fatalf("asked %d times, want 2", len(prompts))
	}
	// With no more input (stdin not allowed), reading returns EOF.
	b, err = s.Execute(context.Background(), "_, err := bufio.NewReader(os.Stdin).ReadString('\\n')\nerr")
	if err != nil || b["text/plain"] != "EOF" {
		t.Fatalf("EOF read: %v %v", b, err)
	}
}

func TestScanReadsStdin(t *testing.T) {
	s, err := New(Options{Stdout: io.Discard, Stdin: func(string, bool) (string, error) { return "7 8", nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	b, err := s.Execute(context.Background(), "import \"fmt\"\nvar a, b int\nfmt.Scan(&a, &b)\na * b")
	if err != nil || b["text/plain"] != "56" {
		t.Fatalf("got %v %v", b, err)
	}
}

// streamWriter records when each write arrives.
type streamWriter struct {
	mu    sync.Mutex
	first time.Time
	buf   bytes.Buffer
}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.first.IsZero() {
		w.first = time.Now()
	}
	return w.buf.Write(p)
}

func TestOutputStreamsWhileRunning(t *testing.T) {
	w := &streamWriter{}
	s, err := New(Options{Stdout: w, Stderr: w})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	if _, err := s.Execute(context.Background(), "import (\n\t\"fmt\"\n\t\"time\"\n)\nfmt.Println(\"early\")\ntime.Sleep(400 * time.Millisecond)\nfmt.Println(\"late\")"); err != nil {
		t.Fatal(err)
	}
	end := time.Now()
	if w.first.IsZero() || end.Sub(w.first) < 300*time.Millisecond {
		t.Fatalf("first output at %v, cell ended at %v: output was not streamed", w.first.Sub(start), end.Sub(start))
	}
}

func TestRichResult(t *testing.T) {
	s := newTestSession(t)
	b, err := s.Execute(context.Background(), "type Card struct{ Title string }\nfunc (c Card) HTML() string { return \"<b>\" + c.Title + \"</b>\" }\nCard{\"hi\"}")
	if err != nil {
		t.Fatal(err)
	}
	if b["text/html"] != "<b>hi</b>" || b["text/plain"] != "{hi}" {
		t.Fatalf("HTML method: %v", b)
	}
	b, err = s.Execute(context.Background(), "type Fig struct{}\nfunc (Fig) DisplayBundle() display.Bundle { return display.Bundle{\"image/svg+xml\": \"<svg/>\"} }\nFig{}")
	if err != nil {
		t.Fatal(err)
	}
	if b["image/svg+xml"] != "<svg/>" {
		t.Fatalf("Renderer: %v", b)
	}
	b, err = s.Execute(context.Background(), "display.Table([]string{\"a\"}, [][]string{{\"1\"}})")
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := b["text/html"].(string); !strings.Contains(h, "<td>1</td>") || b["text/plain"] != "a\n1" {
		t.Fatalf("display.Bundle result: %v", b)
	}
}

func TestWholeProgram(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "x := 1")
	s.exec(t, "package main\n\nimport \"fmt\"\n\nvar x = \"program\"\n\nfunc main() {\n\tfor i := range 2 {\n\t\tfmt.Println(x, i)\n\t}\n}")
	if got := s.out.String(); got != "program 0\nprogram 1\n" {
		t.Fatalf("stdout %q", got)
	}
	if got := s.exec(t, "x"); got != "1" {
		t.Fatalf("notebook x changed by the program: %q", got)
	}
	e := s.fail(t, "package main\n\nfunc helper() {}")
	if !strings.Contains(e.Value, "main") {
		t.Fatalf("program without main: %+v", e)
	}
}

// recordingPublisher is a display.Publisher that keeps what it is sent.
type recordingPublisher struct {
	mu   sync.Mutex
	data []display.Bundle
	ids  []string
}

func (p *recordingPublisher) Display(data display.Bundle, _ map[string]any, id string, update bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.data = append(p.data, data)
	p.ids = append(p.ids, id)
}

func (p *recordingPublisher) ClearOutput(bool) {}

// TestCompiledDisplay proves that a cell's display calls run the compiled package:
// the publisher installed in Go (as the kernel does) receives the cell's output.
func TestCompiledDisplay(t *testing.T) {
	pub := &recordingPublisher{}
	old := display.SetPublisher(pub)
	defer display.SetPublisher(old)
	s := newTestSession(t)
	s.exec(t, "display.HTML(\"<i>hi</i>\")\nh := display.NewHandle()\nh.Text(\"one\")\nh.Text(\"two\")")
	if len(pub.data) != 3 || pub.data[0]["text/html"] != "<i>hi</i>" || pub.ids[1] == "" || pub.ids[1] != pub.ids[2] {
		t.Fatalf("publisher got %v %v", pub.data, pub.ids)
	}
	// An explicit import of the implicit package is fine too.
	s.exec(t, "import \"github.com/golem-lm/golem/display\"\ndisplay.Markdown(\"# t\")")
	if len(pub.data) != 4 || pub.data[3]["text/markdown"] != "# t" {
		t.Fatalf("after import: %v", pub.data)
	}
}

func TestInterruptNativeCall(t *testing.T) {
	s := newTestSession(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Execute(ctx, "import \"time\"\ntime.Sleep(20 * time.Second)\nx := 1")
	var e *Error
	if !errors.As(err, &e) || e.Name != "Interrupted" || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}

	if got := s.exec(t, "7"); got != "7" {
		t.Fatalf("after interrupt: %q", got)
	}
}

// BenchmarkTrivialCell measures one execute of "1+1" through the whole session
// (magic split, cell split, parse, rewrite, yaegi compile and run, result). It
// also reports the heap a cell leaves behind: yaegi keeps every compiled cell, so
// a session grows (and its global frame, copied on each run, lengthens).
func BenchmarkTrivialCell(b *testing.B) {
	s := newTestSession(b)
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n := 0
	for b.Loop() {
		if _, err := s.Execute(ctx, "1+1"); err != nil {
			b.Fatal(err)
		}
		n++
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "retainedB/cell")
}

// TestKernelTestSamples runs the code samples the kernel's jupyter_kernel_test
// suite sends, so a session regression shows here first.
func TestKernelTestSamples(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "import \"fmt\"\nfmt.Println(\"hello, world\")")
	s.exec(t, "import \"os\"\nos.Stderr.Write([]byte(\"to stderr\\n\"))")
	if s.out.String() != "hello, world\n" || s.errOut.String() != "to stderr\n" {
		t.Fatalf("stdout %q stderr %q", s.out.String(), s.errOut.String())
	}
	for code, want := range map[string]string{"6 * 7": "42", `"go" + "lem"`: `"golem"`, "1.5 * 2": "3"} {
		if got := s.exec(t, code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
	e := s.fail(t, `panic("boom")`)
	if e.Name != "Panic" || e.Value != "boom" || len(e.Traceback) == 0 {
		t.Fatalf("panic: %+v", e)
	}
	for _, c := range []string{"x := 1", `fmt.Println("hi")`, "func f() int { return 1 }", "type P struct{ A int }"} {
		if st, _ := s.IsComplete(c); st != "complete" {
			t.Errorf("IsComplete(%q) = %s", c, st)
		}
	}
	for _, c := range []string{"func f() {", "for i := 0; i < 3; i++ {", "xs := []int{1,", "s := `raw"} {
		if st, _ := s.IsComplete(c); st != "incomplete" {
			t.Errorf("IsComplete(%q) = %s", c, st)
		}
	}
	for _, c := range []string{"x := )", "func {}", "}"} {
		if st, _ := s.IsComplete(c); st != "invalid" {
			t.Errorf("IsComplete(%q) = %s", c, st)
		}
	}
}

func TestAutoImport(t *testing.T) {
	s := newTestSession(t)
	if got := s.exec(t, "x, err := strconv.Atoi(\"12\")\nif err != nil {\n\tpanic(err)\n}\nx + 1"); got != "13" {
		t.Fatalf("strconv without import: %q", got)
	}
	// A variable named like a package is not an import.
	if got := s.exec(t, "path := \"a\"\npath + \"b\""); got != `"ab"` {
		t.Fatalf("variable path: %q", got)
	}
	if got := s.exec(t, "func f(filepath string) string { return filepath + \"!\" }\nf(\"x\")"); got != `"x!"` {
		t.Fatalf("parameter named like a package: %q", got)
	}
}

func TestPanicInShimTraceback(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "xs := []int{}\n\nm := slices.Max(xs)")
	if e.Name != "Panic" || !strings.Contains(e.Value, "empty list") {
		t.Fatalf("got %+v", e)
	}
	for _, l := range e.Traceback[1:] {
		if strings.HasPrefix(strings.TrimSpace(l), "cell:") && !strings.HasPrefix(strings.TrimSpace(l), "cell:3:") {
			t.Errorf("traceback line points into the cell at the wrong line: %q (all: %q)", l, e.Traceback)
		}
	}
}

// A notebook may declare its own func main (without a package clause): it runs
// when called, not after every cell (yaegi would run it on every compile).
func TestNotebookMain(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "func main() { fmt.Println(\"main ran\") }")
	s.exec(t, "x := 1")
	if s.out.String() != "" {
		t.Fatalf("main ran by itself: %q", s.out.String())
	}
	s.exec(t, "main()")
	if s.out.String() != "main ran\n" {
		t.Fatalf("stdout %q", s.out.String())
	}
}

func TestGoroutineInDeclaredFunc(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "func worker() {\n\tgo func() { panic(\"in worker\") }()\n}\nworker()\ntime.Sleep(5 * time.Second)")
	if e.Name != "GoroutinePanic" || !strings.Contains(e.Traceback[0], "cell:2:2") {
		t.Fatalf("got %+v", e)
	}
}

// TestInterruptTraining: Jupyter's interrupt stops train.Train at a step boundary
// (it watches the cell's context through display.Context); the rest of the cell then
// runs (here it prints the interrupted Result), the cell reports Interrupted, the
// trained model stays in memory, nothing writes it any more, and func literals made
// before keep working (yaegi is not stopped).
func TestInterruptTraining(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, `import (
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)
m, err := gpt.New(gpt.Config{VocabSize: 64, ContextLen: 128, Layers: 4, Heads: 4, Width: 256, Bias: true}, 1)
if err != nil {
	panic(err)
}
toks := make([]int32, 1<<16)
for i := range toks {
	toks[i] = int32(i*7%61)
}
l, err := shard.NewSliceLoader(toks, shard.LoaderOptions{B: 8, T: 128})
if err != nil {
	panic(err)
}
clone := func(p []float32) []float32 { return append([]float32(nil), p...) }
equal := func(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
initial := clone(m.Params)`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.Execute(ctx, "res, err := train.Train(m, l, nil, train.Options{MaxSteps: 1000000, Quiet: true})\nfmt.Println(\"after Train:\", res.Interrupted, err)")
	var e *Error
	if !errors.As(err, &e) || e.Name != "Interrupted" {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 12*time.Second {
		t.Fatalf("interrupt took %v", d)
	}
	if tb := strings.Join(e.Traceback, "\n"); strings.Contains(tb, "func literals") {
		t.Fatalf("the interpreter was stopped: %s", tb)
	}
	if got := s.out.String(); !strings.Contains(got, "after Train: true <nil>") {
		t.Fatalf("the cell did not finish after Train returned: %q", got)
	}
	if got := s.exec(t, "res.Interrupted"); got != "true" {
		t.Fatalf("res of the interrupted cell in the next cell: %q", got)
	}
	s.exec(t, "after := clone(m.Params)")
	time.Sleep(500 * time.Millisecond)
	if got := s.exec(t, "equal(after, m.Params)"); got != "true" {
		t.Fatalf("weights still changing after the interrupt returned")
	}
	if got := s.exec(t, "equal(initial, m.Params)"); got != "false" {
		t.Fatalf("no training happened before the interrupt")
	}
}

// TestInterruptHardStop: a cell that does not end after an interrupt (an
// interpreted loop) is stopped in yaegi, and the error says what that costs.
func TestInterruptHardStop(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "double := func(x int) int { return 2 * x }\nfunc named(x int) int { return 3 * x }")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := s.Execute(ctx, "for {\n}")
	var e *Error
	if !errors.As(err, &e) || e.Name != "Interrupted" || !strings.Contains(strings.Join(e.Traceback, "\n"), "func literals") {
		t.Fatalf("got %#v", err)
	}
	if got := s.exec(t, "named(2)"); got != "6" {
		t.Fatalf("named function after a hard stop: %q", got)
	}
	// yaegi v0.16.1: a func literal made before the stop returns zero values.
	if got := s.exec(t, "double = func(x int) int { return 2 * x }\ndouble(2)"); got != "4" {
		t.Fatalf("a func literal made again after a hard stop: %q", got)
	}
}

// TestBackgroundTrainingOutlivesCell: a goroutine started by a cell keeps the cell's
// context, which only an interrupt of that cell cancels: training in the background
// runs to its end after the cell has finished.
func TestBackgroundTrainingOutlivesCell(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, `import (
	"time"

	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)
m, _ := gpt.New(gpt.Config{VocabSize: 16, ContextLen: 32, Layers: 2, Heads: 2, Width: 64, Bias: true}, 1)
toks := make([]int32, 4096)
for i := range toks {
	toks[i] = int32(i % 13)
}
l, _ := shard.NewSliceLoader(toks, shard.LoaderOptions{B: 8, T: 32})
steps := make(chan int, 1)
go func() {
	r, err := train.Train(m, l, nil, train.Options{MaxSteps: 300, Quiet: true})
	if err != nil {
		panic(err)
	}
	steps <- r.Steps
}()
time.Sleep(100 * time.Millisecond) // training starts while the cell runs`)
	if got := s.exec(t, "<-steps"); got != "300" {
		t.Fatalf("background training stopped early: %s steps", got)
	}
}
