package shard

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// A cancelled context stops AddAll and WriteTexts between documents with an error
// wrapping context.Canceled, fails the writer and leaves no unfinished shard.
func TestWriterContextCancel(t *testing.T) {
	enc := NewCharVocab("abc ")
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	w, err := NewWriter(dir, enc, WriterOptions{Context: ctx})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = w.AddAll(func() (string, bool) {
		if n++; n == 3000 {
			cancel()
		}
		return "abc", n < 5000
	})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted after") {
		t.Fatalf("AddAll after cancel: %v", err)
	}
	if _, err := w.Close(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close after cancel: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Fatalf("files left after a cancelled write: %v", left)
	}
	if _, err := WriteTexts(t.TempDir(), enc, []string{"a", "b"}, WriterOptions{Context: ctx}); !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteTexts with a cancelled context: %v", err)
	}
}
