package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	loader "github.com/pkoukk/tiktoken-go-loader/assets"

	"github.com/golem-lm/golem/lmlib/data"
)

// builtin describes one of tiktoken's encodings; the rank files come embedded in the Go
// module github.com/pkoukk/tiktoken-go-loader (no network).
type builtin struct {
	file     string
	pattern  string
	specials map[string]int
}

var builtins = map[string]builtin{
	"gpt2":      {"r50k_base.tiktoken", PatternGPT2, map[string]int{"<|endoftext|>": 50256}},
	"r50k_base": {"r50k_base.tiktoken", PatternGPT2, map[string]int{"<|endoftext|>": 50256}},
	"p50k_base": {"p50k_base.tiktoken", PatternGPT2, map[string]int{"<|endoftext|>": 50256}},
	"cl100k_base": {"cl100k_base.tiktoken", PatternCL100k, map[string]int{
		"<|endoftext|>": 100257, "<|fim_prefix|>": 100258, "<|fim_middle|>": 100259,
		"<|fim_suffix|>": 100260, "<|endofprompt|>": 100276}},
	"o200k_base": {"o200k_base.tiktoken", PatternO200k, map[string]int{"<|endoftext|>": 199999, "<|endofprompt|>": 200018}},
}

// Builtins lists the names Load accepts without a file.
func Builtins() []string {
	var names []string
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var (
	builtinMu    sync.Mutex
	builtinCache = map[string]*Tokenizer{}
)

// Load returns a tokenizer by name or file:
//
//   - "gpt2", "r50k_base", "p50k_base", "cl100k_base", "o200k_base": tiktoken's encodings,
//     from the embedded rank files (loaded once, then shared);
//   - a tokenizer.json (HF tokenizers) or a directory holding one;
//   - encoder.json or vocab.bpe (GPT-2; the other file must sit next to it), or a
//     directory holding both;
//   - any other file: a tiktoken rank file (see LoadTiktoken).
func Load(nameOrPath string) (*Tokenizer, error) {
	if b, ok := builtins[nameOrPath]; ok {
		builtinMu.Lock()
		defer builtinMu.Unlock()
		if t := builtinCache[nameOrPath]; t != nil {
			return t, nil
		}
		data, err := loader.Assets.ReadFile(b.file)
		if err != nil {
			return nil, fmt.Errorf("tokenizer: built-in %s: %w", nameOrPath, err)
		}
		ranks, err := ParseTiktoken(bytes.NewReader(data), b.file)
		if err != nil {
			return nil, err
		}
		t, err := New(nameOrPath, b.pattern, ranks, b.specials)
		if err != nil {
			return nil, err
		}
		builtinCache[nameOrPath] = t
		return t, nil
	}
	st, err := os.Stat(nameOrPath)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %q is neither a built-in vocabulary (%s) nor a readable file: %w",
			nameOrPath, strings.Join(Builtins(), ", "), err)
	}
	if st.IsDir() {
		if p := filepath.Join(nameOrPath, "tokenizer.json"); fileExists(p) {
			return LoadHF(p)
		}
		enc, bpe := filepath.Join(nameOrPath, "encoder.json"), filepath.Join(nameOrPath, "vocab.bpe")
		if fileExists(enc) && fileExists(bpe) {
			return LoadGPT2(enc, bpe)
		}
		return nil, fmt.Errorf("tokenizer: directory %s holds neither tokenizer.json nor encoder.json + vocab.bpe", nameOrPath)
	}
	base := filepath.Base(nameOrPath)
	switch {
	case base == "vocab.bpe" || strings.HasSuffix(base, ".bpe"):
		return LoadGPT2(filepath.Join(filepath.Dir(nameOrPath), "encoder.json"), nameOrPath)
	case base == "encoder.json":
		return LoadGPT2(nameOrPath, filepath.Join(filepath.Dir(nameOrPath), "vocab.bpe"))
	case strings.HasSuffix(base, ".json"):
		return LoadHF(nameOrPath)
	}
	return LoadTiktoken(nameOrPath, nil)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// TiktokenMeta is what a tiktoken rank file does not hold: the pre-tokenizer and the
// special tokens. Its JSON form (pat_str, special_tokens) is the keyword arguments of
// tiktoken.Encoding, and SaveTiktoken writes it next to the rank file as FILE.json.
type TiktokenMeta struct {
	Name          string         `json:"name,omitempty"`
	PatStr        string         `json:"pat_str"`
	SpecialTokens map[string]int `json:"special_tokens"`
}

// LoadTiktoken reads a tiktoken rank file (lines "base64(token) rank"). meta gives the
// pre-tokenizer and special tokens; when nil they come from FILE.json if present, from
// the built-in of the same base name (cl100k_base.tiktoken, …), else the gpt2 pattern
// and no special tokens.
func LoadTiktoken(path string, meta *TiktokenMeta) (*Tokenizer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: open %s: %w", path, err)
	}
	defer f.Close()
	ranks, err := ParseTiktoken(f, path)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(path), ".tiktoken")
	pattern, specials := PatternGPT2, map[string]int{}
	if meta == nil {
		if b, err := os.ReadFile(path + ".json"); err == nil {
			meta = &TiktokenMeta{}
			if err := json.Unmarshal(b, meta); err != nil {
				return nil, fmt.Errorf("tokenizer: %s.json: %w", path, err)
			}
		} else if b, ok := builtins[name]; ok {
			pattern, specials = b.pattern, b.specials
		}
	}
	if meta != nil {
		p, ok := patternFromRegex(meta.PatStr)
		if _, named := splitters[meta.PatStr]; named {
			p, ok = meta.PatStr, true
		}
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s: pre-tokenizer pattern %q is not one golem implements (gpt2, cl100k, o200k)", path, meta.PatStr)
		}
		pattern, specials = p, meta.SpecialTokens
		if meta.Name != "" {
			name = meta.Name
		}
	}
	t, err := New(name, pattern, ranks, specials)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseTiktoken reads tiktoken's rank format: one "base64(token) rank" per line. name
// names the input in errors, with the line number.
func ParseTiktoken(r io.Reader, name string) (map[string]int, error) {
	ranks := map[string]int{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		l := bytes.TrimRight(sc.Bytes(), "\r")
		if len(l) == 0 {
			continue
		}
		sp := bytes.IndexByte(l, ' ')
		if sp < 0 {
			return nil, fmt.Errorf("tokenizer: %s:%d: want \"base64-token rank\", got %q", name, line, clip(l))
		}
		tok, err := base64.StdEncoding.DecodeString(string(l[:sp]))
		if err != nil || len(tok) == 0 {
			return nil, fmt.Errorf("tokenizer: %s:%d: bad base64 token %q", name, line, clip(l[:sp]))
		}
		rank, err := strconv.Atoi(string(bytes.TrimSpace(l[sp+1:])))
		if err != nil || rank < 0 || rank >= noRank {
			return nil, fmt.Errorf("tokenizer: %s:%d: bad rank %q", name, line, clip(l[sp+1:]))
		}
		if _, dup := ranks[string(tok)]; dup {
			return nil, fmt.Errorf("tokenizer: %s:%d: token %q appears twice", name, line, tok)
		}
		ranks[string(tok)] = rank
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("tokenizer: read %s after line %d: %w", name, line, err)
	}
	if len(ranks) == 0 {
		return nil, fmt.Errorf("tokenizer: %s: no tokens", name)
	}
	return ranks, nil
}

func clip(b []byte) string {
	if len(b) > 60 {
		return string(b[:60]) + "…"
	}
	return string(b)
}

// WriteTiktoken writes the mergeable ranks in tiktoken's format, in rank order.
func (t *Tokenizer) WriteTiktoken(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for id, tok := range t.tokens {
		if tok == "" {
			continue
		}
		bw.WriteString(base64.StdEncoding.EncodeToString([]byte(tok)))
		bw.WriteByte(' ')
		bw.WriteString(strconv.Itoa(id))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// SaveTiktoken writes the rank file to path and the pre-tokenizer and special tokens to
// path.json (TiktokenMeta), both atomically. In Python:
//
//	meta = json.load(open(path + ".json"))
//	enc = tiktoken.Encoding(meta["name"], pat_str=meta["pat_str"],
//	    mergeable_ranks=tiktoken.load.load_tiktoken_bpe(path), special_tokens=meta["special_tokens"])
func (t *Tokenizer) SaveTiktoken(path string) error {
	if err := writeAtomic(path, t.WriteTiktoken); err != nil {
		return err
	}
	meta := TiktokenMeta{Name: t.name, PatStr: patternRegex[t.pattern], SpecialTokens: t.SpecialTokens()}
	return writeAtomic(path+".json", func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(meta)
	})
}

// writeAtomic writes a file through a temporary file and a rename, so a crash never
// leaves a half-written vocabulary.
func writeAtomic(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("tokenizer: write %s: %w", path, err)
	}
	if err := data.WriteFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	return nil
}
