package display

import (
	"bytes"
	"strings"
	"testing"
)

type recorder struct {
	msgs    []Bundle
	ids     []string
	updates []bool
	clears  int
}

func (r *recorder) Display(b Bundle, _ map[string]any, id string, update bool) {
	r.msgs = append(r.msgs, b)
	r.ids = append(r.ids, id)
	r.updates = append(r.updates, update)
}
func (r *recorder) ClearOutput(bool) { r.clears++ }

func TestPublishAndHandle(t *testing.T) {
	r := &recorder{}
	old := SetPublisher(r)
	defer SetPublisher(old)
	HTML("<b>bold &amp; x</b>")
	if got := r.msgs[0]["text/plain"]; got != "bold & x" {
		t.Fatalf("text/plain of HTML = %q", got)
	}
	h := NewHandle()
	h.Text("1")
	h.Text("2")
	if r.ids[1] != h.ID || r.updates[1] || !r.updates[2] {
		t.Fatalf("handle: ids %v updates %v", r.ids, r.updates)
	}
	PNG([]byte{1, 2, 3})
	if r.msgs[3]["image/png"] != "AQID" {
		t.Fatalf("png base64 = %v", r.msgs[3]["image/png"])
	}
	ClearOutput()
	if r.clears != 1 {
		t.Fatal("ClearOutput not published")
	}
}

func TestFallbackPrintsText(t *testing.T) {
	var buf bytes.Buffer
	old := fallback
	fallback = &buf
	defer func() { fallback = old }()
	Markdown("# title")
	Value(42)
	if buf.String() != "# title\n42\n" {
		t.Fatalf("fallback output %q", buf.String())
	}
}

func TestTable(t *testing.T) {
	b := Table([]string{"stage", "in"}, [][]string{{"gopher", "10"}, {"c4", "9"}})
	if !strings.Contains(b["text/html"].(string), "<td>gopher</td>") {
		t.Fatal(b["text/html"])
	}
	if b["text/plain"] != "stage   in\ngopher  10\nc4      9" {
		t.Fatalf("%q", b["text/plain"])
	}
}
