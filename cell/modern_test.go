package cell

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// modernCases are modern-Go cells users type, which yaegi v0.16.1 cannot run as
// is. Each must produce want as its result (text/plain) or, when want starts with
// "out:", print it on stdout.
var modernCases = []struct{ name, code, want, knownFail string }{
	{"min ints", "min(3, 1, 2)", "1", ""},
	{"max floats", "max(2.5, 1.0)", "2.5", ""},
	{"min strings", `min("b", "a")`, `"a"`, ""},
	{"min const first", "f := 2.5\nmin(1, f)", "1", ""},
	{"max in define", "a, b := 3, 7\nm := max(a, b)\nm * 2", "14", ""},
	{"max in expression", "a, b := 3, 7\nmax(a, b) + 1", "8", ""},
	{"min named type", "type Celsius float64\nc := min(Celsius(3), Celsius(-1))\nc", "-1", ""},
	{"min in func", "func lo(a, b int) int { return min(a, b) }\nlo(4, 2)", "2", ""},
	{"clear map", "m := map[string]int{\"a\": 1}\nclear(m)\nlen(m)", "0", ""},
	{"clear slice", "s := []int{1, 2}\nclear(s)\ns", "[0 0]", ""},
	{"range int", "s := 0\nfor i := range 5 {\n\ts += i\n}\ns", "10", ""},
	{"range int var", "n := 4\nc := 0\nfor range n {\n\tc++\n}\nc", "4", ""},
	{"range int len", "xs := []string{\"a\", \"b\", \"c\"}\nr := \"\"\nfor i := range len(xs) {\n\tr += xs[len(xs)-1-i]\n}\nr", `"cba"`, ""},
	{"range int64 keeps type", "var n int64 = 3\nvar t int64\nfor i := range n {\n\tt += i\n}\nt", "3", ""},
	{"range int in func", "func sum(n int) int {\n\ts := 0\n\tfor i := range n {\n\t\ts += i\n\t}\n\treturn s\n}\nsum(4)", "6", ""},
	{"range int break continue", "s := 0\nfor i := range 10 {\n\tif i%2 == 0 {\n\t\tcontinue\n\t}\n\tif i > 6 {\n\t\tbreak\n\t}\n\ts += i\n}\ns", "9", ""},
	{"range int labelled", "c := 0\nouter:\nfor i := range 3 {\n\tfor j := range 3 {\n\t\tif j > i {\n\t\t\tcontinue outer\n\t\t}\n\t\tc++\n\t}\n}\nc", "6", ""},
	{"range func literal", "s := 0\nfor v := range func(yield func(int) bool) {\n\tfor _, x := range []int{1, 2, 3} {\n\t\tif !yield(x) {\n\t\t\treturn\n\t\t}\n\t}\n} {\n\ts += v\n}\ns", "6", ""},
	{"range iter.Seq func", "import \"iter\"\nfunc count(n int) iter.Seq[int] {\n\treturn func(yield func(int) bool) {\n\t\tfor i := 0; i < n; i++ {\n\t\t\tif !yield(i) {\n\t\t\t\treturn\n\t\t\t}\n\t\t}\n\t}\n}\ns := 0\nfor v := range count(5) {\n\ts += v\n}\ns", "10", ""},
	{"range infinite iterator break", "func nat(yield func(int) bool) {\n\tfor i := 0; ; i++ {\n\t\tif !yield(i) {\n\t\t\treturn\n\t\t}\n\t}\n}\nlast := 0\nfor v := range nat {\n\tif v == 7 {\n\t\tbreak\n\t}\n\tlast = v\n}\nlast", "6", ""},
	{"range Seq2", "func pairs(yield func(string, int) bool) {\n\tyield(\"a\", 1)\n\tyield(\"b\", 2)\n}\nr := \"\"\nfor k, v := range pairs {\n\tr += k + string(rune('0'+v))\n}\nr", `"a1b2"`, ""},
	{"range func return in func", "func first(seq func(func(int) bool)) int {\n\tfor v := range seq {\n\t\treturn v * 10\n\t}\n\treturn -1\n}\nfirst(func(y func(int) bool) {\n\tif y(4) {\n\t\ty(5)\n\t}\n})", "40", ""},
	{"range func continue", "s := 0\nfor v := range func(y func(int) bool) { for i := 0; i < 6; i++ { if !y(i) { return } } } {\n\tif v%2 == 1 {\n\t\tcontinue\n\t}\n\ts += v\n}\ns", "6", ""},
	{"slices.Sort", "import \"slices\"\nxs := []int{3, 1, 2}\nslices.Sort(xs)\nxs", "[1 2 3]", ""},
	{"slices.Max", "import \"slices\"\nslices.Max([]float64{1.5, 3.5, 2})", "3.5", ""},
	{"slices.Contains define", "import \"slices\"\nok := slices.Contains([]string{\"a\", \"b\"}, \"b\")\nok", "true", ""},
	{"slices.Index define", "import \"slices\"\ni := slices.Index([]int{5, 6, 7}, 7)\ni + 1", "3", ""},
	{"slices.Reverse", "import \"slices\"\ns := []string{\"x\", \"y\"}\nslices.Reverse(s)\ns", "[y x]", ""},
	{"slices.SortFunc", "import (\n\t\"cmp\"\n\t\"slices\"\n)\ntype P struct {\n\tName string\n\tAge  int\n}\nps := []P{{\"a\", 30}, {\"b\", 20}}\nslices.SortFunc(ps, func(x, y P) int { return cmp.Compare(x.Age, y.Age) })\nps[0].Name", `"b"`, ""},
	{"slices.BinarySearch multi", "import \"slices\"\ni, found := slices.BinarySearch([]int{1, 3, 5}, 3)\n[]any{i, found}", "[1 true]", ""},
	{"slices.Values range", "import \"slices\"\ns := 0\nfor v := range slices.Values([]int{1, 2, 3}) {\n\ts += v\n}\ns", "6", ""},
	{"slices.All range", "import \"slices\"\nr := 0\nfor i, v := range slices.All([]int{10, 20}) {\n\tr += i * v\n}\nr", "20", ""},
	{"slices.Collect", "import \"slices\"\nxs := slices.Collect(slices.Values([]int{4, 5}))\nlen(xs)", "2", ""},
	{"maps.Keys sorted", "import (\n\t\"maps\"\n\t\"slices\"\n)\nm := map[string]int{\"b\": 2, \"a\": 1}\nkeys := slices.Sorted(maps.Keys(m))\nkeys", "[a b]", ""},
	{"maps.All range", "import \"maps\"\nt := 0\nfor _, v := range maps.All(map[string]int{\"x\": 2, \"y\": 3}) {\n\tt += v\n}\nt", "5", ""},
	{"maps.Clone", "import \"maps\"\nm := map[string]int{\"a\": 1}\nc := maps.Clone(m)\nc[\"a\"] = 9\nm[\"a\"]", "1", ""},
	{"strings.Lines", "import \"strings\"\nn := 0\nfor line := range strings.Lines(\"a\\nb\\nc\") {\n\tn += len(line)\n}\nn", "5", ""},
	{"strings.SplitSeq", "import \"strings\"\nvar parts []string\nfor p := range strings.SplitSeq(\"a,b,c\", \",\") {\n\tparts = append(parts, p)\n}\nparts", "[a b c]", ""},
	{"strings.FieldsSeq", "import \"strings\"\nc := 0\nfor range strings.FieldsSeq(\"  a b  c \") {\n\tc++\n}\nc", "3", ""},
	{"cmp.Compare", "import \"cmp\"\ncmp.Compare(2, 1)", "1", ""},
	{"cmp.Or", "import \"cmp\"\ncmp.Or(\"\", \"default\")", `"default"`, ""},
	{"iter.Pull", "import (\n\t\"iter\"\n\t\"slices\"\n)\nfunc firstTwo(seq iter.Seq[int]) (int, int) {\n\tnext, stop := iter.Pull(seq)\n\tdefer stop()\n\ta, _ := next()\n\tb, _ := next()\n\treturn a, b\n}\nx, y := firstTwo(slices.Values([]int{7, 8, 9}))\nx + y", "15", ""},
	{"strings iterators collected", "import (\n\t\"slices\"\n\t\"strings\"\n)\nslices.Collect(strings.FieldsSeq(\" a  b \"))", "[a b]", ""},
	{"iter.Pull2", "import (\n\t\"iter\"\n\t\"maps\"\n)\nnext, stop := iter.Pull2(maps.All(map[string]int{\"x\": 1}))\nk, v, ok := next()\nstop()\n[]any{k, v, ok}", "[x 1 true]", ""},
	{"generic user func two type params", "func Map[T, U any](xs []T, f func(T) U) []U {\n\tout := make([]U, 0, len(xs))\n\tfor _, x := range xs {\n\t\tout = append(out, f(x))\n\t}\n\treturn out\n}\nys := Map([]int{1, 2}, func(x int) string { return string(rune('a' + x)) })\nys", "[b c]",
		"yaegi infers U from T (cannot use type func(int) string as type func(int) int)"},
	{"generic user func one type param", "func Filter[T any](xs []T, keep func(T) bool) []T {\n\tvar out []T\n\tfor _, x := range xs {\n\t\tif keep(x) {\n\t\t\tout = append(out, x)\n\t\t}\n\t}\n\treturn out\n}\nevens := Filter([]int{1, 2, 3, 4}, func(x int) bool { return x%2 == 0 })\nevens", "[2 4]", ""},
	{"range over func param of unknown origin", "func apply(f func(func(int) bool)) int {\n\tn := 0\n\tfor v := range f {\n\t\tn += v\n\t}\n\treturn n\n}\napply(func(y func(int) bool) { y(2); y(3) })", "5", ""},
	{"package var from generic", "import \"slices\"\nvar biggest = slices.Max([]int{4, 9, 2})\nfunc twice() int { return 2 * biggest }\ntwice()", "18", ""},
	{"range int body changes index", "c := 0\nfor i := range 3 {\n\ti += 10\n\tc++\n}\nc", "3", ""},
	{"range int closures per iteration", "var fs []func() int\nfor i := range 3 {\n\tfs = append(fs, func() int { return i })\n}\nfs[0]() + fs[2]()", "2", ""},
	{"range slice closures per iteration", "var gs []func() string\nfor _, s := range []string{\"a\", \"b\"} {\n\tgs = append(gs, func() string { return s })\n}\ngs[0]() + gs[1]()", `"ab"`, ""},
	{"for loop closures per iteration", "var hs []func() int\nfor i := 0; i < 3; i++ {\n\ths = append(hs, func() int { return i * 10 })\n}\nhs[0]() + hs[1]() + hs[2]()", "30", ""},
	{"for loop goroutines per iteration", "import \"sync\"\nvar wg sync.WaitGroup\nres := make([]int, 4)\nfor i := 0; i < 4; i++ {\n\twg.Add(1)\n\tgo func() {\n\t\tdefer wg.Done()\n\t\tres[i] = i + 1\n\t}()\n}\nwg.Wait()\nres", "[1 2 3 4]", ""},
	{"for loop closure with continue and body change", "var ks []func() int\nfor i := 0; i < 10; i++ {\n\tif i%2 == 0 {\n\t\tcontinue\n\t}\n\tks = append(ks, func() int { return i })\n\ti += 2\n}\nlen(ks)*100 + ks[0]() + ks[1]()", "310", ""},
	{"maps.Keys range", "import \"maps\"\nn := 0\nfor k := range maps.Keys(map[string]int{\"ab\": 1, \"c\": 2}) {\n\tn += len(k)\n}\nn", "3", ""},
	{"maps.Values range closures", "import \"maps\"\nvar fs []func() int\nfor v := range maps.Values(map[string]int{\"a\": 1}) {\n\tfs = append(fs, func() int { return v })\n}\nfs[0]()", "1", ""},
	{"slices.Backward range", "import \"slices\"\nr := \"\"\nfor _, s := range slices.Backward([]string{\"a\", \"b\", \"c\"}) {\n\tr += s\n}\nr", `"cba"`, ""},
	{"generic result of a user struct type", "import (\n\t\"cmp\"\n\t\"slices\"\n)\ntype Person struct {\n\tName string\n\tAge  int\n}\nfunc (p Person) Hello() string { return \"hi \" + p.Name }\nps := []Person{{\"a\", 30}, {\"b\", 40}}\noldest := slices.MaxFunc(ps, func(x, y Person) int { return cmp.Compare(x.Age, y.Age) })\noldest.Hello()", `"hi b"`, ""},
	{"min of slice index loop", "xs := []int{5, 3, 8}\nlo := xs[0]\nfor _, x := range xs {\n\tlo = min(lo, x)\n}\nlo", "3", ""},
	// a tuple assignment with an untyped nil: yaegi v0.16.1 panics "reflect: New(nil)"
	{"tuple assign nil", "var a error\nvar b int\na, b = nil, 7\n[]any{a, b}", "[<nil> 7]", ""},
	{"tuple assign nil nil", "var e error\np := new(int)\ne, p = nil, nil\n[]any{e == nil, p == nil}", "[true true]", ""},
	{"tuple assign nil right sides first", "import \"io\"\nvar a, b error = io.EOF, nil\na, b = nil, a\n[]any{a, b}", "[<nil> EOF]", ""},
	{"tuple assign nil calls in order", "var calls []string\nfunc f(s string) int {\n\tcalls = append(calls, s)\n\treturn len(calls)\n}\nvar e error\nvar x, y int\nx, e, y = f(\"a\"), nil, f(\"b\")\n[]any{x, e, y, calls}", "[1 <nil> 2 [a b]]", ""},
	{"tuple assign nil in func", "import \"io\"\nfunc reset() (error, int) {\n\tvar e error = io.EOF\n\tn := 3\n\te, n = nil, n+1\n\treturn e, n\n}\ne, n := reset()\n[]any{e, n}", "[<nil> 4]", ""},
	{"tuple assign nil to fields", "type T struct {\n\tbuf []int\n\tn   int\n}\nt := &T{[]int{1}, 3}\nt.buf, t.n = nil, 0\n[]any{t.buf == nil, t.n}", "[true 0]", ""},
	{"tuple assign nil index before var", "m := map[int][]int{1: {1}}\nk := 1\nm[k], k = nil, 2\n[]any{len(m[1]), k}", "[0 2]", ""},
	{"tuple assign nil in closure", "import \"io\"\nvar e error = io.EOF\nn := 1\nfunc() { e, n = nil, 5 }()\n[]any{e, n}", "[<nil> 5]", ""},
	{"return nil, 0 in closure", "g := func() (error, int) { return nil, 0 }\ne, n := g()\n[]any{e, n}", "[<nil> 0]", ""},
	{"tuple assign nil in if init", "import \"io\"\nvar e error = io.EOF\nn := 0\nif e, n = nil, 2; n > 1 {\n\tn = 10\n}\n[]any{e, n}", "[<nil> 10]", ""},
	// a definition of several variables from one value (`a, b := f()`, `v, ok := m[k]`)
	// in a block at the top level of a cell: yaegi v0.16.1 never defines them
	{"multi-value define in if block", "func div(a, b int) (int, int) { return a / b, a % b }\nr := 0\nif true {\n\tq, m := div(7, 2)\n\tr = q*10 + m\n}\nr", "31", ""},
	{"comma-ok in for block", "m := map[string]int{\"a\": 1, \"c\": 3}\nsum := 0\nfor _, k := range []string{\"a\", \"b\", \"c\"} {\n\tv, ok := m[k]\n\tif ok {\n\t\tsum += v\n\t}\n}\nsum", "4", ""},
	{"comma-ok in if header", "m := map[string]int{\"k\": 3}\nr := 0\nif v, ok := m[\"k\"]; ok {\n\tr = v\n}\nr", "3", ""},
	{"multi-value define in bare block", "import \"strconv\"\nn := 0\n{\n\tv, err := strconv.Atoi(\"42\")\n\tif err == nil {\n\t\tn = v\n\t}\n}\nn", "42", ""},
	{"type assertion comma-ok in switch case", "var x any = \"hi\"\nr := \"\"\nswitch {\ncase x != nil:\n\ts, ok := x.(string)\n\tif ok {\n\t\tr = s\n\t}\n}\nr", `"hi"`, ""},
	{"receive comma-ok in select case", "ch := make(chan int, 1)\nch <- 5\nr := 0\nselect {\ncase v, ok := <-ch:\n\tif ok {\n\t\tr = v\n\t}\n}\nr", "5", ""},
	{"var of two values in loop block", "func two() (int, string) { return 2, \"ab\" }\nr := 0\nfor i := 0; i < 2; i++ {\n\tvar n, s = two()\n\tr += n + len(s)\n}\nr", "8", ""},
	{"range over func in top-level block", "func seq(yield func(int) bool) {\n\tfor i := 1; i <= 3; i++ {\n\t\tif !yield(i) {\n\t\t\treturn\n\t\t}\n\t}\n}\nr := 0\nif true {\n\tfor v := range seq {\n\t\tr += v\n\t}\n}\nr", "6", ""},
	// several variables from one value at the top level of a cell (package level):
	// yaegi v0.16.1 does not mark them global, so functions deeper than one call read
	// them from the wrong frame; its comma-ok forms fail there ("nil type")
	{"package var of two values read by nested calls", "func two() (int, int) { return 3, 4 }\nvar a, b = two()\nfunc G() int { return a*10 + b }\nfunc H() int { return G() }\nH()", "34", ""},
	{"package comma-ok var", "var m = map[string]int{\"x\": 5}\nvar v, ok = m[\"x\"]\n[]any{v, ok}", "[5 true]", ""},
	{"comma-ok map at the top level", "m := map[string]int{\"x\": 5}\nv, ok := m[\"x\"]\n_, found := m[\"y\"]\n[]any{v, ok, found}", "[5 true false]", ""},
	{"type assertion comma-ok at the top level", "var x any = 5\nn, ok := x.(int)\ns, isStr := x.(string)\n[]any{n, ok, s, isStr}", "[5 true  false]", ""},
	{"receive comma-ok at the top level", "ch := make(chan int, 1)\nch <- 9\nclose(ch)\nv, ok := <-ch\nw, more := <-ch\n[]any{v, ok, w, more}", "[9 true 0 false]", ""},
	// generic calls on values whose type comes from a compiled package: yaegi v0.16.1
	// cannot infer type arguments from them ("CFG post-order panic")
	{"slices.Max of a compiled result", "import (\n\t\"slices\"\n\t\"strings\"\n)\nslices.Max(strings.Fields(\"b c a\"))", `"c"`, ""},
	{"slices.Sort of a variable from a compiled result", "import (\n\t\"slices\"\n\t\"strings\"\n)\nws := strings.Fields(\"b c a\")\nslices.Sort(ws)\nws", "[a b c]", ""},
	{"slices.Contains of a package variable", "import (\n\t\"os\"\n\t\"slices\"\n)\nslices.Contains(os.Args, \"--no-such-flag\")", "false", ""},
	{"slices.Equal of a compiled struct field", "import (\n\t\"image\"\n\t\"slices\"\n)\nimg := image.NewGray(image.Rect(0, 0, 2, 1))\nimg.Pix[1] = 7\n[]any{slices.Equal(img.Pix, []uint8{0, 7}), slices.Index(img.Pix, 7)}", "[true 1]", ""},
	{"maps.Keys of a compiled named map type", "import (\n\t\"maps\"\n\t\"net/url\"\n\t\"slices\"\n)\nv := url.Values{\"b\": {\"2\"}, \"a\": {\"1\"}}\nslices.Sorted(maps.Keys(v))", "[a b]", ""},
	{"slices.Clone of a compiled result in a func", "import (\n\t\"slices\"\n\t\"strings\"\n)\nfunc words(s string) []string {\n\treturn slices.Clone(strings.Fields(s))\n}\nlen(words(\"a b c\"))", "3", ""},
	{"slices.Max of compiled range elements", "import (\n\t\"bytes\"\n\t\"slices\"\n)\nn := 0\nfor _, f := range bytes.Fields([]byte(\"ab c\")) {\n\tn += int(slices.Max(f))\n}\nn", "197", ""},
	{"slices.SortFunc with a compiled func", "import (\n\t\"slices\"\n\t\"strings\"\n)\nws := strings.Fields(\"b a\")\nslices.SortFunc(ws, strings.Compare)\nws", "[a b]", ""},
	// a switch on an interface value: yaegi v0.16.1 converts the value to each
	// case's type (panic: reflect.Value.Convert); a case list in a switch without tag:
	// yaegi tests only its first expression
	{"switch on an interface with init", "var x any\nr := \"\"\nswitch x = 2; x {\ncase 1, 2:\n\tr = \"two\"\ndefault:\n\tr = \"other\"\n}\nr", `"two"`, ""},
	{"switch on an interface parameter", "func kind(v any) string {\n\tswitch v {\n\tcase nil:\n\t\treturn \"nil\"\n\tcase 2.5:\n\t\treturn \"float\"\n\tcase \"s\":\n\t\treturn \"string\"\n\t}\n\treturn \"other\"\n}\n[]any{kind(nil), kind(2.5), kind(\"s\"), kind(2)}", "[nil float string other]", ""},
	{"switch on an interface result", "func get() any { return 3 }\nr := 0\nswitch get() {\ncase 1, 3:\n\tr = 30\n}\nr", "30", ""},
	{"switch without tag case list", "n := 2\nr := \"\"\nswitch {\ncase n == 1, n == 2:\n\tr = \"one or two\"\n}\nr", `"one or two"`, ""},
	// the standard library of Go 1.23-1.26: compiled names from cell/stdlib's tables,
	// generic functions from the prelude's shims
	{"errors.AsType of a compiled error type", "import (\n\t\"errors\"\n\t\"io/fs\"\n\t\"os\"\n)\n_, err := os.Open(\"/no-such-golem-file\")\nperr, ok := errors.AsType[*fs.PathError](err)\n[]any{perr.Path, ok}", "[/no-such-golem-file true]", ""},
	{"errors.AsType through Join and %w in a func", "import (\n\t\"errors\"\n\t\"fmt\"\n\t\"io/fs\"\n\t\"os\"\n)\nfunc pathOf(err error) string {\n\tif perr, ok := errors.AsType[*fs.PathError](err); ok {\n\t\treturn perr.Path\n\t}\n\treturn \"none\"\n}\n_, err := os.Open(\"/no-such-golem-file\")\n[]string{pathOf(errors.Join(errors.New(\"a\"), fmt.Errorf(\"b: %w\", err))), pathOf(errors.New(\"c\"))}", "[/no-such-golem-file none]", ""},
	{"sync.OnceValue", "import \"sync\"\nn := 0\ng := sync.OnceValue(func() int {\n\tn++\n\treturn 3\n})\n[]int{g(), g(), n}", "[3 3 1]", ""},
	{"sync.OnceValues", "import \"sync\"\nf := sync.OnceValues(func() (int, string) { return 1, \"x\" })\na, b := f()\n[]any{a, b}", "[1 x]", ""},
	{"slices.Compare Replace Clip Grow", "import \"slices\"\nxs := []int{1, 2, 2, 3}\n[]any{slices.Compare(xs, []int{1, 2, 3}), slices.Replace(slices.Clone(xs), 1, 3, 9), cap(slices.Clip(xs[:2])), cap(slices.Grow(xs, 10)) >= 14}", "[-1 [1 9 3] 2 true]", ""},
	{"slices.EqualFunc of two element types, maps.EqualFunc", "import (\n\t\"maps\"\n\t\"slices\"\n\t\"strconv\"\n)\n[]bool{slices.EqualFunc([]int{1, 2}, []string{\"1\", \"2\"}, func(a int, b string) bool { return strconv.Itoa(a) == b }), maps.EqualFunc(map[string]int{\"a\": 1}, map[string]int{\"a\": 2}, func(a, b int) bool { return a == b })}", "[true false]", ""},
	{"slices.CompactFunc SortedStableFunc CompareFunc", "import (\n\t\"slices\"\n\t\"strings\"\n)\n[]any{slices.CompactFunc([]string{\"a\", \"A\", \"b\"}, strings.EqualFold), slices.SortedStableFunc(slices.Values([]int{3, 1, 2}), func(a, b int) int { return a - b }), slices.CompareFunc([]int{1}, []int{2}, func(a, b int) int { return a - b })}", "[[a b] [1 2 3] -1]", ""},
	{"crypto/sha3 (Go 1.24)", "import (\n\t\"crypto/sha3\"\n\t\"fmt\"\n)\nfmt.Sprintf(\"%x\", sha3.Sum256([]byte(\"golem\")))[:16]", `"79e024e7670a5d68"`, ""},
	{"math/rand/v2 under its package name", "import \"math/rand/v2\"\nrand.IntN(10) < 10", "true", ""},
	{"range over a compiled iterator: bytes.Lines (Go 1.24)", "import \"bytes\"\nn := 0\nfor l := range bytes.Lines([]byte(\"a\\nbc\\n\")) {\n\tn += len(l)\n}\nn", "5", ""},
	{"range over strings.SplitAfterSeq (Go 1.24)", "var parts []string\nfor p := range strings.SplitAfterSeq(\"a,b,c\", \",\") {\n\tparts = append(parts, p)\n}\nparts", "[a, b, c]", ""},
	{"os.OpenRoot (Go 1.24)", "import \"os\"\nroot, err := os.OpenRoot(os.TempDir())\nroot.Name() == os.TempDir()", "true", ""},
	{"atomic.OrInt32 (Go 1.23)", "import \"sync/atomic\"\nvar x int32 = 1\nold := atomic.OrInt32(&x, 4)\n[]int32{old, x}", "[1 5]", ""},
}

func TestModernGo(t *testing.T) {
	pass, known := 0, 0
	for _, c := range modernCases {
		t.Run(c.name, func(t *testing.T) {
			s := newTestSession(t)
			b, err := s.Execute(context.Background(), c.code)
			if c.knownFail != "" {
				// A documented gap: it must still fail (with an error, not a crash);
				// when it starts to pass, move it to the passing cases.
				if err == nil {
					t.Fatalf("known failure now passes, update the table and docs: %s", c.name)
				}
				known++
				return
			}
			if err != nil {
				t.Fatalf("cell:\n%s\nerror: %v\nstderr: %s", c.code, err, s.errOut.String())
			}
			got := ""
			if b != nil {
				got, _ = b["text/plain"].(string)
			}
			if want, ok := strings.CutPrefix(c.want, "out:"); ok {
				got = s.out.String()
				c.want = want
			}
			if got != c.want {
				t.Fatalf("cell:\n%s\ngot %q, want %q (stderr %q)", c.code, got, c.want, s.errOut.String())
			}
			pass++
		})
	}
	t.Logf("modern Go: %d of %d snippets pass (%d known failures)", pass, len(modernCases), known)
}

// TestUntypedNilErrors: forms with an untyped nil that Go rejects get Go's message
// at the nil's position (yaegi panics or words them otherwise), and a tuple
// assignment golem cannot split keeps a clear error naming it and its line.
func TestUntypedNilErrors(t *testing.T) {
	for _, c := range []struct{ code, want string }{
		{"func f() int { return 1 }\nx, err := f(), nil", "cell:2:16: use of untyped nil in assignment"},
		{"func g() {\n\tx, err := 1, nil\n\t_, _ = x, err\n}", "cell:2:15: use of untyped nil in assignment"},
		{"var e error\n_, e = nil, nil", "cell:2:8: use of untyped nil in assignment to _ identifier"},
		{"func h() {\n\tvar a, b = nil, 0\n\t_, _ = a, b\n}", "cell:2:13: use of untyped nil in variable declaration"},
		// the target a.next reads a, which the statement assigns first: splitting it
		// would change which node gets nil
		{"type N struct{ next *N }\na, b := &N{}, &N{}\na, a.next = b, nil", "cell:3:1: tuple assignment with an untyped nil"},
		{"func get() *struct{ p *int } { return nil }\nvar n int\nget().p, n = nil, 1", "cell:3:1: tuple assignment with an untyped nil"},
		{"for i, p := 0, new(int); i < 3; i, p = i+1, nil {\n}", "cell:1:33: tuple assignment with an untyped nil"},
	} {
		s := newTestSession(t)
		e := s.fail(t, c.code)
		if e.Name != "CompileError" || !strings.HasPrefix(e.Value, c.want) {
			t.Errorf("cell:\n%s\ngot %s: %s, want CompileError %q…", c.code, e.Name, e.Value, c.want)
		}
	}
}

// TestTopLevelBlockRunsAsFunction: a top-level statement whose blocks define several
// variables from one value runs as the body of a function. A return in it would
// then only leave that statement, so it is an error naming the line; a panic in it
// still names the cell's line.
func TestTopLevelBlockRunsAsFunction(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "m := map[string]int{}\nif v, ok := m[\"x\"]; !ok {\n\t_ = v\n\treturn\n}")
	if e.Name != "CompileError" || !strings.HasPrefix(e.Value, "cell:4:2: return") {
		t.Errorf("return: got %s: %s", e.Name, e.Value)
	}
	e = s.fail(t, "m := map[string]int{}\nif true {\n\tv, ok := m[\"x\"]\n\t_ = ok\n\tpanic(v + 1)\n}")
	// yaegi names the frame's line only roughly (here the definition's): a line of the
	// statement, never a position of golem's generated function
	if tb := strings.Join(e.Traceback, "\n"); e.Name != "Panic" || e.Value != "1" || !regexp.MustCompile(`\tcell:[2-6]:\d+: panic: `).MatchString(tb) || strings.Contains(tb, "golem-func") {
		t.Errorf("panic: got %s: %s %q", e.Name, e.Value, e.Traceback)
	}
	// variables of earlier cells and of the same cell are the notebook's, not copies
	s.exec(t, "total := 0")
	s.exec(t, "seen := map[string]bool{}\nfor _, w := range []string{\"a\", \"b\", \"a\"} {\n\tif _, ok := seen[w]; !ok {\n\t\tseen[w] = true\n\t\ttotal++\n\t}\n}")
	if got := s.exec(t, "[]any{total, len(seen)}"); got != "[2 2]" {
		t.Errorf("after the loop: %q", got)
	}
}
