package gpt

// Backend is the set of kernels a GPT needs, one method per op in the llm.c style.
// Shapes are row-major; N = B*T rows, C = width, OC = output channels, V = vocabulary,
// NH = heads. Gradients of parameters accumulate (+=) so gradient accumulation is
// free; gradients of activations are overwritten unless a comment says otherwise.
// The CPU backend (NewCPU) is the reference implementation; a CUDA backend
// implements the same methods over device buffers.
type Backend interface {
	// Name identifies the backend ("cpu").
	Name() string
	// EncoderForward: out (B,T,C) = drop(wte[tokens] + wpe[t]); wte (V,C), wpe (≥T,C).
	EncoderForward(out []float32, tokens []int32, wte, wpe []float32, B, T, C int, drop Dropout)
	// EncoderBackward: dwte (V,C) += scatter dout (B,T,C) by tokens; dwpe (≥T,C) += Σ_b dout.
	EncoderBackward(dwte, dwpe, dout []float32, tokens []int32, B, T, C int)
	// LayernormForward: out (N,C) = (inp-mean)*rstd*w + b; mean, rstd (N); b may be nil.
	LayernormForward(out, mean, rstd, inp, w, b []float32, N, C int)
	// ResidualLayernormForward: res (N,C) = a + drop(x); out (N,C) = LayerNorm(res) (fused).
	ResidualLayernormForward(res, out, mean, rstd, a, x, w, b []float32, N, C int, drop Dropout)
	// LayernormBackward: dinp (N,C) += ∂/∂inp (accumulates: residual stream); dw, db (C) +=; db may be nil.
	LayernormBackward(dinp, dw, db, dout, inp, w, mean, rstd []float32, N, C int)
	// MatmulForward: out (N,OC) = inp (N,C) @ w (C,OC) + bias (OC); bias may be nil.
	MatmulForward(out, inp, w, bias []float32, N, C, OC int)
	// MatmulBackward: dinp (N,C) = dout (N,OC) @ wᵀ; dw (C,OC) += inpᵀ @ dout; dbias (OC) += Σ_n dout (nil: none).
	MatmulBackward(dinp, dw, dbias, dout, inp, w []float32, N, C, OC int)
	// AttentionForward: qkv (B,T,3C) → out (B,T,C); att (B,NH,T,T) keeps the causal softmax probabilities (zero above the diagonal).
	AttentionForward(out, att, qkv []float32, B, T, C, NH int, drop Dropout)
	// AttentionBackward: dqkv (B,T,3C) from dout (B,T,C), qkv, att; drop as in the forward.
	AttentionBackward(dqkv, dout, qkv, att []float32, B, T, C, NH int, drop Dropout)
	// GeluForward: out (N) = 0.5·x·(1+tanh(√(2/π)(x+0.044715x³))), x = inp (N).
	GeluForward(out, inp []float32)
	// GeluBackward: dinp (N) = gelu'(inp)·dout; dinp may alias dout.
	GeluBackward(dinp, inp, dout []float32)
	// DropoutApply: out (N) = inp masked and scaled by drop; the same call is its own backward.
	DropoutApply(out, inp []float32, drop Dropout)
	// ClassifierForward: logits (N,V) = inp (N,C) @ wteᵀ (wte (V,C)); with targets (N, -1 = ignore):
	// losses (N) = cross-entropy and logits is overwritten by dlogits = (softmax - onehot)·dscale (fused).
	ClassifierForward(logits, losses, inp, wte []float32, targets []int32, N, C, V int, dscale float32)
	// ClassifierBackward: dinp (N,C) = dlogits (N,V) @ wte; dwte (V,C) += dlogitsᵀ @ inp.
	ClassifierBackward(dinp, dwte, dlogits, inp, wte []float32, N, C, V int)
	// AdamW: one decoupled-weight-decay Adam step (PyTorch's formula) over params/grads/m/v (P);
	// weight decay applies to the tensors with Decay set; step counts from 1.
	AdamW(params, grads, m, v []float32, tensors []Tensor, lr, beta1, beta2, eps, weightDecay float32, step int)
	// SumSquares: Σ x² (accumulated in float64).
	SumSquares(x []float32) float64
	// Scale: x *= s.
	Scale(x []float32, s float32)
}
