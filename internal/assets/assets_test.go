package assets

import (
	"os"
	"testing"
)

func TestShippedTextIsThere(t *testing.T) {
	for name, f := range map[string]func() (string, error){
		"Opticks": Opticks, "TomSawyer": TomSawyer, "HTMLText": HTMLText, "BrownCorpus": BrownCorpus,
	} {
		p, err := f()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if fi, err := os.Stat(p); err != nil || (fi.Size() == 0 && !fi.IsDir()) {
			t.Fatalf("%s: %s empty or unreadable: %v", name, p, err)
		}
	}
	enc, bpe, err := GPT2Vocab()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{enc, bpe} {
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
	}
}

func TestModuleDirBadVersion(t *testing.T) {
	if _, err := ModuleDir("github.com/klauspost/compress@v0.0.0-not-a-version"); err == nil {
		t.Fatal("want error for a version that does not exist")
	}
}
