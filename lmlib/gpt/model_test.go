package gpt

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func tiny(t *testing.T, bias bool, dropout float32) *Model {
	t.Helper()
	m, err := New(Config{VocabSize: 17, ContextLen: 8, Layers: 2, Heads: 2, Width: 16, Bias: bias, Dropout: dropout}, 42)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func batch(V, n int, seed uint64) (tokens, targets []int32) {
	r := NewRNG(seed)
	tokens, targets = make([]int32, n), make([]int32, n)
	for i := range tokens {
		tokens[i] = int32(r.Uint64() % uint64(V))
		targets[i] = int32(r.Uint64() % uint64(V))
	}
	return
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default", func(*Config) {}, ""},
		{"width not divisible", func(c *Config) { c.Width, c.Heads = 130, 4 }, "Width 130 is not divisible by Heads 4"},
		{"zero vocab", func(c *Config) { c.VocabSize = 0 }, "VocabSize 0"},
		{"negative layers", func(c *Config) { c.Layers = -1 }, "Layers -1"},
		{"zero context", func(c *Config) { c.ContextLen = 0 }, "ContextLen 0"},
		{"dropout 1", func(c *Config) { c.Dropout = 1 }, "Dropout 1"},
		{"dropout NaN", func(c *Config) { c.Dropout = float32(math.NaN()) }, "Dropout NaN"},
		{"huge", func(c *Config) { c.Layers = 1 << 30 }, "too many"},
	} {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
		if _, err := New(c, 1); err == nil {
			t.Errorf("%s: New accepted an invalid config", tc.name)
		}
	}
}

func TestForwardRejectsBadInput(t *testing.T) {
	m := tiny(t, true, 0)
	tok, tgt := batch(17, 16, 1)
	bad := append([]int32(nil), tok...)
	bad[11] = 17
	badTgt := append([]int32(nil), tgt...)
	badTgt[2] = -2
	ignored := make([]int32, 16)
	for i := range ignored {
		ignored[i] = -1
	}
	for _, tc := range []struct {
		name         string
		tokens, tgts []int32
		B, T         int
		want         string
	}{
		{"token id out of vocabulary", bad, tgt, 2, 8, "token id 17 at batch row 1 position 3 is outside the vocabulary [0,17)"},
		{"T beyond context", append(tok, tok...), nil, 2, 16, "T=16 exceeds the model's context length 8"},
		{"length mismatch", tok[:15], nil, 2, 8, "15 tokens for a 2×8 batch (want 16)"},
		{"targets mismatch", tok, tgt[:3], 2, 8, "3 targets for a 2×8 batch"},
		{"bad target", tok, badTgt, 2, 8, "target id -2 at batch row 0 position 2"},
		{"all ignored", tok, ignored, 2, 8, "every target"},
		{"zero batch", nil, nil, 0, 8, "must be positive"},
	} {
		_, err := m.Forward(tc.tokens, tc.tgts, tc.B, tc.T)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	if err := m.Backward(); err == nil {
		t.Error("Backward after a failed Forward succeeded")
	}
	if _, err := m.Forward(tok, nil, 2, 8); err != nil {
		t.Fatal(err)
	}
	if err := m.Backward(); err == nil || !strings.Contains(err.Error(), "no targets") {
		t.Errorf("Backward after a logits-only Forward: %v", err)
	}
}

func TestNonFiniteDetection(t *testing.T) {
	m := tiny(t, true, 0)
	tok, tgt := batch(17, 16, 2)
	wte, _ := m.Tensor("h.1.mlp.c_fc.weight")
	m.Params[wte.Offset+5] = float32(math.NaN())
	if err := m.CheckFinite(); err == nil || !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "parameter h.1.mlp.c_fc.weight[5] is NaN") {
		t.Errorf("CheckFinite: %v", err)
	}
	_, err := m.Forward(tok, tgt, 2, 8)
	if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), "loss is NaN") {
		t.Errorf("Forward with a NaN weight: %v", err)
	}
	if err := CheckFinite("x", []float32{1, float32(math.Inf(-1))}); err == nil || !strings.Contains(err.Error(), "x[1] is -Inf") {
		t.Errorf("CheckFinite(x): %v", err)
	}
}

func TestInitStatistics(t *testing.T) {
	cfg := Config{VocabSize: 100, ContextLen: 32, Layers: 8, Heads: 4, Width: 64, Bias: true}
	m, err := New(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	if m.NumParams() != 100*64+32*64+8*(12*64*64+13*64)+2*64 {
		t.Errorf("NumParams %d", m.NumParams())
	}
	std := func(x []float32) (mean, sd float64) {
		for _, v := range x {
			mean += float64(v)
		}
		mean /= float64(len(x))
		for _, v := range x {
			sd += (float64(v) - mean) * (float64(v) - mean)
		}
		return mean, math.Sqrt(sd / float64(len(x)))
	}
	for _, tn := range m.Tensors() {
		x := m.Params[tn.Offset : tn.Offset+tn.Size]
		mean, sd := std(x)
		var wantMean, wantSD float64
		switch {
		case strings.HasSuffix(tn.Name, ".bias"):
		case strings.Contains(tn.Name, "ln_"):
			wantMean = 1
		case strings.HasSuffix(tn.Name, "c_proj.weight"):
			wantSD = 0.02 / math.Sqrt(16)
		default:
			wantSD = 0.02
		}
		if math.Abs(mean-wantMean) > 3*wantSD/math.Sqrt(float64(len(x)))+1e-9 || math.Abs(sd-wantSD) > 0.05*wantSD+1e-9 {
			t.Errorf("%s: mean %.4g sd %.4g, want %.4g and %.4g", tn.Name, mean, sd, wantMean, wantSD)
		}
		wantDecay := len(tn.Shape) == 2
		if tn.Decay != wantDecay {
			t.Errorf("%s: Decay %v", tn.Name, tn.Decay)
		}
	}
	// Same seed, same weights; another seed, others.
	m2, _ := New(cfg, 5)
	m3, _ := New(cfg, 6)
	if relErr(m2.Params, m.Params) != 0 || relErr(m3.Params, m.Params) == 0 {
		t.Error("initialisation is not a function of the seed")
	}
	want := int64(6*(m.NumParams()-32*64) + 12*8*64*32)
	if m.FLOPsPerToken() != want {
		t.Errorf("FLOPsPerToken %d, want %d", m.FLOPsPerToken(), want)
	}
}

// Logits after a Forward with targets (recomputed) equal those of a logits-only
// Forward, and their cross-entropy is the returned loss.
func TestLogitsAndLoss(t *testing.T) {
	m := tiny(t, false, 0)
	tok, tgt := batch(17, 16, 3)
	if _, err := m.Forward(tok, nil, 2, 8); err != nil {
		t.Fatal(err)
	}
	a := append([]float32(nil), m.Logits()...)
	loss, err := m.Forward(tok, tgt, 2, 8)
	if err != nil {
		t.Fatal(err)
	}
	b := m.Logits()
	if e := relErr(b, a); e != 0 {
		t.Errorf("logits differ by %g", e)
	}
	var ce float64
	for i, tg := range tgt {
		row := b[i*17 : (i+1)*17]
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v))
		}
		ce += math.Log(s) - float64(row[tg])
	}
	ce /= 16
	if math.Abs(ce-float64(loss)) > 1e-5 {
		t.Errorf("loss %v, cross-entropy of logits %v", loss, ce)
	}
	// A shorter sequence reuses the model (activations resized).
	if _, err := m.Forward(tok[:6], tgt[:6], 2, 3); err != nil {
		t.Fatal(err)
	}
	if len(m.Logits()) != 6*17 {
		t.Errorf("logits for 2×3: %d values", len(m.Logits()))
	}
}

// Backward accumulates: two Backward calls on the same batch give twice the gradient.
func TestGradientAccumulation(t *testing.T) {
	m := tiny(t, true, 0)
	tok, tgt := batch(17, 16, 4)
	run := func() {
		if _, err := m.Forward(tok, tgt, 2, 8); err != nil {
			t.Fatal(err)
		}
		if err := m.Backward(); err != nil {
			t.Fatal(err)
		}
	}
	m.ZeroGrad()
	run()
	once := append([]float32(nil), m.Grads...)
	n1 := m.GradNorm()
	run()
	m.ScaleGrads(0.5)
	if e := relErr(m.Grads, once); e > 1e-6 {
		t.Errorf("accumulated/2 differs from one pass by %g", e)
	}
	var ss float64
	for _, g := range once {
		ss += float64(g) * float64(g)
	}
	if math.Abs(float64(n1)-math.Sqrt(ss)) > 1e-5*math.Sqrt(ss) {
		t.Errorf("GradNorm %v, want %v", n1, math.Sqrt(ss))
	}
}

// Dropout: off in eval mode and when Config.Dropout is 0; in training the masks
// follow the RNG, so restoring its state reproduces a step exactly.
func TestDropoutDeterminism(t *testing.T) {
	m := tiny(t, true, 0.2)
	tok, tgt := batch(17, 16, 5)
	eval1, _ := m.Forward(tok, tgt, 2, 8)
	rng := NewRNG(9)
	m.SetTrain(true, rng)
	st := rng.State()
	tr1, _ := m.Forward(tok, tgt, 2, 8)
	m.ZeroGrad()
	m.Backward()
	g1 := append([]float32(nil), m.Grads...)
	tr2, _ := m.Forward(tok, tgt, 2, 8)
	if tr1 == tr2 || tr1 == eval1 {
		t.Errorf("dropout did not change the loss: eval %v, train %v, %v", eval1, tr1, tr2)
	}
	rng.SetState(st)
	tr3, _ := m.Forward(tok, tgt, 2, 8)
	m.ZeroGrad()
	m.Backward()
	if tr3 != tr1 || relErr(m.Grads, g1) != 0 {
		t.Errorf("restored RNG state: loss %v vs %v, grads differ by %g", tr3, tr1, relErr(m.Grads, g1))
	}
	m.SetTrain(false, nil)
	if e, _ := m.Forward(tok, tgt, 2, 8); e != eval1 {
		t.Errorf("eval loss %v after training mode, want %v", e, eval1)
	}
	// The kept fraction is 1-P.
	x := make([]float32, 100000)
	for i := range x {
		x[i] = 1
	}
	NewCPU(2).DropoutApply(x, x, Dropout{P: 0.2, Seed: 3})
	kept := 0
	for _, v := range x {
		if v != 0 {
			kept++
			if math.Abs(float64(v)-1.25) > 1e-6 {
				t.Fatalf("kept value %v, want 1.25", v)
			}
		}
	}
	if kept < 79000 || kept > 81000 {
		t.Errorf("kept %d of 100000 at P=0.2", kept)
	}
}

// With the batch run whole (NoShards), the result does not depend on how many
// workers split the ops: 1 and 2 workers cut every op into the same chunks and
// agree to the bit; 3 workers use other chunk boundaries (partial sums differ in
// rounding only). Shards: shard_test.go.
func TestWorkersAgree(t *testing.T) {
	gpt2 := Config{VocabSize: 31, ContextLen: 40, Layers: 2, Heads: 4, Width: 32, Bias: true}
	modern := Preset(2)
	modern.VocabSize, modern.ContextLen = 31, 40
	for _, cfg := range []Config{gpt2, modern} {
		tok, tgt := batch(31, 3*40, 6)
		var ref, refP []float32
		for _, w := range []int{1, 2, 3} {
			m, _ := NewWithBackend(cfg, 1, NewCPU(w))
			if err := m.SetShards(NoShards); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Forward(tok, tgt, 3, 40); err != nil {
				t.Fatal(err)
			}
			m.Backward()
			// and a Muon step, whose matrices are spread over the workers
			m.MuonStep(m.MatrixTensors(), 0.02, 0.95, 0.01, true, 5, make([]float32, len(m.Params)))
			if ref == nil {
				ref, refP = append([]float32(nil), m.Grads...), append([]float32(nil), m.Params...)
				continue
			}
			e, ep := relErr(m.Grads, ref), relErr(m.Params, refP)
			if (w == 2 && (e != 0 || ep != 0)) || e > 1e-5 || ep > 1e-5 {
				t.Errorf("%+v, %d workers: gradients differ from 1 worker by %g, parameters after Muon by %g", cfg, w, e, ep)
			}
		}
	}
}

// A Muon step allocates nothing after the first, and leaves the tensors it is not
// given alone.
func TestMuonStep(t *testing.T) {
	cfg := Preset(2)
	cfg.VocabSize, cfg.ContextLen = 17, 8
	m, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	tok, tgt := batch(17, 16, 7)
	buf := make([]float32, len(m.Params))
	r := NewRNG(3) // a full-rank gradient (a batch of 16 tokens gives rank ≤ 16)
	for i := range m.Grads {
		m.Grads[i] = float32(r.NormFloat64())
	}
	before := append([]float32(nil), m.Params...)
	m.MuonStep(m.MatrixTensors(), 0.02, 0.95, 0, true, 5, buf)
	for _, tn := range m.Tensors() {
		changed := relErr(m.Params[tn.Offset:tn.Offset+tn.Size], before[tn.Offset:tn.Offset+tn.Size]) != 0
		if changed != (tn.Kind == KindMatrix) {
			t.Errorf("%s (%v): changed=%v", tn.Name, tn.Kind, changed)
		}
	}
	// The update of a matrix is lr·√max(1, out/in) times a matrix whose singular values
	// Newton–Schulz put near 1: its RMS is about that factor over √max(rows, cols).
	tn, _ := m.Tensor("h.0.mlp.c_fc.weight") // (C, 4C): out/in = 4
	var ss float64
	for i := tn.Offset; i < tn.Offset+tn.Size; i++ {
		d := float64(m.Params[i] - before[i])
		ss += d * d
	}
	rms := math.Sqrt(ss / float64(tn.Size))
	want := 0.02 * 2 * math.Sqrt(float64(tn.Shape[0])) / math.Sqrt(float64(tn.Size))
	if rms < 0.5*want || rms > 1.5*want {
		t.Errorf("Muon update of %s: RMS %.4g, want about %.4g", tn.Name, rms, want)
	}
	m.Forward(tok, tgt, 2, 8)
	m.Backward()
	allocs := testing.AllocsPerRun(3, func() { m.MuonStep(m.MatrixTensors(), 0.02, 0.95, 0, true, 5, buf) })
	if allocs != 0 {
		t.Errorf("%v allocations per Muon step", allocs)
	}
}

// After warm-up a training step allocates nothing.
func TestStepAllocations(t *testing.T) {
	m := tiny(t, true, 0.1)
	m.SetTrain(true, NewRNG(1))
	tok, tgt := batch(17, 16, 7)
	mom, vel := make([]float32, m.NumParams()), make([]float32, m.NumParams())
	step := 0
	allocs := testing.AllocsPerRun(5, func() {
		step++
		m.Forward(tok, tgt, 2, 8)
		m.ZeroGrad()
		m.Backward()
		m.ScaleGrads(1 / (m.GradNorm() + 1))
		m.AdamWStep(1e-3, 0.9, 0.95, 1e-8, 0.1, step, mom, vel)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per training step", allocs)
	}
	// Alternating with a smaller validation batch reuses the activation buffer.
	vtok, vtgt := batch(17, 8, 8)
	allocs = testing.AllocsPerRun(5, func() {
		m.Forward(vtok, vtgt, 1, 8)
		m.Forward(tok, tgt, 2, 8)
	})
	if allocs != 0 {
		t.Errorf("%v allocations alternating batch shapes", allocs)
	}
	// The modern recipe's training step: every switch, Muon and AdamW by kind.
	cfg := Preset(2)
	cfg.VocabSize, cfg.ContextLen = 17, 8
	mm, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	buf, vel2 := make([]float32, mm.NumParams()), make([]float32, mm.NumParams())
	step = 0
	allocs = testing.AllocsPerRun(5, func() {
		step++
		mm.Forward(tok, tgt, 2, 8)
		mm.ZeroGrad()
		mm.Backward()
		mm.MuonStep(mm.MatrixTensors(), 0.02, 0.95, 0, true, 5, buf)
		for _, k := range []TensorKind{KindEmbedding, KindHead, KindVector} {
			mm.AdamWStepOn(mm.TensorsOf(k), 1e-3, 0.9, 0.95, 1e-8, 0, step, buf, vel2)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per modern training step", allocs)
	}
}
