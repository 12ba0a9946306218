package eval

import (
	"math"
	"testing"

	"github.com/golem-lm/golem/lmlib/gpt"
)

func testGPT(t *testing.T, bias bool) *GPT {
	t.Helper()
	return testGPTConfig(t, gpt.Config{VocabSize: 257, ContextLen: 24, Layers: 2, Heads: 2, Width: 32, Bias: bias})
}

// modernConfig is testGPT's model with every switch of the modern recipe on.
var modernConfig = gpt.Config{VocabSize: 257, ContextLen: 24, Layers: 2, Heads: 2, Width: 32,
	Rotary: true, RMSNorm: true, QKNorm: true, ReLU2: true, Untied: true, SoftCap: 15}

func testGPTConfig(t *testing.T, cfg gpt.Config) *GPT {
	t.Helper()
	m, err := gpt.New(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	// GPT-2 init gives nearly uniform logits; sharpen them so argmax decoding is
	// sensitive to every layer (a wrong cache read changes the tokens).
	for i := range m.Params {
		m.Params[i] *= 6
	}
	return NewGPT(m)
}

func TestKVCacheMatchesFullForward(t *testing.T) {
	for _, cfg := range []gpt.Config{testGPT(t, true).M.Config, testGPT(t, false).M.Config, modernConfig} {
		g := testGPTConfig(t, cfg)
		seq := []int32{256, 116, 104, 101, 32, 99, 97, 116, 32, 115, 97, 116, 10, 0, 255, 42}
		full, err := g.Logits(seq)
		if err != nil {
			t.Fatal(err)
		}
		st, err := g.NewStepper()
		if err != nil {
			t.Fatal(err)
		}
		V := g.VocabSize()
		// Prompt of 5, then one token at a time.
		got, err := st.Start(seq[:5])
		if err != nil {
			t.Fatal(err)
		}
		// Relative to the row's largest logit: the engine's attention softmax uses
		// its own vectorised exp, the cache plain math.Exp.
		check := func(pos int, got []float32) {
			want := full[pos*V : (pos+1)*V]
			scale := 0.0
			for _, w := range want {
				scale = math.Max(scale, math.Abs(float64(w)))
			}
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*scale {
					t.Fatalf("%+v position %d logit %d: cached %v, full %v (row scale %v)", cfg, pos, i, got[i], want[i], scale)
				}
			}
		}
		check(4, got)
		for p := 5; p < len(seq); p++ {
			got, err := st.Step(seq[p])
			if err != nil {
				t.Fatal(err)
			}
			check(p, got)
		}
	}
}

func TestGreedyWithCacheEqualsWithout(t *testing.T) {
	for _, g := range []*GPT{testGPT(t, true), testGPTConfig(t, modernConfig)} {
		greedyWithCacheEqualsWithout(t, g)
	}
}

func greedyWithCacheEqualsWithout(t *testing.T, g *GPT) {
	for _, tc := range []struct {
		prompt string
		n      int
	}{{"the cat", 10}, {"a longer prompt", 30}} { // the second slides past the 24-token context
		a, err := Generate(g, byteTok{}, tc.prompt, GenerateOptions{MaxTokens: tc.n})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate(g, byteTok{}, tc.prompt, GenerateOptions{MaxTokens: tc.n, NoCache: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Tokens) != len(b.Tokens) {
			t.Fatalf("%q: cached %v vs uncached %v", tc.prompt, a.Tokens, b.Tokens)
		}
		for i := range a.Tokens {
			if a.Tokens[i] != b.Tokens[i] {
				t.Fatalf("%q: cached %v vs uncached %v", tc.prompt, a.Tokens, b.Tokens)
			}
		}
	}
	// Seeded sampling is reproducible through the cache too.
	s := Sampler{Temperature: 0.8, TopK: 40, TopP: 0.95, RepetitionPenalty: 1.3, Seed: 3}
	x, _ := Generate(g, byteTok{}, "seed", GenerateOptions{MaxTokens: 12, Sampler: s})
	y, _ := Generate(g, byteTok{}, "seed", GenerateOptions{MaxTokens: 12, Sampler: s})
	if x.Text != y.Text {
		t.Fatalf("seeded sampling: %q vs %q", x.Text, y.Text)
	}
}

func TestKVCacheErrors(t *testing.T) {
	g := testGPT(t, true)
	st, _ := g.NewStepper()
	if _, err := st.Start(nil); err == nil {
		t.Fatal("empty prompt: want error")
	}
	if _, err := st.Start([]int32{300}); err == nil {
		t.Fatal("token outside vocabulary: want error")
	}
	long := make([]int32, 25)
	if _, err := st.Start(long); err == nil {
		t.Fatal("prompt longer than context: want error")
	}
}
