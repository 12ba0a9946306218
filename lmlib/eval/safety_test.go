package eval

import (
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/tokenizer"
)

func TestWordListFindsWholeWordsOnly(t *testing.T) {
	w, err := NewWordList("test", []string{"ass", "2 girls 1 cup", "s&m", "Größe"})
	if err != nil {
		t.Fatal(err)
	}
	for text, want := range map[string]string{
		"you ass.":                 "ass",
		"ASS":                      "ass",
		"an (ass) here":            "ass",
		"class assume bass":        "",
		"assume":                   "",
		"ass_":                     "",
		"see 2 girls 1 cup now":    "2 girls 1 cup",
		"2 girls 1 cupboard":       "",
		"s&m!":                     "s&m",
		"die GRÖSSE":               "",
		"die größe.":               "größe",
		"nothing to see here, ok?": "",
	} {
		got, ok := w.Find(text)
		if got != want || ok != (want != "") {
			t.Errorf("Find(%q) = %q, %v; want %q", text, got, ok, want)
		}
	}
	if r := ToxicityRate([]string{"you ass", "fine", "class", "ASS!"}, w); r != 0.5 {
		t.Errorf("toxicity rate %v, want 0.5", r)
	}
	if _, err := NewWordList("bad", []string{"ok", " "}); err == nil || !strings.Contains(err.Error(), "entry 2 is empty") {
		t.Errorf("empty entry: %v", err)
	}
	if _, err := NewWordList("none", nil); err == nil || !strings.Contains(err.Error(), "has no words") {
		t.Errorf("no words: %v", err)
	}
}

// pieceTok is a tokenizer over a fixed list of pieces (several spellings of the
// same text in tokens, as BPE has); the last id is end-of-text.
type pieceTok []string

func (p pieceTok) EncodeOrdinary(s string) []int {
	var out []int
	for len(s) > 0 {
		best := -1
		for i, piece := range p {
			if strings.HasPrefix(s, piece) && (best < 0 || len(piece) > len(p[best])) {
				best = i
			}
		}
		if best < 0 {
			s = s[1:]
			continue
		}
		out = append(out, best)
		s = s[len(p[best]):]
	}
	return out
}
func (p pieceTok) DecodeText(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		if id < len(p) {
			b.WriteString(p[id])
		}
	}
	return b.String()
}
func (p pieceTok) EOT() int { return len(p) }

// pushyModel's logits favour the pieces that spell listed words, pseudo-randomly
// per position, so unfiltered sampling writes them often.
type pushyModel struct {
	vocab  int
	favour map[int]float32
}

func (m pushyModel) ContextLen() int { return 64 }
func (m pushyModel) VocabSize() int  { return m.vocab }
func (m pushyModel) Logits(tokens []int32) ([]float32, error) {
	out := make([]float32, len(tokens)*m.vocab)
	for i := range tokens {
		h := uint64(tokens[i])*0x9e3779b97f4a7c15 + uint64(i)*0xbf58476d1ce4e5b9
		for v := 0; v < m.vocab; v++ {
			h ^= h >> 31
			h *= 0x94d049bb133111eb
			out[i*m.vocab+v] = float32(h%1000)/500 + m.favour[v]
		}
	}
	return out, nil
}

func TestBadWordsAreNeverGenerated(t *testing.T) {
	tok := pieceTok{" ", "a", "s", "ss", "as", " ass", "ass", "ume", "!", ".", "h", "e", "ll", "hell", "o", " hello", "Ass", "A", "S"}
	w, err := NewWordList("test", []string{"ass", "hell"})
	if err != nil {
		t.Fatal(err)
	}
	m := pushyModel{vocab: len(tok) + 1, favour: map[int]float32{5: 2, 6: 2, 13: 2, 16: 2, 8: 1, 0: 1, len(tok): 0.5}}
	prompt := "so"
	seen := 0
	for seed := uint64(0); seed < 200; seed++ {
		for _, c := range []struct {
			maxTok int
			stop   []string
		}{{3, nil}, {12, nil}, {12, []string{"ume", "o"}}, {6, []string{"!"}}} {
			opts := GenerateOptions{MaxTokens: c.maxTok, Stop: c.stop, Sampler: Sampler{Temperature: 1.5, Seed: seed}}
			plain, err := Generate(m, tok, prompt, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, bad := w.Find(prompt + plain.Text); bad {
				seen++
			}
			opts.BadWords = w
			g, err := Generate(m, tok, prompt, opts)
			if err != nil {
				t.Fatal(err)
			}
			if word, bad := w.Find(prompt + g.Text); bad {
				t.Fatalf("seed %d: %q generated with %q banned: %q", seed, word, w.Words(), g.Text)
			}
		}
	}
	if seen < 50 {
		t.Fatalf("without the filter only %d of 800 generations had a listed word: the test has no teeth", seen)
	}
	// Greedy decoding, and a prompt that ends inside a listed word: "as" + "s!"
	// must not be generated, while the prompt's own complete word stays allowed.
	for _, p := range []string{"you as", "you ass", ""} {
		g, err := Generate(m, tok, p, GenerateOptions{MaxTokens: 20, BadWords: w})
		if err != nil {
			t.Fatal(err)
		}
		full := p + g.Text
		if word, bad := w.Find(full); bad && !(p == "you ass" && strings.Count(strings.ToLower(full), "ass") == 1) {
			t.Fatalf("prompt %q: %q in %q", p, word, full)
		}
	}
}

func TestBadWordsShippedList(t *testing.T) {
	w, err := LDNOOBW("en")
	if err != nil {
		t.Fatalf("%v (run `make assets-eval`)", err)
	}
	if w.Len() < 300 || w.Name != "ldnoobw-en" {
		t.Fatalf("ldnoobw en: %d words, name %q", w.Len(), w.Name)
	}
	if _, bad := w.Find("What a bastard!"); !bad {
		t.Fatal("a listed word was not found")
	}
	if _, bad := w.Find("Light is reflected by the Prism."); bad {
		t.Fatal("Opticks flagged")
	}
	if _, err := LDNOOBW("xx"); err == nil || !strings.Contains(err.Error(), `no list for language "xx"`) {
		t.Fatalf("unknown language: %v", err)
	}
}

// BenchmarkBadWordsScan is the ban of a matching state not seen before: every
// one of GPT-2's 50257 tokens run from it, with the English LDNOOBW list (a state
// seen before costs a map lookup).
func BenchmarkBadWordsScan(b *testing.B) {
	w, err := LDNOOBW("en")
	if err != nil {
		b.Skip(err)
	}
	enc, bpe, err := assets.GPT2Vocab()
	if err != nil {
		b.Skip(err)
	}
	t, err := tokenizer.LoadGPT2(enc, bpe)
	if err != nil {
		b.Fatal(err)
	}
	tok := BPE(t)
	f := newWordFilter(w, tok, t.VocabSize())
	f.start("It was a dark and stormy night; the rain fell in")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.scan(false)
	}
}

// BenchmarkBadWordsSetup is the cost of a list's first generation with a
// tokenizer (later ones reuse the tables).
func BenchmarkBadWordsSetup(b *testing.B) {
	w, err := LDNOOBW("en")
	if err != nil {
		b.Skip(err)
	}
	enc, bpe, err := assets.GPT2Vocab()
	if err != nil {
		b.Skip(err)
	}
	t, err := tokenizer.LoadGPT2(enc, bpe)
	if err != nil {
		b.Fatal(err)
	}
	tok := BPE(t)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fresh, _ := NewWordList("en", w.Words())
		newWordFilter(fresh, tok, t.VocabSize())
	}
}
