package eval

import (
	"math"
	"testing"
)

func TestSamplerProbs(t *testing.T) {
	logits := []float32{1, 3, 2, 0} // softmax: e^1,e^3,e^2,e^0 / Z
	z := math.E + math.Exp(3) + math.Exp(2) + 1
	full := []float64{math.E / z, math.Exp(3) / z, math.Exp(2) / z, 1 / z}
	for _, tc := range []struct {
		name string
		s    Sampler
		want []float64
	}{
		{"greedy", Sampler{}, []float64{0, 1, 0, 0}},
		{"t=1", Sampler{Temperature: 1}, full},
		{"top-k 2", Sampler{Temperature: 1, TopK: 2}, []float64{0, full[1] / (full[1] + full[2]), full[2] / (full[1] + full[2]), 0}},
		// top-p 0.6: the most likely token alone has 0.644 >= 0.6, so only it stays.
		{"top-p 0.6", Sampler{Temperature: 1, TopP: 0.6}, []float64{0, 1, 0, 0}},
		// top-p 0.9: 0.644 + 0.237 = 0.881 < 0.9, so a third token is needed.
		{"top-p 0.9", Sampler{Temperature: 1, TopP: 0.9}, []float64{full[0] / (1 - full[3]), full[1] / (1 - full[3]), full[2] / (1 - full[3]), 0}},
		{"t=2", Sampler{Temperature: 2}, softmax([]float64{0.5, 1.5, 1, 0})},
	} {
		got := tc.s.Probs(logits)
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-12 {
				t.Errorf("%s: probs %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
}

func softmax(x []float64) []float64 {
	z := 0.0
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Exp(v)
		z += out[i]
	}
	for i := range out {
		out[i] /= z
	}
	return out
}

func TestPenalizeCTRL(t *testing.T) {
	l := []float32{2, -2, 1, 4}
	Penalize(l, []int32{0, 1, 1}, 2)
	want := []float32{1, -4, 1, 4}
	for i := range l {
		if l[i] != want[i] {
			t.Fatalf("penalized %v, want %v", l, want)
		}
	}
}

func TestSampleSeeded(t *testing.T) {
	logits := []float32{0.1, 0.2, 0.3, 0.4, 0.5}
	draw := func(seed uint64) []int32 {
		s := Sampler{Temperature: 1, Seed: seed}
		var out []int32
		for i := 0; i < 50; i++ {
			l := append([]float32(nil), logits...)
			out = append(out, s.Sample(l, nil))
		}
		return out
	}
	a, b, c := draw(7), draw(7), draw(8)
	same := func(x, y []int32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Fatal("same seed gave different samples")
	}
	if same(a, c) {
		t.Fatal("different seeds gave identical 50-token samples")
	}
	// top-k 1 at any temperature is greedy.
	s := Sampler{Temperature: 5, TopK: 1, Seed: 1}
	for i := 0; i < 20; i++ {
		if got := s.Sample(append([]float32(nil), logits...), nil); got != 4 {
			t.Fatalf("top-k 1 sampled %d, want 4", got)
		}
	}
}

func TestSamplerValidate(t *testing.T) {
	for _, s := range []Sampler{{Temperature: -1}, {TopK: -1}, {TopP: 1.5}, {RepetitionPenalty: -1}} {
		if s.Validate() == nil {
			t.Errorf("%+v: want error", s)
		}
	}
}
