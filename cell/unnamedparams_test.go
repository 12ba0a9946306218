package cell

import "testing"

// TestUnnamedParamsCalledFromCompiledCode: compiled code (strings.Map, a widget's
// OnChange) calling a func literal or function of a cell whose parameters have no
// names gets the right arguments and frame.
func TestUnnamedParamsCalledFromCompiledCode(t *testing.T) {
	s := newTestSession(t)
	s.exec(t, `import "strings"`)
	s.exec(t, "var seen []bool\nvar flag = true")
	for _, c := range []struct{ code, want string }{
		{`strings.Map(func(rune) rune { seen = append(seen, flag); return 'x' }, "ab")`, `"xx"`},
		{`len(seen)`, "2"},
		{`strings.IndexFunc("abc", func(rune) bool { return flag })`, "0"},
		{"func always(rune) bool { seen = append(seen, flag); return true }\nstrings.IndexFunc(\"abc\", always)", "0"},
		{`strings.Map(func(r rune) rune { return r + 1 }, "ab")`, `"bc"`},
	} {
		if got := s.exec(t, c.code); got != c.want {
			t.Errorf("%s: %s, want %s", c.code, got, c.want)
		}
	}
}
