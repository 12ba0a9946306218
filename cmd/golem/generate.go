package main

import (
	"flag"
	"fmt"

	"github.com/golem-lm/golem/lmlib/eval"
)

// golem generate: continue a prompt with a checkpoint.
func init() {
	register(command{name: "generate", summary: "continue a prompt with a checkpoint (greedy or sampled, streamed)", run: runGenerate})
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
