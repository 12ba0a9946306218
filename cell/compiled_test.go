package cell

import (
	"fmt"
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"
)

// TestGenericCallsOnCompiledTypes: generic std functions (and the user's) called
// on values whose type comes from a compiled package — lmlib struct fields,
// results of compiled functions and methods, package variables, elements of
// compiled slices — which yaegi v0.16.1 alone fails to compile ("CFG post-order
// panic: runtime error: invalid memory address or nil pointer dereference").
func TestGenericCallsOnCompiledTypes(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "import (\n\t\"maps\"\n\t\"os\"\n\t\"slices\"\n\n\t\"github.com/golem-lm/golem/lmlib/gpt\"\n\t\"github.com/golem-lm/golem/lmlib/tokenizer\"\n)\n"+
		"m, _ := gpt.New(gpt.Config{VocabSize: 8, ContextLen: 4, Layers: 1, Heads: 1, Width: 4}, 1)\n"+
		"tok, _ := tokenizer.Train([]string{\"low lower lowest\"}, tokenizer.TrainOptions{VocabSize: 260})")
	for _, c := range []struct{ name, code, want string }{
		{"field in a define", "y := slices.Clone(m.Params)\nlen(y) == len(m.Params) && &y[0] != &m.Params[0]", "true"},
		{"fields as result", "slices.Equal(m.Params, m.Params)", "true"},
		{"fields in an expression", "slices.Max(m.Params) >= slices.Min(m.Params)", "true"},
		{"sort in place", "ps := slices.Clone(m.Params)\nslices.Sort(ps)\nslices.IsSorted(ps)", "true"},
		{"variable of an earlier cell", "p := m.Params", ""},
		{"variable of an earlier cell, used", "slices.Contains(p, p[3])", "true"},
		{"method result", "slices.Max(tok.EncodeOrdinary(\"lowest\")) >= 256", "true"},
		{"method result of two values", "ids, err := tok.Encode(\"low\")\n[]any{len(slices.Clone(ids)) == len(ids), err}", "[true <nil>]"},
		{"slice of a compiled struct type", "ts := slices.Clone(m.Tensors())\nts[0].Name", `"wte"`},
		{"with a func literal", "slices.IndexFunc(m.Tensors(), func(t gpt.Tensor) bool { return t.Name == \"wpe\" })", "1"},
		{"range variable", "n := 0\nfor _, t := range m.Tensors() {\n\tn = max(n, slices.Max(t.Shape))\n}\nn >= 8", "true"},
		{"function parameter", "func biggest(mm *gpt.Model) float32 { return slices.Max(mm.Params) }\nbiggest(m) == slices.Max(m.Params)", "true"},
		{"field of the user's struct", "type Run struct{ M *gpt.Model }\nr := Run{M: m}\nlen(slices.Clone(r.M.Params)) == len(m.Params)", "true"},
		{"embedded compiled struct", "type Wrapped struct{ *gpt.Model }\nw := Wrapped{m}\nslices.Max(w.Params) == slices.Max(m.Params)", "true"},
		{"map of compiled elements", "byName := map[string][]float32{}\nfor _, t := range m.Tensors() {\n\tbyName[t.Name] = m.Params[t.Offset : t.Offset+t.Size]\n}\nlen(slices.Collect(maps.Keys(byName))) == len(m.Tensors())", "true"},
		{"user generic function", "func count[E any](s []E) int { return len(s) }\ncount(m.Params) == len(m.Params)", "true"},
		// []fs.DirEntry: io/fs is imported under a hidden name, which a variable
		// named fs cannot hide
		{"type of a package not imported", "entries, _ := os.ReadDir(\".\")\nlen(slices.Clone(entries)) == len(entries)", "true"},
		{"type of a package whose name is taken", "fs := 1\n_ = fs\nlen(slices.Clone(entries)) == len(entries)", "true"},
		{"redefined as a slice of the cell", "p := []float32{5, 9}\nslices.Max(p)", "9"},
	} {
		if got := s.exec(t, c.code); got != c.want {
			t.Errorf("%s:\n%s\ngot %q, want %q", c.name, c.code, got, c.want)
		}
	}
	// an argument golem cannot type: the error names the call and the line
	e := s.fail(t, "func id[T any](x T) T { return x }\nslices.Max(id(m.Params))")
	if e.Name != "CompileError" || !strings.HasPrefix(e.Value, "cell:2:1: slices.Max(…): golem could not tell the type of id(m.Params)") {
		t.Errorf("unknown argument type: got %s: %s", e.Name, e.Value)
	}
}

// TestRewriteCompiledTypes: the function host's rewrite converts the same
// arguments and imports the packages their types need.
func TestRewriteCompiledTypes(t *testing.T) {
	src, err := Rewrite(`package main

import (
	"os"
	"slices"
)

func Entries() int {
	e, _ := os.ReadDir(".")
	return len(slices.Clone(e)) - len(e)
}

func HasArg(a string) bool { return slices.Contains(os.Args, a) }
`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(src, `_golemP_fs "io/fs"`) || !strings.Contains(src, "[]_golemP_fs.DirEntry(e)") {
		t.Errorf("rewritten source:\n%s", src)
	}
	in, err := NewInterpreter(interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Eval(src); err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	for expr, want := range map[string]string{"Entries()": "0", `HasArg("--no-such-flag")`: "false"} {
		v, err := in.Eval(expr)
		if err != nil || fmt.Sprint(v.Interface()) != want {
			t.Errorf("%s = %v, %v; want %s", expr, v, err, want)
		}
	}
}

// TestProgramCellCompiledTypes: a whole-program cell gets the same conversions,
// and may import the packages the interpreter's prelude imports (strings, sort).
func TestProgramCellCompiledTypes(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"slices\"\n\t\"sort\"\n\t\"strings\"\n)\n\n"+
		"func main() {\n\tws := strings.Fields(\"b c a\")\n\tsort.Strings(ws)\n\te, _ := os.ReadDir(\".\")\n"+
		"\tfmt.Println(ws, slices.Max(strings.Fields(\"b c a\")), len(slices.Clone(e)) == len(e))\n}")
	if got := s.out.String(); got != "[a b c] c true\n" {
		t.Errorf("program printed %q", got)
	}
}
