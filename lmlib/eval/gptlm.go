package eval

import (
	"fmt"
	"math"

	"github.com/golem-lm/golem/lmlib/gpt"
)

// GPT adapts a *gpt.Model to TokenModel and IncrementalModel: Logits runs the
// model's full forward pass; NewStepper returns a KV-cached stepper whose cost per
// generated token does not grow with the prompt (only attention reads the cache).
type GPT struct {
	M *gpt.Model
}

// NewGPT puts m in evaluation mode (no dropout) and wraps it.
func NewGPT(m *gpt.Model) *GPT {
	m.SetTrain(false, nil)
	return &GPT{M: m}
}

// ContextLen implements TokenModel.
func (g *GPT) ContextLen() int { return g.M.Config.ContextLen }

// VocabSize implements TokenModel.
func (g *GPT) VocabSize() int { return g.M.Config.VocabSize }

// Logits implements TokenModel (one sequence, B=1).
func (g *GPT) Logits(tokens []int32) ([]float32, error) {
	if _, err := g.M.Forward(tokens, nil, 1, len(tokens)); err != nil {
		return nil, err
	}
	return append([]float32(nil), g.M.Logits()...), nil
}

// NewStepper implements IncrementalModel.
func (g *GPT) NewStepper() (Stepper, error) {
	c := g.M.Config
	s := &kvStepper{m: g.M, be: g.M.Backend(), c: c}
	get := func(name string) ([]float32, error) {
		t, ok := g.M.Tensor(name)
		if !ok {
			if (!c.Bias || c.RMSNorm) && len(name) > 5 && name[len(name)-5:] == ".bias" {
				return nil, nil // no biases, or RMSNorm's (it has none)
			}
			if name == "wpe" && c.Rotary {
				return nil, nil
			}
			return nil, fmt.Errorf("kv cache: model has no tensor %s", name)
		}
		return g.M.Params[t.Offset : t.Offset+t.Size], nil
	}
	var err error
	must := func(name string) []float32 {
		if err != nil {
			return nil
		}
		var v []float32
		v, err = get(name)
		return v
	}
	s.wte, s.wpe = must("wte"), must("wpe")
	s.lnfw, s.lnfb = must("ln_f.weight"), must("ln_f.bias")
	s.head = s.wte
	if c.Untied {
		s.head = must("lm_head.weight")
	}
	s.layers = make([]kvLayer, c.Layers)
	for l := range s.layers {
		p := fmt.Sprintf("h.%d.", l)
		s.layers[l] = kvLayer{
			ln1w: must(p + "ln_1.weight"), ln1b: must(p + "ln_1.bias"),
			qkvw: must(p + "attn.c_attn.weight"), qkvb: must(p + "attn.c_attn.bias"),
			projw: must(p + "attn.c_proj.weight"), projb: must(p + "attn.c_proj.bias"),
			ln2w: must(p + "ln_2.weight"), ln2b: must(p + "ln_2.bias"),
			fcw: must(p + "mlp.c_fc.weight"), fcb: must(p + "mlp.c_fc.bias"),
			fcpw: must(p + "mlp.c_proj.weight"), fcpb: must(p + "mlp.c_proj.bias"),
			k: make([]float32, c.ContextLen*c.Width),
			v: make([]float32, c.ContextLen*c.Width),
		}
	}
	if err != nil {
		return nil, err
	}
	s.logits = make([]float32, c.VocabSize)
	return s, nil
}

type kvLayer struct {
	ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, fcpw, fcpb []float32
	k, v                                                                   []float32 // (ContextLen, C) cache
}

// kvStepper runs the GPT forward pass on new tokens only, reading keys and values
// of earlier positions from a per-layer cache.
type kvStepper struct {
	m      *gpt.Model
	be     gpt.Backend
	c      gpt.Config
	wte    []float32
	wpe    []float32 // nil with Config.Rotary
	head   []float32 // wte, or lm_head with Config.Untied
	lnfw   []float32
	lnfb   []float32
	layers []kvLayer
	pos    int // tokens in the cache

	// scratch for n new rows
	n                                        int
	x, ln, qkv, atty, branch, res, fch, fchg []float32
	mean, rstd                               []float32
	qkRstd                                   []float32 // QK-norm factors (n, 2, NH)
	scores                                   []float32
	logits                                   []float32
}

func (s *kvStepper) scratch(n int) {
	if s.n >= n {
		return
	}
	C := s.c.Width
	s.n = n
	s.x, s.ln, s.atty, s.branch, s.res = make([]float32, n*C), make([]float32, n*C), make([]float32, n*C), make([]float32, n*C), make([]float32, n*C)
	s.qkv = make([]float32, n*3*C)
	s.fch, s.fchg = make([]float32, n*4*C), make([]float32, n*4*C)
	s.mean, s.rstd = make([]float32, n), make([]float32, n)
	s.qkRstd = make([]float32, n*2*s.c.Heads)
	s.scores = make([]float32, s.c.ContextLen)
}

// Start implements Stepper.
func (s *kvStepper) Start(prompt []int32) ([]float32, error) {
	s.pos = 0
	if len(prompt) == 0 {
		return nil, fmt.Errorf("kv cache: empty prompt")
	}
	return s.feed(prompt)
}

// Step implements Stepper.
func (s *kvStepper) Step(token int32) ([]float32, error) { return s.feed([]int32{token}) }

func (s *kvStepper) feed(toks []int32) ([]float32, error) {
	c := s.c
	n, C, NH := len(toks), c.Width, c.Heads
	if s.pos+n > c.ContextLen {
		return nil, fmt.Errorf("kv cache: %d tokens would exceed the context length %d", s.pos+n, c.ContextLen)
	}
	for i, t := range toks {
		if t < 0 || int(t) >= c.VocabSize {
			return nil, fmt.Errorf("kv cache: token id %d at position %d is outside the vocabulary [0,%d)", t, s.pos+i, c.VocabSize)
		}
	}
	s.scratch(n)
	x, ln, qkv, atty, br, res := s.x[:n*C], s.ln[:n*C], s.qkv[:n*3*C], s.atty[:n*C], s.branch[:n*C], s.res[:n*C]
	fch, fchg, mean, rstd := s.fch[:n*4*C], s.fchg[:n*4*C], s.mean[:n], s.rstd[:n]
	for i, t := range toks {
		p := s.pos + i
		for j := 0; j < C; j++ {
			x[i*C+j] = s.wte[int(t)*C+j]
			if s.wpe != nil {
				x[i*C+j] += s.wpe[p*C+j]
			}
		}
	}
	hs := C / NH
	scale := float32(1 / math.Sqrt(float64(hs)))
	for l := range s.layers {
		L := &s.layers[l]
		s.norm(ln, mean, rstd, x, L.ln1w, L.ln1b, n)
		s.be.MatmulForward(qkv, ln, L.qkvw, L.qkvb, n, C, 3*C)
		if c.QKNorm || c.Rotary { // queries and keys at positions pos…pos+n−1; the cache keeps them transformed
			s.be.QKRotaryForward(qkv, s.qkRstd[:n*2*NH], 1, n, s.pos, C, NH, c.QKNorm, c.Rotary)
		}
		for i := 0; i < n; i++ {
			p := s.pos + i
			copy(L.k[p*C:(p+1)*C], qkv[i*3*C+C:i*3*C+2*C])
			copy(L.v[p*C:(p+1)*C], qkv[i*3*C+2*C:i*3*C+3*C])
		}
		for i := 0; i < n; i++ {
			last := s.pos + i // attends to positions 0..last
			for h := 0; h < NH; h++ {
				q := qkv[i*3*C+h*hs : i*3*C+(h+1)*hs]
				sc := s.scores[:last+1]
				maxv := float32(math.Inf(-1))
				for p := 0; p <= last; p++ {
					k := L.k[p*C+h*hs : p*C+(h+1)*hs]
					var dot float32
					for d := range q {
						dot += q[d] * k[d]
					}
					sc[p] = dot * scale
					if sc[p] > maxv {
						maxv = sc[p]
					}
				}
				var sum float32
				for p := range sc {
					sc[p] = float32(math.Exp(float64(sc[p] - maxv)))
					sum += sc[p]
				}
				out := atty[i*C+h*hs : i*C+(h+1)*hs]
				clear(out)
				inv := 1 / sum
				for p := range sc {
					w := sc[p] * inv
					v := L.v[p*C+h*hs : p*C+(h+1)*hs]
					for d := range out {
						out[d] += w * v[d]
					}
				}
			}
		}
		s.be.MatmulForward(br, atty, L.projw, L.projb, n, C, C)
		if c.RMSNorm {
			s.be.ResidualRMSNormForward(res, ln, rstd, x, br, L.ln2w, n, C, gpt.Dropout{})
		} else {
			s.be.ResidualLayernormForward(res, ln, mean, rstd, x, br, L.ln2w, L.ln2b, n, C, gpt.Dropout{})
		}
		s.be.MatmulForward(fch, ln, L.fcw, L.fcb, n, C, 4*C)
		if c.ReLU2 {
			s.be.Relu2Forward(fchg, fch)
		} else {
			s.be.GeluForward(fchg, fch)
		}
		s.be.MatmulForward(br, fchg, L.fcpw, L.fcpb, n, 4*C, C)
		for j := range x {
			x[j] = res[j] + br[j]
		}
	}
	s.pos += n
	lastRow := x[(n-1)*C : n*C]
	s.norm(ln[:C], mean[:1], rstd[:1], lastRow, s.lnfw, s.lnfb, 1)
	s.be.ClassifierForward(s.logits, nil, ln[:C], s.head, nil, 1, C, c.VocabSize, 0, c.SoftCap)
	return s.logits, nil
}

// norm is the model's norm (LayerNorm, or RMSNorm with Config.RMSNorm) of n rows.
func (s *kvStepper) norm(out, mean, rstd, x, w, b []float32, n int) {
	if s.c.RMSNorm {
		s.be.RMSNormForward(out, rstd, x, w, n, s.c.Width)
		return
	}
	s.be.LayernormForward(out, mean, rstd, x, w, b, n, s.c.Width)
}
