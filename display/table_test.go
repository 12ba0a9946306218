package display

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

type stage struct {
	Name    string
	Kept    int
	Rate    float64
	private string
}

type shower struct{}

func (shower) HTML() string { return "<i>me</i>" }

type report struct{ loss float64 }

func (r *report) DisplayBundle() Bundle {
	return Bundle{"text/html": fmt.Sprintf("<b>loss %.1f</b>", r.loss)}
}

func TestTableOf(t *testing.T) {
	var fromJSON []any
	if err := json.Unmarshal([]byte(`[{"id": "a", "n": 1}, {"id": "b", "lang": "en"}]`), &fromJSON); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("word ", 40)
	for _, c := range []struct {
		name string
		v    any
		ok   bool
		text string // the whole text/plain, when not empty
		html []string
	}{
		{name: "structs", v: []stage{{"gopher", 322, 0.821234567, "x"}, {"c4", 317, 1, "y"}}, ok: true,
			text: "   Name    Kept  Rate\n0  gopher  322   0.821235\n1  c4      317   1",
			html: []string{"<th>Name</th><th>Kept</th><th>Rate</th>", "<td>gopher</td><td>322</td><td>0.821235</td>"}},
		{name: "pointers to structs and a nil", v: []*stage{{Name: "a"}, nil}, ok: true,
			text: "   Name  Kept  Rate\n0  a     0     0\n1"},
		{name: "array", v: [1]stage{{Name: "a", Kept: 2}}, ok: true, text: "   Name  Kept  Rate\n0  a     2     0"},
		{name: "pointer to a slice", v: &[]stage{{Name: "p"}}, ok: true, html: []string{"<td>p</td>"}},
		{name: "maps", v: []map[string]any{{"b": 2, "a": "x"}, {"c": true}}, ok: true,
			text: "   a  b  c\n0  x  2\n1        true"},
		{name: "decoded JSON", v: fromJSON, ok: true, text: "   id  lang  n\n0  a         1\n1  b   en"},
		{name: "line breaks and long values", v: []map[string]string{{"t": "a\nb"}, {"t": long}}, ok: true,
			html: []string{"<td>a⏎b</td>", "<td>" + strings.Repeat("word ", 23) + "word…</td>"}},
		{name: "escaped HTML", v: []map[string]string{{"<k>": "<v>"}}, ok: true, html: []string{"<th>&lt;k&gt;</th>", "<td>&lt;v&gt;</td>"}},
		{name: "ints", v: []int{1, 2}},
		{name: "empty", v: []stage{}},
		{name: "only nils", v: []*stage{nil}},
		{name: "structs and maps mixed", v: []any{stage{}, map[string]int{}}},
		{name: "two struct types", v: []any{stage{}, struct{ A int }{}}},
		{name: "no exported field", v: []struct{ a int }{{1}}},
		{name: "a struct", v: stage{}},
		{name: "nil", v: nil},
	} {
		b, ok := TableOf(c.v)
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v (%v)", c.name, ok, c.ok, b)
			continue
		}
		if !ok {
			continue
		}
		if got := b["text/plain"].(string); c.text != "" && got != c.text {
			t.Errorf("%s: text/plain\n%s\nwant\n%s", c.name, got, c.text)
		}
		h := b["text/html"].(string)
		if !strings.HasPrefix(h, "<table>") {
			t.Errorf("%s: text/html %q", c.name, h)
		}
		for _, w := range c.html {
			if !strings.Contains(h, w) {
				t.Errorf("%s: text/html lacks %q:\n%s", c.name, w, h)
			}
		}
	}
}

func TestTableOfRowCap(t *testing.T) {
	rows := make([]stage, 1000)
	for i := range rows {
		rows[i].Kept = i
	}
	defer SetMaxRows(SetMaxRows(4))
	b, _ := TableOf(rows)
	want := "     Name  Kept  Rate\n0          0     0\n1          1     0\n…    …     …     …\n998        998   0\n999        999   0\n\n[1000 rows × 3 columns]"
	if b["text/plain"] != want {
		t.Fatalf("text/plain\n%s\nwant\n%s", b["text/plain"], want)
	}
	if h := b["text/html"].(string); strings.Count(h, "<tr>") != 6 || !strings.HasSuffix(h, "<p>1000 rows × 3 columns</p>") {
		t.Fatalf("text/html %s", h)
	}
	SetMaxRows(0)
	if b, _ := TableOf(rows); strings.Count(b["text/html"].(string), "<tr>") != 1001 {
		t.Fatal("SetMaxRows(0) must show every row")
	}
}

func TestRich(t *testing.T) {
	var nilReport *report
	for _, c := range []struct {
		name string
		v    any
		ok   bool
		mime string
		text string
	}{
		{"bundle", Bundle{"text/html": "<b>x</b> &amp; y"}, true, "text/html", "x & y"},
		{"bundle with text", Bundle{"text/html": "<b>x</b>", "text/plain": "X"}, true, "text/html", "X"},
		{"renderer", &report{2.5}, true, "text/html", "loss 2.5"},
		{"HTML method", shower{}, true, "text/html", "me"},
		{"table", []stage{{Name: "a"}}, true, "text/html", "   Name  Kept  Rate\n0  a     0     0"},
		{"int", 3, false, "", ""},
		{"renderer panicking on a nil pointer", nilReport, false, "", ""},
		{"nil", nil, false, "", ""},
	} {
		b, ok := Rich(c.v)
		if ok != c.ok {
			t.Errorf("%s: ok = %v, want %v", c.name, ok, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if _, has := b[c.mime]; !has || b["text/plain"] != c.text {
			t.Errorf("%s: %v, want %s and text %q", c.name, b, c.mime, c.text)
		}
	}
	if got := BundleOf(7)["text/plain"]; got != "7" {
		t.Errorf("BundleOf(7) = %v", got)
	}
}
