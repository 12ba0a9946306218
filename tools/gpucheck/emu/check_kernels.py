"""Check golem's CUDA kernels (lmlib/gpt/cuda/kernels.cu) on the CPU against numpy
references, through the emulation in emu.h: indexing, reductions, fused steps. The
matrix products (cuBLAS) are not covered; the GPU check (gpucheck.sh parity) covers
the whole model. Run: make cuda-emu-check (needs g++ ≥ 12 and numpy).
"""
import ctypes as ct
import math
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = sys.argv[1] if len(sys.argv) > 1 else "build/cuda-emu"
lib = ct.CDLL(subprocess.run([sys.executable, os.path.join(HERE, "build.py"), OUT], capture_output=True, text=True,
                             check=True).stdout.strip())
rng = np.random.default_rng(0)
fails = []


def P(a):
    return a.ctypes.data_as(ct.c_void_p)


def I(v):
    return ct.c_int(v)


def L(v):
    return ct.c_longlong(v)


def F(v):
    return ct.c_float(v)


def run(name, gx, bx, *args, gy=1, shared=0):
    getattr(lib, "emu_" + name)(I(gx), I(gy), I(bx), I(shared), *args)


def check(name, got, want, tol=1e-5):
    err = float(np.max(np.abs(got - want)) / max(1e-30, float(np.max(np.abs(want)))))
    ok = err <= tol
    print(f"emu {name:34s} rel={err:.2e} {'ok' if ok else 'FAIL'}")
    if not ok:
        fails.append(name)


def f32(*shape):
    return rng.standard_normal(shape).astype(np.float32)


B, T, C, NH, V = 2, 7, 40, 4, 37
N, hs = B * T, C // NH
cdiv = lambda a, b: (a + b - 1) // b

# encoder
tokens = rng.integers(0, V, N).astype(np.int32)
wte, wpe = f32(V, C), f32(T + 3, C)
out = np.zeros((N, C), np.float32)
run("encoder_forward", cdiv(N * C, 64), 64, P(out), P(tokens), P(wte), P(wpe), I(B), I(T), I(C))
check("encoder_forward", out, wte[tokens] + np.tile(wpe[:T], (B, 1)))
dout = f32(N, C)
dwte, dwpe = f32(V, C), f32(T + 3, C)
want_wte, want_wpe = dwte.copy(), dwpe.copy()
np.add.at(want_wte, tokens, dout)
want_wpe[:T] += dout.reshape(B, T, C).sum(0)
run("encoder_backward_wte", cdiv(N * C, 64), 64, P(dwte), P(dout), P(tokens), I(N), I(C))
run("encoder_backward_wpe", cdiv(T * C, 64), 64, P(dwpe), P(dout), I(B), I(T), I(C))
check("encoder_backward_wte", dwte, want_wte)
check("encoder_backward_wpe", dwpe, want_wpe)


# layernorm forward, plain and fused residual, with and without bias
def ln_ref(x, w, b):
    m = x.mean(1, keepdims=True)
    r = 1 / np.sqrt(((x - m) ** 2).mean(1, keepdims=True) + 1e-5)
    y = (x - m) * r * w + (b if b is not None else 0)
    return y, m[:, 0], r[:, 0]


x, a, w, b = f32(N, C), f32(N, C), f32(C), f32(C)
for fused in (False, True):
    for bias in (b, None):
        res, out, mean, rstd = (np.zeros((N, C), np.float32), np.zeros((N, C), np.float32),
                                np.zeros(N, np.float32), np.zeros(N, np.float32))
        run("layernorm_forward", cdiv(N, 8), 256, P(res) if fused else None, P(out), P(mean), P(rstd),
            P(a) if fused else None, P(x), P(w), P(bias) if bias is not None else None, I(N), I(C))
        inp = a + x if fused else x
        y, m, r = ln_ref(inp, w, bias)
        tag = f"layernorm_forward fused={int(fused)} bias={int(bias is not None)}"
        check(tag, out, y)
        check(tag + " rstd", rstd, r)
        if fused:
            check(tag + " res", res, inp)

# layernorm backward (accumulating)
y, m, r = ln_ref(x, w, b)
mean, rstd = m.astype(np.float32), r.astype(np.float32)
d = f32(N, C)
dinp, dw, db = f32(N, C), f32(C), f32(C)
xh = (x - m[:, None]) * r[:, None]
dxh = d * w
want_dinp = dinp + (dxh - dxh.mean(1, keepdims=True) - xh * (dxh * xh).mean(1, keepdims=True)) * r[:, None]
want_dw, want_db = dw + (xh * d).sum(0), db + d.sum(0)
run("layernorm_backward", 2, 64, P(dinp), P(dw), P(db), P(d), P(x), P(w), P(mean), P(rstd), I(N), I(C), shared=2 * C * 4)
check("layernorm_backward dinp", dinp, want_dinp, 1e-4)
check("layernorm_backward dw", dw, want_dw, 1e-4)
check("layernorm_backward db", db, want_db, 1e-4)

# bias add / backward
OC = 3 * C
o, bias = f32(N, OC), f32(OC)
want = o + bias
run("add_bias", cdiv(N * OC, 64), 64, P(o), P(bias), I(N), I(OC))
check("add_bias", o, want)
dbias = f32(OC)
want = dbias + o.sum(0)
run("bias_backward", cdiv(OC, 64), 64, P(dbias), P(o), I(N), I(OC), gy=3)
check("bias_backward", dbias, want, 1e-5)

# attention permutes
qkv = f32(B, T, 3, NH, hs)
q, k, v = (np.zeros((B, NH, T, hs), np.float32) for _ in range(3))
n = B * NH * T * hs
run("attn_permute", cdiv(n, 64), 64, P(q), P(k), P(v), P(qkv), I(B), I(T), I(NH), I(hs))
check("attn_permute q", q, qkv[:, :, 0].transpose(0, 2, 1, 3))
check("attn_permute v", v, qkv[:, :, 2].transpose(0, 2, 1, 3))
dqkv = np.zeros_like(qkv)
run("attn_permute_backward", cdiv(n, 64), 64, P(dqkv), P(q), P(k), P(v), I(B), I(T), I(NH), I(hs))
check("attn_permute_backward", dqkv, qkv)
yy = f32(B, NH, T, hs)
o = np.zeros((B, T, NH, hs), np.float32)
run("attn_unpermute", cdiv(n, 64), 64, P(o), P(yy), I(B), I(T), I(NH), I(hs), I(1))
check("attn_unpermute forward", o, yy.transpose(0, 2, 1, 3))
back = np.zeros_like(yy)
run("attn_unpermute", cdiv(n, 64), 64, P(o), P(back), I(B), I(T), I(NH), I(hs), I(0))
check("attn_unpermute backward", back, yy)

# causal softmax and its backward (T not a multiple of 32, block > T and block < T)
for TT, bx in ((7, 32), (70, 64)):
    rows = B * NH * TT
    pre = f32(rows, TT)
    att = pre.copy()
    run("attn_softmax", rows, bx, P(att), I(TT))
    tpos = np.arange(rows) % TT
    mask = np.arange(TT)[None, :] <= tpos[:, None]
    e = np.where(mask, np.exp(pre - np.where(mask, pre, -np.inf).max(1, keepdims=True)), 0)
    want = e / e.sum(1, keepdims=True)
    check(f"attn_softmax T={TT} block={bx}", att, want)
    datt = f32(rows, TT)
    s = (want * datt).sum(1, keepdims=True)
    wantd = np.where(mask, want * (datt - s) * 0.5, 0)
    run("attn_softmax_backward", rows, bx, P(datt), P(att), I(TT), F(0.5))
    check(f"attn_softmax_backward T={TT} block={bx}", datt, wantd, 1e-5)

# GELU
xg = f32(1000) * 3
og = np.zeros_like(xg)
run("gelu_forward", cdiv(1000, 64), 64, P(og), P(xg), L(1000))
kk = math.sqrt(2 / math.pi)
th = np.tanh(kk * (xg + 0.044715 * xg ** 3))
check("gelu_forward", og, 0.5 * xg * (1 + th))
dg = f32(1000)
want = dg * (0.5 * (1 + th) + 0.5 * xg * (1 - th ** 2) * kk * (1 + 3 * 0.044715 * xg ** 2))
run("gelu_backward", cdiv(1000, 64), 64, P(dg), P(xg), P(dg), L(1000))
check("gelu_backward (in place)", dg, want, 1e-5)

# fused softmax / cross-entropy with an ignored row
VV = 301
logits = f32(N, VV) * 3
targets = rng.integers(0, VV, N).astype(np.int32)
targets[2] = -1
lg = logits.copy()
losses = np.zeros(N, np.float32)
dscale = 1 / 13
run("crossentropy_softmax", N, 128, P(lg), P(losses), P(targets), I(VV), F(dscale), F(0.0))
mx = logits.max(1, keepdims=True)
p = np.exp(logits - mx)
p /= p.sum(1, keepdims=True)
want_loss = -np.log(p[np.arange(N), targets])
want_loss[2] = 0
grad = p * dscale
grad[np.arange(N), targets] -= dscale
grad[2] = 0
check("crossentropy_softmax losses", losses, want_loss, 1e-5)
check("crossentropy_softmax dlogits", lg, grad, 1e-5)

# the same with the soft-cap (modern recipe): the loss of cap·tanh(logits/cap), the
# gradient of the uncapped logits
cap = 4.0
capped = (cap * np.tanh(logits.astype(np.float64) / cap))
lg = logits.copy()
run("crossentropy_softmax", N, 128, P(lg), P(losses), P(targets), I(VV), F(dscale), F(cap))
mx = capped.max(1, keepdims=True)
p = np.exp(capped - mx)
p /= p.sum(1, keepdims=True)
want_loss = -np.log(p[np.arange(N), targets])
want_loss[2] = 0
grad = p * dscale
grad[np.arange(N), targets] -= dscale
grad *= 1 - (capped / cap) ** 2
grad[2] = 0
check("crossentropy_softmax softcap losses", losses, want_loss, 1e-5)
check("crossentropy_softmax softcap dlogits", lg, grad, 1e-5)
xs = logits.copy()
run("softcap_forward", cdiv(xs.size, 64), 64, P(xs), L(xs.size), F(cap))
check("softcap_forward", xs, capped, 1e-6)

# RMSNorm forward (plain and fused residual) and backward
for fused in (0, 1):
    a_, x_, w_ = f32(N, C), f32(N, C), f32(C)
    res, out, rs = np.zeros((N, C), np.float32), np.zeros((N, C), np.float32), np.zeros(N, np.float32)
    run("rmsnorm_forward", cdiv(N, 2), 64, P(res) if fused else None, P(out), P(rs), P(a_) if fused else None, P(x_),
        P(w_), I(N), I(C), F(1e-6))
    v = (a_ + x_ if fused else x_).astype(np.float64)
    r = 1 / np.sqrt((v * v).mean(1, keepdims=True) + 1e-6)
    check(f"rmsnorm_forward fused={fused}", out, v * r * w_)
    check(f"rmsnorm_forward fused={fused} rstd", rs, r[:, 0])
    if fused:
        check("rmsnorm_forward fused=1 res", res, v)
x_, w_, d_ = f32(N, C), f32(C), f32(N, C)
r = 1 / np.sqrt((x_.astype(np.float64) ** 2).mean(1, keepdims=True) + 1e-6)
nrm = x_ * r
dinp, dw = f32(N, C), f32(C)
want_dinp = dinp + (w_ * d_ - nrm * (w_ * d_ * nrm).mean(1, keepdims=True)) * r
want_dw = dw + (nrm * d_).sum(0)
run("rmsnorm_backward", 2, 64, P(dinp), P(dw), P(d_), P(x_), P(w_), P(r[:, 0].astype(np.float32)), I(N), I(C), shared=4 * C)
check("rmsnorm_backward dinp", dinp, want_dinp, 1e-5)
check("rmsnorm_backward dw", dw, want_dw, 1e-5)

# QK-norm and RoPE, forward and backward (float64 references; tables as the CPU engine's)
def rope_tabs(T_, hs_):
    inv = 10000.0 ** (-np.arange(0, hs_, 2) / hs_)
    ang = np.arange(T_)[:, None] * inv[None, :]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


cs, sn = rope_tabs(T, hs)
for norm_, rot_ in ((1, 0), (0, 1), (1, 1)):
    qkv = f32(N, 3 * C)
    got, rs = qkv.copy(), np.zeros(N * 2 * NH, np.float32)
    run("qk_rotary_forward", cdiv(N * 2 * NH, 32), 32, P(got), P(rs), P(cs), P(sn), I(N), I(T), I(C), I(NH), I(norm_),
        I(rot_), F(1e-6))
    x = qkv.astype(np.float64).reshape(N, 3, NH, hs)[:, :2]  # (N, part, head, hs)
    f = 1 / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6) if norm_ else np.ones(x.shape[:-1] + (1,))
    y = x * f
    pos = np.arange(N) % T
    c_, s_ = cs[pos][:, None, None, :].astype(np.float64), sn[pos][:, None, None, :].astype(np.float64)
    d2 = hs // 2
    if rot_:
        z = np.concatenate([y[..., :d2] * c_ - y[..., d2:] * s_, y[..., d2:] * c_ + y[..., :d2] * s_], -1)
    else:
        z = y
    want = qkv.astype(np.float64).reshape(N, 3, NH, hs).copy()
    want[:, :2] = z
    check(f"qk_rotary_forward norm={norm_} rotary={rot_}", got, want.reshape(N, 3 * C), 1e-5)
    if norm_:
        check(f"qk_rotary_forward norm={norm_} rotary={rot_} rstd", rs, f[..., 0].reshape(-1), 1e-5)
    # backward: the gradient of Σ g·z with respect to x, by the chain rule in float64
    g = f32(N, 3 * C)
    gg_ = g.astype(np.float64).reshape(N, 3, NH, hs)[:, :2]
    if rot_:
        u = np.concatenate([gg_[..., :d2] * c_ + gg_[..., d2:] * s_, gg_[..., d2:] * c_ - gg_[..., :d2] * s_], -1)
    else:
        u = gg_
    dx = f * (u - y * (u * y).sum(-1, keepdims=True) / hs) if norm_ else u
    want_g = g.astype(np.float64).reshape(N, 3, NH, hs).copy()
    want_g[:, :2] = dx
    run("qk_rotary_backward", cdiv(N * 2 * NH, 32), 32, P(g), P(got), P(rs), P(cs), P(sn), I(N), I(T), I(C), I(NH),
        I(norm_), I(rot_))
    check(f"qk_rotary_backward norm={norm_} rotary={rot_}", g, want_g.reshape(N, 3 * C), 1e-5)

# ReLU²
xr = f32(1000)
orl = np.zeros(1000, np.float32)
run("relu2_forward", cdiv(1000, 64), 64, P(orl), P(xr), L(1000))
check("relu2_forward", orl, np.maximum(xr, 0) ** 2)
dr = f32(1000)
want = 2 * np.maximum(xr, 0) * dr
run("relu2_backward", cdiv(1000, 64), 64, P(dr), P(xr), P(dr), L(1000))
check("relu2_backward (in place)", dr, want)

# encoder without position embeddings (rotary)
out = np.zeros((N, C), np.float32)
run("encoder_forward", cdiv(N * C, 64), 64, P(out), P(tokens), P(wte), None, I(B), I(T), I(C))
check("encoder_forward wpe=0", out, wte[tokens])

# AdamW
nP = 1000
pp, gg, mm, vv = f32(nP), f32(nP), f32(nP) * 0.1, np.abs(f32(nP)) * 0.01
decay = (rng.random(nP) < 0.5).astype(np.uint8)
lr, b1, b2, eps, wd, step = 1e-3, 0.9, 0.95, 1e-8, 0.1, 3
bc1, bc2 = 1 - b1 ** step, 1 - b2 ** step
m2 = mm + (gg - mm) * (1 - b1)
v2 = vv * b2 + gg * gg * (1 - b2)
want_p = pp * np.where(decay == 1, 1 - lr * wd, 1) - (lr / bc1) * m2 / (np.sqrt(v2) / math.sqrt(bc2) + eps)
run("adamw", cdiv(nP, 64), 64, P(pp), P(gg), P(mm), P(vv), P(decay), L(nP), F(lr), F(b1), F(b2), F(eps), F(wd),
    F(lr / bc1), F(math.sqrt(bc2)))
check("adamw params", pp, want_p, 1e-6)
check("adamw m", mm, m2, 1e-6)
check("adamw v", vv, v2, 1e-6)

# sum of squares (several blocks, grid-stride) and scale
xs = f32(5000)
acc = np.zeros(1, np.float64)
run("sum_squares", 3, 128, P(acc), P(xs), L(5000))
check("sum_squares", acc, np.array([np.sum(xs.astype(np.float64) ** 2)]), 1e-12)
want = xs * 0.25
run("scale", cdiv(5000, 64), 64, P(xs), F(0.25), L(5000))
check("scale", xs, want)

# f32 → bf16, round to nearest even (numpy reference on the bit patterns), NaN kept
xb = np.concatenate([f32(997) * 100, np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.00390625, 1.01171875], np.float32)])
ob = np.zeros(len(xb), np.uint16)
run("f32_to_bf16", cdiv(len(xb), 64), 64, P(ob), P(xb), L(len(xb)))
u = xb.view(np.uint32).astype(np.uint64)
want = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
nan = np.isnan(xb)
back = (ob.astype(np.uint32) << 16).view(np.float32)
ok = np.array_equal(ob[~nan], want[~nan]) and bool(np.isnan(back[nan]).all())
print(f"emu {'f32_to_bf16 (bit-exact, RNE)':34s} {'ok' if ok else 'FAIL'}")
if not ok:
    fails.append("f32_to_bf16")

if fails:
    sys.exit(f"emu: {len(fails)} kernel checks failed: {fails}")
print("emu: all kernel checks passed")
