package cell

import (
	"strconv"
	"testing"
)

// A later definition of a variable with the same type assigns the existing
// variable, so functions compiled earlier see the new value.
func TestRedefineSameTypeAssigns(t *testing.T) {
	cases := []struct {
		name  string
		cells []string
		want  string
	}{
		{"x := v", []string{"x := 1", "func G() int { return x }", "x := 2", "G()"}, "2"},
		{"re-run of the first cell", []string{"x := 1", "func G() int { return x }", "x := 1 + 4", "x := 7", "G()"}, "7"},
		{"var x = v", []string{"var x = 1", "func G() int { return x }", "var x = 3", "G()"}, "3"},
		{"var x T = v", []string{"var x float32 = 1", "func G() float32 { return x }", "var x float32 = 2.5", "G()"}, "2.5"},
		{"var x T = v after x := v", []string{"x := 1", "func G() int { return x }", "var x int = 4", "G()"}, "4"},
		{"x := v after var x = v", []string{"var x = 1", "func G() int { return x }", "x := 5", "G()"}, "5"},
		{"var and a function in one cell", []string{"var x = 1\nfunc G() int { return x }", "func H() int { return x * 10 }", "var x = 2\nfunc G() int { return x }", "G() + H()"}, "22"},
		{"multi-value define", []string{"a, b := 1, \"s\"", "func G() string { return fmt.Sprint(a, b) }", "a, b := 2, \"t\"", "G()"}, `"2t"`},
		{"define from one call", []string{`a, err := strconv.Atoi("1")`, "func G() int { return a }", `a, err := strconv.Atoi("9")`, "G()"}, "9"},
		{"one call, one name changes type", []string{`a, err := strconv.Atoi("1")`, "func G() int { return a }", `err, a := strconv.Atoi("8")`, "G()"}, "1"},
		{"one call, blank", []string{`a, _ := strconv.Atoi("1")`, "func G() int { return a }", `a, _ := strconv.Atoi("6")`, "G()"}, "6"},
		{"var from one call", []string{`var a, err = strconv.Atoi("1")`, "func G() int { return a }", `var a, err = strconv.Atoi("3")`, "G()"}, "3"},
		{"mixed new and old names", []string{"a := 1", "func G() int { return a }", "a, b := 2, 3", "G() + b"}, "5"},
		{"same cell as the first definition", []string{"x := 1\nf := func() int { return x }\nx := 2\nf()"}, "2"},
		{"same cell, then a later cell", []string{"x := 1\nx := 2", "func G() int { return x }", "x := 3", "G()"}, "3"},
		{"same cell, function of an earlier cell", []string{"x := 0", "func G() int { return x }", "y := 3\nx := y * 2\nx := x + 1\nG()"}, "7"},
		{"closure variable", []string{"f := func() int { return 1 }", "func G() int { return f() }", "f := func() int { return 2 }", "G()"}, "2"},
		{"generic call", []string{"x := slices.Max([]int{1, 2})", "func G() int { return x }", "x := slices.Max([]int{5, 4})", "G()"}, "5"},
		{"struct read through a method", []string{
			"type Cfg struct{ N int }", "cfg := Cfg{N: 1}", "type Box struct{}\nfunc (Box) N() int { return cfg.N }",
			"cfg := Cfg{N: 5}", "Box{}.N()"}, "5"},
		{"pointer to struct", []string{
			"type Cfg struct{ N int }", "cfg := &Cfg{N: 1}", "func G() int { return cfg.N }", "cfg := &Cfg{N: 8}", "G()"}, "8"},
		{"re-running is idempotent", []string{"n := 0", "n := 0\nfor i := 0; i < 3; i++ { n++ }", "n := 0\nfor i := 0; i < 3; i++ { n++ }", "n"}, "3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := newTestSession(t).execAll(t, c.cells)
			if got != c.want {
				t.Fatalf("got %s, want %s", got, c.want)
			}
		})
	}
}

// When the type changes the definition makes a new variable: functions compiled
// against the old one keep reading it.
func TestRedefineTypeChange(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "x := 1")
	s.exec(t, "func G() int { return x }")
	s.exec(t, `x := "s"`)
	if got := s.exec(t, "x"); got != `"s"` {
		t.Fatalf("x = %s", got)
	}
	if got := s.exec(t, "G()"); got != "1" {
		t.Fatalf("G() = %s, want the old x (1)", got)
	}
	s.exec(t, "x := 2") // int again: a third variable, G still reads the first
	if got := s.exec(t, "G()"); got != "1" {
		t.Fatalf("G() = %s after x := 2", got)
	}
	s.exec(t, "func G() int { return x }") // re-running G's cell binds it to the current x
	s.exec(t, "x := 4")
	if got := s.exec(t, "G()"); got != "4" {
		t.Fatalf("G() = %s after re-running its cell", got)
	}
	// float64 then float32: a different type, a new variable
	s.exec(t, "y := 1.5")
	s.exec(t, "func H() float64 { return y }")
	s.exec(t, "y := float32(2)")
	if got := s.exec(t, "H()"); got != "1.5" {
		t.Fatalf("H() = %s", got)
	}
	// a redeclared struct type is a new type: values of it are new variables
	s.exec(t, "type P struct{ A int }\np := P{1}")
	s.exec(t, "func GP() int { return p.A }")
	s.exec(t, "type P struct{ A, B int }\np := P{2, 3}")
	if got := s.exec(t, "GP()"); got != "1" {
		t.Fatalf("GP() = %s", got)
	}
	// constants stay constants
	s.exec(t, "const c = 1")
	s.exec(t, "c := 2")
	if got := s.exec(t, "c"); got != "2" {
		t.Fatalf("c = %s", got)
	}
}

// Re-running `m, err := gpt.New(…)` replaces the model that earlier functions use.
func TestRedefineModel(t *testing.T) {
	s := newTestSession(t)
	newModel := func(width int) string {
		return "m, err := gpt.New(gpt.Config{VocabSize: 8, ContextLen: 4, Layers: 1, Heads: 1, Width: " + strconv.Itoa(width) + "}, 1)"
	}
	s.exec(t, `import "github.com/golem-lm/golem/lmlib/gpt"`)
	s.exec(t, newModel(4))
	s.exec(t, "func params() int { return m.NumParams() }")
	before := s.exec(t, "params()")
	s.exec(t, newModel(8))
	after := s.exec(t, "params()")
	if want := s.exec(t, "m.NumParams()"); after != want || after == before {
		t.Fatalf("params() = %s before, %s after, m.NumParams() = %s", before, after, want)
	}
	if got := s.exec(t, "func width() int { return m.Config.Width }\nwidth()"); got != "8" {
		t.Fatalf("width %s", got)
	}
	s.exec(t, "m, _ := gpt.New(gpt.Config{VocabSize: 8, ContextLen: 4, Layers: 1, Heads: 1, Width: 12}, 1)")
	if got, want := s.exec(t, "params()"), s.exec(t, "m.NumParams()"); got != want {
		t.Fatalf("params() = %s, m.NumParams() = %s", got, want)
	}
}
