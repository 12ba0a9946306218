package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"unsafe"

	"github.com/golem-lm/golem/lmlib/dist"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)

// golem train: the pretrain stage (one rank, or one of N under mpirun).
func init() {
	register(command{name: "train", summary: "pretrain a GPT on a text file (char-level) or on token shards", run: runTrain})
}

// runTrain: golem train (--text FILE | --train GLOB [--val GLOB]) [model and optimizer flags] [--out DIR [--resume]]
func runTrain(args []string) (err error) {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	text := fs.String("text", "", "train a character-level model on this text file (first 90% train, last 10% validation)")
	trainGlob := fs.String("train", "", "training shards, e.g. 'data/shard_train_*.bin'")
	valGlob := fs.String("val", "", "validation shards")
	def := gpt.DefaultConfig()
	layers := fs.Int("layers", def.Layers, "transformer blocks")
	heads := fs.Int("heads", def.Heads, "attention heads")
	width := fs.Int("width", def.Width, "embedding width")
	ctxLen := fs.Int("context", def.ContextLen, "context length (and sequence length T)")
	dropout := fs.Float64("dropout", 0, "dropout probability")
	depth := fs.Int("depth", 0, "the modern recipe at this depth (gpt.Preset and train.PresetOptions: layers = heads = depth, width 32·depth, "+
		"RoPE, RMSNorm, QK-norm, ReLU², untied head, soft-cap 15, Muon, trapezoidal schedule, 20 tokens per parameter); other flags given override it")
	bias := fs.Bool("bias", true, "biases in linear layers and LayerNorms")
	rotary := fs.Bool("rotary", false, "rotary position embeddings instead of learned ones")
	rmsnorm := fs.Bool("rmsnorm", false, "RMSNorm instead of LayerNorm")
	qknorm := fs.Bool("qknorm", false, "RMSNorm of each head's query and key")
	relu2 := fs.Bool("relu2", false, "ReLU² MLP activation instead of GELU")
	untied := fs.Bool("untied", false, "an output head of its own instead of the token embedding")
	softcap := fs.Float64("softcap", 0, "logit soft-cap c·tanh(logits/c) (0: none)")
	vocabSize := fs.Int("vocab-size", 0, "model vocabulary size for shards (default: the shards' headers)")
	batch := fs.Int("batch", 16, "batch size B")
	seed := fs.Uint64("seed", 1, "seed of the weights, the data order and dropout")
	var o train.Options
	fs.IntVar(&o.MaxSteps, "steps", 1000, "optimizer steps")
	lr := fs.Float64("lr", 1e-3, "peak learning rate")
	minLR := fs.Float64("min-lr", 0, "final learning rate (default lr/10)")
	fs.IntVar(&o.WarmupSteps, "warmup", 0, "warmup steps (default min(100, decay/10))")
	fs.IntVar(&o.DecaySteps, "decay", 0, "step where the cosine decay reaches min-lr (default: steps; set it to extend a run with --resume)")
	fs.IntVar(&o.GradAccum, "accum", 1, "micro-batches per step")
	fs.IntVar(&o.Shards, "shards", 0, "shards each batch is cut into on the CPU, one core each (the arithmetic depends on this count, not on the cores): "+
		"0 = one per core, or with --resume the checkpoint's; -1 = none (every op split over the cores)")
	fs.StringVar(&o.Optimizer, "optimizer", "adamw", "adamw, or muon (Muon for the blocks' matrices, AdamW for the rest)")
	muonLR := fs.Float64("muon-lr", 0, "Muon's learning rate (default 0.02)")
	embedLR := fs.Float64("embed-lr", 0, "AdamW learning rate of the embeddings (default: lr)")
	headLR := fs.Float64("head-lr", 0, "AdamW learning rate of an untied head (default: lr)")
	fs.StringVar(&o.Schedule, "schedule", "cosine", "learning-rate schedule: cosine, or trapezoid (constant, then a linear warmdown)")
	fs.IntVar(&o.WarmdownSteps, "warmdown", 0, "trapezoid: steps of the final warmdown (default 40% of decay)")
	wd := fs.Float64("wd", 0.1, "weight decay (negative: none)")
	clip := fs.Float64("clip", 1, "gradient norm clip (negative: none)")
	fs.IntVar(&o.EvalEvery, "eval-every", 100, "steps between validation losses")
	fs.IntVar(&o.EvalBatches, "eval-batches", 20, "validation batches")
	fs.IntVar(&o.Patience, "patience", 0, "early stop after this many evaluations without improvement (0: never)")
	fs.StringVar(&o.CheckpointDir, "out", "", "checkpoint directory")
	resume := fs.Bool("resume", false, "continue from the newest checkpoint in --out")
	progress := fs.String("progress", "", "append one JSON line per step (and evaluation) to this file (rank 0)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: golem train (--text FILE | --train GLOB [--val GLOB]) [flags]\n"+
			"       mpirun -np N golem train ... (data-parallel: --batch rows per rank, gradients averaged with MPI_Allreduce)\n\n"+
			"Pretrains a GPT (GPT-2 by default, the modern recipe with --depth N) with AdamW or Muon;\n"+
			"Ctrl-C stops at the next step (and checkpoints with --out).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	finalWritten := false
	defer func() {
		// A run that fails before it starts still ends its progress file (rank 0).
		if *progress != "" && !finalWritten && err != nil {
			if r, _, under := dist.UnderMPI(); !under || r == 0 {
				b, _ := json.Marshal(dist.Progress{Done: true, Error: err.Error()})
				appendLine(*progress, b)
			}
		}
	}()
	if fs.NArg() > 0 || (*text == "") == (*trainGlob == "") {
		fs.Usage()
		return errors.New("give exactly one of --text or --train")
	}
	o.LR, o.MinLR, o.WeightDecay, o.GradClip, o.Seed = float32(*lr), float32(*minLR), float32(*wd), float32(*clip), *seed
	o.MuonLR, o.EmbedLR, o.HeadLR = float32(*muonLR), float32(*embedLR), float32(*headLR)
	if *wd == 0 {
		o.WeightDecay = -1
	}
	if *clip == 0 {
		o.GradClip = -1
	}
	cfg := gpt.Config{ContextLen: *ctxLen, Layers: *layers, Heads: *heads, Width: *width, Dropout: float32(*dropout), Bias: *bias,
		Rotary: *rotary, RMSNorm: *rmsnorm, QKNorm: *qknorm, ReLU2: *relu2, Untied: *untied, SoftCap: float32(*softcap)}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *depth > 0 {
		cfg = depthConfig(*depth, cfg, set)
	}
	// Under mpirun every rank runs this: each takes its rows of every global batch.
	var comm dist.Comm = dist.Local{}
	if c, err := dist.Init(); err == nil {
		comm = c
		defer c.Close()
	} else if _, _, under := dist.UnderMPI(); under {
		return err // under mpirun without MPI, or MPI_Init failed: never train as a lone rank
	}
	rank0 := comm.Rank() == 0
	lo := shard.LoaderOptions{B: *batch, T: *ctxLen, Shuffle: true, Seed: *seed, Rank: comm.Rank(), WorldSize: comm.Size()}
	vo := shard.LoaderOptions{B: *batch, T: *ctxLen, Rank: comm.Rank(), WorldSize: comm.Size()}
	var tl, vl *shard.Loader
	if *text != "" {
		b, err := os.ReadFile(*text)
		if err != nil {
			return err
		}
		v := shard.NewCharVocab(string(b))
		toks, _ := v.EncodeStrict(string(b))
		cfg.VocabSize = v.VocabSize()
		n := len(toks) * 9 / 10
		if tl, err = shard.NewSliceLoader(toks[:n], lo); err != nil {
			return err
		}
		if vl, err = shard.NewSliceLoader(toks[n:], vo); err != nil {
			return err
		}
		if o.CheckpointDir != "" && rank0 {
			if err := os.MkdirAll(o.CheckpointDir, 0o755); err != nil {
				return err
			}
			js, _ := json.Marshal(map[string]string{"runes": string(v.Runes)})
			if err := os.WriteFile(filepath.Join(o.CheckpointDir, "charvocab.json"), js, 0o644); err != nil {
				return err
			}
		}
	} else {
		paths, err := shard.Glob(*trainGlob)
		if err != nil {
			return err
		}
		for _, p := range paths {
			h, err := shard.ReadHeader(p)
			if err != nil {
				return err
			}
			cfg.VocabSize = max(cfg.VocabSize, h.VocabSize)
		}
		if *vocabSize > 0 {
			cfg.VocabSize = *vocabSize
		}
		if cfg.VocabSize == 0 {
			return errors.New("the shards do not record their vocabulary size: give --vocab-size")
		}
		lo.VocabSize, vo.VocabSize = cfg.VocabSize, cfg.VocabSize
		if tl, err = shard.NewLoader(paths, lo); err != nil {
			return err
		}
		if *valGlob != "" {
			if vl, err = shard.NewLoaderGlob(*valGlob, vo); err != nil {
				return err
			}
		}
	}
	m, err := gpt.New(cfg, *seed)
	if err != nil {
		return err
	}
	if *depth > 0 {
		// The recipe's options for the global batch (every rank's rows).
		o = depthOptions(cfg, *batch*comm.Size()**ctxLen*max(o.GradAccum, 1), o, set)
	}
	if rank0 {
		fmt.Printf("model: %d parameters, %d layers, %d heads, width %d, context %d, vocabulary %d; %d training tokens\n",
			m.NumParams(), cfg.Layers, cfg.Heads, cfg.Width, cfg.ContextLen, cfg.VocabSize, tl.NumTokens())
		if comm.Size() > 1 {
			fmt.Printf("data-parallel: %d ranks (%s), %d rows per rank, global batch %d × %d tokens\n",
				comm.Size(), comm.Name(), *batch, *batch*comm.Size(), *ctxLen)
		}
	}
	if comm.Size() > 1 && !*resume {
		// Every rank made the same weights from the seed; rank 0's are sent anyway, as
		// PyTorch DDP does, so a difference in initialisation cannot split the ranks.
		if err := comm.Broadcast(unsafe.Slice((*byte)(unsafe.Pointer(&m.Params[0])), 4*len(m.Params)), 0); err != nil {
			return fmt.Errorf("broadcast the initial weights: %w", err)
		}
	}
	par := train.Parallel{Ranks: comm}
	if *progress != "" && rank0 {
		f, err := os.OpenFile(*progress, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		enc := json.NewEncoder(f)
		par.OnStep = func(p train.Point, ev *train.EvalPoint) {
			_ = enc.Encode(dist.Progress{Point: p, Of: o.MaxSteps, Eval: ev})
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o.Context = ctx
	var res *train.Result
	if *resume {
		if o.CheckpointDir == "" {
			return errors.New("--resume needs --out")
		}
		res, err = train.ResumeParallel(m, tl, vl, o.CheckpointDir, o, par)
	} else {
		res, err = train.TrainParallel(m, tl, vl, o, par)
	}
	if res != nil && rank0 {
		fmt.Println(res)
		if comm.Size() > 1 && res.AllreducePerStep > 0 {
			fmt.Printf("all-reduce: %.2f ms per step over %d ranks (%d gradient floats, buckets of %d)\n",
				res.AllreducePerStep.Seconds()*1000, comm.Size(), len(m.Grads), train.BucketFloats)
		}
	}
	if *progress != "" && rank0 {
		end := dist.Progress{Done: true, Error: errString(err)}
		if res != nil {
			end.Point = train.Point{Step: res.Steps, Tokens: res.Tokens, Loss: res.Loss}
			end.Steps, end.StopReason, end.Checkpoint = res.Steps, res.StopReason, res.Checkpoint
		}
		b, _ := json.Marshal(end)
		appendLine(*progress, b)
		finalWritten = true
	}
	return err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func appendLine(path string, b []byte) {
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
		f.Write(append(b, '\n'))
		f.Close()
	}
}

// depthConfig is gpt.Preset(depth) with the context, dropout and any model flag the
// command line set explicitly.
func depthConfig(depth int, given gpt.Config, set map[string]bool) gpt.Config {
	c := gpt.Preset(depth)
	c.ContextLen, c.Dropout = given.ContextLen, given.Dropout
	for _, f := range []struct {
		flag string
		copy func()
	}{
		{"layers", func() { c.Layers = given.Layers }}, {"heads", func() { c.Heads = given.Heads }},
		{"width", func() { c.Width = given.Width }}, {"bias", func() { c.Bias = given.Bias }},
		{"rotary", func() { c.Rotary = given.Rotary }}, {"rmsnorm", func() { c.RMSNorm = given.RMSNorm }},
		{"qknorm", func() { c.QKNorm = given.QKNorm }}, {"relu2", func() { c.ReLU2 = given.ReLU2 }},
		{"untied", func() { c.Untied = given.Untied }}, {"softcap", func() { c.SoftCap = given.SoftCap }},
	} {
		if set[f.flag] {
			f.copy()
		}
	}
	return c
}

// depthOptions is train.PresetOptions for the model and batch, with the options the
// command line set explicitly kept (steps, learning rates, schedule, …).
func depthOptions(cfg gpt.Config, batchTokens int, given train.Options, set map[string]bool) train.Options {
	o := train.PresetOptions(cfg, batchTokens)
	keep := map[string]func(){
		"steps": func() { o.MaxSteps = given.MaxSteps }, "lr": func() { o.LR = given.LR }, "min-lr": func() { o.MinLR = given.MinLR },
		"warmup": func() { o.WarmupSteps = given.WarmupSteps }, "decay": func() { o.DecaySteps = given.DecaySteps },
		"wd": func() { o.WeightDecay = given.WeightDecay }, "optimizer": func() { o.Optimizer = given.Optimizer },
		"muon-lr": func() { o.MuonLR = given.MuonLR }, "embed-lr": func() { o.EmbedLR = given.EmbedLR },
		"head-lr": func() { o.HeadLR = given.HeadLR }, "schedule": func() { o.Schedule = given.Schedule },
		"warmdown": func() { o.WarmdownSteps = given.WarmdownSteps },
	}
	for name, f := range keep {
		if set[name] {
			f()
		}
	}
	// Not part of the recipe: always the command line's.
	o.GradClip, o.GradAccum, o.Seed = given.GradClip, given.GradAccum, given.Seed
	o.EvalEvery, o.EvalBatches, o.Patience, o.CheckpointDir = given.EvalEvery, given.EvalBatches, given.Patience, given.CheckpointDir
	return o
}
