package eval

import (
	"math"
	"strings"
	"unicode"
)

// Mean is the arithmetic mean (NaN for no items).
func Mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// MeanStderr is the standard error of the mean with the sample (n-1) standard
// deviation, as lm-eval's mean_stderr.
func MeanStderr(xs []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return math.NaN()
	}
	m := Mean(xs)
	ss := 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss/(n-1)) / math.Sqrt(n)
}

// Perplexity aggregates per-example log-likelihoods as lm-eval's "perplexity"
// (used by LAMBADA): exp(-mean(ll)).
func Perplexity(lls []float64) float64 { return math.Exp(-Mean(lls)) }

// WeightedPerplexity is exp(-Σll / Σweight): word_perplexity when weights are word
// counts, byte_perplexity when they are UTF-8 byte counts.
func WeightedPerplexity(lls, weights []float64) float64 {
	return math.Exp(-sum(lls) / sum(weights))
}

// BitsPerByte is -Σll / Σbytes / ln 2, lm-eval's bits_per_byte.
func BitsPerByte(lls, bytes []float64) float64 {
	return -sum(lls) / sum(bytes) / math.Ln2
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

// CountWords counts whitespace-separated words, as lm-eval's word count for
// word_perplexity (len(re.split(r"\s+", text))) on trimmed text.
func CountWords(text string) int {
	return len(strings.FieldsFunc(text, unicode.IsSpace))
}

// Argmax returns the index of the largest value (the first on ties, as numpy).
func Argmax(xs []float64) int {
	best := 0
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	return best
}

// MultipleChoice scores one multiple-choice example from the log-likelihoods of
// its choices, as lm-eval: acc is 1 when the most likely choice is gold; acc_norm
// does the same after dividing each log-likelihood by the choice's length in
// characters (lm-eval uses len(choice), i.e. code points of the continuation text).
func MultipleChoice(lls []float64, choices []string, gold int) (acc, accNorm float64) {
	norm := make([]float64, len(lls))
	for i, ll := range lls {
		norm[i] = ll / float64(len([]rune(choices[i])))
	}
	if Argmax(lls) == gold {
		acc = 1
	}
	if Argmax(norm) == gold {
		accNorm = 1
	}
	return acc, accNorm
}

// ExactMatch is 1 when the generation equals the target after trimming
// surrounding whitespace (lm-eval's exact_match with ignore_whitespace-free default
// compares strings exactly; golem trims the ends, which generation stop rules leave).
func ExactMatch(generated, target string) float64 {
	if strings.TrimSpace(generated) == strings.TrimSpace(target) {
		return 1
	}
	return 0
}
