package eval

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/golem-lm/golem/display"
)

// DocLoss (batched, masked, fused cross-entropy) must equal the rolling
// log-likelihood computed window by window through plain logits.
func TestDocLossEqualsRollingLoglikelihood(t *testing.T) {
	g := testGPT(t, true) // context 24, byte vocabulary
	docs := []string{
		strings.Repeat("the cat sat on the mat. ", 4), // 96 bytes: several windows
		"short",
		"a b c d e f g h i j k l m n o p q r s t u v w x y z",
	}
	rep, err := DocLoss(g.M, byteTok{}, Texts(docs), 3)
	if err != nil {
		t.Fatal(err)
	}
	lm := &ModelLM{Model: g, Tok: byteTok{}}
	lls, err := lm.LoglikelihoodRolling(docs)
	if err != nil {
		t.Fatal(err)
	}
	want, bytes, words := 0.0, 0, 0
	for i, d := range docs {
		want -= lls[i]
		bytes += len(d)
		words += CountWords(d)
	}
	if math.Abs(rep.NLL-want) > 1e-4*want {
		t.Fatalf("DocLoss NLL %v, rolling %v", rep.NLL, want)
	}
	if rep.Tokens != bytes || rep.Bytes != bytes || rep.Words != words || rep.Docs != 3 {
		t.Fatalf("counts %+v", rep)
	}
	if math.Abs(rep.BitsPerByte-rep.NLL/math.Ln2/float64(bytes)) > 1e-9 || math.Abs(rep.Perplexity-math.Exp(rep.Loss)) > 1e-9 {
		t.Fatalf("derived metrics %+v", rep)
	}
	if _, err := DocLoss(g.M, byteTok{}, Texts([]string{""}), 2); err == nil {
		t.Fatal("no tokens: want error")
	}
}

// DocLoss has no options: it stops when display.Context() (a notebook cell's) is
// cancelled, with an error wrapping the context's.
func TestDocLossInterrupted(t *testing.T) {
	g := testGPT(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer display.SetContext(ctx)()
	n := 0
	next := func() (string, bool) {
		if n++; n == 3 {
			cancel()
		}
		return "the cat sat on the mat", true // endless: only the cancel stops it
	}
	_, err := DocLoss(g.M, byteTok{}, next, 2)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "interrupted after 3 documents") {
		t.Fatalf("DocLoss after cancel: %v", err)
	}
}
