package finetune

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/golem-lm/golem/internal/assets"
	"github.com/golem-lm/golem/lmlib/eval"
	"github.com/golem-lm/golem/lmlib/gpt"
	"github.com/golem-lm/golem/lmlib/shard"
	"github.com/golem-lm/golem/lmlib/train"
)

// keywordTask builds prompt/completion pairs from Opticks sentences: the prompt is
// a sentence fragment followed by a category, the completion that category's word.
func keywordTask(t *testing.T) (train, held []Example, vocabText string) {
	t.Helper()
	p, err := assets.Opticks()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Fields(string(b[20000:60000]))
	answers := map[string]string{"colour": " red", "number": " seven", "metal": " gold", "animal": " horse"}
	cats := []string{"colour", "number", "metal", "animal"}
	var all []Example
	for i := 0; i+8 < len(words) && len(all) < 240; i += 9 {
		c := cats[len(all)%4]
		all = append(all, Example{Prompt: strings.Join(words[i:i+6], " ") + " | " + c + ":", Completion: answers[c]})
	}
	var sb strings.Builder
	for _, e := range all {
		sb.WriteString(e.Prompt + e.Completion)
	}
	return all[:200], all[200:], sb.String()
}

func newModel(t *testing.T, vocab int) *gpt.Model {
	t.Helper()
	m, err := gpt.New(gpt.Config{VocabSize: vocab, ContextLen: 64, Layers: 2, Heads: 2, Width: 48, Bias: true}, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOnlyCompletionTokensCount(t *testing.T) {
	_, held, text := keywordTask(t)
	tok := eval.Chars(shard.NewCharVocab(text))
	m := newModel(t, tok.EOT()+1)
	for i := range m.Params {
		m.Params[i] *= 4 // sharper predictions: every position's loss differs
	}
	ex := held[3]
	got, err := CompletionLoss(m, tok, []Example{ex}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Independent path: logits of the whole sequence, log-softmax at the positions
	// that predict completion tokens and the end-of-text token.
	var ids []int32
	for _, id := range tok.EncodeOrdinary(ex.Prompt) {
		ids = append(ids, int32(id))
	}
	start := len(ids)
	for _, id := range tok.EncodeOrdinary(ex.Completion) {
		ids = append(ids, int32(id))
	}
	ids = append(ids, int32(tok.EOT()))
	logits, err := eval.NewGPT(m).Logits(ids[:len(ids)-1])
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config.VocabSize
	var sum float64
	n := 0
	for j := start - 1; j < len(ids)-1; j++ {
		row := logits[j*V : (j+1)*V]
		mx := math.Inf(-1)
		for _, x := range row {
			mx = math.Max(mx, float64(x))
		}
		z := 0.0
		for _, x := range row {
			z += math.Exp(float64(x) - mx)
		}
		sum += -(float64(row[ids[j+1]]) - mx - math.Log(z))
		n++
	}
	want := sum / float64(n)
	if math.Abs(float64(got)-want) > 1e-4*want {
		t.Fatalf("completion loss %v, independent %v over %d completion tokens", got, want, n)
	}
	// The batch masks exactly those positions.
	enc, _ := encode(tok, ex, 64)
	b := makeBatch([]encoded{enc}, int32(tok.EOT()))
	if b.Counted != n {
		t.Fatalf("batch counts %d targets, want %d", b.Counted, n)
	}
}

func TestFineTuneLowersHeldOutLossAndSaves(t *testing.T) {
	trainSet, held, text := keywordTask(t)
	tok := eval.Chars(shard.NewCharVocab(text))
	m := newModel(t, tok.EOT()+1)
	res, err := FineTune(m, tok, trainSet, held, Options{Steps: 250, BatchSize: 8, LR: 3e-3, Quiet: true})
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.HeldOutLoss[0], res.HeldOutLoss[len(res.HeldOutLoss)-1]
	t.Logf("held-out completion loss %.3f -> %.3f over %d steps", first, last, res.Steps)
	if !(last < first/3) {
		t.Fatalf("held-out completion loss did not fall enough: %.3f -> %.3f", first, last)
	}
	// Greedy generation now answers a held-out prompt.
	g, err := eval.Generate(eval.NewGPT(m), tok, held[1].Prompt, eval.GenerateOptions{MaxTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(g.Text, held[1].Completion) {
		t.Errorf("generated %q for %q, want %q", g.Text, held[1].Prompt, held[1].Completion)
	}

	dir := t.TempDir()
	parent := filepath.Join(dir, "pretrained")
	out := filepath.Join(dir, "ft")
	if err := Save(m, out, Info{Parent: parent, Examples: len(trainSet), Result: res}); err != nil {
		t.Fatal(err)
	}
	if err := Save(m, out, Info{Parent: parent, Result: res}); err == nil {
		t.Fatal("saving over an existing checkpoint: want error")
	}
	back, err := train.LoadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range back.Params {
		if back.Params[i] != m.Params[i] {
			t.Fatalf("reloaded parameter %d differs", i)
		}
	}
	if p, err := Parent(out); err != nil || p != parent {
		t.Fatalf("parent %q %v", p, err)
	}
}

func TestBadInputs(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ body, want string }{
		{`{"prompt":"a","completion":"b"}` + "\n" + `{"prompt":`, "line 2"},
		{`{"prompt":"a","completion":""}`, "empty completion"},
		{`{"prompt":"a","completion":"b","x":1}`, "unknown field"},
		{"\n\n", "no examples"},
	} {
		p := filepath.Join(dir, "d.jsonl")
		os.WriteFile(p, []byte(tc.body), 0o644)
		if _, err := ReadExamples(p); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%q: err %v, want %q and the path", tc.body, err, tc.want)
		}
	}
	tok := eval.Chars(shard.NewCharVocab("abc "))
	m := newModel(t, tok.EOT()+1)
	long := Example{Prompt: "a", Completion: strings.Repeat("b", 80)}
	if _, err := FineTune(m, tok, []Example{long}, nil, Options{Quiet: true}); err == nil || !strings.Contains(err.Error(), "longer than the model's context") {
		t.Fatalf("long completion: %v", err)
	}
	if _, err := FineTune(m, tok, []Example{{Prompt: "a", Completion: "zz"}}, nil, Options{Quiet: true}); err == nil || !strings.Contains(err.Error(), "no tokens") {
		t.Fatalf("completion outside the vocabulary: %v", err)
	}
	// A prompt longer than the context keeps its end.
	e, err := encode(tok, Example{Prompt: strings.Repeat("a", 200), Completion: "b"}, 64)
	if err != nil || len(e.ids) != 65 || e.start != 63 {
		t.Fatalf("left truncation: %v len %d start %d", err, len(e.ids), e.start)
	}
}
