package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/clean"
	"github.com/golem-lm/golem/lmlib/data"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/tokenizer"
	"github.com/golem-lm/golem/lmlib/train"
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func main() {
	t0 := time.Now()
	out := "out/demo"
	os.RemoveAll(out)
	must(os.MkdirAll(out+"/raw", 0o755))
	// 1. collect: two books -> chunks of ~300 words as JSONL documents
	op, _ := assets.Opticks()
	ts, _ := assets.TomSawyer()
	f, _ := os.Create(out + "/raw/books.jsonl")
	enc := json.NewEncoder(f)
	n := 0
	for _, p := range []string{op, ts} {
		b, _ := os.ReadFile(p)
		paras := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n")
		var cur []string
		words := 0
		for _, para := range paras {
			cur = append(cur, strings.Join(strings.Fields(para), " "))
			words += len(strings.Fields(para))
			if words >= 300 {
				enc.Encode(data.Doc{ID: fmt.Sprintf("%s/%04d", filepath.Base(p), n), Text: strings.Join(cur, "\n\n")})
				n++
				cur, words = nil, 0
			}
		}
	}
	f.Close()
	fmt.Println("docs", n, time.Since(t0))
	steps, err := clean.FineWebSteps(clean.FineWebOptions{Languages: []string{"en"}})
	must(err)
	p := &data.Pipeline{Inputs: []string{out + "/raw"}, Steps: steps, Output: out + "/clean", Format: data.OutJSONL, Quiet: true}
	st, err := p.Run(context.Background())
	must(err)
	display.Value(st)
	fmt.Println("clean", time.Since(t0))
	r, _ := data.Open(out+"/clean", data.ReadOptions{})
	docs, _ := data.ReadAll(r)
	var texts []string
	for _, d := range docs {
		texts = append(texts, d.Text)
	}
	tok, err := tokenizer.Train(texts, tokenizer.TrainOptions{VocabSize: 2048, SpecialTokens: []string{"<|endoftext|>"}})
	must(err)
	fmt.Println("tokenizer", tok.VocabSize(), time.Since(t0))
	w, err := shard.NewWriter(out+"/shards", tok, shard.WriterOptions{Prefix: "books", ValFraction: 0.1, Seed: 1})
	must(err)
	r, _ = data.Open(out+"/clean", data.ReadOptions{})
	must(w.AddReader(r))
	ss, err := w.Close()
	must(err)
	fmt.Printf("shards %+v %v\n", ss, time.Since(t0))
	cfg := gpt.Config{VocabSize: tok.VocabSize(), ContextLen: 128, Layers: 4, Heads: 4, Width: 128, Bias: true}
	m, err := gpt.New(cfg, 1)
	must(err)
	tl, err := shard.NewLoader(ss.TrainShards, shard.LoaderOptions{B: 8, T: 128, Shuffle: true, Seed: 1})
	must(err)
	vl, err := shard.NewLoader(ss.ValShards, shard.LoaderOptions{B: 8, T: 128})
	must(err)
	res, err := train.Train(m, tl, vl, train.Options{MaxSteps: 400, LR: 2e-3, EvalEvery: 100, EvalBatches: 10, CheckpointDir: out + "/run", Quiet: true})
	must(err)
	fmt.Printf("train: %s val %.3f tok/s %.0f %v\n", res.StopReason, res.ValLoss, res.TokensPerSec, time.Since(t0))
	var val []string
	for _, d := range docs {
		if shard.IsValidation(d.ID, 1, 0.1) {
			val = append(val, d.Text)
		}
	}
	et := eval.BPE(tok)
	rep, err := eval.DocLoss(m, et, eval.Texts(val), 8)
	must(err)
	display.Value(rep)
	task := eval.BuildClozeTask("books_cloze", strings.Join(val, "\n\n"), 200, 8, 1)
	lm := &eval.ModelLM{Model: eval.NewGPT(m), Tok: et}
	rs, err := eval.Evaluate(lm, []*eval.Task{task}, eval.Options{})
	must(err)
	display.Value(rs)
	g, err := eval.Generate(eval.NewGPT(m), et, "Light is", eval.GenerateOptions{MaxTokens: 40, Sampler: eval.Sampler{Temperature: 0.8, TopK: 40, Seed: 1}})
	must(err)
	fmt.Printf("sample: Light is%s\n%v\n", g.Text, time.Since(t0))
}
