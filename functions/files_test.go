package functions_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
)

// ConfinedPath keeps request paths inside the host's files directory: every way
// out is an input error naming the field.
func TestConfinedPath(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	os.MkdirAll(filepath.Join(root, "in", "sub"), 0o755)
	os.Symlink(outside, filepath.Join(root, "out-link"))
	os.Symlink(filepath.Join(root, "in"), filepath.Join(root, "in-link"))
	for _, c := range []struct {
		rel, want string // want: "" allowed, else part of the error
	}{
		{"in", ""},
		{"in/sub/new/deeper", ""},
		{"in/*.jsonl", ""},
		{"in-link/sub", ""}, // a link that stays inside
		{"", "is empty"},
		{"/etc/passwd", "is absolute"},
		{"in/../../x", `".." element`},
		{"..", `".." element`},
		{"out-link", "outside"},
		{"out-link/new/file", "outside"},
		{"in/\x00x", "NUL"},
	} {
		p, err := functions.ConfinedPath(root, c.rel, "inputs")
		if c.want == "" {
			if err != nil || !strings.HasPrefix(p, root) {
				t.Errorf("%q: %q %v", c.rel, p, err)
			}
			continue
		}
		var ce *functions.CallError
		if !errors.As(err, &ce) || ce.Kind != api.KindInput || ce.Field != "inputs" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an input error with %q", c.rel, err, c.want)
		}
	}
	if _, err := functions.ConfinedPath("", "in", "output"); err == nil || !strings.Contains(err.Error(), "--files") {
		t.Errorf("no files directory: %v", err)
	}
}
