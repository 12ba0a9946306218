package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// GPT-2's byte-level alphabet (bytes_to_unicode in encoder.py, ByteLevel in HF
// tokenizers): printable Latin-1 bytes stand for themselves, the other 68 bytes map to
// U+0100 onwards in byte order, so every byte string is a printable string.
var (
	byteToRune [256]rune
	runeToByte = map[rune]byte{}
)

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// ByteLevelString maps bytes to GPT-2's printable byte-level alphabet.
func ByteLevelString(b string) string {
	var sb strings.Builder
	for i := 0; i < len(b); i++ {
		sb.WriteRune(byteToRune[b[i]])
	}
	return sb.String()
}

// byteLevelBytes maps a byte-level string back to bytes.
func byteLevelBytes(s string) (string, bool) {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := runeToByte[r]
		if !ok {
			return "", false
		}
		out = append(out, b)
	}
	return string(out), true
}

// Merges returns the BPE merges as pairs of token ids, in merge order: those of training
// or of the file the vocabulary came from, otherwise derived from the ranks the way
// tiktoken's rank order implies (each token splits into the two parts that BPE with the
// lower ranks produces).
func (t *Tokenizer) Merges() ([][2]int, error) {
	if t.merges != nil {
		return t.merges, nil
	}
	var out [][2]int
	for id, tok := range t.tokens {
		if len(tok) < 2 {
			continue
		}
		parts := t.partsBelow(tok, int32(id))
		if len(parts) != 2 {
			return nil, fmt.Errorf("tokenizer %s: token %d %q is not the merge of two lower-ranked tokens (BPE gives %d parts)", t.name, id, tok, len(parts))
		}
		out = append(out, [2]int{int(t.ranks[parts[0]]), int(t.ranks[parts[1]])})
	}
	return out, nil
}

// partsBelow runs tiktoken's merge on s using only ranks below limit.
func (t *Tokenizer) partsBelow(s string, limit int32) []string {
	rank := func(x string) int32 {
		if r, ok := t.ranks[x]; ok && r < limit {
			return r
		}
		return noRank
	}
	bounds := make([]int, len(s)+1)
	for i := range bounds {
		bounds[i] = i
	}
	for {
		best, at := int32(noRank), -1
		for i := 0; i+2 < len(bounds); i++ {
			if r := rank(s[bounds[i]:bounds[i+2]]); r < best {
				best, at = r, i
			}
		}
		if at < 0 {
			break
		}
		bounds = append(bounds[:at+1], bounds[at+2:]...)
	}
	parts := make([]string, len(bounds)-1)
	for i := range parts {
		parts[i] = s[bounds[i]:bounds[i+1]]
	}
	return parts
}

// jsonLine turns the byte offset of a JSON decoding error into ":LINE".
func jsonLine(b []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return ""
	}
	return ":" + strconv.Itoa(bytes.Count(b[:off], []byte("\n"))+1)
}

// LoadGPT2 reads GPT-2's encoder.json (byte-level token → id) and vocab.bpe (merges).
// Entries of encoder.json that are neither a byte nor a merge result (<|endoftext|>) are
// special tokens. The ids are the ranks, as in tiktoken's gpt2 encoding.
func LoadGPT2(encoderJSON, vocabBPE string) (*Tokenizer, error) {
	eb, err := os.ReadFile(encoderJSON)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: read %s: %w", encoderJSON, err)
	}
	var enc map[string]int
	if err := json.Unmarshal(eb, &enc); err != nil {
		return nil, fmt.Errorf("tokenizer: %s%s: not a JSON object of token → id: %w", encoderJSON, jsonLine(eb, err), err)
	}
	f, err := os.Open(vocabBPE)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: open %s: %w", vocabBPE, err)
	}
	defer f.Close()
	merges, err := parseMerges(f, vocabBPE)
	if err != nil {
		return nil, err
	}
	return fromByteLevel("gpt2", PatternGPT2, enc, merges, nil, encoderJSON, vocabBPE)
}

// parseMerges reads "left right" lines (vocab.bpe), skipping the #version header.
func parseMerges(r io.Reader, name string) ([][2]string, error) {
	var merges [][2]string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		l := strings.TrimRight(sc.Text(), "\r")
		if l == "" || (line == 1 && strings.HasPrefix(l, "#version")) {
			continue
		}
		a, b, ok := strings.Cut(l, " ")
		if !ok || a == "" || b == "" || strings.Contains(b, " ") {
			return nil, fmt.Errorf("tokenizer: %s:%d: want a merge \"left right\", got %q", name, line, l)
		}
		merges = append(merges, [2]string{a, b})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: read %s after line %d: %w", name, line, err)
	}
	return merges, nil
}

// fromByteLevel builds a tokenizer from a byte-level vocabulary and merges (GPT-2 and HF
// files). Tokens that are neither single bytes nor merge results, and the added tokens,
// become special tokens.
func fromByteLevel(name, pattern string, vocab map[string]int, merges [][2]string, added map[string]int, vocabFile, mergesFile string) (*Tokenizer, error) {
	ordinary := map[string]bool{}
	for b := 0; b < 256; b++ {
		ordinary[string(byteToRune[b])] = true
	}
	ids := make([][2]int, 0, len(merges))
	for i, m := range merges {
		ia, oka := vocab[m[0]]
		ib, okb := vocab[m[1]]
		_, okab := vocab[m[0]+m[1]]
		if !oka || !okb || !okab {
			return nil, fmt.Errorf("tokenizer: %s: merge %d (%q %q) uses or makes a token missing from %s", mergesFile, i+1, m[0], m[1], vocabFile)
		}
		ordinary[m[0]+m[1]] = true
		ids = append(ids, [2]int{ia, ib})
	}
	ranks := map[string]int{}
	specials := map[string]int{}
	for tok, id := range vocab {
		if _, isAdded := added[tok]; isAdded {
			continue
		}
		if !ordinary[tok] {
			specials[tok] = id
			continue
		}
		b, ok := byteLevelBytes(tok)
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: token %q (id %d) has a character outside the byte-level alphabet", vocabFile, tok, id)
		}
		ranks[b] = id
	}
	for tok, id := range added {
		specials[tok] = id
	}
	t, err := New(name, pattern, ranks, specials)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", vocabFile, err)
	}
	t.merges = ids
	return t, nil
}

// SaveGPT2 writes encoder.json and vocab.bpe (atomically).
func (t *Tokenizer) SaveGPT2(encoderJSON, vocabBPE string) error {
	merges, err := t.Merges()
	if err != nil {
		return err
	}
	if err := writeAtomic(encoderJSON, func(w io.Writer) error { return writeVocabJSON(w, t, "") }); err != nil {
		return err
	}
	return writeAtomic(vocabBPE, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		bw.WriteString("#version: 0.2\n")
		for _, m := range merges {
			bw.WriteString(ByteLevelString(t.tokens[m[0]]) + " " + ByteLevelString(t.tokens[m[1]]) + "\n")
		}
		return bw.Flush()
	})
}

// writeVocabJSON writes {"token": id, ...} in id order (byte-level strings), special
// tokens included, with the given indentation before each entry.
func writeVocabJSON(w io.Writer, t *Tokenizer, indent string) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("{")
	first := true
	for id := range t.tokens {
		var key string
		if tok := t.tokens[id]; tok != "" {
			key = ByteLevelString(tok)
		} else if s, ok := t.specialOf[id]; ok {
			key = s
		} else {
			continue
		}
		if !first {
			bw.WriteString(",")
		}
		first = false
		k, _ := json.Marshal(key)
		fmt.Fprintf(bw, "\n%s%s: %d", indent, k, id)
	}
	bw.WriteString("\n" + strings.TrimSuffix(indent, "  ") + "}")
	return bw.Flush()
}

// hfFile is the part of HF tokenizers' tokenizer.json golem reads.
type hfFile struct {
	AddedTokens []struct {
		ID      int    `json:"id"`
		Content string `json:"content"`
		Special bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer   json.RawMessage `json:"normalizer"`
	PreTokenizer *hfPreTok       `json:"pre_tokenizer"`
	Model        struct {
		Type         string            `json:"type"`
		Vocab        map[string]int    `json:"vocab"`
		Merges       []json.RawMessage `json:"merges"`
		IgnoreMerges bool              `json:"ignore_merges"`
	} `json:"model"`
}

type hfPreTok struct {
	Type           string `json:"type"`
	AddPrefixSpace bool   `json:"add_prefix_space"`
	UseRegex       *bool  `json:"use_regex"`
	Pattern        *struct {
		Regex  *string `json:"Regex"`
		String *string `json:"String"`
	} `json:"pattern"`
	Behavior      string     `json:"behavior"`
	Invert        bool       `json:"invert"`
	PreTokenizers []hfPreTok `json:"pretokenizers"`
}

// LoadHF reads an HF tokenizers tokenizer.json holding a byte-level BPE: model BPE,
// pre-tokenizer ByteLevel (GPT-2 pattern) or Sequence[Split(regex, Isolated),
// ByteLevel(use_regex=false)] with one of golem's patterns, no normalizer. Added tokens
// become special tokens.
func LoadHF(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: read %s: %w", path, err)
	}
	var f hfFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("tokenizer: %s%s: not an HF tokenizer.json: %w", path, jsonLine(b, err), err)
	}
	if f.Model.Type != "BPE" {
		return nil, fmt.Errorf("tokenizer: %s: model type %q, golem reads only byte-level BPE", path, f.Model.Type)
	}
	if len(f.Normalizer) > 0 && !bytes.Equal(bytes.TrimSpace(f.Normalizer), []byte("null")) {
		return nil, fmt.Errorf("tokenizer: %s: has a normalizer (%s), which golem does not implement", path, clip(f.Normalizer))
	}
	pattern, err := hfPattern(f.PreTokenizer)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: %w", path, err)
	}
	merges := make([][2]string, 0, len(f.Model.Merges))
	for i, raw := range f.Model.Merges {
		var s string
		var pair []string
		if json.Unmarshal(raw, &s) == nil {
			a, b, ok := strings.Cut(s, " ")
			if !ok {
				return nil, fmt.Errorf("tokenizer: %s: merge %d %q is not \"left right\"", path, i+1, s)
			}
			pair = []string{a, b}
		} else if err := json.Unmarshal(raw, &pair); err != nil || len(pair) != 2 {
			return nil, fmt.Errorf("tokenizer: %s: merge %d is neither \"a b\" nor [\"a\", \"b\"]: %s", path, i+1, clip(raw))
		}
		merges = append(merges, [2]string{pair[0], pair[1]})
	}
	added := map[string]int{}
	vocab := f.Model.Vocab
	for _, a := range f.AddedTokens {
		added[a.Content] = a.ID
		if id, ok := vocab[a.Content]; ok && id != a.ID {
			return nil, fmt.Errorf("tokenizer: %s: added token %q has id %d but %d in the vocabulary", path, a.Content, a.ID, id)
		}
	}
	name := strings.TrimSuffix(filepathBase(path), ".json")
	return fromByteLevel(name, pattern, vocab, merges, added, path, path)
}

func filepathBase(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

func hfPattern(p *hfPreTok) (string, error) {
	if p == nil {
		return "", fmt.Errorf("no pre_tokenizer; golem needs ByteLevel")
	}
	switch p.Type {
	case "ByteLevel":
		if p.AddPrefixSpace {
			return "", fmt.Errorf("ByteLevel pre-tokenizer with add_prefix_space=true is not supported")
		}
		if p.UseRegex != nil && !*p.UseRegex {
			return "", fmt.Errorf("ByteLevel pre-tokenizer without a regex split is not supported")
		}
		return PatternGPT2, nil
	case "Sequence":
		if len(p.PreTokenizers) == 2 && p.PreTokenizers[0].Type == "Split" && p.PreTokenizers[1].Type == "ByteLevel" {
			s, bl := p.PreTokenizers[0], p.PreTokenizers[1]
			if bl.UseRegex != nil && *bl.UseRegex || bl.AddPrefixSpace {
				return "", fmt.Errorf("the ByteLevel after Split must have use_regex=false and add_prefix_space=false")
			}
			if s.Pattern == nil || s.Pattern.Regex == nil || s.Invert || !strings.EqualFold(s.Behavior, "Isolated") {
				return "", fmt.Errorf("the Split pre-tokenizer must be a Regex with behavior Isolated")
			}
			if name, ok := patternFromRegex(*s.Pattern.Regex); ok {
				return name, nil
			}
			return "", fmt.Errorf("split pattern %q is not one golem implements (gpt2, cl100k, o200k)", *s.Pattern.Regex)
		}
	}
	return "", fmt.Errorf("pre_tokenizer %q is not supported (want ByteLevel, or Sequence[Split, ByteLevel])", p.Type)
}

// hfRegex is the regex written into tokenizer.json for each pattern: the spelling
// without possessive quantifiers, which HF's Oniguruma and Rust regex engines share.
var hfRegex = map[string]string{
	PatternCL100k: `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
	PatternO200k:  patternRegex[PatternO200k],
}

// WriteHF writes the vocabulary as an HF tokenizers tokenizer.json: BPE model with
// ignore_merges (tiktoken's whole-piece lookup), byte-level pre-tokenizer and decoder,
// special tokens as added tokens.
func (t *Tokenizer) WriteHF(w io.Writer) error {
	merges, err := t.Merges()
	if err != nil {
		return err
	}
	type added struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	var adds []added
	for s, id := range t.specials {
		adds = append(adds, added{ID: id, Content: s, Special: true})
	}
	sort.Slice(adds, func(i, j int) bool { return adds[i].ID < adds[j].ID })
	byteLevel := func(useRegex bool) map[string]any {
		return map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": useRegex}
	}
	var pre any = byteLevel(true)
	if t.pattern != PatternGPT2 {
		pre = map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]string{"Regex": hfRegex[t.pattern]}, "behavior": "Isolated", "invert": false},
			byteLevel(false)}}
	}
	head := map[string]any{"version": "1.0", "truncation": nil, "padding": nil, "added_tokens": adds,
		"normalizer": nil, "pre_tokenizer": pre, "post_processor": nil, "decoder": byteLevel(true)}
	hb, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(hb[:len(hb)-2]) // reopen the object to append the model
	bw.WriteString(",\n  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n" +
		"    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n" +
		"    \"byte_fallback\": false,\n    \"ignore_merges\": true,\n    \"vocab\": ")
	if err := writeVocabJSON(bw, t, "      "); err != nil {
		return err
	}
	bw.WriteString(",\n    \"merges\": [")
	for i, m := range merges {
		if i > 0 {
			bw.WriteString(",")
		}
		a, _ := json.Marshal(ByteLevelString(t.tokens[m[0]]))
		b, _ := json.Marshal(ByteLevelString(t.tokens[m[1]]))
		fmt.Fprintf(bw, "\n      [%s, %s]", a, b)
	}
	bw.WriteString("\n    ]\n  }\n}\n")
	return bw.Flush()
}

// SaveHF writes tokenizer.json to path atomically.
func (t *Tokenizer) SaveHF(path string) error { return writeAtomic(path, t.WriteHF) }
