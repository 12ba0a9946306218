package kernel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// TestAttackHistoryHugeCell: a cell larger than a history line may be (17 MiB)
// is stored cut, with a note, and every entry before and after it is still read
// by the next kernel.
func TestAttackHistoryHugeCell(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	h, err := openHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	huge := "// " + strings.Repeat("é", 17<<20/2) + "\n1"
	h.add("a := 1", "")
	h.add(huge, strings.Repeat("x", 1<<20))
	h.add("b := 2", "")
	h.close()

	h, err = openHistory(path)
	if err != nil {
		t.Fatalf("history after a huge cell: %v", err)
	}
	defer h.close()
	if h.session != 2 || h.skipped != 0 || len(h.entries) != 3 {
		t.Fatalf("session %d, skipped %d, %d entries; want session 2, none skipped, 3 entries", h.session, h.skipped, len(h.entries))
	}
	e := h.entries[1]
	if h.entries[0].Input != "a := 1" || h.entries[2].Input != "b := 2" {
		t.Fatalf("entries around the huge cell: %q, %q", h.entries[0].Input, h.entries[2].Input)
	}
	if e.InputBytes != len(huge) || len(e.Input) > maxHistoryInput+200 || !strings.HasPrefix(huge, strings.SplitN(e.Input, "\n// golem:", 2)[0]) ||
		!strings.Contains(e.Input, "history keeps the first") {
		t.Fatalf("huge cell stored as %d bytes (InputBytes %d), ending %q", len(e.Input), e.InputBytes, e.Input[max(0, len(e.Input)-100):])
	}
	if e.OutputBytes != 1<<20 || !strings.Contains(e.Output, "history keeps the first") {
		t.Fatalf("huge output stored as %d bytes (OutputBytes %d)", len(e.Output), e.OutputBytes)
	}
}

// TestAttackHistoryCorruptLines: lines longer than any entry (written by an older
// kernel or by hand), lines that are not JSON and binary garbage are skipped; the
// entries between them are kept and new entries are appended.
func TestAttackHistoryCorruptLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	entry := func(session, line int, input string) []byte {
		b, _ := json.Marshal(HistoryEntry{Session: session, Line: line, Input: input})
		return append(b, '\n')
	}
	var f bytes.Buffer
	f.Write(entry(1, 1, "first"))
	f.Write(entry(1, 2, strings.Repeat("y", 20<<20))) // a valid entry, but over maxHistoryLine
	f.WriteString(strings.Repeat("z", 20<<20) + "\n")
	f.WriteString("not json\n\x00\xff\xfe\n")
	f.Write(entry(2, 1, "second"))
	f.WriteString(`{"session":2,"line":2,"input":"torn`)
	if err := os.WriteFile(path, f.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := openHistory(path)
	if err != nil {
		t.Fatalf("history with corrupt lines: %v", err)
	}
	if len(h.entries) != 2 || h.entries[0].Input != "first" || h.entries[1].Input != "second" || h.session != 3 || h.skipped != 5 {
		t.Fatalf("entries %d, session %d, skipped %d; want first and second, session 3, 5 skipped", len(h.entries), h.session, h.skipped)
	}
	h.add("third", "")
	h.close()
	es, _, err := readHistory(path)
	if err != nil || len(es) != 3 || es[2].Input != "third" {
		t.Fatalf("after appending: %d entries, %v", len(es), err)
	}
}

func TestTruncateUTF8(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{{"abc", 5, "abc"}, {"abc", 2, "ab"}, {"aé", 2, "a"}, {"a€b", 3, "a"}, {"a€b", 4, "a€"}, {"😀", 3, ""}} {
		if got := truncateUTF8(c.s, c.n); got != c.want {
			t.Errorf("truncateUTF8(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

// TestAttackReplayedMessageRunsOnce: a validly signed execute_request sent again —
// byte for byte, with its signature in upper case, or on another channel — is
// dropped and logged, never run a second time (jupyter_client's Session refuses
// duplicate signatures the same way).
func TestAttackReplayedMessageRunsOnce(t *testing.T) {
	c, _ := startKernel(t)
	b, _ := json.Marshal(map[string]any{"code": "print once"})
	frames, err := c.signer.Encode(&Message{Header: NewHeader("execute_request", "client-session"), Content: b})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.shell.Send(zmq4.NewMsgFrom(frames...)); err != nil {
		t.Fatal(err)
	}
	if r := c.recv(c.shell, 5*time.Second); r == nil || content(r)["execution_count"] != 1.0 {
		t.Fatalf("first execute: %v", r)
	}
	upper := append([][]byte(nil), frames...)
	upper[1] = bytes.ToUpper(frames[1])
	for _, replay := range []struct {
		sock   zmq4.Socket
		frames [][]byte
	}{{c.shell, frames}, {c.shell, upper}, {c.control, frames}} {
		if err := replay.sock.Send(zmq4.NewMsgFrom(replay.frames...)); err != nil {
			t.Fatal(err)
		}
	}
	// Requests on a channel are served in order: had a replay been run, its reply
	// would come before this one's (request checks the reply's parent).
	r, _ := c.request("execute_request", map[string]any{"code": "after"})
	if content(r)["execution_count"] != 2.0 {
		t.Fatalf("execution count after the replays: %v, want 2 (the replays ran)", content(r)["execution_count"])
	}
	c.send(c.control, "kernel_info_request", map[string]any{})
	if r := c.recv(c.control, 5*time.Second); r == nil || r.Header.MsgType != "kernel_info_reply" {
		t.Fatalf("control after a replay on it: %v", r)
	}
}

func TestReplayGuardCulls(t *testing.T) {
	g := newReplayGuard(100)
	for i := range 1000 {
		if !g.fresh([]byte(fmt.Sprint("sig", i))) {
			t.Fatalf("signature %d seen as a duplicate", i)
		}
		if len(g.seen) > 100 {
			t.Fatalf("%d signatures kept, limit 100", len(g.seen))
		}
	}
	if !g.fresh(nil) || !g.fresh(nil) {
		t.Fatal("unsigned messages refused")
	}
	// The signature just recorded survives a cull (the guard is full here, so
	// every new one triggers one; Go's map order makes the victims random).
	for i := range 200 {
		s := []byte(fmt.Sprint("x", i))
		g.fresh(s)
		if g.fresh(s) {
			t.Fatalf("duplicate %s accepted right after a cull", s)
		}
	}
}

// TestAttackRestartAnswersDeadKernelsRequests: a kernel started on the state
// file of one that died (as Supervise does) answers the cell that was running
// with KernelRestarted naming the reason and what is lost, answers the queued
// cell "aborted", keeps the execution count and continues the history session.
func TestAttackRestartAnswersDeadKernelsRequests(t *testing.T) {
	dir := t.TempDir()
	histPath := filepath.Join(dir, "history.jsonl")
	h, err := openHistory(histPath)
	if err != nil {
		t.Fatal(err)
	}
	h.add("x := 1", "")
	h.add("x + 1", "2")
	h.close()
	header := func(id string) json.RawMessage {
		hd := NewHeader("execute_request", "client-session")
		hd.MsgID = id
		b, _ := json.Marshal(hd)
		return b
	}
	prev := kernelState{Ready: true, ExecutionCount: 3, HistorySession: 1,
		Running: &savedRequest{Channel: "shell", Identities: [][]byte{[]byte("test-client")}, Header: header("running-cell"),
			Code: "func R(n int) int { return R(n+1) + 1 }\nR(0)", ExecutionCount: 3, StoreHistory: true},
		Queued: []savedRequest{{Channel: "shell", Identities: [][]byte{[]byte("test-client")}, Header: header("queued-cell")}}}
	statePath := filepath.Join(dir, "state.json")
	b, _ := json.Marshal(prev)
	if err := os.WriteFile(statePath, append(b, "trailing bytes of a longer earlier state"...), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := startKernelWith(t, func(cfg *Config) {
		cfg.HistoryPath, cfg.StatePath, cfg.RestartReason = histPath, statePath, "fatal error: stack overflow"
	})
	r := c.recv(c.shell, 15*time.Second)
	if r == nil || parentID(r) != "running-cell" {
		t.Fatalf("reply for the running cell: %v", r)
	}
	rc := content(r)
	if rc["status"] != "error" || rc["ename"] != "KernelRestarted" || rc["execution_count"] != 3.0 ||
		!strings.Contains(rc["evalue"].(string), "stack overflow") || !strings.Contains(rc["evalue"].(string), "gone") {
		t.Fatalf("reply for the running cell: %v", rc)
	}
	outs := c.outputs("running-cell")
	if got := strings.Join(types(outs), ","); got != "error,status" {
		t.Fatalf("iopub for the running cell: %s", got)
	}
	if r := c.recv(c.shell, 5*time.Second); r == nil || parentID(r) != "queued-cell" || content(r)["status"] != "aborted" {
		t.Fatalf("reply for the queued cell: %v", r)
	}
	r, outs = c.request("execute_request", map[string]any{"code": "next"})
	if content(r)["execution_count"] != 4.0 {
		t.Fatalf("execution count after the restart: %v, want 4", content(r)["execution_count"])
	}
	if got := strings.Join(types(outs), ","); got != "status,execute_input,execute_result,status" {
		t.Fatalf("the first cell after an answered restart has no notice: %s", got)
	}
	r, _ = c.request("history_request", map[string]any{"hist_access_type": "range", "session": 0, "start": 1, "output": false, "raw": true})
	var rows [][]any
	json.Unmarshal(mustJSON(content(r)["history"]), &rows)
	if len(rows) != 4 || rows[2][1] != 3.0 || !strings.HasPrefix(rows[2][2].(string), "func R") || rows[3][2] != "next" {
		t.Fatalf("history of the session after the restart: %v", rows)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// BenchmarkStateFile: what a supervised kernel adds to each cell — the state file
// written when the request arrives, when it starts and when it is answered.
func BenchmarkStateFile(b *testing.B) {
	s, _, err := openState(filepath.Join(b.TempDir(), "state.json"), b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	hd, _ := json.Marshal(NewHeader("execute_request", "client-session"))
	m := &Message{Identities: [][]byte{[]byte("a2d99b9c-957968a8513cda5fed3d2bf0")}, rawHeader: hd}
	for i := 0; b.Loop(); i++ {
		s.received("shell", m)
		s.started("shell", m, "1", i, true, false)
		s.answered(m)
	}
}
