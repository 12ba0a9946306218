//go:build unix

package kernel

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
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
