//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/golem-lm/golem/lmlib/gpt"
)

// These tests need a GPU (or the emulated driver of tools/gpucheck/emu): build them
// with `go test -c -tags cuda` on the CPU machine and run the binary there.

func tinyConfig() gpt.Config {
	return gpt.Config{VocabSize: 53, ContextLen: 16, Layers: 1, Heads: 2, Width: 32, Bias: true}
}

func openTiny(t *testing.T, cfg gpt.Config) (*gpt.Model, *Model) {
	t.Helper()
	dev, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	host, err := gpt.New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(dev, host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return host, m
}

func TestForwardErrors(t *testing.T) {
	_, m := openTiny(t, tinyConfig())
	ok := make([]int32, 2*8)
	bad := func(i int, v int32) []int32 { s := make([]int32, 2*8); s[i] = v; return s }
	allIgnored := make([]int32, 2*8)
	for i := range allIgnored {
		allIgnored[i] = -1
	}
	cases := []struct {
		name            string
		tokens, targets []int32
		B, T            int
		want            string
	}{
		{"zero batch", ok, nil, 0, 8, "must be positive"},
		{"T over context", make([]int32, 20), nil, 1, 20, "exceeds the model's context length 16"},
		{"token count", ok[:5], nil, 2, 8, "5 tokens for a 2×8 batch"},
		{"token id", bad(9, 53), nil, 2, 8, "token id 53 at batch row 1 position 1"},
		{"target id", ok, bad(3, -2), 2, 8, "target id -2 at batch row 0 position 3"},
		{"all ignored", ok, allIgnored, 2, 8, "every target of the 2×8 batch is -1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := m.Forward(c.tokens, c.targets, c.B, c.T)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if err := m.Backward(); err == nil {
		t.Fatal("Backward after failed Forwards succeeded")
	}
}

func TestDropoutRefused(t *testing.T) {
	dev, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig()
	cfg.Dropout = 0.1
	host, _ := gpt.New(cfg, 1)
	if _, err := New(dev, host); err == nil || !strings.Contains(err.Error(), "dropout") {
		t.Fatalf("New with dropout: %v", err)
	}
}

// TestParityTiny: the GPU's loss and gradients against the CPU engine's, for GPT-2 and
// for every switch of the modern recipe (RoPE, RMSNorm, QK-norm, ReLU², untied head,
// soft-cap), with biases too.
func TestParityTiny(t *testing.T) {
	modern := gpt.Preset(1)
	modern.VocabSize, modern.ContextLen, modern.Width, modern.Heads, modern.Bias = 53, 16, 32, 2, true
	for _, cfg := range []gpt.Config{tinyConfig(), modern} {
		t.Run(fmt.Sprintf("modern=%v", cfg.Rotary), func(t *testing.T) { parityTiny(t, cfg) })
	}
}

func parityTiny(t *testing.T, cfg gpt.Config) {
	host, m := openTiny(t, cfg)
	B, T := 2, 16
	tokens, targets := make([]int32, B*T), make([]int32, B*T)
	for i := range tokens {
		tokens[i], targets[i] = int32((i*5)%53), int32((i*5+7)%53)
	}
	lc, err := host.Forward(tokens, targets, B, T)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := m.Forward(tokens, targets, B, T)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(lg-lc)) > 1e-4*math.Abs(float64(lc)) {
		t.Fatalf("loss GPU %v CPU %v", lg, lc)
	}
	host.ZeroGrad()
	if err := host.Backward(); err != nil {
		t.Fatal(err)
	}
	if err := m.ZeroGrad(); err != nil {
		t.Fatal(err)
	}
	if err := m.Backward(); err != nil {
		t.Fatal(err)
	}
	back, _ := gpt.New(cfg, 9)
	if err := m.SyncToHost(back); err != nil {
		t.Fatal(err)
	}
	for _, tn := range host.Tensors() {
		g, c := back.Grads[tn.Offset:tn.Offset+tn.Size], host.Grads[tn.Offset:tn.Offset+tn.Size]
		var d, s float64
		for i := range g {
			d = math.Max(d, math.Abs(float64(g[i]-c[i])))
			s = math.Max(s, math.Abs(float64(c[i])))
		}
		if d > 1e-3*s+1e-12 {
			t.Errorf("gradient %s: max difference %.3g (scale %.3g)", tn.Name, d, s)
		}
	}
	if err := m.SyncToHost(nil); err == nil {
		t.Error("SyncToHost(nil) succeeded")
	}
}
