//go:build unix

package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golem-lm/golem/display"
)

// The supervisor tests run this test binary as the kernel process: with
// childEnv set, TestMain serves the connection file it names, as `golem kernel`
// does under its supervisor, with an interpreter whose commands crash it.
const childEnv = "GOLEM_TEST_KERNEL_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runTestChild(path))
	}
	os.Exit(m.Run())
}

func runTestChild(connFile string) int {
	ci, err := ReadConnectionFile(connFile)
	if err != nil {
		return 1
	}
	fd, err := strconv.Atoi(os.Getenv(StderrEnv))
	if err != nil {
		return 1
	}
	pipe, err := InheritedStderrPipe(fd)
	if err != nil {
		return 1
	}
	debug.SetMaxStack(4 << 20) // overflow quickly
	err = Run(context.Background(), Config{Connection: ci, HistoryPath: os.Getenv("GOLEM_TEST_HISTORY"), Version: "test",
		CaptureFDs: true, StderrPipe: pipe, StatePath: os.Getenv(StateEnv), RestartReason: os.Getenv(RestartEnv),
		NewInterpreter: func(io IO) (Interpreter, error) {
			return &crashInterpreter{scriptInterpreter: scriptInterpreter{io}}, nil
		}})
	if err != nil {
		return 1
	}
	return 0
}

// crashInterpreter adds commands that end the process the ways a cell can, and
// those that ask to restart into another binary (reexec_test.go).
type crashInterpreter struct {
	scriptInterpreter
	reexec string
}

func (c *crashInterpreter) Execute(ctx context.Context, code string) (display.Bundle, error) {
	if b, ok := c.reexecCommand(code); ok {
		return b, nil
	}
	switch code {
	case "overflow":
		return display.Bundle{"text/plain": strconv.Itoa(recurse(0))}, nil
	case "oom": // compiled code: no session to refuse it
		b := make([]byte, 1<<47)
		return display.Bundle{"text/plain": strconv.Itoa(len(b))}, nil
	case "sigkill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	}
	return c.scriptInterpreter.Execute(ctx, code)
}

// recurse never ends: Go ends the process with "fatal error: stack overflow".
func recurse(n int) int {
	var pad [128]byte
	pad[n%128] = byte(n)
	return recurse(n+1) + int(pad[0])
}

// lockedBuffer is a goroutine-safe buffer.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// superviseTestKernel starts Supervise on this test binary and connects a client.
func superviseTestKernel(t *testing.T) (*client, chan error, context.CancelFunc, *lockedBuffer) {
	t.Helper()
	p := freePorts(t, 5)
	ci := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: p[0], IOPubPort: p[1], StdinPort: p[2], ControlPort: p[3], HBPort: p[4], Key: "secret", SignatureScheme: "hmac-sha256"}
	dir := t.TempDir()
	connFile := filepath.Join(dir, "kernel.json")
	b, _ := json.Marshal(ci)
	if err := os.WriteFile(connFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	stopped := make(chan struct{})
	go func() {
		done <- Supervise(ctx, SuperviseConfig{Command: []string{exe, "-test.run=^$"}, Connection: ci, Stderr: stderr,
			Env: append(os.Environ(), childEnv+"="+connFile, "GOLEM_TEST_HISTORY="+filepath.Join(dir, "history.jsonl"))})
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Error("supervisor did not stop")
		}
		if t.Failed() {
			t.Logf("supervisor stderr:\n%s", tail(stderr.String(), 4000))
		}
	})
	c := dialKernel(t, ci)
	return c, done, cancel, stderr
}

// executeReply runs code and returns its execute_reply content (waiting long
// enough for a restart).
func (c *client) executeReply(code string) map[string]any {
	c.t.Helper()
	id := c.send(c.shell, "execute_request", map[string]any{"code": code})
	for {
		r := c.recv(c.shell, 20*time.Second)
		if r == nil {
			c.t.Fatalf("no reply to %q", code)
		}
		if parentID(r) == id {
			return content(r)
		}
	}
}

// TestAttackSupervisorRestartsAfterFatalErrors: a kernel that Go ends (a stack
// overflow in compiled code, out of the session's reach) or that is killed
// (SIGKILL, as the OOM killer does) is started again by the supervisor; the cell
// that was running gets KernelRestarted with the reason, and the execution count
// and history go on. shutdown_request still ends the supervisor.
func TestAttackSupervisorRestartsAfterFatalErrors(t *testing.T) {
	c, done, _, stderr := superviseTestKernel(t)
	if rc := c.executeReply("1 + 1"); rc["status"] != "ok" || rc["execution_count"] != 1.0 {
		t.Fatalf("first cell: %v", rc)
	}
	for i, crash := range []struct{ code, reason string }{
		{"overflow", "fatal error: stack overflow"},
		{"oom", "out of memory"},
		{"sigkill", "killed by SIGKILL, most likely by the OOM killer"},
	} {
		rc := c.executeReply(crash.code)
		if rc["status"] != "error" || rc["ename"] != "KernelRestarted" || !strings.Contains(rc["evalue"].(string), crash.reason) {
			t.Fatalf("%s: reply %v\nsupervisor stderr:\n%s", crash.code, rc, tail(stderr.String(), 3000))
		}
		if rc["execution_count"] != float64(2+2*i) {
			t.Fatalf("%s: execution count %v", crash.code, rc["execution_count"])
		}
		if rc := c.executeReply("2 + 2"); rc["status"] != "ok" || rc["execution_count"] != float64(3+2*i) {
			t.Fatalf("after %s: %v", crash.code, rc)
		}
	}
	r, _ := c.request("history_request", map[string]any{"hist_access_type": "range", "session": 0, "start": 1, "raw": true, "output": false})
	if h := content(r)["history"].([]any); len(h) != 7 {
		t.Fatalf("history of the session across three restarts: %v", h)
	}
	c.send(c.control, "shutdown_request", map[string]any{"restart": false})
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("supervisor after shutdown_request: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("supervisor still running after shutdown_request")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestAttackSupervisorSignals: SIGINT to the supervisor interrupts the cell
// in the kernel; cancelling its context (the Jupyter process went away) stops the
// kernel and the supervisor.
func TestAttackSupervisorSignals(t *testing.T) {
	c, done, cancel, _ := superviseTestKernel(t)
	id := c.send(c.shell, "execute_request", map[string]any{"code": "block"})
	for {
		m := <-c.iopubMsgs
		if parentID(m) == id && m.Header.MsgType == "execute_input" {
			break
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT) // Supervise passes it on
	r := c.recv(c.shell, 10*time.Second)
	if r == nil || parentID(r) != id || content(r)["ename"] != "Interrupted" {
		t.Fatalf("interrupt through the supervisor: %v", r)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("supervisor still running after its context was cancelled")
	}
}

// TestCrashReason: what the supervisor says for the ways a kernel ends.
func TestCrashReason(t *testing.T) {
	report := func(stderr, captured []string) *crashReport {
		c := newCrashReport()
		for _, l := range stderr {
			c.stderrLine(l)
		}
		c.captured([]byte(strings.Join(captured, "\n")))
		return c
	}
	end := func(c *crashReport, status syscall.WaitStatus) childEnd {
		e := childEnd{status: status, crash: c.crash, detail: c.detail, last: c.last, rss: 23_100_000_000}
		if c.fatal != "" && !strings.HasPrefix(c.crash, "fatal error: ") {
			e.crash = c.fatal
		}
		if e.detail == "" {
			e.detail = c.fatalDetail
		}
		if e.crash == "" {
			e.crash = c.inferred()
		}
		return e
	}
	exit2, sigkill := syscall.WaitStatus(2<<8), syscall.WaitStatus(syscall.SIGKILL)
	log := "2026/01/02 03:04:05 golem kernel: shell: dropped message"
	for _, c := range []struct {
		name            string
		stderr, capture []string
		status          syscall.WaitStatus
		want            string
	}{
		{"stack overflow, header kept in the pipe", []string{log, "runtime stack:", "runtime.throw({0x1?, 0x2?})", "\t/go/src/runtime/panic.go:1 +0x1"},
			[]string{"cell output", "runtime: goroutine stack exceeds 268435456-byte limit", "runtime: sp=0x1 stack=[0x2, 0x3]", "fatal error: stack overflow", ""},
			exit2, "fatal error: stack overflow (runtime: goroutine stack exceeds 268435456-byte limit)"},
		{"header copied to stderr", []string{"runtime: goroutine stack exceeds 4194304-byte limit", "fatal error: stack overflow", "runtime stack:"}, nil,
			exit2, "fatal error: stack overflow (runtime: goroutine stack exceeds 4194304-byte limit)"},
		{"header lost: inferred", []string{"runtime stack:", "runtime.throw({0x1?, 0x2?})", "\t/go/src/runtime/panic.go:1 +0x1", "runtime.newstack()", "\t/go/src/runtime/stack.go:1"}, nil,
			exit2, "fatal error: stack overflow"},
		{"out of memory", nil, []string{"runtime: out of memory: cannot allocate 140737488355328-byte block (8126464 in use)", "fatal error: out of memory"},
			exit2, "fatal error: out of memory (runtime: out of memory: cannot allocate 140737488355328-byte block (8126464 in use)); last memory use 23.1 GB"},
		{"out of memory, header lost: inferred", []string{"goroutine 1 gp=0x1 m=0 mp=0x2 [running]:", "runtime.throw({0x4c5c1b?, 0x9?})", "\t/go/src/runtime/panic.go:1229 +0x48",
			"runtime.(*mcache).allocLarge(0x584f60?, 0x800000000000, 0x1)"}, nil, exit2, "fatal error: out of memory; last memory use 23.1 GB"},
		{"another throw, inferred", []string{"runtime.throw({0x1?})", "\tpanic.go:1", "runtime.(*gcWork).put(0x1)"}, nil, exit2, "fatal error in runtime.(*gcWork).put"},
		{"panic in a compiled goroutine", []string{log, "panic: index out of range [3] with length 2", "", "goroutine 7 [running]:"}, nil,
			exit2, "panic: index out of range [3] with length 2"},
		{"OOM killer", []string{log}, nil, sigkill, "killed by SIGKILL, most likely by the OOM killer (the machine or the kernel's memory limit ran out); last memory use 23.1 GB"},
		{"exit", []string{log}, []string{"bye"}, syscall.WaitStatus(3 << 8), "exited with status 3; last output: bye"},
	} {
		if got := end(report(c.stderr, c.capture), c.status).reason(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
