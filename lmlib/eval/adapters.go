package eval

import (
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
