package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/finetune"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/hf"
	"github.com/golem-lm/golem/lmlib/train"
)

// The evaluate / generate / fine-tune / Hugging Face stages of the pipeline.
func init() {
	register(command{name: "eval", summary: "evaluate a checkpoint on lm-eval style JSONL tasks and texts", run: runEval})
	register(command{name: "generate", summary: "continue a prompt with a checkpoint (greedy or sampled, streamed)", run: runGenerate})
	register(command{name: "finetune", summary: "fine-tune a checkpoint on prompt/completion JSONL", run: runFinetune})
	register(command{name: "export", summary: "export a checkpoint: golem export hf --checkpoint DIR --out DIR", run: runExport})
	register(command{name: "import", summary: "import a model: golem import hf --in DIR --out DIR", run: runImport})
}

// loadCheckpoint loads the model of a checkpoint (or the newest in a run
// directory) and its tokenizer (vocab overrides the one saved with it).
func loadCheckpoint(dir, vocab string) (*gpt.Model, eval.Tokenizer, error) {
	if dir == "" {
		return nil, nil, errors.New("--checkpoint DIR is required")
	}
	m, err := train.LoadModel(dir)
	if err != nil {
		return nil, nil, err
	}
	tok, err := eval.LoadTokenizer(vocab, dir)
	if err != nil {
		return nil, nil, err
	}
	if tok.EOT() >= m.Config.VocabSize {
		return nil, nil, fmt.Errorf("tokenizer's end-of-text id %d is outside the model's vocabulary of %d", tok.EOT(), m.Config.VocabSize)
	}
	return m, tok, nil
}

// runEval: golem eval --checkpoint DIR [--vocab V] [--tasks FILES|DIRS] [--task FILE]... [--text FILE]... [--output FILE]
func runEval(args []string) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	ck := fs.String("checkpoint", "", "checkpoint directory (or run directory: its newest checkpoint)")
	vocab := fs.String("vocab", "", "tokenizer (default: the tokenizer.json / charvocab.json saved with the checkpoint)")
	var tasks, taskSets, texts stringList
	fs.Var(&tasks, "task", "task JSONL file (repeatable; also positional arguments)")
	fs.Var(&taskSets, "tasks", "task JSONL files or directories, comma-separated (repeatable)")
	fs.Var(&texts, "text", "text file to score: loss, perplexity, bits per byte (repeatable)")
	shots := fs.Int("num-fewshot", 0, "few-shot examples per context")
	seed := fs.Uint64("seed", 1234, "few-shot sampling seed")
	limit := fs.Int("limit", 0, "examples per task at most (0: all)")
	output := fs.String("output", "", "write lm-eval style results JSON here")
	words := fs.String("words", "ldnoobw:en", "toxicity word list: ldnoobw:LANG (npm naughty-words) or a file (JSON array or one per line)")
	samples := fs.Int("samples", 5, "toxicity: sampled continuations per prompt")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tasks = append(tasks, fs.Args()...)
	if len(tasks) == 0 && len(taskSets) == 0 && len(texts) == 0 {
		return errors.New("nothing to evaluate: give --tasks FILES, --task FILE or --text FILE")
	}
	if *samples < 1 {
		return fmt.Errorf("--samples %d must be at least 1", *samples)
	}
	m, tok, err := loadCheckpoint(*ck, *vocab)
	if err != nil {
		return err
	}
	g := eval.NewGPT(m)
	for _, path := range texts {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rep, err := eval.DocLoss(m, tok, eval.Texts([]string{string(b)}), 8)
		if err != nil {
			return fmt.Errorf("text %s: %w", path, err)
		}
		fmt.Printf("text %s:\n", path)
		display.Value(rep)
	}
	if len(tasks) == 0 && len(taskSets) == 0 {
		return nil
	}
	var ts []*eval.Task
	for _, p := range tasks {
		t, err := eval.ReadTask(p)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	toxicity := eval.ToxicityOptions{Samples: *samples}
	for _, spec := range taskSets {
		more, err := eval.ReadTasks(spec)
		if err != nil {
			return err
		}
		ts = append(ts, more...)
	}
	for _, t := range ts {
		if t.Kind == eval.KindToxicity && toxicity.Words == nil {
			if toxicity.Words, err = eval.LoadWordList(*words); err != nil {
				return fmt.Errorf("--words: %w", err)
			}
		}
	}
	res, err := eval.Evaluate(&eval.ModelLM{Model: g, Tok: tok}, ts, eval.Options{NumFewshot: *shots, Seed: *seed, Limit: *limit,
		Model: "golem checkpoint=" + *ck, Toxicity: toxicity})
	if err != nil {
		return err
	}
	display.Value(res)
	if res.Core != nil {
		fmt.Println()
		display.Value(res.Core)
		fmt.Printf("CORE %.4f (centered accuracy over %d tasks)\n", res.Core.Score, len(res.Core.Tasks))
	}
	if *output != "" {
		return res.Write(*output)
	}
	return nil
}

// runGenerate: golem generate --checkpoint DIR --prompt TEXT [sampling flags]
func runGenerate(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	ck := fs.String("checkpoint", "", "checkpoint directory")
	vocab := fs.String("vocab", "", "tokenizer (default: the one saved with the checkpoint)")
	prompt := fs.String("prompt", "", "text to continue")
	maxTok := fs.Int("max-tokens", 64, "new tokens at most")
	temp := fs.Float64("temperature", 0, "sampling temperature (0: greedy)")
	topK := fs.Int("top-k", 0, "keep the K most likely tokens (0: all)")
	topP := fs.Float64("top-p", 0, "nucleus sampling threshold (0: off)")
	rep := fs.Float64("repetition-penalty", 0, "CTRL repetition penalty (0 or 1: off)")
	seed := fs.Uint64("seed", 0, "sampling seed")
	badWords := fs.String("bad-words", "", "never generate these words: ldnoobw:LANG (npm naughty-words) or a file (JSON array or one per line)")
	var stops stringList
	fs.Var(&stops, "stop", "stop sequence (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var banned *eval.WordList
	if *badWords != "" {
		var err error
		if banned, err = eval.LoadWordList(*badWords); err != nil {
			return fmt.Errorf("--bad-words: %w", err)
		}
	}
	m, tok, err := loadCheckpoint(*ck, *vocab)
	if err != nil {
		return err
	}
	_, err = eval.Generate(eval.NewGPT(m), tok, *prompt, eval.GenerateOptions{
		MaxTokens: *maxTok, Stop: stops, BadWords: banned,
		Sampler: eval.Sampler{Temperature: *temp, TopK: *topK, TopP: *topP, RepetitionPenalty: *rep, Seed: *seed},
		OnText:  func(s string) { fmt.Print(s) },
	})
	fmt.Println()
	return err
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

// runExport: golem export hf --checkpoint DIR --out DIR [--vocab V]: GPT2LMHeadModel, or
// ArceeForCausalLM / ApertusForCausalLM for the modern recipe (hf.Architecture).
func runExport(args []string) error {
	if len(args) == 0 || args[0] != "hf" {
		return errors.New("usage: golem export hf --checkpoint DIR --out DIR [--vocab V]")
	}
	fs := flag.NewFlagSet("export hf", flag.ContinueOnError)
	ck := fs.String("checkpoint", "", "golem checkpoint")
	vocab := fs.String("vocab", "", "tokenizer (default: the one saved with the checkpoint)")
	out := fs.String("out", "", "HF checkpoint directory to create")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("--out DIR is required")
	}
	m, tok, err := loadCheckpoint(*ck, *vocab)
	if err != nil {
		return err
	}
	bpe, ok := eval.BPEOf(tok)
	if !ok {
		fmt.Fprintln(os.Stderr, "golem export: the tokenizer is a character vocabulary, which Hugging Face tokenizers cannot load; exporting the model without tokenizer files")
	}
	if err := hf.Export(m, bpe, *out); err != nil {
		return err
	}
	fmt.Println("exported:", *out)
	return nil
}

// runImport: golem import hf --in DIR --out DIR
func runImport(args []string) error {
	if len(args) == 0 || args[0] != "hf" {
		return errors.New("usage: golem import hf --in DIR --out DIR")
	}
	fs := flag.NewFlagSet("import hf", flag.ContinueOnError)
	in := fs.String("in", "", "Hugging Face checkpoint directory (GPT-2, or Arcee/Apertus as golem exports them)")
	out := fs.String("out", "", "golem checkpoint directory to create")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return errors.New("--in DIR and --out DIR are required")
	}
	m, tok, err := hf.Import(*in)
	if err != nil {
		return err
	}
	extra := map[string][]byte{}
	if tok != nil {
		var b bytes.Buffer
		if err := tok.WriteHF(&b); err != nil {
			return err
		}
		extra[eval.TokenizerFile] = b.Bytes()
	}
	if err := train.SaveModel(m, *out, 0, map[string]string{"imported_from": *in}, extra); err != nil {
		return err
	}
	fmt.Println("checkpoint:", *out)
	return nil
}
