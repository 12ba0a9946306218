package symbols

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/traefik/yaegi/extract"

	"github.com/golem-lm/golem/display"
)

var generateLine = regexp.MustCompile(`(?m)^//go:generate go run github.com/traefik/yaegi/cmd/yaegi extract (\S+)$`)

// listed returns the import paths named by the //go:generate lines of symbols.go.
func listed(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("symbols.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range generateLine.FindAllStringSubmatch(string(src), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		t.Fatal("symbols.go lists no package to extract")
	}
	return out
}

func fileFor(importPath string) string {
	return strings.NewReplacer("/", "-", ".", "_", "~", "_").Replace(importPath) + ".go"
}

// TestSymbolsUpToDate regenerates every table in memory and compares it with the
// checked-in file: it fails when an exported API changed and nobody ran `make symbols`.
func TestSymbolsUpToDate(t *testing.T) {
	want := map[string]bool{"symbols.go": true}
	for _, p := range listed(t) {
		var buf bytes.Buffer
		ext := extract.Extractor{Dest: "symbols"}
		if _, err := ext.Extract(p, "", &buf); err != nil {
			t.Fatalf("extract %s: %v", p, err)
		}
		name := fileFor(p)
		want[name] = true
		have, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%s: %v (run `make symbols`)", name, err)
		}
		if !bytes.Equal(have, buf.Bytes()) {
			t.Errorf("%s is stale: the exported API of %s changed; run `make symbols`", name, p)
		}
	}
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if !want[f] && !strings.HasSuffix(f, "_test.go") {
			t.Errorf("%s is not generated from a //go:generate line of symbols.go: remove it or list its package", f)
		}
	}
}

func TestDisplayExported(t *testing.T) {
	syms := Symbols["github.com/golem-lm/golem/display/display"]
	if syms == nil {
		t.Fatal("display is not exported")
	}
	if got := syms["HTML"].Pointer(); got != reflect.ValueOf(display.HTML).Pointer() {
		t.Fatal("display.HTML in the table is not the compiled function")
	}
	if _, ok := syms["Renderer"]; !ok {
		t.Fatal("display.Renderer type missing")
	}
}
