package shard

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/tokenizer"
)

// opticksParts writes Opticks' paragraphs as 5 JSONL inputs and returns their
// directory.
func opticksParts(t *testing.T) string {
	path, err := assets.Opticks()
	if err != nil {
		t.Skip(err)
	}
	docs, err := data.ReadAll(mustOpen(t, path))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	per := (len(docs) + 4) / 5
	for i := 0; i < 5; i++ {
		w, err := data.NewFileWriter(filepath.Join(dir, fmt.Sprintf("opticks-%d.jsonl.zst", i)), data.OutJSONLZstd)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs[i*per : min(len(docs), (i+1)*per)] {
			if err := w.Write(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustOpen(t *testing.T, path string) data.Reader {
	r, err := data.Open(path, data.ReadOptions{TextSplit: data.SplitParagraph})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// dirFiles reads the shard files (.bin, .idx) of a directory.
func dirFiles(t *testing.T, dir string) map[string][]byte {
	out := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if n := e.Name(); strings.HasSuffix(n, ".bin") || strings.HasSuffix(n, ".idx") {
			b, err := os.ReadFile(filepath.Join(dir, n))
			if err != nil {
				t.Fatal(err)
			}
			out[n] = b
		}
	}
	return out
}

// TestTokenizeTasks: shards made by 1 task and by 3 tasks (at the same time), then
// merged, are byte-identical to one Writer's over the same documents; a rerun
// does nothing; a missing part is named with its task.
func TestTokenizeTasks(t *testing.T) {
	in := opticksParts(t)
	tok, err := tokenizer.Load("gpt2")
	if err != nil {
		t.Fatal(err)
	}
	opts := WriterOptions{Prefix: "opticks", ShardTokens: 30000, ValFraction: 0.1, Seed: 3}

	// Reference: one Writer over all documents.
	ref := t.TempDir()
	w, err := NewWriter(ref, tok, opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := data.Open(in, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddReader(r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	refStats, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(refStats.TrainShards) < 3 || refStats.ValDocs == 0 {
		t.Fatalf("reference: %+v", refStats)
	}

	for _, n := range []int{1, 3} {
		out := t.TempDir()
		run := &TokenizeRun{Inputs: []string{in}, Encoder: tok, Vocab: "gpt2", Output: filepath.Join(out, "parts"),
			ValFraction: opts.ValFraction, Seed: opts.Seed}
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = run.RunTask(data.Task{Index: i, Count: n})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("%d tasks, task %d: %v", n, i, err)
			}
		}
		ts, err := run.Merge(n)
		if err != nil {
			t.Fatal(err)
		}
		if ts.Shards != 5 || ts.TrainDocs != refStats.TrainDocs || ts.ValTokens != refStats.ValTokens {
			t.Fatalf("%d tasks: stats %+v, reference %+v", n, ts, refStats)
		}
		st, err := run.MergeParts(out, n, opts)
		if err != nil {
			t.Fatal(err)
		}
		if st.TrainTokens != refStats.TrainTokens || st.ValDocs != refStats.ValDocs || len(st.TrainShards) != len(refStats.TrainShards) {
			t.Fatalf("%d tasks: merged %+v, reference %+v", n, st, refStats)
		}
		want, got := dirFiles(t, ref), dirFiles(t, out)
		if len(want) != len(got) {
			t.Fatalf("%d tasks: %d files, reference %d", n, len(got), len(want))
		}
		for name, b := range want {
			if !bytes.Equal(b, got[name]) {
				t.Fatalf("%d tasks: %s differs from the reference", n, name)
			}
		}
		// A rerun does nothing.
		again, err := run.RunTask(data.Task{Index: 0, Count: n})
		if err != nil || again.ShardsDone != 0 {
			t.Fatalf("rerun: %+v %v", again, err)
		}
		if n == 3 {
			os.Remove(filepath.Join(run.Output, data.MarkerDir, PartPrefix(4)+".json"))
			if _, err := run.MergeParts(out, n, opts); err == nil || !strings.Contains(err.Error(), "run tasks 1 of 3") {
				t.Fatalf("merge with a missing part: %v", err)
			}
		}
	}
}
