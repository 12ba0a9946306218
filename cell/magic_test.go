package cell

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMagicTime(t *testing.T) {
	s := newTestSession(t)
	if got := s.exec(t, "%time 6 * 7"); got != "42" {
		t.Fatalf("%%time result %q", got)
	}
	if !strings.Contains(s.out.String(), "Wall time: ") {
		t.Fatalf("stdout %q", s.out.String())
	}
	s.out.Reset()
	if got := s.exec(t, "%%time\nx := 2\nx * 21"); got != "42" {
		t.Fatalf("%%%%time result %q", got)
	}
	if !strings.Contains(s.out.String(), "Wall time: ") {
		t.Fatalf("stdout %q", s.out.String())
	}
}

func TestMagicEnv(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "%env GOLEM_TEST_VAR=hello world")
	if os.Getenv("GOLEM_TEST_VAR") != "hello world" {
		t.Fatal("env magic did not set the variable")
	}
	t.Cleanup(func() { os.Unsetenv("GOLEM_TEST_VAR") })
	if got := s.exec(t, "import \"os\"\nos.Getenv(\"GOLEM_TEST_VAR\")"); got != `"hello world"` {
		t.Fatalf("cell sees %s", got)
	}
	s.out.Reset()
	s.exec(t, "%env GOLEM_TEST_VAR")
	if s.out.String() != "hello world\n" {
		t.Fatalf("%%env K printed %q", s.out.String())
	}
	s.out.Reset()
	s.exec(t, "%env")
	if !strings.Contains(s.out.String(), "GOLEM_TEST_VAR=hello world\n") {
		t.Fatal("env list lacks the variable")
	}
	if e := s.fail(t, "%env NO_SUCH_GOLEM_VAR_X"); e.Name != "MagicError" {
		t.Fatalf("got %+v", e)
	}
}

func TestShellLine(t *testing.T) {
	s := newTestSession(t)
	got := s.exec(t, "x := 3\n!echo from-shell; echo to-stderr >&2\nx + 1")
	if got != "4" {
		t.Fatalf("result %q", got)
	}
	if s.out.String() != "from-shell\n" || s.errOut.String() != "to-stderr\n" {
		t.Fatalf("stdout %q stderr %q", s.out.String(), s.errOut.String())
	}
	// An indented "!" is Go (a continuation line), not a shell command.
	if got := s.exec(t, "ok := false\nif true &&\n\t!ok {\n\tok = true\n}\nok"); got != "true" {
		t.Fatalf("continuation: %q", got)
	}
}

func TestShellInterrupt(t *testing.T) {
	s := newTestSession(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Execute(ctx, "!sleep 20")
	if e, ok := err.(*Error); !ok || e.Name != "Interrupted" || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v", err, time.Since(start))
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	out := &syncBuffer{}
	s, err := New(Options{Stdout: out, Stderr: out, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cwd, _ := os.Getwd()
	defer os.Chdir(cwd)
	if _, err := s.Execute(context.Background(), "%%writefile notes.txt\nline one\nline two"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Execute(context.Background(), "%%writefile -a notes.txt\nline three"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "notes.txt"))
	if err != nil || string(b) != "line one\nline two\nline three\n" {
		t.Fatalf("file %q %v", b, err)
	}
	if !strings.Contains(out.String(), "Writing notes.txt") || !strings.Contains(out.String(), "Appending to notes.txt") {
		t.Fatalf("stdout %q", out.String())
	}
	_, err = s.Execute(context.Background(), "%%writefile")
	if e, ok := err.(*Error); !ok || e.Name != "MagicError" {
		t.Fatalf("no path: %v", err)
	}
	_, err = s.Execute(context.Background(), "%%writefile "+filepath.Join(dir, "missing", "x.txt")+"\nbody")
	if e, ok := err.(*Error); !ok || !strings.Contains(e.Value, "missing") {
		t.Fatalf("bad dir: %v", err)
	}
}

func TestResetAndHelp(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "x := 1\nfunc f() int { return 2 }")
	s.exec(t, "%reset")
	e := s.fail(t, "x")
	if !strings.Contains(e.Value, "undefined: x") {
		t.Fatalf("x after reset: %+v", e)
	}
	if got := s.exec(t, "x := 5\nx"); got != "5" {
		t.Fatal("session unusable after reset")
	}
	s.out.Reset()
	s.exec(t, "%help")
	for _, want := range []string{"%time", "%%writefile", "%env", "!CMD", "%reset", "display.HTML", "NewProgress"} {
		if !strings.Contains(s.out.String(), want) {
			t.Errorf("%%help lacks %q", want)
		}
	}
}

func TestUnknownMagic(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "x := 1\n%timeit x")
	if e.Name != "MagicError" || !strings.Contains(e.Value, "%timeit") || !strings.HasPrefix(e.Traceback[0], "cell:2") {
		t.Fatalf("got %+v", e)
	}
	e = s.fail(t, "x := 1\n%%time\nx")
	if e.Name != "MagicError" {
		t.Fatalf("misplaced cell magic: %+v", e)
	}
}
