package gpt

import (
	"fmt"
	"math"
	"slices"
)

// Muon (MomentUm Orthogonalized by Newton–Schulz, Keller Jordan 2024; the optimizer
// of modded-nanogpt and nanochat, torch.optim.Muon since PyTorch 2.9) replaces a
// matrix's momentum by an approximation of its orthogonal polar factor: five
// iterations of the quintic X ← aX + (b·A + c·A²)X, A = XXᵀ, with the published
// coefficients below, which push every singular value of X = M/‖M‖_F into about
// [0.7, 1.2] in five steps. Each iteration is three matrix products, run here as
// single-threaded OpenBLAS calls (two ssyrk for the symmetric ones, one sgemm), one
// matrix per worker at a time.
const (
	MuonA = 3.4445
	MuonB = -4.7750
	MuonC = 2.0315

	muonEps = 1e-7 // ‖M‖_F is clamped below at this (torch.optim.Muon's eps)
)

type muonTask struct {
	params, grads, buf []float32
	tensors            []Tensor
	order              []int // tensor indices, largest first
	scratch            [][]float32
	lr, mom, wd        float32
	nesterov           bool
	steps              int
}

// run updates the tensors order[lo:hi] on worker w: every product of a matrix runs
// on the worker that took it, so the result does not depend on the worker count.
func (k *muonTask) run(w, _, lo, hi int) {
	for _, i := range k.order[lo:hi] {
		t := k.tensors[i]
		muonMatrix(k.params[t.Offset:t.Offset+t.Size], k.grads[t.Offset:t.Offset+t.Size], k.buf[t.Offset:t.Offset+t.Size],
			t.Shape[0], t.Shape[1], k.scratch[w], k.lr, k.mom, k.wd, k.nesterov, k.steps)
	}
}

// muonScratch is the floats one matrix of R×Cc needs: two R×Cc iterates and two
// m×m Gram matrices, m = min(R, Cc).
func muonScratch(R, Cc int) int {
	m := min(R, Cc)
	return 2*R*Cc + 2*m*m
}

// muonMatrix is one Muon step of an R×Cc matrix p (row-major, golem's (in, out)
// layout) with gradient g and momentum buffer buf.
func muonMatrix(p, g, buf []float32, R, Cc int, ws []float32, lr, mom, wd float32, nesterov bool, steps int) {
	n := R * Cc
	X, Y := ws[:n], ws[n:2*n]
	m := min(R, Cc)
	A, B := ws[2*n:2*n+m*m], ws[2*n+m*m:2*n+2*m*m]
	var ss float64
	for i := range g { // buf.lerp_(g, 1−mom); u = g.lerp(buf, mom) (Nesterov) or buf
		b := buf[i] + (g[i]-buf[i])*(1-mom)
		buf[i] = b
		u := b
		if nesterov {
			u = g[i] + (b-g[i])*mom
		}
		X[i] = u
		ss += float64(u) * float64(u)
	}
	inv := float32(1 / math.Max(math.Sqrt(ss), muonEps))
	for i := range X {
		X[i] *= inv
	}
	// The Gram matrix A and B = bA + cA² are symmetric: both come from ssyrk (half an
	// sgemm's work: A² = AAᵀ), upper triangle only, mirrored before the full product.
	for s := 0; s < steps; s++ {
		if R <= Cc { // wide: A = XXᵀ (R×R), X ← aX + (bA + cA²)X
			ssyrkUpper(false, R, Cc, 1, X, Cc, 0, A, R)
			mirrorUpper(A, m)
			copy(B, A)
			ssyrkUpper(false, R, R, MuonC, A, R, MuonB, B, R)
			mirrorUpper(B, m)
			copy(Y, X)
			sgemm(false, false, R, Cc, R, 1, B, R, X, Cc, MuonA, Y, Cc)
		} else { // tall: A = XᵀX (Cc×Cc), X ← aX + X(bA + cA²)
			ssyrkUpper(true, Cc, R, 1, X, Cc, 0, A, Cc)
			mirrorUpper(A, m)
			copy(B, A)
			ssyrkUpper(false, Cc, Cc, MuonC, A, Cc, MuonB, B, Cc)
			mirrorUpper(B, m)
			copy(Y, X)
			sgemm(false, false, R, Cc, Cc, 1, X, Cc, B, Cc, MuonA, Y, Cc)
		}
		X, Y = Y, X
	}
	// PyTorch's "original" adjustment for a (out, in) = (Cc, R) weight: √max(1, out/in).
	step := lr * float32(math.Sqrt(math.Max(1, float64(Cc)/float64(R))))
	decay := 1 - lr*wd
	for i := range p {
		p[i] = p[i]*decay - step*X[i]
	}
}

// mirrorUpper copies the upper triangle of the n×n row-major a into its lower one.
func mirrorUpper(a []float32, n int) {
	for i := 1; i < n; i++ {
		row := a[i*n : i*n+i]
		for j := range row {
			row[j] = a[j*n+i]
		}
	}
}

// Muon implements Backend.
func (c *CPU) Muon(params, grads, buf []float32, tensors []Tensor, lr, momentum, weightDecay float32, nesterov bool, nsSteps int) {
	need := 0
	for _, t := range tensors {
		if len(t.Shape) != 2 {
			panic(fmt.Sprintf("gpt Muon: tensor %s has shape %v, not a matrix", t.Name, t.Shape))
		}
		need = max(need, muonScratch(t.Shape[0], t.Shape[1]))
	}
	c.ensureScratch(need)
	// One matrix per chunk, the largest first (longest-processing-time order): the
	// workers finish together, where chunks of two neighbouring matrices (a block's
	// c_attn + c_proj against c_fc + mlp.c_proj) left one idle for 14% of the step.
	order := c.muonOrder[:0]
	for i := range tensors {
		order = append(order, i)
	}
	slices.SortStableFunc(order, func(a, b int) int { return tensors[b].Size - tensors[a].Size })
	c.muonOrder = order
	c.muon = muonTask{params: params, grads: grads, buf: buf, tensors: tensors, order: order, scratch: c.scratch,
		lr: lr, mom: momentum, wd: weightDecay, nesterov: nesterov, steps: nsSteps}
	c.p.runChunks(&c.muon, len(tensors), len(tensors))
}

// MatrixTensors returns the tensors Muon updates (KindMatrix: the blocks' attention
// and MLP weights), in buffer order: TensorsOf(KindMatrix).
func (m *Model) MatrixTensors() []Tensor { return m.TensorsOf(KindMatrix) }

// TensorsOf returns the parameter tensors of kind k in buffer order. The slice is
// shared; do not modify it.
func (m *Model) TensorsOf(k TensorKind) []Tensor { return m.byKind[k] }

// MuonStep applies one Muon step (Backend.Muon: torch.optim.Muon's update with
// nsSteps Newton–Schulz iterations) to the given tensors, 2-D views of Params, using
// Grads; buf holds the momentum at Params' offsets (len(Params), zero before the first
// step; other offsets are not touched). lr is the step before the shape adjustment
// √max(1, out/in); weight decay is decoupled (Params·(1 − lr·weightDecay)).
func (m *Model) MuonStep(tensors []Tensor, lr, momentum, weightDecay float32, nesterov bool, nsSteps int, buf []float32) {
	if len(buf) != len(m.Params) {
		panic(fmt.Sprintf("gpt MuonStep: momentum buffer has %d entries, want %d", len(buf), len(m.Params)))
	}
	if nsSteps < 0 {
		panic(fmt.Sprintf("gpt MuonStep: %d Newton–Schulz steps", nsSteps))
	}
	m.be.Muon(m.Params, m.Grads, buf, tensors, lr, momentum, weightDecay, nesterov, nsSteps)
}

// AdamWStepOn is AdamWStep restricted to tensors (a subset of Tensors(), e.g. one
// kind with its own learning rate); the moments of other tensors are not touched.
func (m *Model) AdamWStepOn(tensors []Tensor, lr, beta1, beta2, eps, weightDecay float32, step int, mState, vState []float32) {
	if len(mState) != len(m.Params) || len(vState) != len(m.Params) {
		panic(fmt.Sprintf("gpt AdamWStepOn: moments have %d and %d entries, want %d", len(mState), len(vState), len(m.Params)))
	}
	if step < 1 {
		panic(fmt.Sprintf("gpt AdamWStepOn: step %d must count from 1", step))
	}
	if len(tensors) == 0 {
		return
	}
	m.be.AdamW(m.Params, m.Grads, mState, vState, tensors, lr, beta1, beta2, eps, weightDecay, step)
}
