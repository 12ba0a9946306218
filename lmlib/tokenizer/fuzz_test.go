package tokenizer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRoundTrip: for every vocabulary, decode(encode(x)) == x for arbitrary bytes, and
// the pre-tokenizers always make progress and cover the input.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{"", "hello world", "it's  \n\n", "\xff\xfe<|endoftext|>", "ÉTÉ's 你好 123456", "\r\n\t \u3000x"} {
		f.Add([]byte(s))
	}
	toks := []*Tokenizer{mustLoad(f, "gpt2"), mustLoad(f, "cl100k_base"), mustLoad(f, "o200k_base")}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, tok := range toks {
			ids := tok.EncodeOrdinary(string(b))
			back, err := tok.DecodeBytes(ids)
			if err != nil || !bytes.Equal(back, b) {
				t.Fatalf("%s: decode(encode(%q)) = %q, %v", tok.Name(), b, back, err)
			}
			if all, err := tok.EncodeAllowed(string(b), AllSpecial); err != nil {
				t.Fatal(err)
			} else if back, _ := tok.DecodeBytes(all); !bytes.Equal(back, b) {
				t.Fatalf("%s: special round trip of %q = %q", tok.Name(), b, back)
			}
		}
	})
}

// FuzzParseTiktoken: the rank file parser never panics and either fails with an error or
// returns ranks that New accepts or rejects cleanly.
func FuzzParseTiktoken(f *testing.F) {
	f.Add([]byte("IQ== 0\nIg== 1\n"))
	f.Add([]byte("!!! x\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ranks, err := ParseTiktoken(bytes.NewReader(b), "fuzz.tiktoken")
		if err != nil {
			return
		}
		if tok, err := New("fuzz", PatternGPT2, ranks, nil); err == nil {
			tok.EncodeOrdinary("fuzz input")
		}
	})
}

// FuzzLoadHF: tokenizer.json and encoder.json + vocab.bpe loaders never panic.
func FuzzLoadHF(f *testing.F) {
	f.Add([]byte(`{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}`), []byte("#version: 0.2\na b\n"))
	f.Add([]byte(`{"model":{"type":"BPE","merges":[["a","b"]]}}`), []byte("a  b\n"))
	f.Fuzz(func(t *testing.T, js, bpe []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, "tokenizer.json")
		os.WriteFile(p, js, 0o644)
		if tok, err := LoadHF(p); err == nil {
			tok.EncodeOrdinary("fuzz")
		}
		e, v := filepath.Join(dir, "encoder.json"), filepath.Join(dir, "vocab.bpe")
		os.WriteFile(e, js, 0o644)
		os.WriteFile(v, bpe, 0o644)
		if tok, err := LoadGPT2(e, v); err == nil {
			tok.EncodeOrdinary("fuzz")
		}
	})
}
