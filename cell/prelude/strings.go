//go:build golemprelude

package prelude

import "strings"

// The iterator functions of package strings (Go 1.24), which yaegi v0.16.1's
// tables do not have: a call strings.F(…) is rewritten to _golem_strings_F(…)
// (shims.go in package cell); a range over strings.Lines(s) becomes a range over
// the slice _golemLines(s) (rangefunc.go). Each is an iterator over the slice the
// eager function of strings returns (converted to []string, which yaegi builds
// itself: compiledargs.go in package cell says why).

// _golemLines is strings.Lines as a slice (for range loops over strings.Lines).
func _golemLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexByte(s, '\n')
		line := s
		if i >= 0 {
			line = s[:i+1]
		}
		s = s[len(line):]
		out = append(out, line)
	}
	return out
}

func _golem_strings_Lines(s string) func(yield func(string) bool) {
	return _golem_slices_Values(_golemLines(s))
}

func _golem_strings_SplitSeq(s, sep string) func(yield func(string) bool) {
	return _golem_slices_Values([]string(strings.Split(s, sep)))
}

func _golem_strings_SplitAfterSeq(s, sep string) func(yield func(string) bool) {
	return _golem_slices_Values([]string(strings.SplitAfter(s, sep)))
}

func _golem_strings_FieldsSeq(s string) func(yield func(string) bool) {
	return _golem_slices_Values([]string(strings.Fields(s)))
}

func _golem_strings_FieldsFuncSeq(s string, f func(rune) bool) func(yield func(string) bool) {
	return _golem_slices_Values([]string(strings.FieldsFunc(s, f)))
}
