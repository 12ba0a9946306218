package cell

import (
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"
)

// Variables defined at the top level of a cell from one value with several
// results (a, err := f(); v, ok := m[k]; x, ok := i.(T); v, ok := <-ch; var a, b =
// f()) are read by functions declared in later cells. yaegi v0.16.1 allocates such
// variables in the global frame without marking them global, so a function reads
// them relative to the frame of whoever called it: right when the caller is the
// top level of a cell, wrong (a zero value, another variable, or a reflect panic)
// from anywhere deeper — a function called by a function, the init function that
// computes a cell's trailing result, a method, a closure made by a function, a
// goroutine.

// tupleCase is a sequence of cells whose last one must show want.
type tupleCase struct {
	name  string
	cells []string
	want  string
}

func runTupleCases(t *testing.T, cases []tupleCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSession(t)
			got := s.execAll(t, c.cells)
			if got != c.want {
				t.Errorf("cells:\n%s\ngot %q, want %q (stderr %q)", strings.Join(c.cells, "\n-- next cell --\n"), got, c.want, s.errOut.String())
			}
		})
	}
}

func TestTupleDefinedGlobals(t *testing.T) {
	two := "func two() (int, int) { return 3, 4 }"
	runTupleCases(t, []tupleCase{
		// the report: a, _ := strconv.Atoi("3") read by G() in a cell's result showed 0
		{"result of a function", []string{`a, _ := strconv.Atoi("3")`, "func G() int { return a }", "G()"}, "3"},
		{"defined from the function", []string{`a, _ := strconv.Atoi("3")`, "func G() int { return a }", "x := G()\nx"}, "3"},
		// with two named results yaegi panicked instead
		{"two results", []string{two, "a, b := two()", "func G() int { return a*10 + b }", "G()"}, "34"},
		{"through another function", []string{two, "a, b := two()", "func G() int { return a*10 + b }", "func H() int { return G() }", "x := H()\nx"}, "34"},
		{"method", []string{two, "a, b := two()", "type T struct{}\nfunc (T) Sum() int { return a*10 + b }", "T{}.Sum()"}, "34"},
		{"closure made by a function", []string{two, "a, b := two()", "func mk() func() int { return func() int { return a*10 + b } }", "mk()()"}, "34"},
		{"closure at the top level", []string{two, "a, b := two()", "func G() int { return a*10 + b }", "f := func() int { return G() }", "f()"}, "34"},
		{"goroutine", []string{two, "a, b := two()", "func G() int { return a*10 + b }", "ch := make(chan int)\ngo func() { ch <- G() }()\n<-ch"}, "34"},
		{"error read by a function", []string{`n, err := strconv.Atoi("x")`, "func failed() bool { return err != nil && n == 0 }", "failed()"}, "true"},
		{"nil error shown", []string{`n, err := strconv.Atoi("5")`, "err"}, "<nil>"},
		{"error shown", []string{`n, err := strconv.Atoi("x")`, "err"}, `strconv.Atoi: parsing "x": invalid syntax`},
		{"result of the user's struct type", []string{"type P struct{ X int }\nfunc mk() (P, error) { return P{4}, nil }", "p, err := mk()", "func G() int { return p.X }", "G()"}, "4"},
		{"interface result", []string{"import \"fmt\"\ntype S struct{}\nfunc (S) String() string { return \"s\" }\nfunc mk() (fmt.Stringer, bool) { return S{}, true }",
			"str, ok := mk()", "func G() string { if !ok { return \"\" }; return str.String() }", "G()"}, `"s"`},
		{"func result", []string{"func mk() (func() int, int) { return func() int { return 5 }, 2 }", "f, k := mk()", "func G() int { return f() * k }", "G()"}, "10"},
		// a name defined twice in one cell is one variable (Go reuses it)
		{"err defined twice in a cell", []string{"a, err := strconv.Atoi(\"1\")\nb, err := strconv.Atoi(\"x\")", "func G() []any { return []any{a, b, err != nil} }", "G()"}, "[1 0 true]"},
		{"redefined by a later cell", []string{`a, err := strconv.Atoi("1")`, `a, err := strconv.Atoi("7")`, "func G() int { return a }", "G()"}, "7"},
		{"blank identifier then assignments to it", []string{"a, _ := strconv.Atoi(\"3\")", "xs := []float32{1, 2}\n{\n\t_ = slices.Max(xs)\n}\nif true {\n\t_ = \"s\"\n}", "a"}, "3"},

		// the comma-ok forms at the top level (yaegi alone: "nil type")
		{"map comma-ok", []string{"m := map[string]int{\"x\": 5}\nv, ok := m[\"x\"]\n_, found := m[\"y\"]\nw, _ := m[\"x\"]", "func G() []any { return []any{v, ok, found, w} }", "G()"}, "[5 true false 5]"},
		{"map comma-ok key evaluated once", []string{"calls := 0\nkey := func() string { calls++; return \"x\" }\nm := map[string]int{\"x\": 5}\nv, ok := m[key()]", "func G() []any { return []any{v, ok, calls} }", "G()"}, "[5 true 1]"},
		{"type assertion comma-ok", []string{"var x any = 5\nn, ok := x.(int)\ns, isStr := x.(string)", "func G() []any { return []any{n, ok, s, isStr} }", "G()"}, "[5 true  false]"},
		{"receive comma-ok", []string{"ch := make(chan int, 1)\nch <- 9\nclose(ch)\nv, ok := <-ch\nw, more := <-ch", "func G() []any { return []any{v, ok, w, more} }", "G()"}, "[9 true 0 false]"},
		{"receive comma-ok from a call", []string{"ch := make(chan string, 1)\nch <- \"a\"\nget := func() chan string { return ch }\nv, ok := <-get()", "func G() []any { return []any{v, ok, len(ch)} }", "G()"}, "[a true 0]"},

		// package-level var declarations of a cell
		{"package var", []string{two + "\nvar a, b = two()\nfunc G() int { return a*10 + b }", "func H() int { return G() }", "H()"}, "34"},
		{"package var with a type", []string{two + "\nvar a, b int = two()", "func G() int { return a*10 + b }", "func H() int { return G() }", "H()"}, "34"},
		{"package var using a later var", []string{"func two(c int) (int, int) { return c, c + 1 }\nvar a, b = two(c)\nvar c = 5", "func G() []int { return []int{a, b} }", "G()"}, "[5 6]"},
		{"package var with a type using a later var", []string{"func two(c int) (int, int) { return c, c + 1 }\nvar a, b int64 = two(c)\nvar c = 5", "func G() []int64 { return []int64{a, b} }", "G()"}, "[5 6]"},
		{"package var comma-ok", []string{"m := map[string]int{\"x\": 5}", "var v, ok = m[\"x\"]", "func G() []any { return []any{v, ok} }", "G()"}, "[5 true]"},
	})
}

// TestLateVarUse: a var the session runs after the cell's other declarations (its
// value is a generic call or a comma-ok form and uses a name the cell declares)
// cannot be used by them; the error says so at the use.
func TestLateVarUse(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "var m = map[string]int{\"x\": 5}\nvar v, ok = m[\"x\"]\nfunc G() []any { return []any{v, ok} }")
	if e.Name != "CompileError" || !strings.HasPrefix(e.Value, "cell:3:31: v is defined by the var at cell:2:5, which golem runs after") {
		t.Errorf("got %s: %s", e.Name, e.Value)
	}
}

// TestTupleDefinedLmlibGlobals: the notebook flows of golem's own library.
func TestTupleDefinedLmlibGlobals(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "import (\n\t\"github.com/golem-lm/golem/lmlib/gpt\"\n\t\"github.com/golem-lm/golem/lmlib/tokenizer\"\n)")
	newModel := "gpt.New(gpt.Config{VocabSize: 8, ContextLen: 4, Layers: 1, Heads: 1, Width: 4}, 1)"
	s.exec(t, "m, err := "+newModel)
	for _, c := range []struct{ name, code, want string }{
		{"trailing method call", "m.NumParams()", "252"},
		{"nil error", "err", "<nil>"},
		{"function reading the model", "func params() int { return m.NumParams() }\nparams()", "252"},
		{"function called by a function", "func report() string { return fmt.Sprint(params(), err) }\nreport()", `"252 <nil>"`},
		// after m, _ := gpt.New(…) a block assigning a float32 to _ panicked:
		// "reflect.Set: value of type float32 is not assignable to type error"
		{"blank result", "m2, _ := " + newModel + "\nm2.NumParams()", "252"},
		{"block with a generic call", "xs := []float32{1, 2}\n{\n\t_ = slices.Max(xs)\n}\nlen(xs)", "2"},
		{"loop with a generic call", "for range 1 {\n\t_ = slices.Max(xs)\n}\nlen(xs)", "2"},
		{"if with a generic call", "if true {\n\t_ = slices.Max(xs)\n}\nlen(xs)", "2"},
		{"tokenizer", "tok, err := tokenizer.Load(\"gpt2\")", ""},
		{"function reading the tokenizer", "func count(s string) int { return len(tok.EncodeOrdinary(s)) }\ncount(\"hello world\")", "2"},
		{"package var", "var m3, err3 = " + newModel + "\nfunc params3() int { return m3.NumParams() }", ""},
		{"function reading the package var", "func ok3() bool { return err3 == nil }\nok3() && params3() == 252", "true"},
		{"closure reading the tokenizer", "enc := func(s string) []int { return tok.EncodeOrdinary(s) }\nlen(enc(\"hello world\"))", "2"},
		{"closure called by a function", "func encLen(s string) int { return len(enc(s)) }\nencLen(\"hello world\")", "2"},
		{"ids and error of a method", "ids, err := tok.Encode(\"hello\")", ""},
		{"function reading them", "func first() int { return ids[0] }\nfirst() > 0 && err == nil", "true"},
	} {
		if got := s.exec(t, c.code); got != c.want {
			t.Errorf("%s:\n%s\ngot %q, want %q", c.name, c.code, got, c.want)
		}
	}
	// the temporaries through which golem defines them hold nothing afterwards (a
	// model set to nil by the notebook is not kept alive by them)
	for name, v := range s.globals() {
		if strings.HasPrefix(name, "_golemR") && !v.IsZero() {
			t.Errorf("temporary %s still holds %v", name, v)
		}
	}
}

// TestTupleDefinedProgramGlobals: whole-program cells and the function host's
// source get the same treatment of package-level var declarations.
func TestTupleDefinedProgramGlobals(t *testing.T) {
	src := "package main\n\nimport \"strconv\"\n\nfunc two() (int, int) { return 3, 4 }\n\nvar a, b = two()\n\nvar n, err = strconv.Atoi(\"x\")\n\n" +
		"func G() int { return a*10 + b }\n\nfunc H() int {\n\tif err == nil || n != 0 {\n\t\treturn -1\n\t}\n\treturn G()\n}\n"
	s := newTestSession(t)
	s.exec(t, strings.Replace(src, "import \"strconv\"", "import (\n\t\"fmt\"\n\t\"strconv\"\n)", 1)+"\nfunc main() { fmt.Println(H()) }\n")
	if got := s.out.String(); got != "34\n" {
		t.Errorf("program printed %q", got)
	}
	out, err := Rewrite(src)
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInterpreter(interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Eval(out); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	v, err := in.Eval("H()")
	if err != nil || v.Interface() != 34 {
		t.Errorf("H() = %v, %v; want 34\n%s", v, err, out)
	}
}
