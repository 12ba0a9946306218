package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// Sampler picks the next token from logits. The zero value is greedy decoding.
type Sampler struct {
	Temperature       float64 // 0: greedy (argmax); otherwise logits are divided by it
	TopK              int     // keep the K most likely tokens (0: all)
	TopP              float64 // keep the smallest set whose probability reaches P (0 or 1: all)
	RepetitionPenalty float64 // CTRL rule on tokens already in the sequence (0 or 1: off)
	Seed              uint64  // sampling is reproducible for a given seed

	rng *rand.Rand
}

// Validate reports a clear error for out-of-range settings.
func (s *Sampler) Validate() error {
	switch {
	case s.Temperature < 0 || math.IsNaN(s.Temperature):
		return fmt.Errorf("sampler: temperature %v must be >= 0", s.Temperature)
	case s.TopK < 0:
		return fmt.Errorf("sampler: top-k %d must be >= 0", s.TopK)
	case s.TopP < 0 || s.TopP > 1 || math.IsNaN(s.TopP):
		return fmt.Errorf("sampler: top-p %v must be in [0, 1]", s.TopP)
	case s.RepetitionPenalty < 0 || math.IsNaN(s.RepetitionPenalty):
		return fmt.Errorf("sampler: repetition penalty %v must be >= 0", s.RepetitionPenalty)
	}
	return nil
}

// Penalize applies the CTRL repetition penalty (Keskar et al. 2019) in place: the
// logit of every token already in history is divided by the penalty when positive
// and multiplied by it when negative, as HF's RepetitionPenaltyLogitsProcessor.
func Penalize(logits []float32, history []int32, penalty float64) {
	if penalty == 0 || penalty == 1 {
		return
	}
	seen := make(map[int32]bool, len(history))
	for _, t := range history {
		if seen[t] || int(t) >= len(logits) || t < 0 {
			continue
		}
		seen[t] = true
		if logits[t] > 0 {
			logits[t] = float32(float64(logits[t]) / penalty)
		} else {
			logits[t] = float32(float64(logits[t]) * penalty)
		}
	}
}

// Probs returns the sampling distribution over token ids after temperature, top-k
// and top-p (tokens filtered out get probability 0). Temperature 0 puts all mass on
// the argmax (the lowest id on ties).
func (s *Sampler) Probs(logits []float32) []float64 {
	p := make([]float64, len(logits))
	if len(logits) == 0 {
		return p
	}
	if s.Temperature == 0 {
		best := 0
		for i, l := range logits {
			if l > logits[best] {
				best = i
			}
		}
		p[best] = 1
		return p
	}
	maxl := math.Inf(-1)
	for _, l := range logits {
		maxl = math.Max(maxl, float64(l))
	}
	total := 0.0
	for i, l := range logits {
		p[i] = math.Exp((float64(l) - maxl) / s.Temperature)
		total += p[i]
	}
	for i := range p {
		p[i] /= total
	}
	if (s.TopK > 0 && s.TopK < len(p)) || (s.TopP > 0 && s.TopP < 1) {
		idx := make([]int, len(p))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] > p[idx[b]] })
		keep := len(idx)
		if s.TopK > 0 && s.TopK < keep {
			keep = s.TopK
		}
		if s.TopP > 0 && s.TopP < 1 {
			cum := 0.0
			for i := 0; i < keep; i++ {
				cum += p[idx[i]]
				if cum >= s.TopP {
					keep = i + 1 // the smallest prefix reaching TopP (at least one token)
					break
				}
			}
		}
		kept := 0.0
		for i, id := range idx {
			if i >= keep {
				p[id] = 0
			} else {
				kept += p[id]
			}
		}
		for i := range p {
			p[i] /= kept
		}
	}
	return p
}

// Sample draws the next token for a sequence whose tokens so far are history.
// logits is modified in place by the repetition penalty.
func (s *Sampler) Sample(logits []float32, history []int32) int32 {
	Penalize(logits, history, s.RepetitionPenalty)
	p := s.Probs(logits)
	if s.Temperature == 0 {
		for i, x := range p {
			if x == 1 {
				return int32(i)
			}
		}
	}
	if s.rng == nil {
		s.rng = rand.New(rand.NewPCG(s.Seed, s.Seed^0x9e3779b97f4a7c15))
	}
	u := s.rng.Float64()
	cum := 0.0
	last := 0
	for i, x := range p {
		if x == 0 {
			continue
		}
		last = i
		cum += x
		if u < cum {
			return int32(i)
		}
	}
	return int32(last)
}
