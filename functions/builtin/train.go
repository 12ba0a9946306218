package builtin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/golem-lm/golem/functions"
	"github.com/golem-lm/golem/functions/api"
	"github.com/golem-lm/golem/functions/fn"
	"github.com/golem-lm/golem/functions/models"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)

// TrainInput is the input of the built-in function "train": pretrain a
// character-level GPT on the text in the request and store it under --models as
// Model and in the shared object store, where "generate" on any host finds it. Zero fields take lmlib's defaults
// (gpt.DefaultConfig, train.Options).
type TrainInput struct {
	Model      string  `json:"model"` // name of the new checkpoint (must not exist)
	Text       string  `json:"text"`  // training text; the last tenth is the validation set
	Layers     int     `json:"layers"`
	Heads      int     `json:"heads"`
	Width      int     `json:"width"`
	ContextLen int     `json:"context_len"`
	Batch      int     `json:"batch"`     // sequences per step [8]
	MaxSteps   int     `json:"max_steps"` // [200]
	LR         float32 `json:"lr"`
	Seed       uint64  `json:"seed"`
}

// TrainOutput is the result of "train".
type TrainOutput struct {
	Model        string  `json:"model"`
	Params       int     `json:"params"`
	Steps        int     `json:"steps"`
	Loss         float32 `json:"loss"`
	FirstLoss    float32 `json:"first_loss"`
	ValLoss      float32 `json:"val_loss"`
	TokensPerSec float64 `json:"tokens_per_sec"`
	StopReason   string  `json:"stop_reason"`
}

// Train is the built-in "train". Progress comes from the checkpoints lmlib/train
// writes along the way (about twenty per run).
func Train(ctx context.Context, in *TrainInput) (*TrainOutput, error) {
	store := functions.Models(ctx)
	if store == nil {
		return nil, errors.New("train runs on a function host")
	}
	if err := models.CheckName(in.Model); err != nil {
		return nil, modelError(err)
	}
	out := filepath.Join(store.Dir(), in.Model)
	exists, err := store.Exists(ctx, in.Model)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, modelError(fmt.Errorf("%q: %w", in.Model, models.ErrExists))
	}
	if err := os.MkdirAll(store.Dir(), 0o755); err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	cfg := gpt.DefaultConfig()
	set := func(dst *int, v int) {
		if v > 0 {
			*dst = v
		}
	}
	set(&cfg.Layers, in.Layers)
	set(&cfg.Heads, in.Heads)
	set(&cfg.Width, in.Width)
	set(&cfg.ContextLen, in.ContextLen)
	batch, steps := 8, 200
	set(&batch, in.Batch)
	set(&steps, in.MaxSteps)
	vocab := shard.NewCharVocab(in.Text)
	toks, err := vocab.EncodeStrict(in.Text)
	if err != nil {
		return nil, &functions.CallError{Kind: api.KindInput, Field: "text", Msg: "input field \"text\": " + err.Error()}
	}
	cfg.VocabSize = vocab.VocabSize()
	if err := cfg.Validate(); err != nil {
		return nil, &functions.CallError{Kind: api.KindInput, Msg: "model shape: " + err.Error()}
	}
	n := len(toks) * 9 / 10
	if n-1 < batch*cfg.ContextLen || len(toks)-n-1 < cfg.ContextLen {
		return nil, &functions.CallError{Kind: api.KindInput, Field: "text", Msg: fmt.Sprintf("input field \"text\": %d characters are too few for batch %d x context %d (and a tenth for validation)", len(toks), batch, cfg.ContextLen)}
	}
	tl, err := shard.NewSliceLoader(toks[:n], shard.LoaderOptions{B: batch, T: cfg.ContextLen, Shuffle: true, Seed: in.Seed})
	if err != nil {
		return nil, &functions.CallError{Kind: api.KindInput, Msg: err.Error()}
	}
	vl, err := shard.NewSliceLoader(toks[n:], shard.LoaderOptions{B: 1, T: cfg.ContextLen})
	if err != nil {
		return nil, &functions.CallError{Kind: api.KindInput, Msg: err.Error()}
	}
	m, err := gpt.New(cfg, in.Seed)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(store.Dir(), ".train-"+in.Model+"-")
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer os.RemoveAll(work)
	every := max(1, steps/20)
	watchDone := make(chan struct{})
	defer close(watchDone)
	go watchCheckpoints(ctx, work, steps, watchDone)
	res, err := train.Train(m, tl, vl, train.Options{Context: ctx, MaxSteps: steps, LR: in.LR, Seed: in.Seed, Quiet: true,
		EvalEvery: every, EvalBatches: 4, CheckpointDir: work, CheckpointEvery: every, KeepCheckpoints: 1})
	if err != nil {
		return nil, err
	}
	if res.Interrupted {
		return nil, ctx.Err()
	}
	runes, _ := json.Marshal(map[string]string{"runes": string(vocab.Runes)})
	meta := map[string]string{"trained_by": "golem serve built-in train", "steps": strconv.Itoa(res.Steps)}
	if err := train.SaveModel(m, out, res.Steps, meta, map[string][]byte{"charvocab.json": runes}); err != nil {
		return nil, err
	}
	if err := store.Publish(context.WithoutCancel(ctx), in.Model, out); err != nil {
		return nil, err
	}
	o := &TrainOutput{Model: in.Model, Params: m.NumParams(), Steps: res.Steps, Loss: res.Loss, ValLoss: res.ValLoss,
		TokensPerSec: res.TokensPerSec, StopReason: res.StopReason}
	if len(res.History) > 0 {
		o.FirstLoss = res.History[0].Loss
	}
	return o, nil
}

// watchCheckpoints reports the step of the newest checkpoint in dir as progress.
func watchCheckpoints(ctx context.Context, dir string, steps int, done <-chan struct{}) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	last := 0
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		cks, err := train.Checkpoints(dir)
		if err != nil || len(cks) == 0 {
			continue
		}
		name := filepath.Base(cks[len(cks)-1])
		step, err := strconv.Atoi(strings.TrimLeft(strings.TrimPrefix(name, "step_"), "0"))
		if err != nil || step <= last {
			continue
		}
		last = step
		fn.Progress(ctx, float64(step)/float64(steps), fmt.Sprintf("step %d of %d", step, steps))
	}
}

func init() {
	functions.Register("train", "pretrain a character-level GPT on the given text and keep it under --models for generate (lmlib/train)", Train)
}
