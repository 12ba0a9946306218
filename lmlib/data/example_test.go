package data_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-lm/golem/lmlib/data"
)

// Open a file, a directory or a glob and walk its documents. In a notebook cell,
// give your own path or glob ("crawl/**/*.warc.gz"); data.Shipped names the texts
// that ship with the tools.
func ExampleOpen() {
	path, _ := data.Shipped("opticks") // or your own file, directory or glob
	r, err := data.Open(path, data.ReadOptions{TextSplit: data.SplitParagraph})
	if err != nil {
		fmt.Println(err)
		return
	}
	docs, words := 0, 0
	err = data.ForEach(r, func(d *data.Doc) error {
		docs++
		words += len(strings.Fields(d.Text))
		return nil
	})
	fmt.Println(docs, "paragraphs,", words, "words, error:", err)
	// Output: 701 paragraphs, 100801 words, error: <nil>
}

// Write documents to sharded, compressed JSONL; each shard appears atomically.
func ExampleNewShardedWriter() {
	dir, _ := os.MkdirTemp("", "shards")
	defer os.RemoveAll(dir)
	w, _ := data.NewShardedWriter(dir, "docs", data.WriteOptions{Format: data.OutJSONLZstd, MaxDocs: 2})
	for i := 0; i < 5; i++ {
		w.Write(&data.Doc{ID: fmt.Sprint(i), Text: fmt.Sprintf("document number %d", i)})
	}
	err := w.Close()
	for _, f := range w.Files() {
		fmt.Println(filepath.Base(f))
	}
	docs, _ := data.ReadAll(mustOpen(dir))
	fmt.Println(len(docs), "docs read back, error:", err)
	// Output:
	// docs-00000.jsonl.zst
	// docs-00001.jsonl.zst
	// docs-00002.jsonl.zst
	// 5 docs read back, error: <nil>
}

func mustOpen(spec string) data.Reader {
	r, err := data.Open(spec, data.ReadOptions{})
	if err != nil {
		panic(err)
	}
	return r
}

// A pipeline over input shards with one step; the stats show themselves as a
// table when they are a cell's last value.
func ExamplePipeline() {
	in, _ := os.MkdirTemp("", "in")
	out, _ := os.MkdirTemp("", "out")
	defer os.RemoveAll(in)
	defer os.RemoveAll(out)
	brown, _ := data.Shipped("brown")
	for _, name := range []string{"ca01", "ca02", "ca03"} { // three input shards
		b, _ := os.ReadFile(filepath.Join(brown, name))
		os.WriteFile(filepath.Join(in, name+".txt"), b, 0o644)
	}
	p := &data.Pipeline{
		Inputs: []string{in},
		Read:   data.ReadOptions{TextSplit: data.SplitParagraph},
		Steps: []data.Step{data.StepFunc{StepName: "min_words", Fn: func(d *data.Doc) (string, error) {
			if len(strings.Fields(d.Text)) < 30 {
				return "short", nil
			}
			return "", nil
		}}},
		Output: out,
		Resume: true,
		Quiet:  true, // a notebook shows live progress without it
	}
	stats, err := p.Run(nil)
	fmt.Println(stats.Read.Docs, "read,", stats.Written, "written,", stats.Steps[0].Dropped["short"], "short, error:", err)
	for _, f := range stats.Outputs {
		fmt.Println(filepath.Base(f))
	}
	// Output:
	// 179 read, 126 written, 53 short, error: <nil>
	// part-00000.jsonl.zst
	// part-00001.jsonl.zst
	// part-00002.jsonl.zst
}
