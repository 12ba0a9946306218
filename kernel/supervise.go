//go:build unix

package kernel

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Environment variables by which Supervise tells the kernel it starts where its
// state file is (see Config.StatePath) and why the previous kernel died.
const (
	StateEnv   = "GOLEM_KERNEL_STATE"
	RestartEnv = "GOLEM_KERNEL_RESTART"
	// StderrEnv names the descriptor of the read end of the pipe that the kernel
	// captures descriptor 2 into (its write end is the next descriptor).
	StderrEnv = "GOLEM_KERNEL_STDERR"
)

// CanSupervise reports whether Supervise works on this system.
const CanSupervise = true

// SuperviseConfig configures Supervise.
type SuperviseConfig struct {
	// Command is the kernel process: its path and arguments. It serves Connection
	// and reads StateEnv and RestartEnv (`golem kernel` runs itself).
	Command []string
	// Env is the kernel's environment (nil: this process's).
	Env        []string
	Connection ConnectionInfo
	// Stderr receives the kernel's standard error: its log and the runtime's
	// report when it dies (default os.Stderr).
	Stderr io.Writer
	// Log receives the supervisor's own messages (default: Stderr).
	Log *log.Logger
	// MaxRestarts is how many restarts within a minute are tried before the
	// supervisor gives up (default 5).
	MaxRestarts int
}

// crashGrace is how long a kernel that has begun to print a fatal error may take
// to end before it is killed (a report stuck on a full pipe would hold it forever).
const crashGrace = 5 * time.Second

// stopGrace is how long a kernel asked to stop (SIGTERM) may take before SIGKILL.
const stopGrace = 5 * time.Second

// Supervise runs the kernel as a child process and starts it again, on the same
// connection file, when it dies: Go ends a process on a stack overflow or when it
// runs out of memory, and no recover catches either; the OOM killer sends SIGKILL.
// The new kernel tells the client why (from the runtime's report on the child's
// standard error, or the signal and the last memory use it sampled) and answers
// the requests the dead one left (see Config.StatePath).
//
// The child runs in its own process group. SIGINT is passed on to it (an
// interrupt); SIGTERM and SIGHUP, and cancelling ctx (the Jupyter process went
// away), stop it and then Supervise returns. A kernel that exits with status 0
// (shutdown_request) ends Supervise too; so does one that dies before it listens
// on its sockets (a configuration error, reported with its status), or one that
// dies more than MaxRestarts times in a minute.
func Supervise(ctx context.Context, cfg SuperviseConfig) error {
	if len(cfg.Command) == 0 {
		return errors.New("supervise: no kernel command")
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.Log == nil {
		cfg.Log = log.New(cfg.Stderr, "golem kernel supervisor: ", log.LstdFlags|log.Lmsgprefix)
	}
	if cfg.MaxRestarts <= 0 {
		cfg.MaxRestarts = 5
	}
	if cfg.Env == nil {
		cfg.Env = os.Environ()
	}
	dir, err := os.MkdirTemp("", "golem-kernel-")
	if err != nil {
		return fmt.Errorf("supervise: state directory: %w", err)
	}
	defer os.RemoveAll(dir)
	statePath := filepath.Join(dir, "state.json")

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	var restarts []time.Time
	reason := ""
	for {
		env := append(append([]string(nil), cfg.Env...), StateEnv+"="+statePath)
		if reason != "" {
			env = append(env, RestartEnv+"="+reason)
		}
		end, err := runChild(ctx, cfg, env, sigs)
		if err != nil {
			return err
		}
		if end.stopped || ctx.Err() != nil {
			return nil
		}
		if end.status.Exited() && end.status.ExitStatus() == 0 {
			return nil // shutdown_request
		}
		if bin, ok := reexecRequest(statePath, end); ok {
			// a %get built a kernel binary with third-party packages: run it from now on
			cfg.Command = append([]string{bin}, cfg.Command[1:]...)
			reason = ReexecPrefix + bin
			cfg.Log.Printf("restarting the kernel into %s", bin)
			removeIPCSockets(cfg.Connection)
			continue
		}
		reason = end.reason()
		if !stateReady(statePath) {
			return fmt.Errorf("the kernel ended before it listened on its sockets: %s", reason)
		}
		now := time.Now()
		restarts = append(restarts, now)
		for len(restarts) > 0 && now.Sub(restarts[0]) > time.Minute {
			restarts = restarts[1:]
		}
		if len(restarts) > cfg.MaxRestarts {
			return fmt.Errorf("the kernel died %d times within a minute; giving up. Last: %s", len(restarts), reason)
		}
		cfg.Log.Printf("the kernel died (%s); starting a new one on the same connection file", reason)
		removeIPCSockets(cfg.Connection)
	}
}

// reexecRequest returns the binary a kernel that exited with ReexecStatus asked
// to be replaced by (ReexecPath), and removes the request.
func reexecRequest(statePath string, end childEnd) (string, bool) {
	if !end.status.Exited() || end.status.ExitStatus() != ReexecStatus {
		return "", false
	}
	p := ReexecPath(statePath)
	b, err := os.ReadFile(p)
	os.Remove(p)
	bin := strings.TrimSpace(string(b))
	if err != nil || bin == "" {
		return "", false
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", false
	}
	return bin, true
}

// childEnd is how a kernel process ended.
type childEnd struct {
	status  syscall.WaitStatus
	stopped bool   // the supervisor was asked to stop it
	crash   string // the runtime's fatal line (fatal error:, panic:, SIGSEGV: …)
	detail  string // the runtime: line before it (the stack limit, say)
	last    string // the last line of output
	rss     uint64 // resident memory at the last sample
	killed  bool   // killed by the supervisor after crashGrace
}

// reason says in one line why the kernel ended.
func (e childEnd) reason() string {
	var b strings.Builder
	switch {
	case e.crash != "":
		b.WriteString(e.crash)
		if e.detail != "" {
			fmt.Fprintf(&b, " (%s)", e.detail)
		}
		if e.killed {
			b.WriteString("; its report did not finish, so it was killed")
		}
	case e.status.Signaled():
		sig := e.status.Signal()
		fmt.Fprintf(&b, "killed by %s", signalName(sig))
		if sig == syscall.SIGKILL {
			b.WriteString(", most likely by the OOM killer (the machine or the kernel's memory limit ran out)")
		}
	default:
		fmt.Fprintf(&b, "exited with status %d", e.status.ExitStatus())
		if e.last != "" {
			fmt.Fprintf(&b, "; last output: %s", clip(e.last, 200))
		}
	}
	if e.rss > 0 && (e.status.Signaled() || strings.Contains(e.crash, "out of memory")) {
		fmt.Fprintf(&b, "; last memory use %s", formatBytes(e.rss))
	}
	return b.String()
}

func signalName(sig syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM", syscall.SIGSEGV: "SIGSEGV",
		syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGINT: "SIGINT", syscall.SIGHUP: "SIGHUP"}
	if n, ok := names[sig]; ok {
		return n
	}
	return fmt.Sprintf("signal %d (%v)", int(sig), sig)
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%d kB", n/1e3)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return truncateUTF8(s, n) + "…"
}

// crashLine is the first line of the Go runtime's report of a fatal error, an
// unrecovered panic or a signal it does not handle.
var crashLine = regexp.MustCompile(`^(fatal error: |panic: |SIG[A-Z]+: |runtime: out of memory)`)

// logLine is a line of the kernel's own log (log.LstdFlags, "golem kernel: ").
var logLine = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d golem kernel`)

// crashReport collects what says why a kernel died. It reads two streams. The
// kernel's standard error carries its log and, once the runtime has begun to die,
// its report (debug.SetCrashOutput copies it there). But Go writes the first lines
// of a fatal error ("runtime: goroutine stack exceeds 268435456-byte limit",
// "fatal error: stack overflow") to descriptor 2 only, which the kernel captures
// into a pipe it reads itself, while all its goroutines are stopped: the
// supervisor keeps the read end of that pipe too, and reads it from the moment the
// report begins (so that a long report never blocks on a full pipe) and after the
// kernel has ended.
type crashReport struct {
	mu     sync.Mutex
	crash  string // first line of the report on standard error
	detail string // the "runtime:" line before it
	fatal  string // last "fatal error:" line left in the descriptor 2 pipe
	// fatalDetail: the "runtime:" line before that
	fatalDetail string
	last        string   // last line of output
	lines       []string // the first lines of the runtime's report on standard error
	begun       chan struct{}
	begunMu     sync.Once
}

func newCrashReport() *crashReport { return &crashReport{begun: make(chan struct{})} }

// stderrLine takes one line of the kernel's standard error.
func (c *crashReport) stderrLine(l string) {
	if strings.TrimSpace(l) == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = l
	if logLine.MatchString(l) {
		return
	}
	c.begunMu.Do(func() { close(c.begun) }) // anything else is the runtime's report
	if len(c.lines) < 400 {
		c.lines = append(c.lines, l)
	}
	switch {
	case c.crash != "":
	case crashLine.MatchString(l):
		c.crash = clip(l, 300)
	case strings.HasPrefix(l, "runtime: goroutine stack exceeds"), strings.HasPrefix(l, "runtime: out of memory"):
		c.detail = clip(l, 200)
	}
}

// inferred names the fatal error of a report whose first lines were lost (the
// kernel's reader took them from the descriptor 2 pipe as the runtime stopped
// it): the function that called runtime.throw says which one it was.
func (c *crashReport) inferred() string {
	for i, l := range c.lines {
		if !strings.HasPrefix(l, "runtime.throw(") && !strings.HasPrefix(l, "runtime.fatal(") && !strings.HasPrefix(l, "internal/runtime/maps.fatal(") {
			continue
		}
		caller := ""
		for _, next := range c.lines[i+1:] {
			if next != "" && !strings.HasPrefix(next, "\t") {
				caller = next
				break
			}
		}
		switch {
		case strings.HasPrefix(caller, "runtime.newstack("):
			return "fatal error: stack overflow"
		case strings.Contains(caller, "allocLarge") || strings.Contains(caller, "sysAlloc") || strings.Contains(caller, "sysMap") ||
			strings.Contains(caller, "(*mheap).grow") || strings.Contains(caller, "persistentalloc") || strings.Contains(caller, "mallocgc"):
			return "fatal error: out of memory"
		case strings.Contains(l, "maps.fatal") || strings.Contains(caller, "map"):
			return "fatal error: concurrent map access"
		case caller != "":
			if i := strings.LastIndexByte(caller, '('); i > 0 {
				caller = caller[:i] // without the arguments
			}
			return "fatal error in " + clip(caller, 100)
		}
	}
	return ""
}

// captured takes what was left unread in the descriptor 2 pipe.
func (c *crashReport) captured(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	detail := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimRight(l, "\r")
		switch {
		case strings.HasPrefix(l, "runtime: goroutine stack exceeds"), strings.HasPrefix(l, "runtime: out of memory"):
			detail = clip(l, 200)
		case strings.HasPrefix(l, "fatal error: "):
			c.fatal, c.fatalDetail = clip(l, 300), detail
		}
		if strings.TrimSpace(l) != "" {
			c.last = l
		}
	}
}

// runChild runs one kernel process until it ends.
func runChild(ctx context.Context, cfg SuperviseConfig, env []string, sigs <-chan os.Signal) (childEnd, error) {
	var end childEnd
	pr, pw, err := os.Pipe() // the kernel's standard error
	if err != nil {
		return end, fmt.Errorf("supervise: stderr pipe: %w", err)
	}
	defer pr.Close()
	cr, cw, err := os.Pipe() // the pipe the kernel captures descriptor 2 into
	if err != nil {
		pw.Close()
		return end, fmt.Errorf("supervise: capture pipe: %w", err)
	}
	defer cr.Close()
	growPipe(pw.Fd())
	growPipe(cw.Fd())
	cmd := exec.Command(cfg.Command[0], cfg.Command[1:]...)
	cmd.Env = append(env, StderrEnv+"=3")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, pw
	cmd.ExtraFiles = []*os.File{cr, cw} // descriptors 3 and 4
	cmd.SysProcAttr = childAttr()
	err = cmd.Start()
	pw.Close()
	cw.Close()
	if err != nil {
		return end, fmt.Errorf("supervise: start %s: %w", cfg.Command[0], err)
	}
	pid := cmd.Process.Pid

	report := newCrashReport()
	drained := make(chan struct{})
	go func() { // copy standard error through, watching for the runtime's report
		defer close(drained)
		r := bufio.NewReaderSize(pr, 64<<10)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				cfg.Stderr.Write([]byte(line))
				report.stderrLine(strings.TrimRight(line, "\r\n"))
			}
			if err != nil {
				return
			}
		}
	}()
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	var captureOnce sync.Once
	captureDone := make(chan struct{})
	readCapture := func() {
		captureOnce.Do(func() {
			go func() {
				defer close(captureDone)
				report.captured(drainPipe(cr, exited))
			}()
		})
	}

	sample := time.NewTicker(250 * time.Millisecond)
	defer sample.Stop()
	var kill <-chan time.Time // SIGKILL when it fires
	killForCrash := false
	begun := (<-chan struct{})(report.begun)
	ctxDone := ctx.Done()
	stop := func() {
		end.stopped = true
		syscall.Kill(pid, syscall.SIGTERM)
		kill, killForCrash = time.After(stopGrace), false
	}
	for {
		select {
		case <-exited:
			readCapture()
			<-captureDone
			select {
			case <-drained:
			case <-time.After(2 * time.Second): // a grandchild holds the pipe open
			}
			end.status = cmd.ProcessState.Sys().(syscall.WaitStatus)
			report.mu.Lock()
			end.crash, end.detail, end.last = report.crash, report.detail, report.last
			if report.fatal != "" && !strings.HasPrefix(report.crash, "fatal error: ") {
				end.crash = report.fatal // the first line of the report
			}
			if end.detail == "" {
				end.detail = report.fatalDetail
			}
			if end.crash == "" {
				end.crash = report.inferred()
			}
			report.mu.Unlock()
			return end, nil
		case <-sample.C:
			if rss := residentBytes(pid); rss > 0 {
				end.rss = rss
			}
		case sig := <-sigs:
			if sig == syscall.SIGINT {
				syscall.Kill(pid, syscall.SIGINT) // an interrupt
			} else {
				stop()
			}
		case <-ctxDone:
			ctxDone = nil
			stop()
		case <-begun:
			// The kernel is dying: its goroutines are stopped, so read the pipe it
			// can no longer read, and kill it if the report does not end.
			begun = nil
			readCapture()
			if kill == nil {
				kill, killForCrash = time.After(crashGrace), true
			}
		case <-kill:
			kill = nil
			end.killed = killForCrash
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// drainPipe reads what is in the pipe r without blocking, until the pipe is
// empty after done is closed (the writer may be a grandchild that never closes
// it). It keeps the first maxCrashText bytes.
func drainPipe(r *os.File, done <-chan struct{}) []byte {
	const maxCrashText = 2 << 20
	fd := int(r.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil
	}
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.Read(fd, buf)
		if n > 0 {
			if room := maxCrashText - len(out); room > 0 {
				out = append(out, buf[:min(n, room)]...)
			}
			continue
		}
		if err == syscall.EINTR {
			continue
		}
		if err != syscall.EAGAIN { // EOF (n == 0) or an error
			return out
		}
		select {
		case <-done:
			return out
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stateReady reports whether the kernel that wrote the state file at path had
// begun to serve requests.
func stateReady(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var st kernelState
	return json.NewDecoder(strings.NewReader(string(b))).Decode(&st) == nil && st.Ready
}

// removeIPCSockets removes the socket files a dead kernel left for the ipc
// transport, so that the next one can listen on them.
func removeIPCSockets(ci ConnectionInfo) {
	if ci.Transport != "ipc" {
		return
	}
	for _, port := range []int{ci.ShellPort, ci.ControlPort, ci.StdinPort, ci.IOPubPort, ci.HBPort} {
		path := fmt.Sprintf("%s-%d", ci.IP, port)
		if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSocket != 0 {
			os.Remove(path)
		}
	}
}
