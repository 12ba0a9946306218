package cell

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestResultKinds runs, in one session, a cell of every kind of trailing
// expression and checks the execute_result a notebook shows (or the cell's
// error): single values, several values, errors, display.Bundle values wherever
// they come from, values that display themselves (interpreted and compiled
// types), slices of structs and maps as tables, nil.
func TestResultKinds(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, `import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/tokenizer"
)
tok, err := tokenizer.Load("gpt2")
if err != nil {
	panic(err)
}
type Row struct {
	Name  string
	count int
	Loss  float64
}
type Card struct{ Title string }
func (c Card) HTML() string { return "<b>" + c.Title + "</b>" }
type Fig struct{}
func (Fig) DisplayBundle() display.Bundle { return display.Bundle{"image/svg+xml": "<svg/>"} }
func pair() (int, string) { return 7, "seven" }
func triple() (int, string, error) { return 1, "a", nil }
func failing() (int, error) { return 0, errors.New("no such shard: s3") }
func bundle() display.Bundle { return display.Bundle{"text/html": "<i>made</i>"} }
func card() (Card, error) { return Card{"from a call"}, nil }`)
	for _, c := range []struct {
		name, cell string
		text       string            // the whole text/plain; "-" for no result
		mime       map[string]string // MIME type -> a substring of it
		err        string            // the cell fails: a substring of its traceback
	}{
		// single values
		{name: "int", cell: "1 + 1", text: "2"},
		{name: "string, quoted", cell: `"a b"`, text: `"a b"`},
		{name: "struct", cell: `Row{"x", 2, 0.5}`, text: "{x 2 0.5}"},
		{name: "slice of ints", cell: "[]int{1, 2}", text: "[1 2]"},
		{name: "error value", cell: `e := errors.New("boom"); e`, text: "boom"},
		// several values
		{name: "two values", cell: "pair()", text: `7, "seven"`},
		{name: "value, nil error", cell: `strconv.Atoi("12")`, text: "12"},
		{name: "three values, nil error", cell: "triple()", text: `1, "a"`},
		{name: "compiled method, two values", cell: `tok.Decode([]int{15496})`, text: `"Hello"`},
		// errors: a non-nil error as the last value of a call fails the cell
		{name: "value, error", cell: `strconv.Atoi("x")`,
			err: `cell:1:1: strconv.Atoi("x") returned an error: strconv.Atoi: parsing "x": invalid syntax`},
		{name: "user function, error", cell: "x := 1\nfailing()", err: "cell:2:1: failing() returned an error: no such shard: s3"},
		{name: "only an error", cell: `os.Remove("/nonexistent/golem")`, err: "remove /nonexistent/golem: no such file or directory"},
		// display.Bundle, wherever it comes from
		{name: "Bundle literal", cell: `display.Bundle{"text/html": "<b>x</b> &amp; y"}`, text: "x & y",
			mime: map[string]string{"text/html": "<b>x</b>"}},
		{name: "Bundle from a compiled call with an error", cell: `tok.Visualize("Hello world")`,
			text: "\"Hello\"|\" world\"\n[15496 995]\n2 tokens, 11 bytes",
			mime: map[string]string{"text/html": `<span title="15496"`}},
		{name: "Bundle variable", cell: "v, _ := tok.Visualize(\"Hello\")\nv", mime: map[string]string{"text/html": `<span title="15496"`}},
		{name: "Bundle from a user function", cell: "bundle()", text: "made", mime: map[string]string{"text/html": "<i>made</i>"}},
		{name: "display.Table", cell: `display.Table([]string{"a"}, [][]string{{"1"}})`, text: "a\n1",
			mime: map[string]string{"text/html": "<td>1</td>"}},
		// values that display themselves
		{name: "interpreted HTML method", cell: `Card{"hi"}`, text: "{hi}", mime: map[string]string{"text/html": "<b>hi</b>"}},
		{name: "interpreted Renderer", cell: "Fig{}", mime: map[string]string{"image/svg+xml": "<svg/>"}},
		{name: "interpreted HTML method from a call with an error", cell: "card()",
			mime: map[string]string{"text/html": "<b>from a call</b>"}},
		{name: "compiled Renderer (lmlib)", cell: "tok",
			mime: map[string]string{"text/html": "<td>gpt2</td><td>50257</td>"}},
		{name: "nil pointer of a Renderer type", cell: "var st *data.Stats\nst", text: "<nil>"},
		// slices of structs and maps: tables
		{name: "slice of interpreted structs", cell: `[]Row{{"a", 1, 2.25}, {"b", 2, 1.0/3}}`,
			text: "   Name  count  Loss\n0  a     1      2.25\n1  b     2      0.333333",
			mime: map[string]string{"text/html": "<th>Name</th><th>count</th><th>Loss</th>"}},
		{name: "slice of compiled structs", cell: `[]data.Doc{{ID: "d1", Text: "Light is\nrefracted"}}`,
			mime: map[string]string{"text/html": "<td>d1</td><td>Light is⏎refracted</td>"}},
		{name: "slice of maps", cell: `[]map[string]any{{"lang": "en"}, {"lang": "de", "n": 3}}`,
			text: "   lang  n\n0  en\n1  de    3"},
		{name: "decoded JSON", cell: "var docs []any\njson.Unmarshal([]byte(`[{\"id\": 1}, {\"id\": 2}]`), &docs)\ndocs",
			text: "   id\n0  1\n1  2"},
		{name: "row cap", cell: "display.SetMaxRows(2)\nrows := make([]Row, 100)\nfor i := range rows { rows[i].count = i }\nrows",
			text: "    Name  count  Loss\n0         0      0\n…   …     …      …\n99        99     0\n\n[100 rows × 3 columns]"},
		{name: "empty slice of structs", cell: "display.SetMaxRows(50)\n[]Row{}", text: "[]"},
		// nothing to show
		{name: "nil", cell: "nil", text: "-"},
		{name: "nil error variable", cell: "var e2 error\ne2", text: "<nil>"},
		{name: "assignment", cell: "y := 3", text: "-"},
		{name: "call without a value", cell: "func none() {}\nnone()", text: "-"},
		{name: "print call", cell: `fmt.Println("printed")`, text: "-"},
	} {
		b, err := s.Execute(context.Background(), c.cell)
		if c.err != "" {
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("%s: cell %q: want an error, got %v", c.name, c.cell, b)
			} else if tb := strings.Join(e.Traceback, "\n"); !strings.Contains(tb, c.err) {
				t.Errorf("%s: traceback %q, want %q", c.name, tb, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: cell %q: %v\nstderr: %s", c.name, c.cell, err, s.errOut.String())
			continue
		}
		text := "-"
		if b != nil {
			text, _ = b["text/plain"].(string)
		}
		if c.text != "" && text != c.text {
			t.Errorf("%s: text/plain %q, want %q", c.name, text, c.text)
		}
		for mime, want := range c.mime {
			if got, _ := b[mime].(string); !strings.Contains(got, want) {
				t.Errorf("%s: %s %q, want it to contain %q", c.name, mime, got, want)
			}
		}
	}
}
