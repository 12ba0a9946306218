package worker

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Name string `json:"name"`
}

type sample struct {
	Text  string   `json:"text"`
	N     int      `json:"n"`
	Tags  []string `json:"tags"`
	Inner inner    `json:"inner"`
}

func TestDecodeInput(t *testing.T) {
	typ := reflect.TypeOf(sample{})
	cases := []struct {
		in     string
		strict bool
		want   sample
		field  string
		errHas string
	}{
		{in: `{"text":"a","n":2,"tags":["x"],"inner":{"name":"q"}}`, want: sample{Text: "a", N: 2, Tags: []string{"x"}, Inner: inner{"q"}}},
		{in: ``, want: sample{}},
		{in: `null`, want: sample{}},
		{in: `{"text":"a","extra":1}`, want: sample{Text: "a"}},
		{in: `{"text":"a","extra":1}`, strict: true, field: "extra", errHas: "no such field"},
		{in: `{"n":"two"}`, field: "n", errHas: `input field "n": JSON string does not fit Go type int`},
		{in: `{"inner":{"name":5}}`, field: "inner.name", errHas: `"inner.name"`},
		{in: `{"tags":[1]}`, field: "tags", errHas: `"tags"`},
		{in: `{"text":`, errHas: "unexpected end"},
		{in: `{"text":"a"}}`, strict: true, errHas: "after the JSON value"},
		{in: `[1,2]`, errHas: "does not fit the input type"},
		{in: `{"text" "a"}`, errHas: "not valid JSON"},
	}
	for _, tc := range cases {
		v, field, err := DecodeInput([]byte(tc.in), typ, tc.strict)
		if tc.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || field != tc.field {
				t.Errorf("%s strict=%v: err %v field %q; want error containing %q, field %q", tc.in, tc.strict, err, field, tc.errHas, tc.field)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := v.Interface().(sample); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v want %+v", tc.in, got, tc.want)
		}
	}
}

func TestCompileShapes(t *testing.T) {
	cases := []struct {
		name, src, errHas string
	}{
		{"full", "package p\nimport \"context\"\nfunc Handle(ctx context.Context, in struct{ A int }) (int, error) { return in.A, nil }", ""},
		{"no ctx", "package p\nfunc Handle(in []string) ([]string, error) { return in, nil }", ""},
		{"result only", "package p\nfunc Handle(in int) int { return in }", ""},
		{"error only", "package p\nfunc Handle(in int) error { return nil }", ""},
		{"nothing", "package p\nfunc Handle() {}", ""},
		{"package main", "package main\nfunc Handle(in int) int { return in }", ""},
		{"two inputs", "package p\nfunc Handle(a, b int) int { return a }", "2 parameters"},
		{"bad second result", "package p\nfunc Handle(a int) (int, int) { return a, a }", "want error"},
		{"variadic", "package p\nfunc Handle(a ...int) int { return 0 }", "variadic"},
		{"not a func", "package p\nvar Handle = 3", "not a function"},
		{"missing", "package p\nfunc Other() {}", "Handle"},
		{"type error", "package p\nfunc Handle(a int) string { return a }", "function.go:2"},
		{"no package", "func Handle() {}", "expected 'package'"},
	}
	for _, tc := range cases {
		_, err := compile(tc.src, "")
		if tc.errHas == "" && err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
			t.Errorf("%s: error %v; want one containing %q", tc.name, err, tc.errHas)
		}
	}
}

// TestMainLoop drives the worker's request loop in-process.
func TestMainLoop(t *testing.T) {
	src := "package p\nimport (\"context\"; \"github.com/golem-lm/golem/functions/fn\")\n" +
		"type In struct{ A, B int }\n" +
		"func Handle(ctx context.Context, in In) (int, error) { fn.Progress(ctx, 0.5, \"half\"); return in.A + in.B, nil }\n"
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, r := range []Request{
		{ID: "1", Op: OpCompile, Source: src},
		{ID: "2", Op: OpCall, Source: src, Input: json.RawMessage(`{"A":2,"B":40}`)},
		{ID: "3", Op: OpCheck, Source: src, Input: json.RawMessage(`{"A":"x"}`)},
		{ID: "4", Op: OpCall, Source: "package p\nfunc Handle(in []int) int { return in[5] }", Input: json.RawMessage(`[1]`)},
	} {
		_ = enc.Encode(r)
	}
	var out bytes.Buffer
	if err := Main(&in, &out); err != nil {
		t.Fatal(err)
	}
	var got []string
	dec := json.NewDecoder(&out)
	for {
		var r Response
		if dec.Decode(&r) != nil {
			break
		}
		got = append(got, r.ID+" "+r.Type+" "+string(r.Output)+" "+r.Kind+" "+r.Field+" "+r.Note)
	}
	want := []string{"1 result    ", "2 progress    half", "2 result 42   ", "3 error  input A ", "4 error  panic  "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("responses\n%q\nwant\n%q", got, want)
	}
}

func FuzzDecodeInput(f *testing.F) {
	for _, s := range []string{`{"text":"a","n":2}`, `{"tags":[1]}`, `null`, `{"inner":{"name":"x"}}`, `{`, `[]`} {
		f.Add([]byte(s), true)
	}
	typ := reflect.TypeOf(sample{})
	f.Fuzz(func(t *testing.T, in []byte, strict bool) {
		v, _, err := DecodeInput(in, typ, strict)
		if err != nil {
			return
		}
		// What decodes must encode and decode to the same value.
		b, err := json.Marshal(v.Interface())
		if err != nil {
			t.Fatal(err)
		}
		v2, _, err := DecodeInput(b, typ, true)
		if err != nil || !reflect.DeepEqual(v.Interface(), v2.Interface()) {
			t.Fatalf("round trip of %q: %v", in, err)
		}
	})
}

// TestNotebookDialect: deployed source is written in the notebook's Go (the kernel's
// rewrite and shims), not only in what yaegi v0.16.1 accepts.
func TestNotebookDialect(t *testing.T) {
	src := `package modern

import (
	"maps"
	"slices"
	"strings"
)

func Handle(in map[string]int) (string, error) {
	keys := slices.Sorted(maps.Keys(in))
	total := 0
	for i := range 3 {
		total += min(i, 1)
	}
	clear(in)
	return strings.Join(keys, ",") + " " + string(rune('0'+total+len(in))), nil
}
`
	c, err := compile(src, "")
	if err != nil {
		t.Fatal(err)
	}
	in := reflect.ValueOf(map[string]int{"b": 1, "a": 2})
	out := c.call([]reflect.Value{in})
	if out.Type != TypeResult || string(out.Output) != `"a,b 2"` {
		t.Fatalf("got %+v", out)
	}
	// An error in the original source is reported at its own line.
	_, err = compile("package modern\n\nfunc Handle(n int) int {\n\tfor i := range n {\n\t\treturn i + undefinedName\n\t}\n\treturn 0\n}\n", "")
	if err == nil || !strings.Contains(err.Error(), "undefinedName") {
		t.Fatalf("error %v", err)
	}
	t.Logf("compile error: %v", err)
}
