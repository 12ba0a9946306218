//go:build unix

package kernel

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/golem-lm/golem/display"
)

// TestReexecRequest: the supervisor restarts into another binary only when the
// kernel exited with ReexecStatus and named an executable file; the request is
// used once.
func TestReexecRequest(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	exe := filepath.Join(dir, "golem-new")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "not-executable")
	os.WriteFile(plain, []byte("x"), 0o644)
	exited := func(code int) childEnd { return childEnd{status: syscall.WaitStatus(code << 8)} }

	for _, c := range []struct {
		name    string
		request string // "" for no request file
		end     childEnd
		want    string
	}{
		{"asked", exe, exited(ReexecStatus), exe},
		{"no request file", "", exited(ReexecStatus), ""},
		{"another status", exe, exited(2), ""},
		{"killed", exe, childEnd{status: syscall.WaitStatus(syscall.SIGKILL)}, ""},
		{"not executable", plain, exited(ReexecStatus), ""},
		{"missing binary", filepath.Join(dir, "gone"), exited(ReexecStatus), ""},
	} {
		os.Remove(ReexecPath(state))
		if c.request != "" {
			os.WriteFile(ReexecPath(state), []byte(c.request+"\n"), 0o600)
		}
		got, ok := reexecRequest(state, c.end)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: reexecRequest = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
	os.WriteFile(ReexecPath(state), []byte(exe), 0o600)
	if _, ok := reexecRequest(state, exited(ReexecStatus)); !ok {
		t.Fatal("request not taken")
	}
	if _, ok := reexecRequest(state, exited(ReexecStatus)); ok {
		t.Fatal("a request was used twice")
	}
}

func TestReexecNotice(t *testing.T) {
	got := restartNotice(ReexecPrefix + "/nb/.golem/kernel/golem-abc")
	want := "golem: the kernel restarted into /nb/.golem/kernel/golem-abc (asked by %get)"
	if len(got) < len(want) || got[:len(want)] != want {
		t.Fatalf("notice %q, want it to start %q", got, want)
	}
}

// reexecCommand runs the test kernel's commands about restarting: "reexec PATH"
// asks to restart into PATH after the cell, "exe" shows the running binary.
func (c *crashInterpreter) reexecCommand(code string) (display.Bundle, bool) {
	if bin, ok := strings.CutPrefix(code, "reexec "); ok {
		c.reexec = bin
		return display.Bundle{"text/plain": "restarting"}, true
	}
	if code == "exe" {
		exe, _ := os.Executable()
		return display.Bundle{"text/plain": exe}, true
	}
	return nil, false
}

func (c *crashInterpreter) ReexecBinary() string {
	b := c.reexec
	c.reexec = ""
	return b
}

// TestSuperviseReexec: a kernel whose interpreter asks to be replaced (a %get
// that built a binary) ends after its reply; the supervisor starts the binary it
// named on the same connection file, the request queued behind runs there, the
// execution count goes on, and the first cell there hears why.
func TestSuperviseReexec(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	next := filepath.Join(t.TempDir(), "golem-next")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(next, b, 0o755); err != nil {
		t.Fatal(err)
	}
	c, _, _, stderr := superviseTestKernel(t)
	if rc := c.executeReply("exe"); rc["status"] != "ok" {
		t.Fatalf("exe: %v", rc)
	}
	// "exe" is sent before the reexec's reply: it waits in the old kernel's queue
	first := c.send(c.shell, "execute_request", map[string]any{"code": "reexec " + next})
	second := c.send(c.shell, "execute_request", map[string]any{"code": "exe"})
	replies := map[string]map[string]any{}
	for len(replies) < 2 {
		r := c.recv(c.shell, 20*time.Second)
		if r == nil {
			t.Fatalf("replies so far %v\nsupervisor stderr:\n%s", replies, tail(stderr.String(), 3000))
		}
		replies[parentID(r)] = content(r)
	}
	if replies[first]["status"] != "ok" || replies[first]["execution_count"] != 2.0 {
		t.Fatalf("reexec reply %v", replies[first])
	}
	if replies[second]["status"] != "ok" || replies[second]["execution_count"] != 3.0 {
		t.Fatalf("the queued request: %v (it must run in the new kernel, not be aborted)", replies[second])
	}
	// the queued request heard why the kernel is new; a new one shows the new binary
	id := c.send(c.shell, "execute_request", map[string]any{"code": "exe"})
	var shown, notice string
	for shown == "" {
		select {
		case m := <-c.iopubMsgs:
			var res struct {
				Text string            `json:"text"`
				Data map[string]string `json:"data"`
			}
			json.Unmarshal(m.Content, &res)
			switch {
			case parentID(m) == second && m.Header.MsgType == "stream":
				notice += res.Text
			case parentID(m) == id && m.Header.MsgType == "execute_result":
				shown = res.Data["text/plain"]
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("no result of exe\nsupervisor stderr:\n%s", tail(stderr.String(), 3000))
		}
	}
	if !strings.Contains(notice, "the kernel restarted into "+next+" (asked by %get)") {
		t.Errorf("the queued cell's stderr %q does not say why the kernel is new", notice)
	}
	if shown != next {
		t.Fatalf("the kernel runs %q, want %q\nsupervisor stderr:\n%s", shown, next, tail(stderr.String(), 3000))
	}
	if !strings.Contains(stderr.String(), "restarting the kernel into "+next) {
		t.Fatalf("the supervisor did not say it restarts into %s:\n%s", next, tail(stderr.String(), 3000))
	}
}
