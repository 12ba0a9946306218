package cell

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/token"
	"reflect"
	"strings"
	"testing"
)

// testEnv is an env without yaegi: the standard library and golem's packages (as
// for a whole file), plus what a test says earlier cells left behind.
type testEnv struct {
	*fileEnv
	globals  map[string]reflect.Value // live values of earlier cells
	decls    map[string]string        // declarations of earlier cells (".M": methods)
	compiled map[string]reflect.Type  // variables of compiled origin
}

func (e testEnv) global(name string) (reflect.Value, bool) {
	v, ok := e.globals[name]
	return v, ok
}

func (e testEnv) pkg(name string) (string, bool) {
	if _, ok := e.decls[name]; ok {
		return "", false
	}
	return e.fileEnv.pkg(name)
}

func (e testEnv) earlier(name string) (string, bool) {
	d, ok := e.decls[name]
	return d, ok
}

func (e testEnv) compiledVar(name string) reflect.Type { return e.compiled[name] }

// rewriteCell runs the pass table over a cell without a session (the passes that
// need one do nothing) and prints the result: the declarations, then the
// statements, then what the passes could not rewrite.
func rewriteCell(t *testing.T, e testEnv, src string) (string, *unit) {
	t.Helper()
	fset := token.NewFileSet()
	chunks, _ := splitCell([]byte(src))
	imports, decls, body, err := parseCell(fset, []byte(src), chunks, 1)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if imports == nil {
		imports = &ast.File{}
	}
	e.fileEnv = newFileEnv(imports) // the session runs a cell's imports before its passes
	u := newUnit(e, fset, imports, decls, body)
	err = u.rewrite()
	var b bytes.Buffer
	if decls != nil {
		for _, d := range decls.Decls {
			format.Node(&b, token.NewFileSet(), d)
			b.WriteString("\n")
		}
	}
	b.WriteString("---\n")
	if u.body != nil {
		for _, st := range u.body.List {
			format.Node(&b, token.NewFileSet(), st)
			b.WriteString("\n")
		}
	}
	if err != nil {
		b.WriteString("error: " + err.Error() + "\n")
	}
	return b.String(), u
}

// TestPasses runs the passes over cells, without yaegi, and checks what each
// gap's rewrite wrote (and, with "!", what it must not have written).
func TestPasses(t *testing.T) {
	earlier := testEnv{
		globals: map[string]reflect.Value{
			"n":      reflect.ValueOf(4),
			"params": reflect.ValueOf([]float32{1, 2}),
			"max":    reflect.ValueOf(7), // a variable of an earlier cell: max(…) is still the builtin
		},
		decls: map[string]string{
			"count":   "func count(n int) iter.Seq[int]",
			".Points": "func (c Curve) Points() func(yield func(int, float64) bool)",
		},
		compiled: map[string]reflect.Type{"params": reflect.TypeFor[[]float32]()},
	}
	for _, c := range []struct {
		name, cell string
		want       []string
	}{
		{"min and max", "f := 2.5\nmin(1, f)\nmax(1.5, 2.5)",
			[]string{"_golemMin(f, 1)", "_golemMax(float64(1.5), float64(2.5))"}},
		{"min declared by the cell", "func min(a, b int) int { return a }\nmin(1, 2)",
			[]string{"func min(a, b int) int", "---\nmin(1, 2)"}},
		{"max as a local variable", "func top(xs []int) int {\n\tmax := xs[0]\n\treturn max\n}\nmax(3, 4)",
			[]string{"max := xs[0]", "_golemMax(3, 4)"}},
		{"clear of the cell", "func clear(m map[string]int) {}\nm := map[string]int{}\nclear(m)", []string{"---\nm := map[string]int{}\nclear(m)"}},
		{"clear", "s := []int{1}\nclear(s)", []string{"_golemrt.Clear(s)"}},
		{"make sizes", "b := make([]byte, n, 2*n)\nfunc g[T any](k int) []T { return make([]T, k) }",
			[]string{"make([]byte, _golemrt.MakeSize(int64(n), (*byte)(nil)), _golemrt.MakeSize(int64(2*n), (*byte)(nil)))", "return make([]T, k)"}},
		{"shims", "import sl \"slices\"\nxs := []int{2, 1}\nsl.Sort(xs)\nslices.Reverse(xs)",
			[]string{"_golem_slices_Sort(xs)", "_golem_slices_Reverse(xs)"}},
		{"a variable named like a package", "slices := []int{1}\nlen(slices)\nfunc f(maps map[int]int) { maps.Clone() }",
			[]string{"maps.Clone()", "!_golem_maps_Clone"}},
		{"range over an int of an earlier cell", "s := 0\nfor i := range n {\n\ts += i\n}",
			[]string{"_golemN1 := n", "for _golemI2 := _golemN1 - _golemN1; _golemI2 < _golemN1; _golemI2++ {", "i := _golemI2"}},
		{"range over a constant", "const k = 3\nfor range k {\n}", []string{"_golemN1 := k"}},
		{"range over int keeps its label", "outer:\nfor i := range len(\"abc\") {\n\tcontinue outer\n}",
			[]string{"outer:\n\tfor _golemI2"}},
		{"range over int with two variables", "for i, j := range 3 {\n}",
			[]string{"error: CompileError: cell:1:8: range over an integer permits only one iteration variable"}},
		{"range over a function of an earlier cell", "for v := range count(3) {\n\tfmt.Println(v)\n}",
			[]string{"_golemNext1, _golemStop2 := _golemPull(count(3))", "v, _golemOK3 := _golemNext1()", "_golemStop2()"}},
		{"range over a method's iterator", "for i, p := range c.Points() {\n\tfmt.Println(i, p)\n}",
			[]string{"_golemPull2(c.Points())", "i, p, _golemOK3 := _golemNext1()"}},
		{"range over a declared iterator", "func nat(yield func(int) bool) {}\nfor v := range nat {\n\tif v > 3 {\n\t\tbreak\n\t}\n}",
			[]string{"_golemPull(nat)"}},
		{"range over a standard iterator is a plain range", "xs := []string{\"a\"}\nfor v := range slices.Values(xs) {\n\t_ = v\n}\nfor k := range maps.Keys(map[int]int{}) {\n\t_ = k\n}",
			[]string{"for _, v := range xs {", "for k := range map[int]int{} {"}},
		{"range over an unknown value", "for v := range mystery() {\n}", []string{"for v := range mystery() {"}},
		{"loop variables of a three-clause loop", "var fs []func() int\nfor i := 0; i < 3; i++ {\n\tfs = append(fs, func() int { return i })\n}",
			[]string{"for _golemL1 := 0; _golemL1 < 3; _golemL1++ {", "i := _golemL1", "_golemL1 = i"}},
		{"loop variables of a range loop", "for _, s := range []string{\"a\"} {\n\tgo fmt.Println(s)\n}",
			[]string{"for _, _golemR1 := range []string{\"a\"} {", "s := _golemR1"}},
		{"goroutines", "go work(1, x)",
			[]string{"_golemC2, _golemA1 := _golemrt.Cell(), x", "defer func() {", "_golemrt.GoPanic(_golemC2, _golemR3, \"cell:1:1\")", "work(1, _golemA1)"}},
		{"untyped nil in a tuple assignment", "var e error\nvar k int\ne, k = nil, f()",
			[]string{"_golemT1 := f()", "e = nil", "k = _golemT1"}},
		{"untyped nil in a definition", "x, err := f(), nil",
			[]string{"error: CompileError: cell:1:16: use of untyped nil in assignment"}},
		{"switch on an interface", "var x any = 2\nswitch x {\ncase 1, 2:\n}",
			[]string{"switch {\ncase x == 1 || x == 2:"}},
		{"case list without tag", "switch {\ncase a, b:\n}", []string{"case a || b:"}},
		{"generic call on a compiled type", "big := slices.Max(params)\nws := slices.Clone(strings.Fields(\"a b\"))",
			[]string{"_golem_slices_Max([]float32(params))", "_golem_slices_Clone([]string(strings.Fields(\"a b\")))"}},
		{"a notebook's main", "func main() {}\nmain()", []string{"func _golemUserMain() {", "---\n_golemUserMain()"}},
		{"package var from two results", "func two() (int, error) { return 1, nil }\nvar a, b = two()",
			[]string{"var (\n\t_golemR1, _golemR2 = two()\n\ta, b               = _golemR1, _golemR2\n)"}},
		{"a tuple definition in a block", "m := map[string]int{}\nif v, ok := m[\"a\"]; ok {\n\t_ = v\n}",
			[]string{"{\n\tif v, ok := m[\"a\"]; ok {"}},
		{"return at the top level", "if v, ok := m[\"a\"]; ok {\n\treturn\n}",
			[]string{"error: CompileError: cell:2:2: return at the top level of a cell"}},
	} {
		got, _ := rewriteCell(t, earlier, c.cell)
		for _, w := range c.want {
			if not, ok := strings.CutPrefix(w, "!"); ok {
				if strings.Contains(got, not) {
					t.Errorf("%s: the rewrite has %q:\n%s", c.name, not, got)
				}
			} else if !strings.Contains(got, w) {
				t.Errorf("%s: the rewrite lacks %q:\n%s", c.name, w, got)
			}
		}
	}
}

// TestPassesLeaveNotes checks what the passes leave for the session: the var
// specs that run like statements, loops the resolver could not classify, the
// blocks to run as functions.
func TestPassesLeaveNotes(t *testing.T) {
	_, u := rewriteCell(t, testEnv{}, "import \"slices\"\nvar biggest = slices.Max([]int{4, 9})\nfunc twice() int { return 2 * biggest }\n"+
		"for v := range mystery() {\n}\nfor k, v := range func(yield func(string, int) bool) {} {\n\t_, _ = k, v\n}")
	if len(u.early) != 1 || len(u.late) != 0 {
		t.Errorf("early %d, late %d: want the generic var to run before the declarations", len(u.early), len(u.late))
	}
	if len(u.unknown) != 1 || !strings.HasPrefix(u.unknown[0], "cell:4:1: range over mystery(…)") {
		t.Errorf("unknown ranges: %q", u.unknown)
	}
	if len(u.asFunc) != 1 {
		t.Errorf("%d blocks to run as a function, want the top-level range over a function", len(u.asFunc))
	}
}

// TestResolver checks what the type resolver tells of expressions, from the cell,
// earlier cells' values and declarations, and compiled packages.
func TestResolver(t *testing.T) {
	e := testEnv{
		fileEnv: newFileEnv(&ast.File{}),
		globals: map[string]reflect.Value{"params": reflect.ValueOf([]float32{1})},
		decls:   map[string]string{"seq": "func seq() iter.Seq2[string, int]"},
	}
	src := "const N = 3\nvar xs []string\nws := strings.Fields(\"a\")\ncount := len(xs) * 2\nf := func(yield func(int) bool) {}\ntype T struct{ P []float32 }\nt := T{}\n"
	fset := token.NewFileSet()
	chunks, _ := splitCell([]byte(src))
	_, decls, body, err := parseCell(fset, []byte(src), chunks, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := newTypeResolver(e, func(token.Pos) string { return "cell" })
	r.learn(decls, body)
	parse := func(s string) ast.Expr {
		f, err := parseSource(token.NewFileSet(), "package p\nvar _ = "+s)
		if err != nil {
			t.Fatal(err)
		}
		return f.Decls[0].(*ast.GenDecl).Specs[0].(*ast.ValueSpec).Values[0]
	}
	for _, c := range []struct {
		expr  string
		class class
		typ   string // the reflect type ("": unknown)
		comp  bool   // of compiled origin
	}{
		{"N", clInt, "", false},
		{"count", clInt, "", false},
		{"xs", clOther, "[]string", false},
		{"ws", clOther, "[]string", true},
		{"f", clSeq1, "", false},
		{"seq()", clSeq2, "", false},
		{"params", clOther, "[]float32", false},
		{"t.P", clOther, "[]float32", false},
		{"strings.Split", clUnknown, "func(string, string) []string", true},
		{"1 << 3", clInt, "", false},
	} {
		x := parse(c.expr)
		if got := r.classOf(x, r.top); got != c.class {
			t.Errorf("class of %s: %v, want %v", c.expr, got, c.class)
		}
		ct := r.typeOf(x, r.top)
		got, comp := "", false
		if ct.typed() {
			got, comp = ct.t.String(), ct.compiled
		}
		if got != c.typ || comp != c.comp {
			t.Errorf("type of %s: %q (compiled %v), want %q (%v)", c.expr, got, comp, c.typ, c.comp)
		}
	}
}
