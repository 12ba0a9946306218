package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
)

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

type lmevalQA struct {
	Normalize []struct {
		S      string   `json:"s"`
		Norm   string   `json:"norm"`
		Tokens []string `json:"tokens"`
	} `json:"normalize"`
	ExactF1 []struct {
		Gold  string  `json:"gold"`
		Pred  string  `json:"pred"`
		Exact float64 `json:"exact"`
		F1    float64 `json:"f1"`
	} `json:"exact_f1"`
	SQuADv2 []struct {
		Docs []struct {
			ID      string   `json:"id"`
			Answers []string `json:"answers"`
			Pred    string   `json:"pred"`
			LL      float64  `json:"ll"`
		} `json:"docs"`
		Scores map[string]float64 `json:"scores"`
	} `json:"squad_v2"`
	Alias []struct {
		Generated string   `json:"generated"`
		Aliases   []string `json:"aliases"`
		TriviaQA  float64  `json:"triviaqa"`
		NQ        float64  `json:"nq"`
	} `json:"alias"`
}

func TestQAMetricsMatchLMEval(t *testing.T) {
	var v lmevalQA
	readJSON(t, "testdata/lmeval_qa.json", &v)
	for _, c := range v.Normalize {
		if got := NormalizeSQuADAnswer(c.S); got != c.Norm {
			t.Errorf("normalize(%q) = %q, SQuAD script %q", c.S, got, c.Norm)
		}
		if got := squadTokens(c.S); fmt.Sprint(got) != fmt.Sprint(c.Tokens) && !(len(got) == 0 && len(c.Tokens) == 0) {
			t.Errorf("tokens(%q) = %q, SQuAD script %q", c.S, got, c.Tokens)
		}
	}
	for _, c := range v.ExactF1 {
		if e, f := SQuADExact(c.Gold, c.Pred), SQuADF1(c.Gold, c.Pred); e != c.Exact || f != c.F1 {
			t.Errorf("exact/f1(%q, %q) = %v %v, SQuAD script %v %v", c.Gold, c.Pred, e, f, c.Exact, c.F1)
		}
	}
	for k, set := range v.SQuADv2 {
		var preds []SQuADPrediction
		var refs []SQuADReference
		for _, d := range set.Docs {
			preds = append(preds, SQuADPrediction{ID: d.ID, Text: d.Pred, NoAnswerProb: math.Exp(d.LL)})
			refs = append(refs, SQuADReference{ID: d.ID, Answers: d.Answers})
		}
		s, err := SQuADv2(preds, refs, 1.0)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{"exact": s.Exact, "f1": s.F1, "HasAns_exact": s.HasAnsExact, "HasAns_f1": s.HasAnsF1,
			"NoAns_exact": s.NoAnsExact, "NoAns_f1": s.NoAnsF1, "best_exact": s.BestExact, "best_f1": s.BestF1,
			"best_exact_thresh": s.BestExactThresh, "best_f1_thresh": s.BestF1Thresh}
		for name, want := range set.Scores {
			if !closeTo(got[name], want) {
				t.Errorf("squad set %d: %s = %v, lm-eval %v", k, name, got[name], want)
			}
		}
	}
	for _, c := range v.Alias {
		if got := AliasMatch(c.Generated, c.Aliases, TriviaQAOptions); got != c.TriviaQA {
			t.Errorf("triviaqa match(%q, %q) = %v, lm-eval %v", c.Generated, c.Aliases, got, c.TriviaQA)
		}
		if got := AliasMatch(c.Generated, c.Aliases, NQOptions); got != c.NQ {
			t.Errorf("nq match(%q, %q) = %v, lm-eval %v", c.Generated, c.Aliases, got, c.NQ)
		}
	}
}

func TestSQuADv2RejectsBadInput(t *testing.T) {
	refs := []SQuADReference{{ID: "a", Answers: []string{"x"}}}
	if _, err := SQuADv2(nil, refs, 1); err == nil || !strings.Contains(err.Error(), `no prediction for question "a"`) {
		t.Errorf("missing prediction: %v", err)
	}
	if _, err := SQuADv2([]SQuADPrediction{{ID: "a"}, {ID: "a"}}, refs, 1); err == nil || !strings.Contains(err.Error(), "appears twice") {
		t.Errorf("duplicate: %v", err)
	}
}

type lmevalBias struct {
	Crows struct {
		Pairs []struct {
			LLMore         float64 `json:"ll_more"`
			LLLess         float64 `json:"ll_less"`
			LikelihoodDiff float64 `json:"likelihood_diff"`
			PctStereotype  float64 `json:"pct_stereotype"`
		} `json:"pairs"`
		LikelihoodDiff float64 `json:"likelihood_diff"`
		PctStereotype  float64 `json:"pct_stereotype"`
	} `json:"crows_pairs"`
	BBQDocs []struct {
		Record  BBQRecord `json:"record"`
		Choices []string  `json:"choices"`
		Targets []int     `json:"targets"`
		Biased  []int     `json:"biased"`
	} `json:"bbq_docs"`
	BBQRuns []struct {
		Subset  string              `json:"subset"`
		Docs    []int               `json:"docs"`
		Answers []int               `json:"answers"`
		Scores  map[string]*float64 `json:"scores"`
	} `json:"bbq_runs"`
}

func TestBiasMetricsMatchLMEval(t *testing.T) {
	var v lmevalBias
	readJSON(t, "testdata/lmeval_bias.json", &v)
	var diffs, sts []float64
	for _, p := range v.Crows.Pairs {
		d, s := CrowSPairs(p.LLMore, p.LLLess)
		if d != p.LikelihoodDiff || s != p.PctStereotype {
			t.Errorf("crows(%v, %v) = %v %v, lm-eval %v %v", p.LLMore, p.LLLess, d, s, p.LikelihoodDiff, p.PctStereotype)
		}
		diffs, sts = append(diffs, d), append(sts, s)
	}
	if !closeTo(Mean(diffs), v.Crows.LikelihoodDiff) || Mean(sts) != v.Crows.PctStereotype {
		t.Errorf("crows means %v %v, lm-eval %v %v", Mean(diffs), Mean(sts), v.Crows.LikelihoodDiff, v.Crows.PctStereotype)
	}

	exs := make([]Example, len(v.BBQDocs))
	for i, d := range v.BBQDocs {
		e, err := BBQExample(d.Record)
		if err != nil {
			t.Fatalf("doc %d: %v", i, err)
		}
		if err := e.validate(); err != nil || e.kind() != KindBBQ {
			t.Fatalf("doc %d: kind %q, %v", i, e.kind(), err)
		}
		var choices []string
		for _, c := range e.Choices {
			choices = append(choices, strings.TrimPrefix(c, " "))
		}
		// lm-eval lists index 12 (one past the choices) among an unknown answer's
		// targets; no answer can be 12, so golem leaves it out.
		wantTargets := slices.DeleteFunc(slices.Clone(d.Targets), func(i int) bool { return i >= len(d.Choices) })
		if fmt.Sprint(choices) != fmt.Sprint(d.Choices) || fmt.Sprint(e.Targets) != fmt.Sprint(wantTargets) ||
			fmt.Sprint(e.Biased) != fmt.Sprint(d.Biased) && !(len(e.Biased) == 0 && len(d.Biased) == 0) {
			t.Errorf("bbq doc %d (example %d): choices %q targets %v biased %v; lm-eval %q %v %v", i, d.Record.ExampleID,
				choices, e.Targets, e.Biased, d.Choices, d.Targets, d.Biased)
		}
		if !strings.HasSuffix(e.Context, "\n\nQ: "+d.Record.Question+"\nA:") {
			t.Errorf("bbq context %q", e.Context)
		}
		exs[i] = e
	}
	for _, run := range v.BBQRuns {
		var answers []BBQAnswer
		for k, i := range run.Docs {
			answers = append(answers, BBQAnswer{Example: &exs[i], Answer: run.Answers[k]})
		}
		s, err := ScoreBBQ(answers)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{"acc": s.Acc, "accuracy_amb": s.AccuracyAmb, "accuracy_disamb": s.AccuracyDisamb,
			"amb_bias_score": s.AmbBiasScore, "disamb_bias_score": s.DisambBiasScore}
		for c, x := range s.AmbBiasByCategory {
			got["amb_bias_score_"+c] = x
			got["disamb_bias_score_"+c] = s.DisambBiasByCategory[c]
		}
		for name, want := range run.Scores {
			g, ok := got[name]
			if !ok {
				g = math.NaN() // a category with no example
			}
			if want == nil && !math.IsNaN(g) || want != nil && !closeTo(g, *want) {
				t.Errorf("bbq %s: %s = %v, lm-eval %v", run.Subset, name, g, fmtPtr(want))
			}
		}
	}
}

func fmtPtr(p *float64) string {
	if p == nil {
		return "NaN"
	}
	return fmt.Sprint(*p)
}
