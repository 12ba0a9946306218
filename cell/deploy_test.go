package cell

import (
	"strings"
	"testing"
)

// TestDeployMagicErrors: every bad %%deploy input fails the cell with a message
// naming the input and what is wrong, before anything is sent to a host.
func TestDeployMagicErrors(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "func helper(s string) int { return len(s) }")
	fn := "\nfunc Handle(text string) int { return len(text) }"
	for _, c := range []struct{ cell, want string }{
		{"%%deploy" + fn, "cell:1: %%deploy needs the function's name (usage: %%deploy NAME [--timeout DURATION] [--memory MiB] [--entry FUNC])"},
		{"%%deploy Word" + fn, `%%deploy: function name "Word": use 1 to 63 lower-case letters`},
		{"%%deploy wc extra" + fn, `%%deploy takes one function name, got "wc" and "extra"`},
		{"%%deploy wc --timeout abc" + fn, `%%deploy: --timeout "abc": want a positive duration such as 30s or 2m`},
		{"%%deploy wc --timeout=-1s" + fn, `%%deploy: --timeout "-1s": want a positive duration`},
		{"%%deploy wc --memory lots" + fn, `%%deploy: --memory "lots": want a positive whole number of MiB such as 512`},
		{"%%deploy wc --memory 0" + fn, `%%deploy: --memory "0"`},
		{"%%deploy wc --memory" + fn, "%%deploy: --memory needs a value"},
		{"%%deploy wc --cpu 2" + fn, "%%deploy: unknown flag --cpu"},
		{"%%deploy wc --entry 1x" + fn, `%%deploy: --entry "1x": want the name of a Go function`},
		{"%%deploy wc\nfunc Count(text string) int { return 1 }", "%%deploy wc: the cell declares no func Handle, the function the host calls (--entry names another)"},
		{"%%deploy wc --entry Count" + fn, "%%deploy wc: the cell declares no func Count"},
		{"%%deploy wc" + fn + "\nHandle(\"a b\")", "%%deploy wc: cell:3:1: a statement; a %%deploy cell holds only imports and declarations"},
		{"%%deploy wc\nfunc Handle(text string) int { return helper(text) }",
			"%%deploy wc: cell:2:39: helper is not declared in this cell; the function host sees only this cell: declare helper here too"},
	} {
		e := s.fail(t, c.cell)
		if tb := strings.Join(e.Traceback, "\n"); e.Name != "MagicError" || !strings.Contains(tb, c.want) {
			t.Errorf("%q:\n got %s: %s\nwant %s", c.cell, e.Name, tb, c.want)
		}
	}
}

// TestDeployUnreachableHost: with no host at GOLEM_URL the cell fails saying
// where it looked and how to start one; the function was compiled in the session
// first, so a compile error names the cell's own line.
func TestDeployUnreachableHost(t *testing.T) {
	t.Setenv("GOLEM_URL", "http://127.0.0.1:1")
	s := newTestSession(t)
	e := s.fail(t, "%%deploy wc\nfunc Handle(text string) int { return len(strings.Fields(text)) }")
	if !strings.Contains(e.Value, "%deploy wc: cannot reach the function host at http://127.0.0.1:1 (GOLEM_URL)") ||
		!strings.Contains(e.Value, "start one with `golem serve`") {
		t.Fatalf("got %v", e)
	}
	e = s.fail(t, "%%deploy wc\n\nfunc Handle(text string) int { return len(text) + \"s\" }")
	if !strings.HasPrefix(e.Value, "cell:3:") {
		t.Fatalf("compile error: %v", e)
	}
}

func TestDeploySource(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"package clause and imports added", "func Handle(text string) []string { return strings.Fields(text) }",
			"package wc_1\n\nimport (\n\t\"strings\"\n)\n\nfunc Handle(text string) []string { return strings.Fields(text) }"},
		{"imports after declarations move first", "type In struct{ N int }\nimport \"fmt\"\nfunc Handle(in In) string { return fmt.Sprint(in.N) }",
			"package wc_1\n\nimport \"fmt\"\n\ntype In struct{ N int }\n\nfunc Handle(in In) string { return fmt.Sprint(in.N) }\n\n"},
		{"a whole file stays as written", "// Package p counts.\npackage p\n\nfunc Handle() int { return 1 }",
			"// Package p counts.\npackage p\n\nfunc Handle() int { return 1 }"},
	} {
		src := []byte(c.body)
		chunks, hasPackage := splitCell(src)
		var need []string
		if strings.Contains(c.body, "strings.") {
			need = []string{"strings"}
		}
		if got := deploySource("wc-1", c.body, hasPackage, src, chunks, need); got != c.want {
			t.Errorf("%s:\n%s\nwant\n%s", c.name, got, c.want)
		}
	}
}
