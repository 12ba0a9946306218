package shard

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golem-lm/golem/lmlib/tokenizer"
)

// TestBenchShardWrite is the golem side of `make bench-shard`: with
// GOLEM_BENCH_SHARD=FILE,FILE,... it tokenizes the paragraphs of those files with
// GPT-2 into shards (as tools/shardbench/llmc_shard.py does) and prints
// "tokens seconds". Without the variable it is skipped.
func TestBenchShardWrite(t *testing.T) {
	files := os.Getenv("GOLEM_BENCH_SHARD")
	if files == "" {
		t.Skip("set GOLEM_BENCH_SHARD (make bench-shard)")
	}
	var docs []string
	for _, p := range strings.Split(files, ",") {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range strings.Split(string(b), "\n\n") {
			if strings.TrimSpace(d) != "" {
				docs = append(docs, d)
			}
		}
	}
	tok, err := tokenizer.Load("gpt2")
	if err != nil {
		t.Fatal(err)
	}
	tok.EncodeOrdinary("warm up")
	dir := t.TempDir()
	i := 0
	t0 := time.Now()
	w, err := NewWriter(dir, tok, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.AddAll(func() (string, bool) {
		if i == len(docs) {
			return "", false
		}
		i++
		return docs[i-1], true
	}); err != nil {
		t.Fatal(err)
	}
	st, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("golem-shard %d %f\n", st.TrainTokens, time.Since(t0).Seconds())
}
