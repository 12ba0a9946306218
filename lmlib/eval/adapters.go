package eval

import (
	"encoding/json"
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

// Files under which a run directory keeps its tokenizer next to its checkpoints:
// an HF tokenizer.json for byte-level BPE, charvocab.json ({"runes": "..."}) for a
// character vocabulary (golem train on a text file writes it).
const (
	TokenizerFile = "tokenizer.json"
	CharVocabFile = "charvocab.json"
)

// FindTokenizerFile looks for tokenizer.json or charvocab.json in dir and up to
// two directories above it (a checkpoint step_N sits inside its run directory).
func FindTokenizerFile(dir string) (string, bool) {
	for i := 0; i < 3; i++ {
		for _, name := range []string{TokenizerFile, CharVocabFile} {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return p, true
			}
		}
		dir = filepath.Dir(dir)
	}
	return "", false
}

// LoadTokenizer returns the tokenizer named by spec (a built-in such as gpt2 or
// cl100k_base, a vocabulary file, or a charvocab.json), or, when spec is empty,
// the tokenizer saved with the checkpoint in ckDir.
func LoadTokenizer(spec, ckDir string) (Tokenizer, error) {
	if spec == "" {
		p, ok := FindTokenizerFile(ckDir)
		if !ok {
			return nil, fmt.Errorf("no %s or %s in checkpoint %s or the two directories above it; pass a vocabulary (e.g. --vocab gpt2)", TokenizerFile, CharVocabFile, ckDir)
		}
		spec = p
	}
	if filepath.Base(spec) == CharVocabFile {
		b, err := os.ReadFile(spec)
		if err != nil {
			return nil, err
		}
		var cv struct{ Runes string }
		if err := json.Unmarshal(b, &cv); err != nil || cv.Runes == "" {
			return nil, fmt.Errorf("character vocabulary %s: want {\"runes\": \"...\"}: %v", spec, err)
		}
		return Chars(shard.CharVocabOf([]rune(cv.Runes))), nil
	}
	t, err := tokenizer.Load(spec)
	if err != nil {
		return nil, err
	}
	return BPE(t), nil
}

// BPEOf returns the byte-level BPE tokenizer behind t, if it is one.
func BPEOf(t Tokenizer) (*tokenizer.Tokenizer, bool) {
	b, ok := t.(bpeTok)
	return b.t, ok
}
