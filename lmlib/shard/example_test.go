package shard_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

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
