package shard_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/shard"
)

// Write documents into train/validation shards, then read shuffled batches back.
func Example() {
	dir, _ := os.MkdirTemp("", "shards")
	defer os.RemoveAll(dir)
	docs := []string{
		"Light is propagated in straight lines.",
		"The rays which differ in refrangibility differ also in colour.",
		"Every homogeneal light has its proper colour.",
	}
	enc := shard.NewCharVocab(strings.Join(docs, ""))
	st, err := shard.WriteTexts(dir, enc, docs, shard.WriterOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(filepath.Base(st.TrainShards[0]), st.TrainDocs, "docs", st.TrainTokens, "tokens")

	l, err := shard.NewLoaderGlob(filepath.Join(dir, "shard_train_*.bin"),
		shard.LoaderOptions{B: 2, T: 8, Shuffle: true, Seed: 1, VocabSize: enc.VocabSize()})
	if err != nil {
		fmt.Println(err)
		return
	}
	x, y, _ := l.Next()
	fmt.Printf("%q -> %q\n", enc.Decode(x[:8]), enc.Decode(y[:8]))
	fmt.Println(l.BatchesPerEpoch(), "batches per epoch")
	// Output:
	// shard_train_000000.bin 3 docs 148 tokens
	// "s propag" -> " propaga"
	// 9 batches per epoch
}

// Tokenizing as tasks: each task writes one token file per input file it owns;
// MergeParts then writes the shards one Writer would have written.
func ExampleTokenizeRun() {
	dir, _ := os.MkdirTemp("", "tokenize")
	defer os.RemoveAll(dir)
	texts := []string{"Light is propagated in straight lines.", "Every homogeneal light has its proper colour.", "Rays differ."}
	for i, t := range texts {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("in-%d.txt", i)), []byte(t), 0o644)
	}
	enc := shard.NewCharVocab(strings.Join(texts, ""))
	run := &shard.TokenizeRun{Inputs: []string{filepath.Join(dir, "*.txt")}, Encoder: enc, Vocab: "chars",
		Output: filepath.Join(dir, "parts")}
	for i := 0; i < 2; i++ { // two tasks, as on two machines
		st, err := run.RunTask(data.Task{Index: i, Count: 2})
		fmt.Println("task", i, st.Shards, "input files, error:", err)
	}
	st, err := run.MergeParts(filepath.Join(dir, "shards"), 2, shard.WriterOptions{ShardTokens: 64})
	fmt.Println(len(st.TrainShards), "shards,", st.TrainDocs, "documents,", st.TrainTokens, "tokens, error:", err)
	// Output:
	// task 0 2 input files, error: <nil>
	// task 1 1 input files, error: <nil>
	// 2 shards, 3 documents, 98 tokens, error: <nil>
}
