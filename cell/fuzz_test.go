package cell

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCellTools feeds arbitrary text to everything that reads a cell without
// running it: magic and cell splitting, is-complete, completion, inspection. None
// may panic; chunks must be ordered byte ranges of the cell, and completion
// ranges must lie inside it.
func FuzzCellTools(f *testing.F) {
	for _, seed := range []string{
		"x := 1", "type P struct{ A int }\np := P{3}\nfunc (p P) M() {}\np.M()",
		"%time x := 1\n!echo hi\n%%writefile f", "func() { }()\nfunc f() {}", "for i := range 10 {",
		"s := `raw", "import (\n\t\"fmt\"\n)\nfmt.Pri", "package main\nfunc main() {}", "}}}{{{", "x := \"é\"; fmt.",
	} {
		f.Add(seed, len(seed))
	}
	s, err := New(Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, code string, cursor int) {
		if !utf8.ValidString(code) {
			return
		}
		n := utf8.RuneCountInString(code)
		if cursor < 0 || cursor > n {
			cursor = n
		}
		segs, err := splitMagics(code)
		if err == nil {
			for _, sg := range segs {
				if sg.magic == nil {
					chunks, _ := splitCell([]byte(sg.code))
					last := 0
					for _, c := range chunks {
						if c.start < last || c.end < c.start || c.end > len(sg.code) {
							t.Fatalf("bad chunk %+v of %q", c, sg.code)
						}
						last = c.end
					}
				}
			}
		}
		switch st, _ := s.IsComplete(code); st {
		case "complete", "incomplete", "invalid", "unknown":
		default:
			t.Fatalf("IsComplete(%q) = %q", code, st)
		}
		matches, start, end := s.Complete(code, cursor)
		if start < 0 || start > end || end > n {
			t.Fatalf("Complete(%q, %d) range [%d,%d)", code, cursor, start, end)
		}
		for _, m := range matches {
			if strings.HasPrefix(m, "_golem") {
				t.Fatalf("internal name %s", m)
			}
		}
		s.Inspect(code, cursor, 0)
	})
}
