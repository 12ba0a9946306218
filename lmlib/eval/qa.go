package eval

import (
	"fmt"
	"sort"
	"strings"
)

// Question-answering metrics as lm-evaluation-harness computes them: SQuAD v2
// (the official evaluation script that lm-eval's squadv2 task runs through HF
// evaluate), and TriviaQA / Natural Questions alias matching (lm-eval's
// exact_match with ignore_case, ignore_punctuation and, for NQ, the articles
// regex). Reference vectors: testdata/lmeval_qa.json (tools/evalref/gen_lmeval.py).

// NormalizeSQuADAnswer is the SQuAD normalisation: lower case, ASCII
// punctuation removed, the articles a/an/the removed as words, whitespace
// collapsed.
func NormalizeSQuADAnswer(s string) string {
	s = removeASCIIPunct(pyLower(s))
	return pyJoinFields(removeArticles(s))
}

// removeArticles replaces the words a, an, the (regex \b(a|an|the)\b) by a space.
func removeArticles(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if i == 0 || !pyWordChar(rs[i-1]) {
			if n := articleAt(rs, i); n > 0 {
				b.WriteByte(' ')
				i += n
				continue
			}
		}
		b.WriteRune(rs[i])
		i++
	}
	return b.String()
}

// articleAt returns the length of "a", "an" or "the" at rs[i] when it ends at a
// word boundary (the regex tries the alternatives in that order).
func articleAt(rs []rune, i int) int {
	for _, a := range []string{"a", "an", "the"} {
		n := len(a)
		if i+n > len(rs) || string(rs[i:i+n]) != a {
			continue
		}
		if i+n == len(rs) || !pyWordChar(rs[i+n]) {
			return n
		}
	}
	return 0
}

func squadTokens(s string) []string {
	if s == "" {
		return nil
	}
	return pyFields(NormalizeSQuADAnswer(s))
}

// SQuADExact is 1 when the normalised answers are equal.
func SQuADExact(gold, pred string) float64 {
	if NormalizeSQuADAnswer(gold) == NormalizeSQuADAnswer(pred) {
		return 1
	}
	return 0
}

// SQuADF1 is the token F1 of the normalised answers (1 when both are empty).
func SQuADF1(gold, pred string) float64 {
	g, p := squadTokens(gold), squadTokens(pred)
	if len(g) == 0 || len(p) == 0 {
		if len(g) == len(p) {
			return 1
		}
		return 0
	}
	counts := map[string]int{}
	for _, t := range g {
		counts[t]++
	}
	same := 0
	for _, t := range p {
		if counts[t] > 0 {
			counts[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	prec := 1.0 * float64(same) / float64(len(p))
	rec := 1.0 * float64(same) / float64(len(g))
	return (2 * prec * rec) / (prec + rec)
}

// SQuADPrediction is a model's answer to one question: its text and the
// probability it gives to "no answer" (lm-eval: exp of the log-likelihood of
// " unanswerable").
type SQuADPrediction struct {
	ID           string
	Text         string
	NoAnswerProb float64
}

// SQuADReference is one question's gold answers; none means unanswerable.
type SQuADReference struct {
	ID      string
	Answers []string
}

// SQuADv2Scores are the SQuAD v2 script's results, in percent.
type SQuADv2Scores struct {
	Exact, F1                  float64
	Total                      int
	HasAnsExact, HasAnsF1      float64 // 0 when no question has an answer (lm-eval's default)
	HasAnsTotal                int
	NoAnsExact, NoAnsF1        float64 // 0 when every question has one
	NoAnsTotal                 int
	BestExact, BestExactThresh float64
	BestF1, BestF1Thresh       float64
}

// SQuADv2 scores predictions against references as the official SQuAD v2
// script (and so lm-eval's squadv2): each question's exact match and F1 are the
// best over its gold answers (answers that normalise to nothing are dropped;
// none left means the gold is ""); a question whose no-answer probability
// exceeds threshold (lm-eval: 1.0) counts as answered "no answer"; HasAns and
// NoAns split the questions; best_exact and best_f1 choose the no-answer
// threshold that maximises each. Every reference needs a prediction with its ID.
// No-answer probabilities are rounded to float32, as HF evaluate's squad_v2
// (which lm-eval calls) stores them.
func SQuADv2(preds []SQuADPrediction, refs []SQuADReference, threshold float64) (SQuADv2Scores, error) {
	var s SQuADv2Scores
	if len(refs) == 0 {
		return s, fmt.Errorf("squad v2: no references")
	}
	byID := map[string]SQuADPrediction{}
	for _, p := range preds {
		if _, dup := byID[p.ID]; dup {
			return s, fmt.Errorf("squad v2: prediction id %q appears twice", p.ID)
		}
		byID[p.ID] = p
	}
	seen := map[string]bool{}
	exact, f1 := make([]float64, len(refs)), make([]float64, len(refs))
	hasAns := make([]bool, len(refs))
	naProb := make([]float64, len(refs))
	for i, r := range refs {
		if seen[r.ID] {
			return s, fmt.Errorf("squad v2: reference id %q appears twice", r.ID)
		}
		seen[r.ID] = true
		p, ok := byID[r.ID]
		if !ok {
			return s, fmt.Errorf("squad v2: no prediction for question %q", r.ID)
		}
		hasAns[i] = len(r.Answers) > 0
		naProb[i] = float64(float32(p.NoAnswerProb)) // HF evaluate stores it as float32
		var gold []string
		for _, a := range r.Answers {
			if NormalizeSQuADAnswer(a) != "" {
				gold = append(gold, a)
			}
		}
		if len(gold) == 0 {
			gold = []string{""}
		}
		for _, g := range gold {
			exact[i] = max(exact[i], SQuADExact(g, p.Text))
			f1[i] = max(f1[i], SQuADF1(g, p.Text))
		}
	}
	ex, f := make([]float64, len(refs)), make([]float64, len(refs))
	for i := range refs {
		ex[i], f[i] = exact[i], f1[i]
		if naProb[i] > threshold {
			ex[i], f[i] = 0, 0
			if !hasAns[i] {
				ex[i], f[i] = 1, 1
			}
		}
	}
	mean := func(xs []float64, keep func(int) bool) (float64, int) {
		sum, n := 0.0, 0
		for i, x := range xs {
			if keep(i) {
				sum += x
				n++
			}
		}
		if n == 0 {
			return 0, 0
		}
		return 100.0 * sum / float64(n), n
	}
	all := func(int) bool { return true }
	has := func(i int) bool { return hasAns[i] }
	no := func(i int) bool { return !hasAns[i] }
	s.Exact, s.Total = mean(ex, all)
	s.F1, _ = mean(f, all)
	s.HasAnsExact, s.HasAnsTotal = mean(ex, has)
	s.HasAnsF1, _ = mean(f, has)
	s.NoAnsExact, s.NoAnsTotal = mean(ex, no)
	s.NoAnsF1, _ = mean(f, no)
	// The threshold search visits questions in the predictions' order (among
	// equal probabilities), as the script's dictionaries do.
	refIndex := map[string]int{}
	for i, r := range refs {
		refIndex[r.ID] = i
	}
	var order []int
	for _, p := range preds {
		if i, ok := refIndex[p.ID]; ok {
			order = append(order, i)
		}
	}
	texts := make([]string, len(refs))
	for i, r := range refs {
		texts[i] = byID[r.ID].Text
	}
	s.BestExact, s.BestExactThresh = squadBestThreshold(exact, naProb, hasAns, texts, order)
	s.BestF1, s.BestF1Thresh = squadBestThreshold(f1, naProb, hasAns, texts, order)
	return s, nil
}

// squadBestThreshold walks the questions by rising no-answer probability: below
// the threshold a question is answered (its score, or -1 for a non-empty answer
// to an unanswerable one), above it "no answer" (1 when unanswerable).
func squadBestThreshold(scores, naProb []float64, hasAns []bool, texts []string, order []int) (float64, float64) {
	cur := 0.0
	for _, h := range hasAns {
		if !h {
			cur++
		}
	}
	best, thresh := cur, 0.0
	order = append([]int(nil), order...)
	sort.SliceStable(order, func(a, b int) bool { return naProb[order[a]] < naProb[order[b]] })
	for _, i := range order {
		switch {
		case hasAns[i]:
			cur += scores[i]
		case texts[i] != "":
			cur--
		}
		if cur > best {
			best, thresh = cur, naProb[i]
		}
	}
	return 100.0 * best / float64(len(scores)), thresh
}

// AliasOptions selects lm-eval's exact_match normalisations.
type AliasOptions struct {
	IgnoreCase        bool
	IgnorePunctuation bool // ASCII punctuation removed
	// IgnoreArticles removes "The ", "the ", "An ", "A ", "a ", "an " at word
	// starts before anything else (Natural Questions' regexes_to_ignore).
	IgnoreArticles bool
}

// TriviaQAOptions are lm-eval's triviaqa settings; NQOptions nq_open's.
var (
	TriviaQAOptions = AliasOptions{IgnoreCase: true, IgnorePunctuation: true}
	NQOptions       = AliasOptions{IgnoreCase: true, IgnorePunctuation: true, IgnoreArticles: true}
)

// AliasMatch is lm-eval's multi-target exact match: 1 when the generation,
// stripped of surrounding whitespace, equals any alias after the same
// normalisation of both.
func AliasMatch(generated string, aliases []string, opts AliasOptions) float64 {
	g := opts.normalize(pyStrip(generated))
	for _, a := range aliases {
		if opts.normalize(a) == g {
			return 1
		}
	}
	return 0
}

func (o AliasOptions) normalize(s string) string {
	if o.IgnoreArticles {
		s = removeLeadingArticles(s)
	}
	if o.IgnoreCase {
		s = pyLower(s)
	}
	if o.IgnorePunctuation {
		s = removeASCIIPunct(s)
	}
	return s
}

// removeLeadingArticles is re.sub(r"\b(?:The |the |An |A |The |a |an )", "", s).
func removeLeadingArticles(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		if (i == 0 || !pyWordChar(rs[i-1])) && pyWordChar(rs[i]) {
			matched := 0
			for _, a := range []string{"The ", "the ", "An ", "A ", "a ", "an "} {
				n := len(a)
				if i+n <= len(rs) && string(rs[i:i+n]) == a {
					matched = n
					break
				}
			}
			if matched > 0 {
				i += matched
				continue
			}
		}
		b.WriteRune(rs[i])
		i++
	}
	return b.String()
}
