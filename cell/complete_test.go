package cell

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestComplete(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "import \"fmt\"\ntype Point struct{ X, Y int }\nfunc (p Point) Norm1() int { return p.X + p.Y }\np := Point{1, 2}\ncounter := 0\nfunc helper() {}")
	for _, c := range []struct {
		code       string
		want       []string
		start, end int // in code points
	}{
		{"fmt.Pri", []string{"Print", "Printf", "Println"}, 4, 7},
		{"x := fmt.Spr", []string{"Sprint", "Sprintf", "Sprintln"}, 9, 12},
		{"p.", []string{"Norm1", "X", "Y"}, 2, 2},
		{"cou", []string{"counter"}, 0, 3},
		{"hel", []string{"helper"}, 0, 3},
		{"strings.ToUp", []string{"ToUpper"}, 8, 12},
		{"display.HT", []string{"HTML", "HTMLBundle"}, 8, 10},
		{"ret", []string{"return"}, 0, 3},
		{"ap", []string{"append"}, 0, 2},
		{"slices.Sor", []string{"Sort", "SortFunc", "SortStableFunc", "Sorted", "SortedFunc"}, 7, 10},
		{"s := \"héllo\"; fmt.Pri", []string{"Print", "Printf", "Println"}, 18, 21},
		{"newVar := 1; new", []string{"new", "newVar"}, 13, 16},
	} {
		got, start, end := s.Complete(c.code, utf8.RuneCountInString(c.code))
		for _, w := range c.want {
			if !slices.Contains(got, w) {
				t.Errorf("Complete(%q) = %v, missing %s", c.code, got, w)
			}
		}
		if start != c.start || end != c.end {
			t.Errorf("Complete(%q) range [%d,%d), want [%d,%d)", c.code, start, end, c.start, c.end)
		}
		for _, g := range got {
			if strings.HasPrefix(g, "_golem") {
				t.Errorf("Complete(%q) leaks internal name %s", c.code, g)
			}
		}
	}
}

func TestInspect(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, "import \"strings\"\ntype Point struct{ X, Y int }\np := Point{1, 2}\nfunc area(w, h int) int { return w * h }")
	for _, c := range []struct {
		code   string
		cursor int
		want   []string
	}{
		{"strings.ToUpper(s)", 10, []string{"func ToUpper(s string) string", "upper case"}},
		{"fmt.Println", 6, []string{"func Println(a ...any) (n int, err error)"}},
		{"p", 1, []string{"p ", "{1 2}"}},
		{"area(2, 3)", 2, []string{"func area(w, h int) int"}},
		{"Point{}", 3, []string{"type Point struct"}},
		{"x := len(s)", 6, []string{"func len(v Type) int"}},
		{"display.NewProgress", 12, []string{"func NewProgress(label string, total int64) *Progress"}},
	} {
		b, found := s.Inspect(c.code, c.cursor, 0)
		if !found {
			t.Errorf("Inspect(%q, %d): not found", c.code, c.cursor)
			continue
		}
		text, _ := b["text/plain"].(string)
		for _, w := range c.want {
			if !strings.Contains(text, w) {
				t.Errorf("Inspect(%q, %d) = %q, missing %q", c.code, c.cursor, text, w)
			}
		}
	}
	if b, found := s.Inspect("area(2, 3)", 2, 1); !found || !strings.Contains(b["text/plain"].(string), "return w * h") {
		t.Errorf("Inspect detail 1 of a cell function: %v", b)
	}
	if _, found := s.Inspect("   ", 1, 0); found {
		t.Error("Inspect of blanks found something")
	}
}

func TestIsComplete(t *testing.T) {
	s := newTestSession(t)
	for _, c := range []struct{ code, status string }{
		{"x := 1", "complete"},
		{"func f() {\n\treturn", "incomplete"},
		{"for i := 0; i < 3; i++ {", "incomplete"},
		{"x := []int{1,\n2,", "incomplete"},
		{"y := 1 +", "incomplete"},
		{"s := `raw", "incomplete"},
		{"}", "invalid"},
		{"x := )", "invalid"},
		{"func f() { return }\nf()", "complete"},
		{"%time x := 1", "complete"},
		{"%%writefile a.txt\nanything {", "complete"},
		{"package main\nfunc main() {}", "complete"},
		{"import \"fmt\"\nfmt.Println(1)", "complete"},
	} {
		status, indent := s.IsComplete(c.code)
		if status != c.status {
			t.Errorf("IsComplete(%q) = %s, want %s", c.code, status, c.status)
		}
		if status == "incomplete" && strings.HasSuffix(c.code, "{") && indent == "" {
			t.Errorf("IsComplete(%q): no indent", c.code)
		}
	}
}

// While a cell runs, completion and inspection still answer (from static tables)
// instead of waiting for the cell, and Close does not block.
func TestCompleteWhileRunning(t *testing.T) {
	s := newTestSession(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.Execute(ctx, "for {\n}")
		close(done)
	}()
	time.Sleep(100 * time.Millisecond)
	got, _, _ := s.Complete("fmt.Pri", 7)
	if !slices.Contains(got, "Println") {
		t.Errorf("Complete while running: %v", got)
	}
	if b, found := s.Inspect("strings.ToUpper", 10, 0); !found || !strings.Contains(b["text/plain"].(string), "ToUpper") {
		t.Errorf("Inspect while running: %v %v", b, found)
	}
	cancel()
	<-done
}
