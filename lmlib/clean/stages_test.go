package clean

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/golem-lm/golem/lmlib/data"
)

// stagedCorpus writes the 622 MinHash test documents (datatrove's vectors, with
// planted near-duplicates) as 7 JSONL shards, documents dealt out in turn so that
// near-duplicates sit in different shards, and returns the directory and the
// documents in (shard, position) order.
func stagedCorpus(t *testing.T) (string, []*data.Doc) {
	var v minhashVectors
	readGzipJSON(t, "minhash.json.gz", &v)
	dir := t.TempDir()
	const n = 7
	shards := make([][]*data.Doc, n)
	for i, d := range v.Docs {
		doc := &data.Doc{ID: fmt.Sprintf("doc-%03d", i), Text: d.Text}
		// Some documents with an address, for the step after MinHash (PII).
		if i%50 == 0 {
			doc.Text += "\n\nWrite to jane.doe@corp.example.com for more."
		}
		shards[i%n] = append(shards[i%n], doc)
	}
	var order []*data.Doc
	for s, docs := range shards {
		w, err := data.NewFileWriter(filepath.Join(dir, fmt.Sprintf("in-%d.jsonl.gz", s)), data.OutJSONLGzip)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			if err := w.Write(d); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		order = append(order, docs...)
	}
	return dir, order
}

func stagedSteps(t *testing.T) []data.Step {
	m, err := NewMinHashDeduper(DefaultMinHashConfig())
	if err != nil {
		t.Fatal(err)
	}
	pii := NewPIIFormatter()
	pii.PerDocument = true
	return []data.Step{&LengthFilter{MinChars: 200}, m, pii}
}

// finalFiles reads every file a staged run leaves in its output directory (the
// output shards and stats.json, not the hidden intermediate files).
func finalFiles(t *testing.T, dir string) map[string][]byte {
	out := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = b
		}
	}
	return out
}

func readIDs(t *testing.T, dir string) map[string]bool {
	r, err := data.Open(dir, data.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for {
		d, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ids[d.ID] = true
	}
	return ids
}

// TestStagedMinHashTasks is the equality: the staged run as one task and
// as three tasks per stage (running at the same time, as on three machines) write
// byte-identical files, and both drop exactly the documents MinHashIndex (the
// one-process, datatrove-equal clustering) drops.
func TestStagedMinHashTasks(t *testing.T) {
	in, docs := stagedCorpus(t)

	// Reference: the two-pass MinHashIndex over the same documents in order.
	x, err := NewMinHashIndex(DefaultMinHashConfig(), "")
	if err != nil {
		t.Fatal(err)
	}
	lf := &LengthFilter{MinChars: 200}
	for _, d := range docs {
		if drop, _ := lf.Process(&data.Doc{Text: d.Text}); drop == "" {
			x.Add(d.ID, d.Text)
		}
	}
	wantDups, err := x.Duplicates()
	if err != nil {
		t.Fatal(err)
	}
	if len(wantDups) < 100 {
		t.Fatalf("the corpus has only %d near-duplicates", len(wantDups))
	}

	one := filepath.Join(t.TempDir(), "one")
	st1, err := (&StagedRun{Inputs: []string{in}, Steps: stagedSteps(t), Output: one, Quiet: true}).Run(nil)
	if err != nil {
		t.Fatal(err)
	}
	kept := readIDs(t, one)
	for _, d := range docs {
		if wantDups[d.ID] == kept[d.ID] && len(d.Text) >= 200 {
			t.Fatalf("document %s: duplicate %v, kept %v", d.ID, wantDups[d.ID], kept[d.ID])
		}
	}
	mh := st1.Steps[1]
	if mh.Name != "minhash_dedup" || mh.Dropped["minhash_duplicate"] != int64(len(wantDups)) {
		t.Fatalf("stats: %+v, want %d duplicates", mh, len(wantDups))
	}
	if st1.Steps[2].Name != "pii" || st1.Written != int64(len(kept)) {
		t.Fatalf("stats: %+v", st1)
	}

	three := filepath.Join(t.TempDir(), "three")
	run3 := &StagedRun{Inputs: []string{in}, Steps: stagedSteps(t), Output: three, Quiet: true, Workers: 1}
	stages, _ := run3.Stages()
	for _, stage := range stages {
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = run3.RunTask(nil, stage, data.Task{Index: i, Count: 3})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("stage %s task %d: %v", stage, i, err)
			}
		}
	}
	a, b := finalFiles(t, one), finalFiles(t, three)
	if !slices.Equal(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b))) {
		t.Fatalf("files: one task %v, three %v", slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)))
	}
	for name, x := range a {
		if name == "stats.json" {
			continue
		}
		if !bytes.Equal(x, b[name]) {
			t.Fatalf("%s differs between 1 and 3 tasks", name)
		}
	}
	var s3 data.Stats
	if err := json.Unmarshal(b["stats.json"], &s3); err != nil {
		t.Fatal(err)
	}
	for i := range st1.Steps {
		p, q := st1.Steps[i], s3.Steps[i]
		if p.Name != q.Name || p.In != q.In || p.Out != q.Out || !maps.Equal(p.Dropped, q.Dropped) {
			t.Fatalf("step %s: one task %+v, three %+v", p.Name, p, q)
		}
	}
	if s3.Written != st1.Written || s3.Read.Docs != int64(len(docs)) {
		t.Fatalf("stats: three tasks %+v, one %+v", s3, st1)
	}

	// A rerun finds everything done.
	for _, stage := range stages {
		rep, err := run3.RunTask(nil, stage, data.Task{Index: 1, Count: 3})
		if err != nil || rep.Done != 0 {
			t.Fatalf("rerun of %s: %+v %v", stage, rep, err)
		}
	}
	// Stages out of order are errors that say what to run.
	fresh := &StagedRun{Inputs: []string{in}, Steps: stagedSteps(t), Output: t.TempDir(), Quiet: true}
	if _, err := fresh.RunTask(nil, StageBuckets, data.Task{}); err == nil || !strings.Contains(err.Error(), "run the filter stage") {
		t.Fatalf("buckets before filter: %v", err)
	}
	if _, err := fresh.RunTask(nil, "sort", data.Task{}); err == nil || !strings.Contains(err.Error(), "unknown stage") {
		t.Fatalf("unknown stage: %v", err)
	}
}
