package cell

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGetMagicBadInput: %get refuses what is not a module package, naming it,
// before touching the notebook's directory (no network is needed), and the
// session goes on.
func TestGetMagicBadInput(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the kernel's working directory is the notebook's (restored after the test)
	s := newTestSession(t)
	s.exec(t, "keep := 3")
	for _, c := range []struct{ cell, want string }{
		{"%get", "%get needs a package"},
		{"%get fmt", `"fmt": fmt is not a module path`},
		{"%get gonum.org/v1/gonum/mat@v1;rm -rf x", "not an import path"},
		{"%get ../x", "not an import path"},
		{"%get example.com/a/../../b", "not an import path"},
	} {
		e := s.fail(t, c.cell)
		if e.Name != "MagicError" || !strings.Contains(e.Value, c.want) {
			t.Errorf("%s: got %s: %s, want a MagicError with %q", c.cell, e.Name, e.Value, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); !os.IsNotExist(err) {
		t.Errorf("a refused %%get wrote go.mod (stat: %v)", err)
	}
	if got := s.exec(t, "keep"); got != "3" {
		t.Fatalf("keep = %q after the refused %%get", got)
	}
	if b := s.ReexecBinary(); b != "" {
		t.Fatalf("a refused %%get asked to restart into %q", b)
	}
}

// TestImportOfMissingPackageSaysHowToGetIt: an import of a third-party package
// the kernel does not have names the %get that brings it, at the import's line.
func TestImportOfMissingPackageSaysHowToGetIt(t *testing.T) {
	s := newTestSession(t)
	e := s.fail(t, "x := 1\nimport \"example.com/golem/no-such-pkg\"\n")
	if e.Name != "ImportError" || !strings.Contains(e.Value, "run %get example.com/golem/no-such-pkg") {
		t.Fatalf("got %s: %s", e.Name, e.Value)
	}
	if len(e.Traceback) == 0 || !strings.HasPrefix(e.Traceback[0], "cell:2:8: ") {
		t.Fatalf("traceback %q, want it at cell:2:8", e.Traceback)
	}
	// golem's own packages are compiled in and need no %get
	if got := s.exec(t, "import \"github.com/golem-lm/golem/display\"\n1"); got != "1" {
		t.Fatalf("import of display: %q", got)
	}
}
