package eval

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/tokenizer"
)

// BPE adapts a byte-level BPE tokenizer to Tokenizer.
func BPE(t *tokenizer.Tokenizer) Tokenizer { return bpeTok{t} }

type bpeTok struct{ t *tokenizer.Tokenizer }

func (b bpeTok) EncodeOrdinary(s string) []int { return b.t.EncodeOrdinary(s) }
func (b bpeTok) EOT() int                      { return b.t.EOT() }
func (b bpeTok) DecodeText(ids []int) string {
	raw, err := b.t.DecodeBytes(ids)
	if err != nil {
		return "\uFFFD"
	}
	return string(raw) // may end inside a UTF-8 sequence while generating
}

// Chars adapts a character vocabulary to Tokenizer.
func Chars(v *shard.CharVocab) Tokenizer { return charTok{v} }

type charTok struct{ v *shard.CharVocab }

func (c charTok) EncodeOrdinary(s string) []int { return c.v.EncodeOrdinary(s) }
func (c charTok) EOT() int                      { return c.v.EOT() }
func (c charTok) DecodeText(ids []int) string {
	x := make([]int32, len(ids))
	for i, id := range ids {
		x[i] = int32(id)
	}
	return c.v.Decode(x)
}

// TokenizerFile is the file name under which a run directory keeps its tokenizer
// (HF tokenizer.json format), next to its checkpoints.
const TokenizerFile = "tokenizer.json"

// FindTokenizerFile looks for tokenizer.json in dir and up to two directories
// above it (a checkpoint step_N sits inside its run directory).
func FindTokenizerFile(dir string) (string, bool) {
	for i := 0; i < 3; i++ {
		p := filepath.Join(dir, TokenizerFile)
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
		dir = filepath.Dir(dir)
	}
	return "", false
}

// LoadTokenizer returns the tokenizer named by spec (a built-in such as gpt2 or
// cl100k_base, or a vocabulary file), or, when spec is empty, the tokenizer.json
// saved with the checkpoint in ckDir.
func LoadTokenizer(spec, ckDir string) (*tokenizer.Tokenizer, error) {
	if spec == "" {
		p, ok := FindTokenizerFile(ckDir)
		if !ok {
			return nil, fmt.Errorf("no %s in checkpoint %s or the two directories above it; pass a vocabulary (e.g. --vocab gpt2)", TokenizerFile, ckDir)
		}
		spec = p
	}
	return tokenizer.Load(spec)
}
