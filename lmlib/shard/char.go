package shard

import (
	"fmt"
	"sort"
	"strings"
)

// CharVocab is a character-level tokenizer: one id per distinct rune of a text,
// in rune order, plus an end-of-text id after them. It is the vocabulary of the
// classic char-level language-model exercises (nanoGPT's shakespeare_char).
type CharVocab struct {
	Runes []rune
	ids   map[rune]int
}

// NewCharVocab builds the vocabulary of the distinct runes of text.
func NewCharVocab(text string) *CharVocab {
	seen := map[rune]bool{}
	for _, r := range text {
		seen[r] = true
	}
	runes := make([]rune, 0, len(seen))
	for r := range seen {
		runes = append(runes, r)
	}
	sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
	return CharVocabOf(runes)
}

// CharVocabOf builds the vocabulary of the given runes, in that order.
func CharVocabOf(runes []rune) *CharVocab {
	v := &CharVocab{Runes: runes, ids: make(map[rune]int, len(runes))}
	for i, r := range runes {
		v.ids[r] = i
	}
	return v
}

// VocabSize is the number of runes plus one (the EOT id).
func (v *CharVocab) VocabSize() int { return len(v.Runes) + 1 }

// EOT is the end-of-text id, the last one.
func (v *CharVocab) EOT() int { return len(v.Runes) }

// EncodeOrdinary maps each rune to its id; runes outside the vocabulary are skipped.
func (v *CharVocab) EncodeOrdinary(text string) []int {
	out := make([]int, 0, len(text))
	for _, r := range text {
		if id, ok := v.ids[r]; ok {
			out = append(out, id)
		}
	}
	return out
}

// EncodeStrict is EncodeOrdinary that fails on a rune outside the vocabulary.
func (v *CharVocab) EncodeStrict(text string) ([]int32, error) {
	out := make([]int32, 0, len(text))
	for i, r := range text {
		id, ok := v.ids[r]
		if !ok {
			return nil, fmt.Errorf("char vocabulary: rune %q at byte %d is not in the vocabulary", r, i)
		}
		out = append(out, int32(id))
	}
	return out, nil
}

// Decode maps ids back to text; the EOT id becomes a newline.
func (v *CharVocab) Decode(ids []int32) string {
	var b strings.Builder
	for _, id := range ids {
		switch {
		case int(id) < len(v.Runes) && id >= 0:
			b.WriteRune(v.Runes[id])
		case int(id) == len(v.Runes):
			b.WriteByte('\n')
		default:
			b.WriteRune('\uFFFD')
		}
	}
	return b.String()
}
