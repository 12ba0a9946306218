package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/hf"
	"github.com/golem-lm/golem/lmlib/train"
)

// golem export hf / import hf: checkpoints to and from Hugging Face.
func init() {
	register(command{name: "export", summary: "export a checkpoint: golem export hf --checkpoint DIR --out DIR", run: runExport})
	register(command{name: "import", summary: "import a model: golem import hf --in DIR --out DIR", run: runImport})
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
