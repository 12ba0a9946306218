package gpt

import (
	"fmt"
	"strings"
	"testing"
)

// shardRun is one training step's observable results.
type shardRun struct {
	loss          float32
	grads, logits []float32
	shards        int
}

// stepWith runs two Forward/Backward passes (gradients accumulate) of a training
// batch with dropout on, with the given workers and SetShards value, and returns
// the last loss, the accumulated gradients and the recomputed logits.
func stepWith(t *testing.T, cfg Config, workers, shards int, tok, tgt []int32, B, T int) shardRun {
	t.Helper()
	m, err := NewWithBackend(cfg, 1, NewCPU(workers))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetShards(shards); err != nil {
		t.Fatal(err)
	}
	m.SetTrain(true, NewRNG(9))
	var r shardRun
	for i := 0; i < 2; i++ {
		if r.loss, err = m.Forward(tok, tgt, B, T); err != nil {
			t.Fatal(err)
		}
		if err := m.Backward(); err != nil {
			t.Fatal(err)
		}
	}
	r.shards = m.Shards()
	if _, err := m.Forward(tok, tgt, B, T); err != nil {
		t.Fatal(err)
	}
	r.grads = append([]float32(nil), m.Grads...)
	r.logits = append([]float32(nil), m.Logits()...)
	return r
}

// Cutting the batch into shards changes rounding only: the loss, the accumulated
// gradients (dropout on: the shards draw the unsharded batch's masks) and the
// logits equal the unsharded run's to 1e-5, for even and uneven shards; for a
// given shard count the result is the same to the bit on 1, 2 or 3 workers.
func TestShardsAgree(t *testing.T) {
	gpt2 := Config{VocabSize: 31, ContextLen: 12, Layers: 2, Heads: 4, Width: 32, Bias: true, Dropout: 0.2}
	modern := Preset(2)
	modern.VocabSize, modern.ContextLen, modern.Dropout = 31, 12, 0.2
	const B, T = 5, 12
	tok, tgt := batch(31, B*T, 4)
	tgt[7], tgt[40] = -1, -1 // ignored targets: the loss divides by the whole batch's count
	for _, cfg := range []Config{gpt2, modern} {
		ref := stepWith(t, cfg, 1, NoShards, tok, tgt, B, T)
		if ref.shards != 0 {
			t.Fatalf("NoShards ran as %d shards", ref.shards)
		}
		for _, n := range []int{1, 2, 3, 5} {
			var same shardRun
			for _, w := range []int{1, 2, 3} {
				got := stepWith(t, cfg, w, n, tok, tgt, B, T)
				name := fmt.Sprintf("rotary=%v, %d shards on %d workers", cfg.Rotary, n, w)
				if got.shards != n {
					t.Errorf("%s: ran as %d shards", name, got.shards)
				}
				if e := relErr([]float32{got.loss}, []float32{ref.loss}); e > 1e-5 {
					t.Errorf("%s: loss %v, unsharded %v", name, got.loss, ref.loss)
				}
				if e := relErr(got.grads, ref.grads); e > 1e-5 {
					t.Errorf("%s: gradients differ from the unsharded run's by %g", name, e)
				}
				if e := relErr(got.logits, ref.logits); e > 1e-5 {
					t.Errorf("%s: logits differ from the unsharded run's by %g", name, e)
				}
				if same.grads == nil {
					same = got
					continue
				}
				if relErr(got.grads, same.grads) != 0 || got.loss != same.loss || relErr(got.logits, same.logits) != 0 {
					t.Errorf("%s: differs from the same shards on 1 worker", name)
				}
			}
		}
	}
}

// Automatically a CPU model trains as one shard per worker (at most B); a
// Forward without targets runs whole.
func TestShardsAuto(t *testing.T) {
	cfg := Config{VocabSize: 17, ContextLen: 8, Layers: 1, Heads: 2, Width: 16}
	m, err := NewWithBackend(cfg, 1, NewCPU(2))
	if err != nil {
		t.Fatal(err)
	}
	if m.Shards() != 0 {
		t.Errorf("before any Forward: %d shards", m.Shards())
	}
	for _, c := range []struct {
		B       int
		targets bool
		want    int
	}{{3, true, 2}, {1, true, 1}, {3, false, 0}} {
		tok, tgt := batch(17, c.B*8, 1)
		if !c.targets {
			tgt = nil
		}
		if _, err := m.Forward(tok, tgt, c.B, 8); err != nil {
			t.Fatal(err)
		}
		if m.Shards() != c.want {
			t.Errorf("B=%d targets=%v: %d shards, want %d", c.B, c.targets, m.Shards(), c.want)
		}
	}
}

// otherBackend is a Backend that is not *CPU (it wraps one).
type otherBackend struct{ *CPU }

func (otherBackend) Name() string { return "other" }

func TestSetShardsErrors(t *testing.T) {
	cfg := Config{VocabSize: 17, ContextLen: 8, Layers: 1, Heads: 2, Width: 16}
	m, err := NewWithBackend(cfg, 1, NewCPU(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetShards(-2); err == nil || !strings.Contains(err.Error(), "SetShards(-2)") {
		t.Errorf("SetShards(-2): %v", err)
	}
	o, err := NewWithBackend(cfg, 1, otherBackend{NewCPU(1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.SetShards(2); err == nil || !strings.Contains(err.Error(), `backend "other"`) {
		t.Errorf("SetShards(2) on another backend: %v", err)
	}
	if err := o.SetShards(NoShards); err != nil {
		t.Error(err)
	}
	tok, tgt := batch(17, 16, 1)
	if _, err := o.Forward(tok, tgt, 2, 8); err != nil || o.Shards() != 0 {
		t.Errorf("another backend ran %d shards (%v)", o.Shards(), err)
	}
}

// A sharded training step allocates nothing after the first.
func TestShardedStepAllocations(t *testing.T) {
	cfg := Config{VocabSize: 17, ContextLen: 8, Layers: 2, Heads: 2, Width: 16, Bias: true, Dropout: 0.1}
	m, err := NewWithBackend(cfg, 1, NewCPU(2))
	if err != nil {
		t.Fatal(err)
	}
	m.SetTrain(true, NewRNG(1))
	tok, tgt := batch(17, 32, 7)
	vtok, vtgt := batch(17, 24, 8)
	allocs := testing.AllocsPerRun(5, func() {
		m.Forward(tok, tgt, 4, 8)
		m.ZeroGrad()
		m.Backward()
		m.Forward(vtok, vtgt, 3, 8) // a validation batch of other shape: same shards, other rows
		m.Forward(vtok[:8], nil, 1, 8)
	})
	if allocs != 0 || m.Shards() != 0 {
		t.Errorf("%v allocations per sharded step", allocs)
	}
}

// ForwardBackward is Forward then Backward: the same loss and gradients to the bit,
// sharded or not, accumulating; without targets it is an error.
func TestForwardBackward(t *testing.T) {
	cfg := Config{VocabSize: 23, ContextLen: 8, Layers: 2, Heads: 2, Width: 16, Bias: true, Dropout: 0.1}
	tok, tgt := batch(23, 4*8, 3)
	for _, shards := range []int{NoShards, 2} {
		var loss [2]float32
		var grads [2][]float32
		for i := range loss {
			m, err := NewWithBackend(cfg, 1, NewCPU(2))
			if err != nil {
				t.Fatal(err)
			}
			m.SetShards(shards)
			m.SetTrain(true, NewRNG(5))
			for rep := 0; rep < 2; rep++ {
				if i == 0 {
					loss[i], _ = m.Forward(tok, tgt, 4, 8)
					if err := m.Backward(); err != nil {
						t.Fatal(err)
					}
				} else if loss[i], err = m.ForwardBackward(tok, tgt, 4, 8); err != nil {
					t.Fatal(err)
				}
			}
			grads[i] = m.Grads
			if i == 1 {
				if err := m.Backward(); err == nil {
					t.Error("Backward after ForwardBackward: no error (the dlogits were consumed)")
				}
				if _, err := m.ForwardBackward(tok, nil, 4, 8); err == nil || !strings.Contains(err.Error(), "no targets") {
					t.Errorf("ForwardBackward without targets: %v", err)
				}
			}
		}
		if loss[0] != loss[1] || relErr(grads[1], grads[0]) != 0 {
			t.Errorf("shards %d: ForwardBackward loss %v, gradients off by %g; Forward+Backward loss %v", shards, loss[1], relErr(grads[1], grads[0]), loss[0])
		}
	}
}

// The automatic shard count is one per worker unless the shards' extra gradient
// buffers outgrow a quarter of the batch's activations (and the floor, lowered
// here to zero so that small models show the rule).
func TestAutoShardsMemoryBound(t *testing.T) {
	defer func(f int) { autoShardsFloor = f }(autoShardsFloor)
	autoShardsFloor = 0
	wide := Config{VocabSize: 4000, ContextLen: 8, Layers: 1, Heads: 2, Width: 64} // 265k parameters
	deep := Config{VocabSize: 17, ContextLen: 64, Layers: 2, Heads: 2, Width: 16}  // 7k parameters
	for _, c := range []struct {
		cfg     Config
		B, T    int
		want    int
		because string
	}{
		{deep, 8, 64, 4, "activations ≫ parameters: one shard per worker"},
		{wide, 4, 8, 1, "a quarter of the activations holds no extra gradient buffer"},
		{wide, 64, 8, 3, "two extra gradient buffers fit in a quarter of the activations"},
	} {
		m, err := NewWithBackend(c.cfg, 1, NewCPU(4))
		if err != nil {
			t.Fatal(err)
		}
		tok, tgt := batch(c.cfg.VocabSize, c.B*c.T, 2)
		if _, err := m.Forward(tok, tgt, c.B, c.T); err != nil {
			t.Fatal(err)
		}
		acts := mustNet(c.cfg).Layout(c.B, c.T)
		if got := max(1, m.Shards()); got != c.want {
			t.Errorf("%d params, %d activation floats (B=%d, T=%d): %d shards, want %d (%s)", m.NumParams(), acts, c.B, c.T, got, c.want, c.because)
		}
	}
}

func mustNet(cfg Config) *Net {
	n, err := NewNet(cfg)
	if err != nil {
		panic(err)
	}
	return n
}
