package clean

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/golem-lm/golem/lmlib/data"
)

// The FineWeb chain inside data.Pipeline, then the two-pass MinHash dedup, on the
// parity corpus (real text that ships with the tools).
func TestFineWebChainInPipeline(t *testing.T) {
	docs := loadCorpus(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(f)
	for i, d := range docs[:600] {
		enc.Encode(d)
		if i%50 == 0 { // exact copies: MinHash must remove them
			enc.Encode(corpusDoc{ID: d.ID + "-copy", Text: d.Text, Meta: d.Meta})
		}
	}
	f.Close()
	steps, err := FineWebSteps(FineWebOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := &data.Pipeline{Inputs: []string{in}, Steps: steps, Output: filepath.Join(dir, "out"), Format: data.OutJSONL, Quiet: true}
	stats, err := p.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var kept int64
	byName := map[string]data.StepStats{}
	for _, s := range stats.Steps {
		byName[s.Name] = s
		kept = s.Out
	}
	if byName["minhash_dedup"].Dropped["minhash_duplicate"] == 0 {
		t.Errorf("no MinHash duplicates removed: %+v", byName["minhash_dedup"])
	}
	if byName["gopher_quality"].Dropped["gopher_short_doc"] == 0 || byName["c4_quality"].Dropped["too_few_sentences"] == 0 {
		t.Errorf("filters dropped nothing: %+v %+v", byName["gopher_quality"], byName["c4_quality"])
	}
	if kept == 0 {
		t.Fatal("nothing kept")
	}
	t.Logf("FineWeb chain kept %d of %d documents", kept, stats.Steps[0].In)

	// two-pass MinHash over the cleaned output
	idx, err := NewMinHashIndex(DefaultMinHashConfig(), filepath.Join(dir, "sigs"))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	p1 := &data.Pipeline{Inputs: []string{in}, Steps: []data.Step{idx.Step()}, Quiet: true}
	if _, err := p1.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	filter, err := idx.FilterStep()
	if err != nil {
		t.Fatal(err)
	}
	p2 := &data.Pipeline{Inputs: []string{in}, Steps: []data.Step{filter}, Quiet: true}
	st2, err := p2.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := st2.Steps[0].Dropped["minhash_duplicate"]; got < 12 {
		t.Errorf("two-pass MinHash removed %d documents, want at least the 12 planted copies", got)
	}
}
