package kernel

import "testing"

// TestMurmur2 checks the cell file hash against ipykernel's murmur2_x86 (the
// values below are its output with seed 0xC70F6907), which JupyterLab's
// debugger computes the same way over the code's UTF-8.
func TestMurmur2(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32
	}{
		{"", 3990065800},
		{"a", 2167009006},
		{"ab", 2805137849},
		{"abc", 3350977461},
		{"abcd", 804720481},
		{"x := 7\nShout(\"go\", 2)", 4089932986},
		{"héllo wörld ✓ 日本", 999456466},
	} {
		if got := murmur2([]byte(c.in), debugHashSeed); got != c.want {
			t.Errorf("murmur2(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}
