package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/data"
)

// taskCorpus writes Opticks' paragraphs as 5 JSONL files, each paragraph also as
// a near-duplicate in the next file.
func taskCorpus(t *testing.T) string {
	path, err := assets.Opticks()
	if err != nil {
		t.Skip(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var paras []string
	for _, p := range strings.Split(string(b), "\n\n") {
		if len(strings.Fields(p)) > 60 {
			paras = append(paras, strings.Join(strings.Fields(p), " "))
		}
	}
	dir := t.TempDir()
	ws := make([]*data.FileWriter, 5)
	for i := range ws {
		if ws[i], err = data.NewFileWriter(filepath.Join(dir, fmt.Sprintf("p%d.jsonl", i)), data.OutJSONL); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i+2 <= len(paras); i += 2 {
		doc := paras[i] + "\n\n" + paras[i+1]
		ws[i%5].Write(&data.Doc{ID: fmt.Sprint("d", i), Text: doc})
		ws[(i+1)%5].Write(&data.Doc{ID: fmt.Sprint("n", i), Text: strings.Replace(doc, " the ", " a ", 1)})
	}
	for _, w := range ws {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sameFiles(t *testing.T, a, b string, suffixes ...string) {
	t.Helper()
	ents, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		ok := false
		for _, s := range suffixes {
			ok = ok || strings.HasSuffix(e.Name(), s)
		}
		if !ok || !e.Type().IsRegular() {
			continue
		}
		x, _ := os.ReadFile(filepath.Join(a, e.Name()))
		y, err := os.ReadFile(filepath.Join(b, e.Name()))
		if err != nil || !bytes.Equal(x, y) {
			t.Fatalf("%s differs between %s and %s (%v)", e.Name(), a, b, err)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no %v files in %s", suffixes, a)
	}
}

// golem clean, tokenize and shard as 1 and as 3 tasks (the index from
// SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, as on Slurm or Kubernetes) give
// byte-identical files; bad task flags are errors that say what to do.
func TestTaskCommands(t *testing.T) {
	in := taskCorpus(t)
	out := t.TempDir()
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	t.Setenv("JOB_COMPLETION_INDEX", "")
	if err := runClean([]string{"-q", "-lang", "en", "--tasks", "1", "-o", filepath.Join(out, "clean1"), in}); err != nil {
		t.Fatal(err)
	}
	for _, stage := range []string{"filter", "buckets", "clusters", "dedup", "merge"} {
		for i := 0; i < 3; i++ {
			t.Setenv("JOB_COMPLETION_INDEX", fmt.Sprint(i))
			if err := runClean([]string{"-q", "--tasks", "3", "--stage", stage, "-o", filepath.Join(out, "clean3"), in}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Setenv("JOB_COMPLETION_INDEX", "")
	sameFiles(t, filepath.Join(out, "clean1"), filepath.Join(out, "clean3"), ".jsonl.zst")

	for _, n := range []int{1, 3} {
		for i := 0; i < n; i++ {
			t.Setenv("SLURM_ARRAY_TASK_ID", fmt.Sprint(i))
			if err := runShard([]string{"--vocab", "gpt2", "--out", filepath.Join(out, fmt.Sprint("shard", n)), "--shard-tokens", "20000", "--val", "0.2",
				"--tasks", fmt.Sprint(n), "--stage", "tokenize", in}); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("SLURM_ARRAY_TASK_ID", "0")
		if err := runShard([]string{"--vocab", "gpt2", "--out", filepath.Join(out, fmt.Sprint("shard", n)), "--shard-tokens", "20000", "--val", "0.2",
			"--tasks", fmt.Sprint(n), "--stage", "merge", in}); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "")
	// The one-process golem shard writes the same shards.
	if err := runShard([]string{"--vocab", "gpt2", "--out", filepath.Join(out, "shard0"), "--shard-tokens", "20000", "--val", "0.2", in}); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, filepath.Join(out, "shard0"), filepath.Join(out, "shard1"), ".bin", ".idx")
	sameFiles(t, filepath.Join(out, "shard1"), filepath.Join(out, "shard3"), ".bin", ".idx")

	var log bytes.Buffer
	for i := 0; i < 2; i++ {
		if err := tokenizeMain([]string{"--vocab", "gpt2", "-o", filepath.Join(out, "tok2"), "--tasks", "2", "--task-index", fmt.Sprint(i), "--stage", "tokenize", in}, nil, &log); err != nil {
			t.Fatal(err)
		}
	}
	if err := tokenizeMain([]string{"--vocab", "gpt2", "-o", filepath.Join(out, "tok1"), in}, nil, &log); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, filepath.Join(out, "tok1"), filepath.Join(out, "tok2"), ".bin", ".idx")

	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"7", []string{"--tasks", "3", "--stage", "filter"}, "task index 7 (from $SLURM_ARRAY_TASK_ID) is not below --tasks 3"},
		{"x", []string{"--tasks", "3", "--stage", "filter"}, `SLURM_ARRAY_TASK_ID="x"`},
		{"", []string{"--tasks", "3"}, "with --tasks 3 give --stage"},
		{"", []string{"--stage", "sort"}, `--stage "sort": the stages are filter, buckets`},
		{"", []string{"--tasks", "0"}, "--tasks 0"},
		{"", []string{"--tasks", "2"}, "needs -o"},
	} {
		t.Setenv("SLURM_ARRAY_TASK_ID", tc.env)
		args := append([]string{"-q"}, tc.args...)
		if tc.want != "needs -o" {
			args = append(args, "-o", filepath.Join(out, "bad"))
		} else {
			args = append(args, "--stage", "filter")
		}
		if err := runClean(append(args, in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v with SLURM_ARRAY_TASK_ID=%q: %v, want %q", tc.args, tc.env, err, tc.want)
		}
	}
}
