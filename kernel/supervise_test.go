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
	var pipe [2]*os.File
	if fd, err := strconv.Atoi(os.Getenv(StderrEnv)); err == nil {
		pipe = [2]*os.File{os.NewFile(uintptr(fd), "r"), os.NewFile(uintptr(fd+1), "w")}
	}
	debug.SetMaxStack(4 << 20) // overflow quickly
	err = Run(context.Background(), Config{Connection: ci, HistoryPath: os.Getenv("GOLEM_TEST_HISTORY"), Version: "test",
		CaptureFDs: true, StderrPipe: pipe, StatePath: os.Getenv(StateEnv), RestartReason: os.Getenv(RestartEnv),
		NewInterpreter: func(io IO) (Interpreter, error) { return &crashInterpreter{scriptInterpreter{io}}, nil }})
	if err != nil {
		return 1
	}
	return 0
}

// crashInterpreter adds commands that end the process the ways a cell can.
type crashInterpreter struct{ scriptInterpreter }

func (c *crashInterpreter) Execute(ctx context.Context, code string) (display.Bundle, error) {
	switch code {
	case "overflow":
		return display.Bundle{"text/plain": strconv.Itoa(recurse(0))}, nil
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
	if h := content(r)["history"].([]any); len(h) != 5 {
		t.Fatalf("history of the session across two restarts: %v", h)
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

// TestSupervisorInterruptAndStop: SIGINT to the supervisor interrupts the cell
// in the kernel; cancelling its context (the Jupyter process went away) stops the
// kernel and the supervisor.
func TestSupervisorInterruptAndStop(t *testing.T) {
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
