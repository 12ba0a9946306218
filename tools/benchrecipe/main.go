// Command benchrecipe compares two pretraining recipes on the shipped books (make
// bench-recipe): GPT-2 with AdamW and a cosine schedule (the quick-start's) against
// the modern recipe (gpt.Preset(4): RoPE, RMSNorm, QK-norm, ReLU², untied head,
// logit soft-cap; Muon + AdamW, trapezoidal schedule: train.PresetOptions).
//
// Both train the same shape (4 layers, 4 heads, width 128, context 128) on the same
// tokens in the same order: Opticks and Tom Sawyer cut into documents of about 300
// words, a tenth held out for validation by a seeded hash of the document id, a
// 2048-token BPE learned from the training documents, B=8 batches from one shuffled
// loader seed. Two comparisons:
//
//   - the same token budget (-tokens), the runs one after the other with every
//     core: the validation curve in bits per byte (the validation loss over the whole
//     held-out stream × its tokens per byte / ln 2) at every evaluation, and the
//     held-out documents' bits per byte at the end (eval.DocLoss, lm-eval's rolling
//     windows);
//   - the same wall-clock budget (-seconds): both recipes train side by side, one
//     worker each, for the same time, so load from other processes falls on both.
//
// It prints the curves as a Markdown table, writes them as JSON (-out), and ends
// with
//
//	bench: recipe gpt2_tokens=N modern_tokens=M ratio=N/M
//
// where N is the GPT-2 recipe's token budget and M the tokens the modern recipe
// needed to reach the GPT-2 recipe's final validation loss (linear interpolation
// between its evaluations); ratio above 1 means the modern recipe needs fewer.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/tokenizer"
	"github.com/golem-lm/golem/lmlib/train"
)

const (
	vocabSize = 2048
	B, T      = 8, 128
)

type point struct {
	Tokens  int64   `json:"tokens"`
	Seconds float64 `json:"seconds"`
	Loss    float64 `json:"val_loss"`
	BPB     float64 `json:"val_bpb"`
}

type runResult struct {
	Recipe     string     `json:"recipe"`
	Config     gpt.Config `json:"config"`
	Options    string     `json:"options"`
	Curve      []point    `json:"curve"`
	FinalBPB   float64    `json:"final_docs_bpb"` // eval.DocLoss over the held-out documents
	Tokens     int64      `json:"tokens"`
	Seconds    float64    `json:"seconds"`
	TokPerSec  float64    `json:"tok_s"`
	Params     int        `json:"params"`
	StopReason string     `json:"stop_reason"`
}

type corpus struct {
	tok                  *tokenizer.Tokenizer
	train, val           []int32
	valTexts             []string
	valTokPerByte        float64
	trainDocs, valDocsNo int
}

func main() {
	tokens := flag.Int64("tokens", 2_000_000, "token budget of each recipe (0: skip the token-budget runs)")
	seconds := flag.Float64("seconds", 0, "wall-clock budget of the side-by-side runs (0: skip)")
	recipes := flag.String("recipes", "gpt2,modern", "recipes to run: gpt2, modern")
	evalEvery := flag.Int("eval-every", 100, "steps between validation losses")
	out := flag.String("out", "", "write the curves as JSON here")
	muonLR := flag.Float64("muon-lr", 0, "override the modern recipe's MuonLR")
	lr := flag.Float64("lr", 0, "override the modern recipe's LR (vectors)")
	embedLR := flag.Float64("embed-lr", 0, "override the modern recipe's EmbedLR")
	headLR := flag.Float64("head-lr", 0, "override the modern recipe's HeadLR")
	gpt2LR := flag.Float64("gpt2-lr", 2e-3, "the GPT-2 recipe's peak LR (the quick-start's)")
	flag.Parse()

	c, err := buildCorpus()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrecipe:", err)
		os.Exit(1)
	}
	fmt.Printf("corpus: %d training documents (%d tokens), %d validation documents (%d tokens, %.4f tokens per byte); BPE vocabulary %d\n",
		c.trainDocs, len(c.train), c.valDocsNo, len(c.val), c.valTokPerByte, c.tok.VocabSize())
	fmt.Printf("cpu: %s, GOMAXPROCS %d\n", cpuModel(), runtime.GOMAXPROCS(0))

	mk := func(name string, budgetSteps int) (gpt.Config, train.Options) {
		if name == "gpt2" {
			cfg := gpt.Config{VocabSize: c.tok.VocabSize(), ContextLen: T, Layers: 4, Heads: 4, Width: 128, Bias: true}
			return cfg, train.Options{MaxSteps: budgetSteps, LR: float32(*gpt2LR)}
		}
		cfg := gpt.Preset(4)
		cfg.VocabSize, cfg.ContextLen = c.tok.VocabSize(), T
		o := train.PresetOptions(cfg, B*T)
		o.MaxSteps = budgetSteps
		for _, ov := range []struct {
			v   float64
			dst *float32
		}{{*muonLR, &o.MuonLR}, {*lr, &o.LR}, {*embedLR, &o.EmbedLR}, {*headLR, &o.HeadLR}} {
			if ov.v > 0 {
				*ov.dst = float32(ov.v)
			}
		}
		return cfg, o
	}
	var results []runResult
	names := strings.Split(*recipes, ",")
	if *tokens > 0 {
		steps := int(*tokens / (B * T))
		for _, name := range names {
			cfg, o := mk(name, steps)
			r, err := runRecipe(c, name, cfg, o, *evalEvery, nil, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, "benchrecipe:", err)
				os.Exit(1)
			}
			results = append(results, *r)
			fmt.Printf("%s: %d tokens in %.0f s (%.0f tok/s), final validation loss %.4f (%.4f bits per byte; held-out documents %.4f bpb)\n",
				name, r.Tokens, r.Seconds, r.TokPerSec, r.Curve[len(r.Curve)-1].Loss, r.Curve[len(r.Curve)-1].BPB, r.FinalBPB)
		}
	}
	var timed []runResult
	if *seconds > 0 {
		// Side by side, one worker each, for the same time; the schedules are laid
		// out for the token budget's steps, so the runs are cut short, as a budget is.
		steps := int(*tokens / (B * T))
		if steps == 0 {
			steps = 1000
		}
		var wg sync.WaitGroup
		timed = make([]runResult, len(names))
		errs := make([]error, len(names))
		deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
		for i, name := range names {
			cfg, o := mk(name, steps)
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := runRecipe(c, name, cfg, o, *evalEvery, gpt.NewCPU(1), time.Until(deadline))
				if r != nil {
					timed[i] = *r
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				fmt.Fprintln(os.Stderr, "benchrecipe:", names[i], err)
				os.Exit(1)
			}
		}
		for _, r := range timed {
			fmt.Printf("wall-clock %.0f s, one worker each: %s trained %d tokens (%.0f tok/s), final validation loss %.4f (%.4f bpb; held-out documents %.4f bpb)\n",
				*seconds, r.Recipe, r.Tokens, r.TokPerSec, r.Curve[len(r.Curve)-1].Loss, r.Curve[len(r.Curve)-1].BPB, r.FinalBPB)
		}
	}
	if len(results) > 0 {
		printTable(results)
	}
	if *out != "" {
		js, _ := json.MarshalIndent(map[string]any{"token_budget": results, "wall_clock": timed, "seconds": *seconds,
			"cpu": cpuModel(), "corpus": map[string]any{"train_tokens": len(c.train), "val_tokens": len(c.val),
				"val_tokens_per_byte": c.valTokPerByte}}, "", " ")
		if err := os.WriteFile(*out, js, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchrecipe:", err)
			os.Exit(1)
		}
	}
	var g, m *runResult
	for i := range results {
		switch results[i].Recipe {
		case "gpt2":
			g = &results[i]
		case "modern":
			m = &results[i]
		}
	}
	if g != nil && m != nil {
		target := g.Curve[len(g.Curve)-1].Loss
		need := tokensTo(m.Curve, target)
		if need < 0 {
			fmt.Printf("bench: recipe gpt2_tokens=%d modern_tokens=>%d ratio=<1 (the modern recipe did not reach %.4f)\n", g.Tokens, m.Tokens, target)
		} else {
			fmt.Printf("bench: recipe gpt2_tokens=%d modern_tokens=%.0f ratio=%.2f\n", g.Tokens, need, float64(g.Tokens)/need)
		}
	}
}

// tokensTo returns the tokens at which curve first reaches loss (interpolated
// linearly between evaluations), or -1.
func tokensTo(curve []point, loss float64) float64 {
	for i, p := range curve {
		if p.Loss <= loss {
			if i == 0 {
				return float64(p.Tokens)
			}
			q := curve[i-1]
			f := (q.Loss - loss) / (q.Loss - p.Loss)
			return float64(q.Tokens) + f*float64(p.Tokens-q.Tokens)
		}
	}
	return -1
}

func runRecipe(c *corpus, name string, cfg gpt.Config, o train.Options, evalEvery int, be gpt.Backend, limit time.Duration) (*runResult, error) {
	m, err := gpt.NewWithBackend(cfg, 1, be)
	if err != nil {
		return nil, err
	}
	tl, err := shard.NewSliceLoader(c.train, shard.LoaderOptions{B: B, T: T, Shuffle: true, Seed: 1})
	if err != nil {
		return nil, err
	}
	vl, err := shard.NewSliceLoader(c.val, shard.LoaderOptions{B: B, T: T})
	if err != nil {
		return nil, err
	}
	o.EvalEvery = evalEvery
	o.EvalBatches = len(c.val) / (B * T) // the whole held-out stream
	o.Quiet = true
	ctx := context.Background()
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	o.Context = ctx
	start := time.Now()
	res, err := train.Train(m, tl, vl, o)
	if err != nil {
		return nil, err
	}
	r := &runResult{Recipe: name, Config: cfg, Options: fmt.Sprintf("%+v", o), Tokens: res.Tokens,
		Seconds: time.Since(start).Seconds(), TokPerSec: res.TokensPerSec, Params: m.NumParams(), StopReason: res.StopReason}
	for _, e := range res.Evals {
		r.Curve = append(r.Curve, point{Tokens: e.Tokens, Loss: float64(e.ValLoss), BPB: float64(e.ValLoss) * c.valTokPerByte / math.Ln2})
	}
	if limit > 0 && len(res.Evals) > 0 && res.Evals[len(res.Evals)-1].Step != res.Steps {
		vloss, err := train.Evaluate(m, vl, o.EvalBatches) // where the clock stopped it
		if err != nil {
			return nil, err
		}
		r.Curve = append(r.Curve, point{Tokens: res.Tokens, Loss: float64(vloss), BPB: float64(vloss) * c.valTokPerByte / math.Ln2})
	}
	rep, err := eval.DocLoss(m, eval.BPE(c.tok), eval.Texts(c.valTexts), 8)
	if err != nil {
		return nil, err
	}
	r.FinalBPB = rep.BitsPerByte
	return r, nil
}

// buildCorpus cuts the books into documents, splits them, learns the BPE and
// encodes both splits (end-of-text before every document, as llm.c's shards).
func buildCorpus() (*corpus, error) {
	var trainTexts, valTexts []string
	for _, book := range []string{"opticks", "tom-sawyer"} {
		path, err := data.Shipped(book)
		if err != nil {
			return nil, err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		var chunk []string
		words, n := 0, 0
		for _, para := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
			f := strings.Fields(para)
			if len(f) == 0 {
				continue
			}
			chunk = append(chunk, strings.Join(f, " "))
			words += len(f)
			if words >= 300 {
				id := fmt.Sprintf("%s/%04d", book, n)
				text := strings.Join(chunk, "\n\n")
				if shard.IsValidation(id, 1, 0.1) {
					valTexts = append(valTexts, text)
				} else {
					trainTexts = append(trainTexts, text)
				}
				chunk, words, n = nil, 0, n+1
			}
		}
	}
	tok, err := tokenizer.Train(trainTexts, tokenizer.TrainOptions{VocabSize: vocabSize, SpecialTokens: []string{"<|endoftext|>"}})
	if err != nil {
		return nil, err
	}
	c := &corpus{tok: tok, valTexts: valTexts, trainDocs: len(trainTexts), valDocsNo: len(valTexts)}
	enc := func(texts []string) []int32 {
		var out []int32
		for _, t := range texts {
			out = append(out, int32(tok.EOT()))
			for _, id := range tok.EncodeOrdinary(t) {
				out = append(out, int32(id))
			}
		}
		return out
	}
	c.train, c.val = enc(trainTexts), enc(valTexts)
	bytes := 0
	for _, t := range valTexts {
		bytes += len(t)
	}
	// Tokens per byte of the held-out stream, end-of-text tokens not counted (they
	// are not text): the factor from nats per token to bits per byte.
	c.valTokPerByte = float64(len(c.val)-len(valTexts)) / float64(bytes)
	return c, nil
}

func printTable(rs []runResult) {
	fmt.Println()
	fmt.Print("| tokens |")
	for _, r := range rs {
		fmt.Printf(" %s val loss | %s val bpb |", r.Recipe, r.Recipe)
	}
	fmt.Println()
	fmt.Print("|---:|")
	for range rs {
		fmt.Print("---:|---:|")
	}
	fmt.Println()
	for i := range rs[0].Curve {
		fmt.Printf("| %d |", rs[0].Curve[i].Tokens)
		for _, r := range rs {
			if i < len(r.Curve) {
				fmt.Printf(" %.4f | %.4f |", r.Curve[i].Loss, r.Curve[i].BPB)
			} else {
				fmt.Print(" | |")
			}
		}
		fmt.Println()
	}
	fmt.Println()
}

// cpuModel is the "Model name" of /proc/cpuinfo (what lscpu prints).
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
