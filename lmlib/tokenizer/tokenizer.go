// Package tokenizer is golem's byte-level BPE tokenizer: encode and decode with exactly
// tiktoken's results for gpt2/r50k_base, p50k_base, cl100k_base and o200k_base, faster;
// training new vocabularies from a document stream with HF tokenizers' merge rules; and
// the three file formats in use (tiktoken rank files, HF tokenizer.json, GPT-2
// encoder.json + vocab.bpe).
//
//	tok, err := tokenizer.Load("cl100k_base")
//	ids := tok.EncodeOrdinary("hello world")   // special tokens treated as text
//	ids, err = tok.Encode("hi<|endoftext|>")    // error: disallowed special token
//	text, err := tok.Decode(ids)
//
// The pre-tokenizers are hand-written equivalents of tiktoken's regular expressions
// (no regexp engine); the merge loop is tiktoken's rank-based byte-pair merge.
package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// AllSpecial, passed to EncodeAllowed, allows every special token of the vocabulary.
const AllSpecial = "all"

// Tokenizer is a byte-level BPE vocabulary with its pre-tokenizer and special tokens.
// It is immutable and safe for concurrent use.
type Tokenizer struct {
	name    string
	pattern string
	split   splitter

	ranks    map[string]int32 // token bytes → rank (= id)
	table    *rankTable       // the same, fast
	pairRank []int32          // rank of every 2-byte token, indexed by b0<<8|b1; noRank if none
	byteRank [256]int32
	tokens   []string // id → bytes of ordinary tokens; "" where the id is unused or special

	specials   map[string]int
	specialOf  map[int]string
	specialLst []string // sorted, longest first at equal positions
	eot        int

	merges [][2]int // training or file merges (ids), nil when derived on demand

	caches sync.Pool // of *pieceCache
}

const noRank = math.MaxInt32

// New builds a tokenizer from mergeable ranks (token bytes → rank, which is also the
// token id, as in tiktoken), a pre-tokenizer pattern (PatternGPT2, PatternCL100k,
// PatternO200k) and special tokens (text → id). Every single byte must have a rank.
func New(name, pattern string, ranks map[string]int, specials map[string]int) (*Tokenizer, error) {
	split, ok := splitters[pattern]
	if !ok {
		return nil, fmt.Errorf("tokenizer %s: unknown pattern %q (want gpt2, cl100k or o200k)", name, pattern)
	}
	t := &Tokenizer{name: name, pattern: pattern, split: split, eot: -1,
		ranks: make(map[string]int32, len(ranks)), specials: map[string]int{}, specialOf: map[int]string{}}
	t.caches.New = newPieceCache
	maxID := -1
	for tok, r := range ranks {
		if r < 0 || r >= noRank {
			return nil, fmt.Errorf("tokenizer %s: token %q has invalid rank %d", name, tok, r)
		}
		if tok == "" {
			return nil, fmt.Errorf("tokenizer %s: empty token with rank %d", name, r)
		}
		t.ranks[tok] = int32(r)
		maxID = max(maxID, r)
	}
	for s, id := range specials {
		if s == "" || id < 0 || id >= noRank {
			return nil, fmt.Errorf("tokenizer %s: invalid special token %q with id %d", name, s, id)
		}
		maxID = max(maxID, id)
	}
	if limit := 2*(len(ranks)+len(specials)) + 1024; maxID >= limit {
		return nil, fmt.Errorf("tokenizer %s: id %d is far beyond the %d tokens (ids must be dense)", name, maxID, len(ranks)+len(specials))
	}
	t.tokens = make([]string, maxID+1)
	for tok, r := range ranks {
		if t.tokens[r] != "" {
			return nil, fmt.Errorf("tokenizer %s: rank %d is given to both %q and %q", name, r, t.tokens[r], tok)
		}
		t.tokens[r] = tok
	}
	for s, id := range specials {
		if _, dup := t.specialOf[id]; dup || t.tokens[id] != "" {
			return nil, fmt.Errorf("tokenizer %s: special token %q reuses id %d", name, s, id)
		}
		t.specials[s] = id
		t.specialOf[id] = s
		t.specialLst = append(t.specialLst, s)
	}
	sort.Slice(t.specialLst, func(i, j int) bool {
		a, b := t.specialLst[i], t.specialLst[j]
		if len(a) != len(b) {
			return len(a) > len(b)
		}
		return a < b
	})
	if id, ok := specials["<|endoftext|>"]; ok {
		t.eot = id
	}
	for b := 0; b < 256; b++ {
		r, ok := t.ranks[string([]byte{byte(b)})]
		if !ok {
			return nil, fmt.Errorf("tokenizer %s: byte 0x%02x has no token (byte-level BPE needs all 256 bytes)", name, b)
		}
		t.byteRank[b] = r
	}
	t.table = newRankTable(t.ranks)
	t.pairRank = make([]int32, 1<<16)
	for i := range t.pairRank {
		t.pairRank[i] = noRank
	}
	for tok, r := range t.ranks {
		if len(tok) == 2 {
			t.pairRank[int(tok[0])<<8|int(tok[1])] = r
		}
	}
	return t, nil
}

// Name is the vocabulary's name ("cl100k_base", a file name, or the name given to Train).
func (t *Tokenizer) Name() string { return t.name }

// Pattern is the pre-tokenizer's name: "gpt2", "cl100k" or "o200k".
func (t *Tokenizer) Pattern() string { return t.pattern }

// VocabSize is the number of token ids, special tokens included (highest id + 1).
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// EOT is the id of <|endoftext|>, the document separator, or -1 when there is none.
func (t *Tokenizer) EOT() int { return t.eot }

// SpecialTokens returns a copy of the special tokens (text → id).
func (t *Tokenizer) SpecialTokens() map[string]int {
	m := make(map[string]int, len(t.specials))
	for k, v := range t.specials {
		m[k] = v
	}
	return m
}

// Ranks returns a copy of the mergeable ranks (token bytes → rank = id), without the
// special tokens: tiktoken's mergeable_ranks.
func (t *Tokenizer) Ranks() map[string]int {
	m := make(map[string]int, len(t.ranks))
	for k, v := range t.ranks {
		m[k] = int(v)
	}
	return m
}

// TokenBytes returns the bytes of token id (the text of a special token).
func (t *Tokenizer) TokenBytes(id int) ([]byte, error) {
	if id >= 0 && id < len(t.tokens) {
		if s := t.tokens[id]; s != "" {
			return []byte(s), nil
		}
		if s, ok := t.specialOf[id]; ok {
			return []byte(s), nil
		}
	}
	return nil, fmt.Errorf("tokenizer %s: unknown token id %d", t.name, id)
}

// Rank returns the rank (id) of an ordinary token given by its bytes.
func (t *Tokenizer) Rank(token string) (int, bool) {
	r, ok := t.ranks[token]
	return int(r), ok
}

// String describes the tokenizer in one line.
func (t *Tokenizer) String() string {
	return fmt.Sprintf("tokenizer %s: %d tokens (%d special), pattern %s", t.name, len(t.tokens), len(t.specials), t.pattern)
}

// EncodeOrdinary encodes text, treating special tokens as ordinary text (tiktoken's
// encode_ordinary). It never fails: any byte string is encodable.
func (t *Tokenizer) EncodeOrdinary(text string) []int {
	return t.appendOrdinary(make([]int, 0, len(text)/4+1), text)
}

// AppendOrdinary appends the EncodeOrdinary ids of text to dst and returns it, so a
// caller encoding many documents can reuse one buffer.
func (t *Tokenizer) AppendOrdinary(dst []int, text string) []int { return t.appendOrdinary(dst, text) }

// Encode encodes text with tiktoken's default rules: every special token is disallowed,
// and text containing one is an error naming it. Use EncodeAllowed to encode special
// tokens as their ids, EncodeOrdinary to encode them as text.
func (t *Tokenizer) Encode(text string) ([]int, error) { return t.EncodeAllowed(text) }

// EncodeAllowed encodes text where the listed special tokens (or AllSpecial) become their
// ids; any other special token in text is an error, as in tiktoken's encode with
// allowed_special.
func (t *Tokenizer) EncodeAllowed(text string, allowed ...string) ([]int, error) {
	allow := map[string]bool{}
	for _, a := range allowed {
		if a == AllSpecial {
			for s := range t.specials {
				allow[s] = true
			}
			continue
		}
		if _, ok := t.specials[a]; !ok {
			return nil, fmt.Errorf("tokenizer %s: %q is not a special token of this vocabulary (have %s)", t.name, a, strings.Join(t.specialLst, ", "))
		}
		allow[a] = true
	}
	for _, s := range t.specialLst {
		if !allow[s] && strings.Contains(text, s) {
			return nil, &DisallowedSpecialError{Token: s}
		}
	}
	out := make([]int, 0, len(text)/4+1)
	if len(allow) == 0 {
		return t.appendOrdinary(out, text), nil
	}
	// next[k] is the next occurrence of allowed special k at or after pos (-1: none left);
	// each is searched again only once passed, so many special tokens cost O(len(text)).
	var toks []string
	var next []int
	for _, s := range t.specialLst {
		if allow[s] {
			toks = append(toks, s)
			next = append(next, strings.Index(text, s))
		}
	}
	pos := 0
	for {
		best := -1
		for k, s := range toks {
			if next[k] >= 0 && next[k] < pos {
				if i := strings.Index(text[pos:], s); i >= 0 {
					next[k] = pos + i
				} else {
					next[k] = -1
				}
			}
			if next[k] >= 0 && (best < 0 || next[k] < next[best]) {
				best = k
			}
		}
		if best < 0 {
			return t.appendOrdinary(out, text[pos:]), nil
		}
		out = t.appendOrdinary(out, text[pos:next[best]])
		out = append(out, t.specials[toks[best]])
		pos = next[best] + len(toks[best])
	}
}

// DisallowedSpecialError reports text that contains a special token that was not
// allowed (tiktoken raises ValueError in that case).
type DisallowedSpecialError struct{ Token string }

func (e *DisallowedSpecialError) Error() string {
	return fmt.Sprintf("tokenizer: text contains the special token %q, which is disallowed: allow it "+
		"(EncodeAllowed(text, %q), --allow-special) or encode it as ordinary text (EncodeOrdinary)", e.Token, e.Token)
}

// ErrDisallowedSpecial matches every *DisallowedSpecialError with errors.Is.
var ErrDisallowedSpecial = errors.New("disallowed special token")

// Is makes errors.Is(err, ErrDisallowedSpecial) true.
func (e *DisallowedSpecialError) Is(target error) bool { return target == ErrDisallowedSpecial }

// appendOrdinary pre-tokenizes text and appends the BPE encoding of every piece.
func (t *Tokenizer) appendOrdinary(out []int, text string) []int {
	split := t.split
	c := t.caches.Get().(*pieceCache)
	for i := 0; i < len(text); {
		j := split(text, i)
		out = t.appendPiece(out, text[i:j], c)
		i = j
	}
	t.caches.Put(c)
	return out
}

// pieceCache remembers the tokens of pieces that needed merging. Each goroutine takes
// one from a pool, so there is no locking; it is emptied when it grows too big.
type pieceCache struct {
	m     map[string][]int32
	slab  []int32
	parts []part // scratch for mergeSmall
}

const pieceCacheMax = 1 << 15

func newPieceCache() any { return &pieceCache{m: make(map[string][]int32, 1024)} }

// appendPiece appends the tokens of one pre-token.
func (t *Tokenizer) appendPiece(out []int, piece string, c *pieceCache) []int {
	switch len(piece) {
	case 1:
		return append(out, int(t.byteRank[piece[0]]))
	case 2:
		if r := t.pairRank[int(piece[0])<<8|int(piece[1])]; r != noRank {
			return append(out, int(r))
		}
		return append(out, int(t.byteRank[piece[0]]), int(t.byteRank[piece[1]]))
	}
	if r := t.table.get(piece); r != noRank {
		return append(out, int(r))
	}
	if len(piece) > largePiece {
		return t.mergeLarge(out, piece)
	}
	if toks, ok := c.m[piece]; ok {
		for _, r := range toks {
			out = append(out, int(r))
		}
		return out
	}
	n := len(out)
	out = t.mergeSmall(out, piece, &c.parts)
	if len(c.m) >= pieceCacheMax {
		clear(c.m)
	}
	if cap(c.slab)-len(c.slab) < len(out)-n {
		c.slab = make([]int32, 0, 16384)
	}
	start := len(c.slab)
	for _, r := range out[n:] {
		c.slab = append(c.slab, int32(r))
	}
	c.m[strings.Clone(piece)] = c.slab[start:len(c.slab):len(c.slab)]
	return out
}

// EncodeBatch encodes texts in parallel on all cores with EncodeOrdinary (tiktoken's
// encode_ordinary_batch). Texts longer than 1 MB are cut into pieces that are encoded
// in parallel too, so EncodeBatch([]string{text})[0] uses every core on one large text;
// the ids are exactly EncodeOrdinary's (cuts fall only where every pattern has a piece
// boundary: after a newline followed by an ASCII letter).
func (t *Tokenizer) EncodeBatch(texts []string) [][]int {
	type job struct{ doc, part, start, end int }
	var jobs []job
	parts := make([][][]int, len(texts))
	for d, text := range texts {
		cuts := safeCuts(text, parallelChunk)
		parts[d] = make([][]int, len(cuts)-1)
		for k := 0; k+1 < len(cuts); k++ {
			jobs = append(jobs, job{d, k, cuts[k], cuts[k+1]})
		}
	}
	var overrun atomic.Bool
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := t.caches.Get().(*pieceCache)
			defer t.caches.Put(c)
			for {
				i := int(next.Add(1)) - 1
				if i >= len(jobs) {
					return
				}
				j := jobs[i]
				text := texts[j.doc]
				ids := make([]int, 0, (j.end-j.start)/4+1)
				for p := j.start; p < j.end; {
					q := t.split(text, p) // the whole text is visible to the lookahead
					if q > j.end {
						overrun.Store(true) // not a piece boundary after all: redo below
					}
					ids = t.appendPiece(ids, text[p:q], c)
					p = q
				}
				parts[j.doc][j.part] = ids
			}
		}()
	}
	wg.Wait()
	out := make([][]int, len(texts))
	for d := range texts {
		if len(parts[d]) == 1 {
			out[d] = parts[d][0]
			continue
		}
		if overrun.Load() {
			cutFallbacks.Add(1)
			out[d] = t.EncodeOrdinary(texts[d])
			continue
		}
		n := 0
		for _, p := range parts[d] {
			n += len(p)
		}
		out[d] = make([]int, 0, n)
		for _, p := range parts[d] {
			out[d] = append(out[d], p...)
		}
	}
	return out
}

// cutFallbacks counts texts re-encoded whole because a cut was not a piece boundary
// (never expected; the tests check it stays 0).
var cutFallbacks atomic.Int64

// parallelChunk is the size above which EncodeBatch cuts a text (a variable for tests).
var parallelChunk = 1 << 20

// safeCuts returns 0, the cut positions and len(text): cuts at least chunk bytes apart,
// each just after a '\n' that is followed by an ASCII letter. There, in all three
// patterns, one piece ends (a whitespace or punctuation run stops before a letter, and
// no piece starts with '\n' followed by letters) and the next starts, whatever precedes.
func safeCuts(text string, chunk int) []int {
	cuts := []int{0}
	for pos := chunk; pos < len(text); {
		k := strings.IndexByte(text[pos:], '\n')
		if k < 0 {
			break
		}
		p := pos + k + 1
		if p < len(text) && isASCIILetter(text[p]) {
			cuts = append(cuts, p)
			pos = p + chunk
		} else {
			pos = p
		}
	}
	return append(cuts, len(text))
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// DecodeBytes returns the bytes of the tokens ids, special tokens included.
func (t *Tokenizer) DecodeBytes(ids []int) ([]byte, error) {
	n := 0
	for _, id := range ids {
		if id >= 0 && id < len(t.tokens) {
			n += len(t.tokens[id])
		}
	}
	out := make([]byte, 0, n)
	for _, id := range ids {
		if id >= 0 && id < len(t.tokens) && t.tokens[id] != "" {
			out = append(out, t.tokens[id]...)
			continue
		}
		s, ok := t.specialOf[id]
		if !ok {
			return nil, fmt.Errorf("tokenizer %s: unknown token id %d", t.name, id)
		}
		out = append(out, s...)
	}
	return out, nil
}

// Decode returns the text of the tokens ids. Token boundaries may split a UTF-8
// character; the bytes are returned as they are (decode(encode(x)) == x for every byte
// string x). Use DecodeString for text with invalid sequences replaced by U+FFFD.
func (t *Tokenizer) Decode(ids []int) (string, error) {
	b, err := t.DecodeBytes(ids)
	return string(b), err
}

// DecodeString is Decode with invalid UTF-8 replaced by U+FFFD, like tiktoken's decode
// with errors="replace".
func (t *Tokenizer) DecodeString(ids []int) (string, error) {
	b, err := t.DecodeBytes(ids)
	if err != nil {
		return "", err
	}
	if utf8.Valid(b) {
		return string(b), nil
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}
