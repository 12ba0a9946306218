package cell

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"testing"
)

// debugSource names a cell's file by a hash of its code, as the kernel does.
func debugSource(code string) string {
	h := fnv.New32a()
	h.Write([]byte(code))
	return fmt.Sprintf("/tmp/golem-debug-test/%d.go", h.Sum32())
}

func debugCall(t *testing.T, s *testSession, command string, args any) map[string]any {
	t.Helper()
	raw, _ := json.Marshal(args)
	body, err := s.Debug(command, raw)
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	b, _ := json.Marshal(body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDebuggerBreakpointInCellFunction: a breakpoint on a line of a function
// declared in one cell stops the next cell that calls it; the stack and the
// variables are the user's; next moves a line; continue ends the cell.
func TestDebuggerBreakpointInCellFunction(t *testing.T) {
	s := newTestSession(t)
	events := make(chan map[string]any, 16)
	s.DebugAttach(debugSource, func(event string, body any) {
		b := body.(map[string]any)
		b["event"] = event
		events <- b
	})
	decl := "import \"strings\"\nfunc Shout(word string, n int) string {\n\tup := strings.ToUpper(word)\n\tout := strings.Repeat(up, n)\n\treturn out\n}"
	s.exec(t, decl)
	path := debugSource(decl)
	bp := debugCall(t, s, "setBreakpoints", map[string]any{"source": map[string]any{"path": path}, "breakpoints": []map[string]any{{"line": 3}}})
	if got := fmt.Sprint(bp["breakpoints"]); got != fmt.Sprintf("[map[line:3 source:map[path:%s] verified:true]]", path) {
		t.Fatalf("setBreakpoints: %s", got)
	}
	call := "x := 7\nShout(\"go\", 2)"
	done := make(chan string, 1)
	go func() {
		b, err := s.Execute(context.Background(), call)
		if err != nil {
			done <- "error: " + err.Error()
			return
		}
		done <- fmt.Sprint(b["text/plain"])
	}()
	ev := <-events
	if ev["event"] != "stopped" || ev["reason"] != "breakpoint" {
		t.Fatalf("first event %v", ev)
	}
	st := debugCall(t, s, "stackTrace", map[string]any{"threadId": ev["threadId"]})
	frames := st["stackFrames"].([]any)
	top := frames[0].(map[string]any)
	if top["name"] != "Shout" || top["line"] != 3.0 || top["source"].(map[string]any)["path"] != path {
		t.Fatalf("top frame %v", top)
	}
	if len(frames) != 2 {
		t.Fatalf("want the function and the calling cell, got %v", frames)
	}
	caller := frames[1].(map[string]any)
	if caller["line"] != 2.0 || caller["source"].(map[string]any)["path"] != debugSource(call) {
		t.Errorf("caller frame %v (want line 2 of %s)", caller, debugSource(call))
	}
	locals := func(frame int) map[string]string {
		sc := debugCall(t, s, "scopes", map[string]any{"frameId": frame})
		ref := sc["scopes"].([]any)[0].(map[string]any)["variablesReference"]
		vs := debugCall(t, s, "variables", map[string]any{"variablesReference": ref})
		out := map[string]string{}
		for _, v := range vs["variables"].([]any) {
			m := v.(map[string]any)
			out[m["name"].(string)] = m["value"].(string)
		}
		return out
	}
	if l := locals(1); l["word"] != `"go"` || l["n"] != "2" {
		t.Errorf("locals at the breakpoint: %v", l)
	}
	debugCall(t, s, "next", map[string]any{"threadId": ev["threadId"]})
	ev = <-events
	st = debugCall(t, s, "stackTrace", map[string]any{"threadId": ev["threadId"]})
	if top := st["stackFrames"].([]any)[0].(map[string]any); ev["reason"] != "step" || top["line"] != 4.0 {
		t.Fatalf("after next: %v at %v", ev, top)
	}
	if l := locals(1); l["up"] != `"GO"` {
		t.Errorf("locals after next: %v", l)
	}
	debugCall(t, s, "continue", map[string]any{"threadId": ev["threadId"]})
	if got := <-done; got != `"GOGO"` {
		t.Fatalf("cell result %s", got)
	}
	if _, err := s.Debug("stackTrace", json.RawMessage(`{"threadId":1}`)); err == nil {
		t.Errorf("stackTrace after the cell ended: no error")
	}
	iv := debugCall(t, s, "inspectVariables", nil)
	if got := fmt.Sprint(iv["variables"]); got != "[map[evaluateName:x name:x type:int value:7 variablesReference:0]]" {
		t.Errorf("inspectVariables: %s", got)
	}
	s.DebugDetach()
	if got := s.exec(t, "Shout(\"a\", 3)"); got != `"AAA"` {
		t.Errorf("after detach: %s", got)
	}
}

func TestDebuggerBadRequests(t *testing.T) {
	s := newTestSession(t)
	s.DebugAttach(debugSource, func(string, any) {})
	for _, c := range []struct{ cmd, args, want string }{
		{"continue", `{"threadId":1}`, "no cell is stopped"},
		{"stackTrace", `{}`, "no cell is stopped"},
		{"variables", `{"variablesReference":99}`, "no cell is stopped"},
		{"setBreakpoints", `{"breakpoints":[{"line":1}]}`, "source.path"},
		{"setBreakpoints", `{"source":{"path":"/x.go"},"breakpoints":[{"line":0}]}`, "line 0"},
		{"setBreakpoints", `[1,2]`, "arguments of setBreakpoints"},
		{"frobnicate", `{}`, `"frobnicate"`},
		{"richInspectVariables", `{}`, "variableName"},
		{"richInspectVariables", `{"variableName":"nope"}`, `"nope"`},
	} {
		_, err := s.Debug(c.cmd, json.RawMessage(c.args))
		if err == nil || !contains(err.Error(), c.want) {
			t.Errorf("%s %s: %v, want an error naming %s", c.cmd, c.args, err, c.want)
		}
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s[:len(sub)] == sub || contains(s[1:], sub)))
}

// TestDebuggerImportsAcrossCells: cells run under the debugger (each under its
// own file name) still see the imports and names of earlier cells.
func TestDebuggerImportsAcrossCells(t *testing.T) {
	s := newTestSession(t)
	s.DebugAttach(debugSource, func(string, any) {})
	s.exec(t, "import \"strings\"\nx := \"a\"")
	if got := s.exec(t, "strings.ToUpper(x)"); got != `"A"` {
		t.Fatalf("got %s", got)
	}
	s.exec(t, "import (\n\t\"fmt\"\n)\ny := fmt.Sprint(x, 2)")
	if got := s.exec(t, "import \"strings\"\nz := strings.Repeat(y, 2)\nvar b strings.Builder\nb.WriteString(z)\nb.String() + x"); got != `"a2a2a"` {
		t.Fatalf("got %s", got)
	}
	e := s.fail(t, "var xs []int\nfunc At(i int) int { return xs[i] }\nAt(3)")
	if e.Name != "Panic" {
		t.Fatalf("panic under the debugger: %#v", e)
	}
}
