package gpt

import (
	"math"
	"runtime"
	"testing"
	"time"
)

// BenchmarkTrainStep times one forward+backward+AdamW step of the baby config
// (4/4/128, T=64, B=12); `make bench-train` compares it with PyTorch.
func BenchmarkTrainStep(b *testing.B) {
	m, err := New(DefaultConfig(), 1)
	if err != nil {
		b.Fatal(err)
	}
	const B, T = 12, 64
	tok, tgt := batch(65, B*T, 1)
	mom, vel := make([]float32, m.NumParams()), make([]float32, m.NumParams())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Forward(tok, tgt, B, T); err != nil {
			b.Fatal(err)
		}
		m.ZeroGrad()
		m.Backward()
		m.AdamWStep(1e-3, 0.9, 0.95, 1e-8, 0.1, i+1, mom, vel)
	}
	b.ReportMetric(float64(b.N*B*T)/b.Elapsed().Seconds(), "tok/s")
}

func BenchmarkGelu(b *testing.B) {
	c := NewCPU(0)
	x := randn(NewRNG(1), 1<<20, 1)
	out := make([]float32, len(x))
	b.Run("forward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c.GeluForward(out, x)
		}
	})
	b.Run("backward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			c.GeluBackward(out, x, x)
		}
	})
}

// BenchmarkAttention times one baby layer's attention (B=12, T=64, 4 heads of 32)
// on one worker, through the C loops and through the sgemm row blocks.
func BenchmarkAttention(b *testing.B) {
	const B, T, C, NH = 12, 64, 128, 4
	be := NewCPU(1)
	r := NewRNG(1)
	qkv := randn(r, B*T*3*C, 1)
	out, att := make([]float32, B*T*C), make([]float32, B*NH*T*T)
	dout, dqkv := randn(r, B*T*C, 1), make([]float32, B*T*3*C)
	saved := attLoopsMaxT
	defer func() { attLoopsMaxT = saved }()
	for _, lim := range []int{64, 0} {
		attLoopsMaxT = lim
		name := "loops"
		if lim == 0 {
			name = "sgemm"
		}
		b.Run(name+"/fwd", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				be.AttentionForward(out, att, qkv, B, T, C, NH, Dropout{})
			}
		})
		b.Run(name+"/bwd", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				be.AttentionBackward(dqkv, dout, qkv, att, B, T, C, NH, Dropout{})
			}
		})
	}
}

// BenchmarkTrainStepTiny times a step of a model so small (2 layers, width 16,
// B=2, T=8) that the kernels take microseconds: what it measures is the per-op
// overhead (dispatch to the workers, the op sequence's Buf → slice resolution).
func BenchmarkTrainStepTiny(b *testing.B) {
	cfg := Config{VocabSize: 17, ContextLen: 8, Layers: 2, Heads: 2, Width: 16, Bias: true}
	m, err := NewWithBackend(cfg, 1, NewCPU(1))
	if err != nil {
		b.Fatal(err)
	}
	const B, T = 2, 8
	tok, tgt := batch(17, B*T, 1)
	mom, vel := make([]float32, m.NumParams()), make([]float32, m.NumParams())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Forward(tok, tgt, B, T); err != nil {
			b.Fatal(err)
		}
		m.ZeroGrad()
		m.Backward()
		m.AdamWStep(1e-3, 0.9, 0.95, 1e-8, 0.1, i+1, mom, vel)
	}
}

// BenchmarkMuon times one Muon step of the baby shape's matrices (4 layers of
// width 128: c_attn 128×384, c_proj 128×128, c_fc 128×512, mlp.c_proj 512×128) and
// reports the Newton–Schulz GFLOP/s (three products per iteration, five iterations).
func BenchmarkMuon(b *testing.B) {
	cfg := Preset(4)
	m, err := New(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	r := NewRNG(2)
	for i := range m.Grads {
		m.Grads[i] = float32(r.NormFloat64())
	}
	buf := make([]float32, len(m.Params))
	var flops float64
	for _, t := range m.MatrixTensors() {
		R, C := float64(t.Shape[0]), float64(t.Shape[1])
		mn, mx := math.Min(R, C), math.Max(R, C)
		flops += 5 * (2*mn*mn*mx + 2*mn*mn*mn + 2*mn*mn*mx)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.MuonStep(m.MatrixTensors(), 0.02, 0.95, 0, true, 5, buf)
	}
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "NS-GFLOP/s")
}

// BenchmarkSpareP measures SpareP in one process: a baby training step (B=12,
// T=64) on two workers, with GOMAXPROCS alternating between 2 (no idle P) and 3
// (one idle P) from step to step, so that the machine's drifts fall on both
// alike. It reports the mean step time of each; on a 2-core EPYC the spare P made
// the step 11–13% faster (BENCHMARKS.md, *Spare P*).
// go test ./lmlib/gpt -run '^$' -bench SpareP -benchtime 400x
func BenchmarkSpareP(b *testing.B) {
	keepProcs(b)
	SpareP = false
	m, err := NewWithBackend(DefaultConfig(), 1, NewCPU(2))
	if err != nil {
		b.Fatal(err)
	}
	const B, T = 12, 64
	tok, tgt := batch(65, B*T, 1)
	mom, vel := make([]float32, m.NumParams()), make([]float32, m.NumParams())
	var sum [2]time.Duration
	var n [2]int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := i % 2
		runtime.GOMAXPROCS(2 + v)
		t0 := time.Now()
		m.ZeroGrad()
		if _, err := m.ForwardBackward(tok, tgt, B, T); err != nil {
			b.Fatal(err)
		}
		m.AdamWStep(1e-3, 0.9, 0.95, 1e-8, 0.1, i+1, mom, vel)
		sum[v] += time.Since(t0)
		n[v]++
	}
	for v, name := range []string{"ms/step-gomaxprocs2", "ms/step-gomaxprocs3"} {
		if n[v] > 0 {
			b.ReportMetric(sum[v].Seconds()*1e3/float64(n[v]), name)
		}
	}
}
