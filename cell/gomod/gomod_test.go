package gomod

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRequired(t *testing.T) {
	dir := t.TempDir()
	gomod := "module notebook\n\ngo 1.26\n\nrequire (\n\tgonum.org/v1/gonum v0.17.0 // indirect\n\tgithub.com/google/uuid v1.6.0\n)\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"gonum.org/v1/gonum/mat":  true,
		"gonum.org/v1/gonum":      true,
		"gonum.org/v1/gonumx":     false,
		"github.com/google/uuid":  true,
		"gonum.org/v1/plot":       false,
		"golang.org/x/text/width": false,
	} {
		if got := required(dir, path); got != want {
			t.Errorf("required(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestGetRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "%get needs a package"},
		{[]string{"strings"}, "not a module path"},
		{[]string{"example.com/x@v1 $(id)"}, "not an import path"},
		{[]string{"-u"}, "not an import path"},
		{[]string{"example.com/x", "example.com/../y"}, `"example.com/../y"`},
	} {
		_, err := Get(context.Background(), dir, c.args, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Get(%q) = %v, want an error with %q", c.args, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); !os.IsNotExist(err) {
		t.Errorf("refused arguments wrote go.mod (stat: %v)", err)
	}
}

func TestWriteBuildModule(t *testing.T) {
	dir, mod := t.TempDir(), t.TempDir()
	nb := "// comment\nmodule notebook\n\ngo 1.26\n\nrequire gonum.org/v1/gonum v0.17.0 // indirect\n"
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte(nb), 0o644)
	os.WriteFile(filepath.Join(dir, "go.sum"), []byte("gonum.org/v1/gonum v0.17.0 h1:x=\n"), 0o644)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "go.sum"), []byte("github.com/traefik/yaegi v0.16.1 h1:y=\n"), 0o644)
	if err := writeBuildModule(dir, src, mod); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(mod, "go.mod"))
	got := string(b)
	for _, want := range []string{"module golemkernel\n", "require gonum.org/v1/gonum v0.17.0", "require github.com/golem-lm/golem v0.0.0",
		"replace github.com/golem-lm/golem => " + src, "go 1.26"} {
		if !strings.Contains(got, want) {
			t.Errorf("go.mod lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "module notebook") {
		t.Errorf("go.mod keeps the notebook's module line:\n%s", got)
	}
	sum, _ := os.ReadFile(filepath.Join(mod, "go.sum"))
	if !strings.Contains(string(sum), "yaegi") || !strings.Contains(string(sum), "gonum") {
		t.Errorf("go.sum is not golem's and the notebook's:\n%s", sum)
	}
}

func TestKey(t *testing.T) {
	dir, src := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module notebook\n"), 0o644)
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module github.com/golem-lm/golem\n"), 0o644)
	k1, err := Key(dir, src, []string{"a.b/c"})
	if err != nil {
		t.Fatal(err)
	}
	if k2, _ := Key(dir, src, []string{"a.b/c"}); k2 != k1 {
		t.Errorf("the same setup gave keys %s and %s", k1, k2)
	}
	if k2, _ := Key(dir, src, []string{"a.b/c", "a.b/d"}); k2 == k1 {
		t.Error("another package list gave the same key")
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module notebook\n\nrequire a.b v1.0.0\n"), 0o644)
	if k2, _ := Key(dir, src, []string{"a.b/c"}); k2 == k1 {
		t.Error("another go.mod gave the same key")
	}
}

func TestCompiled(t *testing.T) {
	if !Compiled("github.com/golem-lm/golem/display") {
		t.Error("display, in cell/symbols, is not compiled in")
	}
	if Compiled("github.com/google/uuid") || Compiled("github.com/golem-lm/golem") {
		t.Error("a package not in cell/symbols is compiled in")
	}
}

func TestSourceDir(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module github.com/golem-lm/golem\n\ngo 1.26\n"), 0o644)
	t.Setenv("GOLEM_SRC", src)
	if got, err := SourceDir(); err != nil || got != src {
		t.Fatalf("SourceDir() = %q, %v; want %s", got, err, src)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644)
	t.Setenv("GOLEM_SRC", other)
	old := Source
	Source = ""
	defer func() { Source = old }()
	if got, err := SourceDir(); err == nil && got == other {
		t.Fatalf("SourceDir() took %s, which is not golem's source", other)
	}
}

// TestCurrentBinary: the binary a %get recorded for a folder is started there
// later only while it fits: it exists and the go.mod is the one it was built for.
func TestCurrentBinary(t *testing.T) {
	dir, src := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module github.com/golem-lm/golem\n\ngo 1.26\n"), 0o644)
	t.Setenv("GOLEM_SRC", src)
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module notebook\n\nrequire a.b v1.0.0\n"), 0o644)
	if _, ok := CurrentBinary(dir); ok {
		t.Fatal("a binary without a record")
	}
	os.MkdirAll(KernelDir(dir), 0o755)
	bin := filepath.Join(KernelDir(dir), "golem-test")
	os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755)
	pkgs := []string{"a.b/c"}
	key, err := Key(dir, src, pkgs)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteCurrent(dir, key, bin, pkgs); err != nil {
		t.Fatal(err)
	}
	if got, ok := CurrentBinary(dir); !ok || got != bin {
		t.Fatalf("CurrentBinary = %q, %v; want %s", got, ok, bin)
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module notebook\n\nrequire a.b v1.1.0\n"), 0o644)
	if _, ok := CurrentBinary(dir); ok {
		t.Fatal("a binary built for another go.mod")
	}
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module notebook\n\nrequire a.b v1.0.0\n"), 0o644)
	os.Remove(bin)
	if _, ok := CurrentBinary(dir); ok {
		t.Fatal("a binary that is gone")
	}
}
