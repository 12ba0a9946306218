package kernel

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func intp(i int) *int { return &i }

func TestHistoryQueries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "golem", "history.jsonl")
	h1, err := openHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	h1.add("x := 1", "")
	h1.add("x + 1", "2")
	h1.close()
	h, err := openHistory(path) // a second kernel: session 2
	if err != nil {
		t.Fatal(err)
	}
	defer h.close()
	for _, c := range []string{"a := 1", "1 + 1", "1 + 1", "fmt.Println(1)", "1 + 2"} {
		h.add(c, "")
	}
	inputs := func(es []HistoryEntry) (out []string) {
		for _, e := range es {
			out = append(out, e.Input)
		}
		return out
	}
	cases := []struct {
		name string
		q    HistoryQuery
		want []string
	}{
		{"tail 2", HistoryQuery{HistAccessType: "tail", N: intp(2)}, []string{"fmt.Println(1)", "1 + 2"}},
		{"tail spans sessions", HistoryQuery{HistAccessType: "tail", N: intp(6)}, []string{"x + 1", "a := 1", "1 + 1", "1 + 1", "fmt.Println(1)", "1 + 2"}},
		{"range this session", HistoryQuery{HistAccessType: "range", Session: 0, Start: 2, Stop: intp(4)}, []string{"1 + 1", "1 + 1"}},
		{"range to end", HistoryQuery{HistAccessType: "range", Session: 2, Start: 4}, []string{"fmt.Println(1)", "1 + 2"}},
		{"range previous session", HistoryQuery{HistAccessType: "range", Session: -1, Start: 1}, []string{"x := 1", "x + 1"}},
		{"search glob", HistoryQuery{HistAccessType: "search", Pattern: "1 + *"}, []string{"1 + 1", "1 + 1", "1 + 2"}},
		{"search unique", HistoryQuery{HistAccessType: "search", Pattern: "1 + ?", Unique: true}, []string{"1 + 1", "1 + 2"}},
		{"search n", HistoryQuery{HistAccessType: "search", Pattern: "*1*", N: intp(2)}, []string{"fmt.Println(1)", "1 + 2"}},
		{"search class", HistoryQuery{HistAccessType: "search", Pattern: "[ax]*"}, []string{"x := 1", "x + 1", "a := 1"}},
		{"search case-sensitive", HistoryQuery{HistAccessType: "search", Pattern: "FMT*"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			es, err := h.query(c.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := inputs(es); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
	es, _ := h.query(HistoryQuery{HistAccessType: "range", Session: 1, Start: 2, Stop: intp(3)})
	rows := historyRows(es, true)
	if !reflect.DeepEqual(rows, [][]any{{1, 2, []any{"x + 1", "2"}}}) {
		t.Fatalf("rows with output: %#v", rows)
	}
	if _, err := h.query(HistoryQuery{HistAccessType: "sideways"}); err == nil {
		t.Fatal("bad hist_access_type accepted")
	}
}

func TestHistoryTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	os.WriteFile(path, []byte(`{"session":3,"line":1,"input":"ok"}`+"\n"+`{"session":3,"li`), 0o644)
	h, err := openHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	if h.session != 4 || len(h.entries) != 1 {
		t.Fatalf("session %d entries %v", h.session, h.entries)
	}
	h.add("next", "")
	h.close()
	es, _, err := readHistory(path)
	if err != nil || len(es) != 2 || es[1].Input != "next" {
		t.Fatalf("after a torn line: %v %v", es, err)
	}
}
