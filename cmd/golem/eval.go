package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/golem-lm/golem/display"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/train"
)

// The evaluate stage of the pipeline.
func init() {
	register(command{name: "eval", summary: "evaluate a checkpoint on lm-eval style JSONL tasks and texts", run: runEval})
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
