package gpt

import "fmt"

// Net is the GPT op sequence for one batch shape (B,T), over buffer handles:
//
//   - the parameters and their gradients as Bufs at the offsets of Model.Tensors
//     (arenas ArenaParams and ArenaGrads);
//   - the activations and backward scratch as Bufs laid out by the activation size
//     table (actTable, arena ArenaActs): Layout derives both the arena's size and
//     every view from that one table, as llm.c's act_sizes does;
//   - Forward and Backward, which issue the ops in order through an Ops.
//
// gpt.Model runs a Net on the host (hostOps: Bufs become slices, ops go to a
// Backend); lmlib/gpt/cuda runs the same Net over device memory. The two engines
// therefore share one op sequence and one activation layout and cannot drift.
type Net struct {
	cfg   Config
	b, t  int
	p, g  netParams
	acts  netActs
	size  int       // floats in ArenaActs for (b,t)
	rows  []actRow  // the activation size table of the last Layout (reused)
	drops []Dropout // per dropout site for the next Forward/Backward: emb, then per layer attn, resid1, resid2 (zero: off)
}

// layerParams are one block's parameter (or gradient) views; biases are the zero
// Buf without Config.Bias.
type layerParams struct {
	ln1w, ln1b, qkvw, qkvb, projw, projb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb Buf
}

type netParams struct {
	wte, wpe   Buf // wpe is the zero Buf with Config.Rotary
	layers     []layerParams
	lnfw, lnfb Buf
	head       Buf // the classifier's weight: lm_head with Config.Untied, else wte
}

// layerActs are the activations of one block kept for the backward pass.
// With RMSNorm the Mean views are empty; qkRstd is empty without QKNorm.
type layerActs struct {
	ln1, ln1Mean, ln1Rstd Buf // (N,C) (N) (N)
	qkv                   Buf // (N,3C); queries and keys after QK-norm and RoPE when on
	qkRstd                Buf // (B,T,2,NH) QK-norm factors
	att                   Buf // (B,NH,T,T)
	atty                  Buf // (N,C)
	res2                  Buf // (N,C) residual after attention
	ln2, ln2Mean, ln2Rstd Buf // (N,C) (N) (N)
	fch, fchAct           Buf // (N,4C) before and after the activation (GELU or ReLU²)
	res3                  Buf // (N,C) residual after the MLP (the block's output)
}

// netActs are every view into ArenaActs.
type netActs struct {
	encoded               Buf // (N,C)
	layers                []layerActs
	branch                Buf // (N,C) output of attn/MLP projections before the residual add
	lnf, lnfMean, lnfRstd Buf // (N,C) (N) (N)
	logits                Buf // (N,V) logits, or dlogits after a Forward with targets
	losses                Buf // (N)
	dres, dC              Buf // (N,C) backward scratch
	dC2                   Buf // (N,C) masked branch gradient (dropout only)
	d3C                   Buf // (N,3C)
	d4C                   Buf // (N,4C)
}

// actRow is one row of the activation size table: a view and its size in floats.
type actRow struct {
	name  string // for messages; per-layer rows repeat their name with layer ≥ 0
	layer int    // -1: not per layer
	buf   *Buf
	size  int
}

// actTable is the activation size table for a (B,T) batch: every view into
// ArenaActs, in arena order, with its size. Layout sums it for the allocation and
// assigns the offsets from it; nothing else sizes the activations.
func (n *Net) actTable(B, T int) []actRow {
	c := n.cfg
	N, C, V, NH := B*T, c.Width, c.VocabSize, c.Heads
	a := &n.acts
	r := n.rows[:0]
	meanN := N // LayerNorm keeps the row means, RMSNorm has none
	if c.RMSNorm {
		meanN = 0
	}
	qkN := 0
	if c.QKNorm {
		qkN = 2 * N * NH
	}
	row := func(name string, layer int, b *Buf, size int) {
		r = append(r, actRow{name, layer, b, size})
	}
	row("encoded", -1, &a.encoded, N*C)
	for l := range a.layers {
		x := &a.layers[l]
		row("ln1", l, &x.ln1, N*C)
		row("ln1Mean", l, &x.ln1Mean, meanN)
		row("ln1Rstd", l, &x.ln1Rstd, N)
		row("qkv", l, &x.qkv, N*3*C)
		row("qkRstd", l, &x.qkRstd, qkN)
		row("att", l, &x.att, B*NH*T*T)
		row("atty", l, &x.atty, N*C)
		row("res2", l, &x.res2, N*C)
		row("ln2", l, &x.ln2, N*C)
		row("ln2Mean", l, &x.ln2Mean, meanN)
		row("ln2Rstd", l, &x.ln2Rstd, N)
		row("fch", l, &x.fch, N*4*C)
		row("fchAct", l, &x.fchAct, N*4*C)
		row("res3", l, &x.res3, N*C)
	}
	row("branch", -1, &a.branch, N*C)
	row("lnf", -1, &a.lnf, N*C)
	row("lnfMean", -1, &a.lnfMean, meanN)
	row("lnfRstd", -1, &a.lnfRstd, N)
	row("logits", -1, &a.logits, N*V)
	row("losses", -1, &a.losses, N)
	row("dres", -1, &a.dres, N*C)
	row("dC", -1, &a.dC, N*C)
	row("dC2", -1, &a.dC2, N*C)
	row("d3C", -1, &a.d3C, N*3*C)
	row("d4C", -1, &a.d4C, N*4*C)
	n.rows = r
	return r
}

// NewNet returns the op sequence of a GPT with config cfg, its parameter views
// laid out as Model.Tensors; call Layout before the first Forward.
func NewNet(cfg Config) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Net{cfg: cfg, drops: make([]Dropout, 1+3*cfg.Layers)}
	tensors := cfg.tensors()
	n.p = paramViews(cfg, tensors, ArenaParams)
	n.g = paramViews(cfg, tensors, ArenaGrads)
	n.acts.layers = make([]layerActs, cfg.Layers)
	return n, nil
}

func paramViews(cfg Config, tensors []Tensor, arena Arena) netParams {
	byName := make(map[string]Buf, len(tensors))
	for _, t := range tensors {
		byName[t.Name] = Buf{Arena: arena, Off: t.Offset, Len: t.Size}
	}
	v := netParams{wte: byName["wte"], wpe: byName["wpe"], lnfw: byName["ln_f.weight"], lnfb: byName["ln_f.bias"]}
	v.head = v.wte
	if cfg.Untied {
		v.head = byName["lm_head.weight"]
	}
	for l := 0; l < cfg.Layers; l++ {
		p := func(s string) Buf { return byName[fmt.Sprintf("h.%d.%s", l, s)] }
		v.layers = append(v.layers, layerParams{
			ln1w: p("ln_1.weight"), ln1b: p("ln_1.bias"),
			qkvw: p("attn.c_attn.weight"), qkvb: p("attn.c_attn.bias"),
			projw: p("attn.c_proj.weight"), projb: p("attn.c_proj.bias"),
			ln2w: p("ln_2.weight"), ln2b: p("ln_2.bias"),
			fcw: p("mlp.c_fc.weight"), fcb: p("mlp.c_fc.bias"),
			fcprojw: p("mlp.c_proj.weight"), fcprojb: p("mlp.c_proj.bias"),
		})
	}
	return v
}

// Layout lays out the activations for a (B,T) batch and returns the number of
// floats ArenaActs must hold. It allocates nothing after the first call.
func (n *Net) Layout(B, T int) int {
	off := 0
	for _, r := range n.actTable(B, T) {
		*r.buf = Buf{Arena: ArenaActs, Off: off, Len: r.size}
		off += r.size
	}
	n.b, n.t, n.size = B, T, off
	return off
}

// Batch returns the (B,T) of the last Layout.
func (n *Net) Batch() (B, T int) { return n.b, n.t }

// ActSize returns the floats ArenaActs holds for the last Layout.
func (n *Net) ActSize() int { return n.size }

// Tokens and Targets are the batch's int32 arenas, N = B·T each.
func (n *Net) Tokens() Buf  { return Buf{Arena: ArenaTokens, Len: n.b * n.t} }
func (n *Net) Targets() Buf { return Buf{Arena: ArenaTargets, Len: n.b * n.t} }

// Logits is (N,V): the logits after a Forward without targets, the fused dlogits
// after one with targets. Losses is (N): the per-row cross-entropy (0 where the
// target is -1) after a Forward with targets.
func (n *Net) Logits() Buf { return n.acts.logits }
func (n *Net) Losses() Buf { return n.acts.losses }

// ClassifierInputs are the classifier's operands after a Forward: the final
// norm's output (N,C) and the head (V,C) — the tied token embedding wte, or lm_head
// with Config.Untied — for recomputing logits that the fused cross-entropy has
// overwritten (soft-capped by Config.SoftCap).
func (n *Net) ClassifierInputs() (lnf, head Buf) { return n.acts.lnf, n.p.head }

// normForward is the block's norm op: with a non-zero res, res = a + drop(x) and
// out = Norm(res) (fused), else out = Norm(x). LayerNorm or RMSNorm (no mean, no b).
func (n *Net) normForward(o Ops, res, out, mean, rstd, a, x, w, b Buf, N, C int, drop Dropout) {
	switch {
	case n.cfg.RMSNorm && res != (Buf{}):
		o.ResidualRMSNormForward(res, out, rstd, a, x, w, N, C, drop)
	case n.cfg.RMSNorm:
		o.RMSNormForward(out, rstd, x, w, N, C)
	case res != (Buf{}):
		o.ResidualLayernormForward(res, out, mean, rstd, a, x, w, b, N, C, drop)
	default:
		o.LayernormForward(out, mean, rstd, x, w, b, N, C)
	}
}

// normBackward is normForward's backward: dinp += ∂/∂inp; dw, db +=.
func (n *Net) normBackward(o Ops, dinp, dw, db, dout, inp, w, mean, rstd Buf, N, C int) {
	if n.cfg.RMSNorm {
		o.RMSNormBackward(dinp, dw, dout, inp, w, rstd, N, C)
		return
	}
	o.LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd, N, C)
}

func (n *Net) dropout(site int) Dropout { return n.drops[site] }

// Forward issues the forward pass of the (B,T) batch in ArenaTokens: embeddings,
// the blocks, the final LayerNorm and the classifier. With targets > 0 (the number
// of targets that count, CheckBatch's count) the classifier reads ArenaTargets and
// writes Losses and the dlogits of the mean loss, preparing Backward; with 0 it
// writes the logits only.
func (n *Net) Forward(o Ops, targets int) {
	c := n.cfg
	B, T := n.b, n.t
	N, C, V, NH := B*T, c.Width, c.VocabSize, c.Heads
	p, a := &n.p, &n.acts
	qk := c.QKNorm || c.Rotary
	o.EncoderForward(a.encoded, n.Tokens(), p.wte, p.wpe, B, T, C, n.dropout(0))
	a0 := &a.layers[0]
	n.normForward(o, Buf{}, a0.ln1, a0.ln1Mean, a0.ln1Rstd, Buf{}, a.encoded, p.layers[0].ln1w, p.layers[0].ln1b, N, C, Dropout{})
	for l := range a.layers {
		x, w := &a.layers[l], &p.layers[l]
		in := a.encoded
		if l > 0 {
			in = a.layers[l-1].res3
		}
		o.MatmulForward(x.qkv, x.ln1, w.qkvw, w.qkvb, N, C, 3*C)
		if qk {
			o.QKRotaryForward(x.qkv, x.qkRstd, B, T, C, NH, c.QKNorm, c.Rotary)
		}
		o.AttentionForward(x.atty, x.att, x.qkv, B, T, C, NH, n.dropout(1+3*l))
		o.MatmulForward(a.branch, x.atty, w.projw, w.projb, N, C, C)
		n.normForward(o, x.res2, x.ln2, x.ln2Mean, x.ln2Rstd, in, a.branch, w.ln2w, w.ln2b, N, C, n.dropout(2+3*l))
		o.MatmulForward(x.fch, x.ln2, w.fcw, w.fcb, N, C, 4*C)
		if c.ReLU2 {
			o.Relu2Forward(x.fchAct, x.fch)
		} else {
			o.GeluForward(x.fchAct, x.fch)
		}
		o.MatmulForward(a.branch, x.fchAct, w.fcprojw, w.fcprojb, N, 4*C, C)
		// The residual add is fused with the next norm (the next block's ln_1, or ln_f).
		out, mean, rstd, lw, lb := a.lnf, a.lnfMean, a.lnfRstd, p.lnfw, p.lnfb
		if l+1 < len(a.layers) {
			nx := &a.layers[l+1]
			out, mean, rstd, lw, lb = nx.ln1, nx.ln1Mean, nx.ln1Rstd, p.layers[l+1].ln1w, p.layers[l+1].ln1b
		}
		n.normForward(o, x.res3, out, mean, rstd, x.res2, a.branch, lw, lb, N, C, n.dropout(3+3*l))
	}
	if targets == 0 {
		o.ClassifierForward(a.logits, Buf{}, a.lnf, p.head, Buf{}, N, C, V, 0, c.SoftCap)
		return
	}
	o.ClassifierForward(a.logits, a.losses, a.lnf, p.head, n.Targets(), N, C, V, 1/float32(targets), c.SoftCap)
}

// Backward issues the backward pass of the last Forward (which had targets),
// accumulating into the gradients in ArenaGrads.
func (n *Net) Backward(o Ops) {
	c := n.cfg
	B, T := n.b, n.t
	N, C, V, NH := B*T, c.Width, c.VocabSize, c.Heads
	p, g, a := &n.p, &n.g, &n.acts

	qk := c.QKNorm || c.Rotary
	o.ClassifierBackward(a.dC, g.head, a.logits, a.lnf, p.head, N, C, V)
	o.Zero(a.dres)
	last := a.layers[len(a.layers)-1].res3
	n.normBackward(o, a.dres, g.lnfw, g.lnfb, a.dC, last, p.lnfw, a.lnfMean, a.lnfRstd, N, C)
	for l := len(a.layers) - 1; l >= 0; l-- {
		x, w, gw := &a.layers[l], &p.layers[l], &g.layers[l]
		in := a.encoded
		if l > 0 {
			in = a.layers[l-1].res3
		}
		dbranch := a.dres
		if d := n.dropout(3 + 3*l); d.Active() {
			o.DropoutApply(a.dC2, a.dres, d)
			dbranch = a.dC2
		}
		o.MatmulBackward(a.d4C, gw.fcprojw, gw.fcprojb, dbranch, x.fchAct, w.fcprojw, N, 4*C, C)
		if c.ReLU2 {
			o.Relu2Backward(a.d4C, x.fch, a.d4C)
		} else {
			o.GeluBackward(a.d4C, x.fch, a.d4C)
		}
		o.MatmulBackward(a.dC, gw.fcw, gw.fcb, a.d4C, x.ln2, w.fcw, N, C, 4*C)
		n.normBackward(o, a.dres, gw.ln2w, gw.ln2b, a.dC, x.res2, w.ln2w, x.ln2Mean, x.ln2Rstd, N, C)
		dbranch = a.dres
		if d := n.dropout(2 + 3*l); d.Active() {
			o.DropoutApply(a.dC2, a.dres, d)
			dbranch = a.dC2
		}
		o.MatmulBackward(a.dC, gw.projw, gw.projb, dbranch, x.atty, w.projw, N, C, C)
		o.AttentionBackward(a.d3C, a.dC, x.qkv, x.att, B, T, C, NH, n.dropout(1+3*l))
		if qk {
			o.QKRotaryBackward(a.d3C, x.qkv, x.qkRstd, B, T, C, NH, c.QKNorm, c.Rotary)
		}
		o.MatmulBackward(a.dC, gw.qkvw, gw.qkvb, a.d3C, x.ln1, w.qkvw, N, C, 3*C)
		n.normBackward(o, a.dres, gw.ln1w, gw.ln1b, a.dC, in, w.ln1w, x.ln1Mean, x.ln1Rstd, N, C)
	}
	demb := a.dres
	if d := n.dropout(0); d.Active() {
		o.DropoutApply(a.dC2, a.dres, d)
		demb = a.dC2
	}
	o.EncoderBackward(g.wte, g.wpe, demb, n.Tokens(), B, T, C)
}
