package train_test

import (
	"context"
	"fmt"
	"os"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)

// Train a small character-level GPT on Newton's Opticks. In a notebook cell the
// run shows a live status line and loss chart, the cell's interrupt button stops
// it at a step boundary, and the result displays as the loss curves.
func Example() {
	path, _ := assets.Opticks()
	text, err := os.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	vocab := shard.NewCharVocab(string(text))
	tokens, _ := vocab.EncodeStrict(string(text))
	split := len(tokens) * 9 / 10
	trainData, _ := shard.NewSliceLoader(tokens[:split], shard.LoaderOptions{B: 8, T: 32, Shuffle: true, Seed: 1})
	valData, _ := shard.NewSliceLoader(tokens[split:], shard.LoaderOptions{B: 8, T: 32})

	cfg := gpt.DefaultConfig() // 4 layers, 4 heads, width 128, context 64
	cfg.VocabSize = vocab.VocabSize()
	cfg.Layers, cfg.Width = 2, 64 // smaller still, so the example runs in a second or two
	model, err := gpt.New(cfg, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := train.Train(model, trainData, valData, train.Options{
		Context:   context.Background(), // in a notebook: the cell's context
		MaxSteps:  200,
		LR:        3e-3,
		EvalEvery: 100, EvalBatches: 4,
		Quiet: true, // leave out to see the progress
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("steps:", res.Steps, "tokens:", res.Tokens)
	fmt.Printf("loss %.1f at the start; validation loss below 3: %v (measured %d times)\n", res.History[0].Loss, res.ValLoss < 3, len(res.Evals))
	// Output:
	// steps: 200 tokens: 51200
	// loss 4.5 at the start; validation loss below 3: true (measured 2 times)
}

// Checkpoint a run, then continue it from the checkpoint (after a crash, an
// interrupt, or to train longer: DecaySteps fixes the schedule's length).
func ExampleResume() {
	path, _ := assets.Opticks()
	text, _ := os.ReadFile(path)
	vocab := shard.NewCharVocab(string(text))
	tokens, _ := vocab.EncodeStrict(string(text))
	loader := func() *shard.Loader {
		l, _ := shard.NewSliceLoader(tokens, shard.LoaderOptions{B: 4, T: 32, Shuffle: true, Seed: 1})
		return l
	}
	cfg := gpt.Config{VocabSize: vocab.VocabSize(), ContextLen: 32, Layers: 1, Heads: 2, Width: 32, Bias: true}
	dir, _ := os.MkdirTemp("", "run")
	defer os.RemoveAll(dir)
	opts := train.Options{MaxSteps: 20, DecaySteps: 40, CheckpointDir: dir, Quiet: true}

	model, _ := gpt.New(cfg, 1)
	if _, err := train.Train(model, loader(), nil, opts); err != nil {
		fmt.Println(err)
		return
	}
	// Later, maybe in another process: a fresh model and loader, the same options.
	model2, _ := gpt.New(cfg, 1)
	opts.MaxSteps = 40
	res, err := train.Resume(model2, loader(), nil, dir, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	cks, _ := train.Checkpoints(dir)
	fmt.Println("steps:", res.Steps, "history:", len(res.History), "checkpoints:", len(cks))
	// Output: steps: 40 history: 40 checkpoints: 2
}

// The depth dial: the modern recipe's model and training options for depth 4 and
// this data (vocabulary, context, batch).
func ExamplePresetOptions() {
	cfg := gpt.Preset(4)
	cfg.VocabSize, cfg.ContextLen = 2048, 128
	o := train.PresetOptions(cfg, 8*128)
	fmt.Printf("%s, Muon %v, embeddings %v, head %v, vectors %v; %s schedule; %d steps of 1024 tokens\n",
		o.Optimizer, o.MuonLR, o.EmbedLR, o.HeadLR, o.LR, o.Schedule, o.MaxSteps)
	// Output: muon, Muon 0.01, embeddings 0.2, head 0.008, vectors 0.004; trapezoid schedule; 20480 steps of 1024 tokens
}
