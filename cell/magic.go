package cell

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/golem-lm/golem/display"
)

// segment is a piece of a cell: Go source starting at cell line `line`, or a magic.
type segment struct {
	code  string
	line  int
	magic *magic
}

// magic is one %line magic, %%cell magic or !shell line.
type magic struct {
	name string // "time", "env", "!", "%time" (cell form: leading %), …
	args string // the rest of the line
	body string // cell magics: the lines after the first
	line int    // cell line of the magic (1-based)
}

// splitMagics cuts a cell into Go segments and magics. A cell magic (%%name) must
// be the first non-blank line and owns the whole cell. Line magics (%name) may be
// indented; shell lines (!cmd) start in column 1, so that a Go continuation line
// such as "  !ok {" is never mistaken for one.
func splitMagics(code string) ([]segment, error) {
	lines := strings.Split(code, "\n")
	first := 0
	for first < len(lines) && strings.TrimSpace(lines[first]) == "" {
		first++
	}
	if first < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[first]), "%%") {
		head := strings.TrimSpace(lines[first])[2:]
		name, args, _ := strings.Cut(head, " ")
		body := strings.Join(lines[first+1:], "\n")
		return []segment{{magic: &magic{name: "%" + name, args: strings.TrimSpace(args), body: body, line: first + 1}}}, nil
	}
	var segs []segment
	start := 0 // first line of the current Go segment
	flush := func(end int) {
		if end > start {
			segs = append(segs, segment{code: strings.Join(lines[start:end], "\n"), line: start + 1})
		}
	}
	for i, l := range lines {
		t := strings.TrimLeft(l, " \t")
		switch {
		case strings.HasPrefix(l, "!"):
			flush(i)
			segs = append(segs, segment{magic: &magic{name: "!", args: strings.TrimSpace(l[1:]), line: i + 1}})
			start = i + 1
		case strings.HasPrefix(t, "%") && !strings.HasPrefix(t, "%%"):
			flush(i)
			name, args, _ := strings.Cut(t[1:], " ")
			segs = append(segs, segment{magic: &magic{name: strings.TrimSpace(name), args: strings.TrimSpace(args), line: i + 1}})
			start = i + 1
		case strings.HasPrefix(t, "%%"):
			return nil, &Error{Name: "MagicError", Value: fmt.Sprintf("cell magic %s must be on the first line of the cell (line %d)", strings.Fields(t)[0], i+1),
				Traceback: []string{fmt.Sprintf("cell:%d: cell magic %s must start the cell", i+1, strings.Fields(t)[0])}}
		}
	}
	flush(len(lines))
	return segs, nil
}

func magicErr(m *magic, format string, a ...any) *Error {
	msg := fmt.Sprintf(format, a...)
	return &Error{Name: "MagicError", Value: msg, Traceback: []string{fmt.Sprintf("cell:%d: %s", m.line, msg)}}
}

// runMagic runs one magic; a result bundle comes from %time / %%time of an expression.
func (s *Session) runMagic(ctx context.Context, run *cellRun, sg segment) (display.Bundle, error) {
	m := sg.magic
	switch m.name {
	case "time", "%time":
		code, line := m.args, m.line
		if m.name == "%time" {
			code, line = m.body, m.line+1
		}
		if strings.TrimSpace(code) == "" {
			return nil, magicErr(m, "%%%s needs code to time", m.name)
		}
		start := time.Now()
		b, err := s.runGo(ctx, run, code, line, true)
		fmt.Fprintf(s.opts.Stdout, "Wall time: %s\n", roundDuration(time.Since(start)))
		return b, err
	case "env":
		return nil, s.magicEnv(m)
	case "get":
		return nil, s.getModules(ctx, m)
	case "!":
		return nil, s.shell(ctx, m)
	case "%writefile":
		return nil, s.writeFile(m)
	case "%deploy":
		return s.deploy(ctx, run, m)
	case "reset":
		if err := s.reset(); err != nil {
			return nil, &Error{Name: "ResetError", Value: err.Error(), Traceback: []string{err.Error()}}
		}
		fmt.Fprintln(s.opts.Stdout, "interpreter reset: all variables, functions and types are gone")
		return nil, nil
	case "help":
		io.WriteString(s.opts.Stdout, helpText)
		return nil, nil
	}
	name := "%" + m.name
	if m.name == "" {
		name = "%"
	}
	return nil, magicErr(m, "unknown magic %s (known: %%time, %%%%time, %%env, !cmd, %%%%writefile, %%%%deploy, %%reset, %%get, %%help)", name)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d > time.Second:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(time.Microsecond)
	}
	return d
}

// magicEnv: `%env` lists the environment, `%env K` prints one variable, `%env K=V`
// (or `%env K V`) sets one for cells and for !commands.
func (s *Session) magicEnv(m *magic) error {
	a := m.args
	if a == "" {
		env := os.Environ()
		sort.Strings(env)
		for _, e := range env {
			fmt.Fprintln(s.opts.Stdout, e)
		}
		return nil
	}
	k, v, set := strings.Cut(a, "=")
	if !set {
		k, v, set = strings.Cut(a, " ")
	}
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	if k == "" || strings.ContainsAny(k, " \t") {
		return magicErr(m, "%%env: bad variable name %q", k)
	}
	if !set {
		val, ok := os.LookupEnv(k)
		if !ok {
			return magicErr(m, "%%env: environment variable %s is not set", k)
		}
		fmt.Fprintln(s.opts.Stdout, val)
		return nil
	}
	if err := os.Setenv(k, v); err != nil {
		return magicErr(m, "%%env: set %s: %v", k, err)
	}
	fmt.Fprintf(s.opts.Stdout, "env: %s=%s\n", k, v)
	return nil
}

// shell runs a !cmd line with sh, streaming its output; interrupting the cell kills it.
func (s *Session) shell(ctx context.Context, m *magic) error {
	if m.args == "" {
		return magicErr(m, "! needs a shell command")
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", m.args)
	cmd.Stdout, cmd.Stderr, cmd.Dir = s.opts.Stdout, s.opts.Stderr, s.opts.Dir
	// An interrupt kills the whole process group (sh and what it started), and
	// does not wait long for pipes a stray grandchild may hold open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return &Error{Name: "Interrupted", Value: "the cell was interrupted", Traceback: []string{"Interrupted: shell command killed"}}
	}
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			fmt.Fprintf(s.opts.Stderr, "!%s: %v\n", m.args, ee)
			return nil // like IPython: a failing command is not a cell error
		}
		return magicErr(m, "!%s: %v", m.args, err)
	}
	return nil
}

// writeFile: %%writefile [-a] path writes (or appends) the cell body to path;
// a rewrite is atomic (temp file + rename).
func (s *Session) writeFile(m *magic) error {
	f := strings.Fields(m.args)
	appendMode := len(f) > 0 && f[0] == "-a"
	if appendMode {
		f = f[1:]
	}
	if len(f) != 1 {
		return magicErr(m, "usage: %%%%writefile [-a] path (got %q)", m.args)
	}
	path := f[0]
	if !filepath.IsAbs(path) && s.opts.Dir != "" {
		path = filepath.Join(s.opts.Dir, path)
	}
	body := m.body
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	if appendMode {
		fh, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return magicErr(m, "%%%%writefile: open %s: %v", path, err)
		}
		if _, err := fh.WriteString(body); err != nil {
			fh.Close()
			return magicErr(m, "%%%%writefile: append to %s: %v", path, err)
		}
		if err := fh.Close(); err != nil {
			return magicErr(m, "%%%%writefile: close %s: %v", path, err)
		}
		fmt.Fprintf(s.opts.Stdout, "Appending to %s\n", f[0])
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return magicErr(m, "%%%%writefile: create temporary file for %s: %v", path, err)
	}
	_, werr := tmp.WriteString(body)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return magicErr(m, "%%%%writefile: write %s: %v", path, werr)
	}
	fmt.Fprintf(s.opts.Stdout, "Writing %s\n", f[0])
	return nil
}

const helpText = `golem cells are Go, run by a live yaegi interpreter: values survive between cells.
A cell may mix imports, declarations and statements; a trailing expression is the result.

Magics:
  %time STMT          run one line of Go and print its wall time
  %%time              (first line) run the whole cell and print its wall time
  %env                list the environment; %env K prints K; %env K=V sets it
  %get PKG[@VERSION]  pin a third-party package in the notebook's go.mod and restart the
                      kernel with it compiled in (a cell of its own, first in the notebook)
  !CMD                (column 1) run a shell command, output streamed
  %%writefile [-a] F  (first line) write (-a: append) the rest of the cell to file F
  %%deploy NAME [--timeout 30s] [--memory 512] [--entry Handle]
                      (first line) define the cell's func Handle here and deploy the same
                      source to golem serve at $GOLEM_URL (key $GOLEM_API_KEY)
  %reset              drop every variable, function and type: a fresh interpreter
  %help               this text

Rich output (package display, imported in every cell):
  display.HTML(s) Markdown(s) SVG(s) PNG(b) JPEG(b) JSON(v) VegaLite(spec) Text(s)
  display.Show(display.Bundle{"text/html": …})   display.Table(header, rows)
  h := display.NewHandle(); h.Update(bundle)        update one output in place
  p := display.NewProgress("train", total); p.Add(n, status); p.Done(status)
  display.ClearOutput()
  A value with a DisplayBundle() display.Bundle method (or HTML(), Markdown(),
  SVG() string methods) shows itself richly when it is a cell's result; a slice
  of structs or maps shows as a table (display.SetMaxRows(n): rows shown).
  A call's values all show; a non-nil error as its last value fails the cell.

Modern Go that yaegi lacks is rewritten: min, max, clear, for i := range n,
range over iterator functions, and the generic slices/maps/cmp/iter/strings functions.
`
