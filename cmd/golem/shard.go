package main

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/tokenizer"
)

// golem shard: the shard stage.
func init() {
	register(command{name: "shard", summary: "tokenize documents into llm.c-format train/val token shards", run: runShard})
}

// runShard: golem shard --vocab gpt2 --out DIR [--val 0.1] [--shard-tokens N] [--split paragraph] INPUT...
func runShard(args []string) error {
	fs := flag.NewFlagSet("shard", flag.ContinueOnError)
	vocab := fs.String("vocab", "gpt2", "tokenizer: gpt2, cl100k_base, o200k_base, ... or a vocabulary file (see golem tokenize)")
	out := fs.String("out", "", "output directory (required)")
	prefix := fs.String("prefix", "shard", "shard file name prefix")
	val := fs.Float64("val", 0.1, "fraction of documents for validation (by a seeded hash of the id)")
	seed := fs.Uint64("seed", 0, "seed of the train/validation split")
	size := fs.Int("shard-tokens", 100_000_000, "tokens per shard at most")
	split := fs.String("split", data.SplitFile, "how text files split into documents: file, paragraph or line")
	tf := addTaskFlags(fs, "tokenize", "merge")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: golem shard --out DIR [flags] INPUT...\n\n"+
			"Reads documents (text, JSONL, WARC/WET, Parquet files, directories or globs), tokenizes them and\n"+
			"writes PREFIX_{train,val}_NNNNNN.bin shards (llm.c format) with .idx document indexes.\n"+
			"With --tasks/--task-index/--stage: tasks tokenize their input files into DIR/.golem-stages/tokens,\n"+
			"then merge writes the shards, byte-identical to a run in one process (docs/data.md).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("need --out and at least one input")
	}
	tok, err := tokenizer.Load(*vocab)
	if err != nil {
		return err
	}
	task, inTasks, stages, err := tf.resolve()
	if err != nil {
		return err
	}
	if inTasks {
		run := &shard.TokenizeRun{Inputs: fs.Args(), Read: data.ReadOptions{TextSplit: *split},
			Encoder: tok, Vocab: *vocab, Output: filepath.Join(*out, ".golem-stages", "tokens"), ValFraction: *val, Seed: *seed}
		for _, stage := range stages {
			if stage == "tokenize" {
				st, err := run.RunTask(task)
				if err != nil {
					return err
				}
				fmt.Printf("shard: tokenize %s: %d input shards, %d done now, %d done before (%.1fs)\n", task, st.Shards, st.ShardsDone, st.ShardsResumed, st.Seconds)
				continue
			}
			if task.Index != 0 {
				continue // one task merges
			}
			st, err := run.MergeParts(*out, task.Tasks(), shard.WriterOptions{Prefix: *prefix, ShardTokens: *size})
			if err != nil {
				return err
			}
			fmt.Printf("train: %d documents, %d tokens in %d shards; val: %d documents, %d tokens in %d shards (%s)\n",
				st.TrainDocs, st.TrainTokens, len(st.TrainShards), st.ValDocs, st.ValTokens, len(st.ValShards), *out)
		}
		return nil
	}
	w, err := shard.NewWriter(*out, tok, shard.WriterOptions{Prefix: *prefix, ShardTokens: *size, ValFraction: *val, Seed: *seed})
	if err != nil {
		return err
	}
	for _, in := range fs.Args() {
		r, err := data.Open(in, data.ReadOptions{TextSplit: *split})
		if err != nil {
			w.Close()
			return err
		}
		err = w.AddReader(r)
		r.Close()
		if err != nil {
			w.Close()
			return err
		}
	}
	st, err := w.Close()
	if err != nil {
		return err
	}
	fmt.Printf("train: %d documents, %d tokens in %d shards; val: %d documents, %d tokens in %d shards (%s)\n",
		st.TrainDocs, st.TrainTokens, len(st.TrainShards), st.ValDocs, st.ValTokens, len(st.ValShards), *out)
	return nil
}
