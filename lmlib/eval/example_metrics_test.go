package eval_test

import (
	"fmt"

	"github.com/golem-lm/golem/lmlib/eval"
)

// Corpus BLEU, chrF, chrF++ and TER as sacrebleu computes them: one list of
// references per hypothesis. (The output is sacrebleu 2.6.0's for the same input.)
func ExampleBLEU() {
	hyps := []string{"The cat sat on the mat.", "It is raining today."}
	refs := [][]string{{"The cat sat on the mat."}, {"It rains today.", "Today it is raining."}}
	bleu, _ := eval.BLEU(hyps, refs)
	chrf, _ := eval.ChrF(hyps, refs)
	chrfpp, _ := eval.ChrFPlusPlus(hyps, refs)
	ter, _ := eval.TER(hyps, refs)
	fmt.Println(bleu)
	fmt.Printf("chrF2 = %.2f, chrF2++ = %.2f, %v\n", chrf, chrfpp, ter)
	// Output:
	// BLEU = 75.98 100.0/80.0/62.5/66.7 (BP = 1.000 ratio = 1.000 hyp_len = 12 ref_len = 12)
	// chrF2 = 81.90, chrF2++ = 80.59, TER = 21.05
}

// SQuAD v2 with a question that has no answer: the prediction and the model's
// probability of "no answer".
func ExampleSQuADv2() {
	preds := []eval.SQuADPrediction{{ID: "q1", Text: "the Eiffel Tower", NoAnswerProb: 0.1}, {ID: "q2", Text: "", NoAnswerProb: 0.8}}
	refs := []eval.SQuADReference{{ID: "q1", Answers: []string{"Eiffel Tower", "tower"}}, {ID: "q2"}}
	s, _ := eval.SQuADv2(preds, refs, 1.0)
	fmt.Printf("exact %.1f f1 %.1f HasAns_exact %.1f NoAns_exact %.1f\n", s.Exact, s.F1, s.HasAnsExact, s.NoAnsExact)
	fmt.Println(eval.AliasMatch(" Wien.", []string{"Vienna", "Wien"}, eval.TriviaQAOptions))
	// Output:
	// exact 100.0 f1 100.0 HasAns_exact 100.0 NoAns_exact 100.0
	// 1
}

// A word list finds whole words only; GenerateOptions.BadWords keeps a model
// from writing them.
func ExampleWordList() {
	w, _ := eval.NewWordList("mine", []string{"darn", "heck"})
	fmt.Println(w.Find("What the Heck!"))
	fmt.Println(w.Find("darned socks"))
	fmt.Println(eval.ToxicityRate([]string{"oh darn", "fine", "heck", "good"}, w))
	// Output:
	// heck true
	//  false
	// 0.5
}

// CORE centers each task's accuracy on chance: 0.4 on four-way multiple choice.
func ExampleCenteredAccuracy() {
	fmt.Printf("%.2f\n", eval.CenteredAccuracy(0.4, 0.25))
	// Output: 0.20
}
