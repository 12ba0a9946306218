package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/golem-lm/golem/lmlib/finetune"
)

// golem finetune: the fine-tune stage.
func init() {
	register(command{name: "finetune", summary: "fine-tune a checkpoint on prompt/completion JSONL", run: runFinetune})
}

// runFinetune: golem finetune --checkpoint DIR --data FILE --out DIR [--held-out FILE]
func runFinetune(args []string) error {
	fs := flag.NewFlagSet("finetune", flag.ContinueOnError)
	ck := fs.String("checkpoint", "", "parent checkpoint")
	vocab := fs.String("vocab", "", "tokenizer (default: the one saved with the checkpoint)")
	dataPath := fs.String("data", "", "prompt/completion JSONL")
	heldPath := fs.String("held-out", "", "held-out prompt/completion JSONL (loss reported)")
	out := fs.String("out", "", "new checkpoint directory (must not exist)")
	steps := fs.Int("steps", 200, "optimizer steps")
	batch := fs.Int("batch", 8, "examples per step")
	lr := fs.Float64("lr", 1e-4, "peak learning rate")
	seed := fs.Uint64("seed", 0, "example order seed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataPath == "" || *out == "" {
		return errors.New("--data FILE and --out DIR are required")
	}
	m, tok, err := loadCheckpoint(*ck, *vocab)
	if err != nil {
		return err
	}
	trainSet, err := finetune.ReadExamples(*dataPath)
	if err != nil {
		return err
	}
	var held []finetune.Example
	if *heldPath != "" {
		if held, err = finetune.ReadExamples(*heldPath); err != nil {
			return err
		}
	}
	opts := finetune.Options{Steps: *steps, BatchSize: *batch, LR: float32(*lr), Seed: *seed}
	res, err := finetune.FineTune(m, tok, trainSet, held, opts)
	if err != nil {
		return err
	}
	if n := len(res.HeldOutLoss); n > 0 {
		fmt.Printf("held-out completion loss: %.4f -> %.4f\n", res.HeldOutLoss[0], res.HeldOutLoss[n-1])
	}
	if err := finetune.Save(m, *out, finetune.Info{Parent: *ck, Data: *dataPath, Examples: len(trainSet), Options: opts, Result: res}); err != nil {
		return err
	}
	fmt.Println("checkpoint:", *out)
	return nil
}
