package gomod

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// TestYaegiCannotInterpretGonum records why %get compiles packages: yaegi
// v0.16.1 does not interpret gonum/mat from source, even with the build tags
// that select gonum's pure-Go code instead of its assembly. If a yaegi upgrade
// makes this pass, %get could interpret pure-Go modules without a restart.
// Needs gonum v0.17.0 in the module cache or the module proxy (skipped without).
func TestYaegiCannotInterpretGonum(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads gonum")
	}
	out, err := exec.Command(Go(), "mod", "download", "-json", "gonum.org/v1/gonum@v0.17.0").Output()
	if err != nil {
		t.Skipf("gonum v0.17.0 not available: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Skipf("go mod download: %s", out)
	}
	gopath := t.TempDir()
	link := filepath.Join(gopath, "src", "gonum.org", "v1", "gonum")
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(mod.Dir, link); err != nil {
		t.Fatal(err)
	}
	in := interp.New(interp.Options{GoPath: gopath, BuildTags: []string{"noasm", "safe", "purego"}})
	if err := in.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	_, err = in.Eval(`import "gonum.org/v1/gonum/mat"`)
	if err == nil {
		t.Fatal("yaegi now interprets gonum/mat from source: reconsider the compiled path of the get magic (docs/kernel.md)")
	}
	if !strings.Contains(err.Error(), "undefined: max") {
		t.Logf("yaegi fails on gonum/mat another way now: %v", err)
	}
	t.Logf("as documented: %v", err)
}

// TestYaegiMiscomputesUUID records the other reason: yaegi v0.16.1 interprets
// github.com/google/uuid v1.6.0 from source without an error, and its
// uuid.NewSHA1 then returns another UUID than Go's (silently), where the
// compiled package — what %get builds — gives Go's answer.
func TestYaegiMiscomputesUUID(t *testing.T) {
	if testing.Short() {
		t.Skip("downloads uuid")
	}
	const goAnswer = "4d2ff895-69a3-57a6-9eb5-0d76224af0bc" // go run, and a %get kernel (tests/test_third_party.py)
	out, err := exec.Command(Go(), "mod", "download", "-json", "github.com/google/uuid@v1.6.0").Output()
	if err != nil {
		t.Skipf("uuid v1.6.0 not available: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Skipf("go mod download: %s", out)
	}
	gopath := t.TempDir()
	link := filepath.Join(gopath, "src", "github.com", "google", "uuid")
	os.MkdirAll(filepath.Dir(link), 0o755)
	if err := os.Symlink(mod.Dir, link); err != nil {
		t.Fatal(err)
	}
	in := interp.New(interp.Options{GoPath: gopath})
	if err := in.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Eval(`import "github.com/google/uuid"`); err != nil {
		t.Fatalf("yaegi no longer imports uuid from source: %v", err)
	}
	v, err := in.Eval(`uuid.NewSHA1(uuid.NameSpaceURL, []byte("golem")).String()`)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.String(); got == goAnswer {
		t.Fatal("yaegi now computes uuid.NewSHA1 right: reconsider interpreting pure-Go modules (docs/kernel.md)")
	} else {
		t.Logf("interpreted: %s, Go: %s", got, goAnswer)
	}
}
