// golem's GPT kernels for the CUDA backend (lmlib/gpt/cuda), fp32: GPT-2's and the
// modern recipe's (RMSNorm, QK-norm + RoPE, ReLU², the logit soft-cap).
// Compiled to PTX by NVRTC (`make cuda-ptx` → kernels.ptx, embedded in the Go
// package) and JIT-compiled by the driver when the backend starts. Every kernel
// is extern "C" so the Go side finds it by its plain name. Conventions follow
// lmlib/gpt/backend.go: row-major, N = B*T rows, parameter gradients accumulate.
// Every integer argument is an int and every pointer a float* or int*: the Go
// launcher passes each argument in an 8-byte slot (little-endian low bytes).

#define WARP 32
#define INFINITY __int_as_float(0x7f800000)

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = WARP / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = WARP / 2; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// block_sum reduces v over a block of up to 1024 threads; every thread gets the sum.
__device__ float block_sum(float v, float* shared) {
    int lane = threadIdx.x % WARP, wid = threadIdx.x / WARP, nw = (blockDim.x + WARP - 1) / WARP;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) shared[wid] = v;
    __syncthreads();
    v = lane < nw ? shared[lane] : 0.0f;
    return warp_sum(v);
}

__device__ float block_max(float v, float* shared) {
    int lane = threadIdx.x % WARP, wid = threadIdx.x / WARP, nw = (blockDim.x + WARP - 1) / WARP;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) shared[wid] = v;
    __syncthreads();
    v = lane < nw ? shared[lane] : -INFINITY;
    return warp_max(v);
}

extern "C" {

// out (B,T,C) = wte[tokens] + wpe[t].
__global__ void encoder_forward(float* out, const int* tokens, const float* wte, const float* wpe, int B, int T, int C) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    long long n = (long long)B * T * C;
    if (i >= n) return;
    int c = i % C;
    long long bt = i / C;
    int t = bt % T;
    float v = wte[(long long)tokens[bt] * C + c];
    out[i] = wpe ? v + wpe[(long long)t * C + c] : v;  // wpe is 0 with rotary embeddings
}

// dwte (V,C) += scatter dout by tokens (atomics); dwpe (T,C) += Σ_b dout.
__global__ void encoder_backward_wte(float* dwte, const float* dout, const int* tokens, int N, int C) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)N * C) return;
    int c = i % C;
    long long n = i / C;
    atomicAdd(&dwte[(long long)tokens[n] * C + c], dout[i]);
}

__global__ void encoder_backward_wpe(float* dwpe, const float* dout, int B, int T, int C) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= T * C) return;
    float s = 0.0f;
    for (int b = 0; b < B; b++) s += dout[(long long)b * T * C + i];
    dwpe[i] += s;
}

// One warp per row. With a != 0: res = a + x first (fused residual), then LayerNorm(res);
// otherwise LayerNorm(x). b may be 0 (no bias).
__global__ void layernorm_forward(float* res, float* out, float* mean, float* rstd, const float* a, const float* x,
                                  const float* w, const float* b, int N, int C) {
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int lane = threadIdx.x % WARP;
    if (row >= N) return;
    const float* xr = x + (long long)row * C;
    float* rr = res ? res + (long long)row * C : 0;
    const float* ar = a ? a + (long long)row * C : 0;
    float s = 0.0f;
    for (int c = lane; c < C; c += WARP) {
        float v = xr[c];
        if (ar) {
            v += ar[c];
            rr[c] = v;
        }
        s += v;
    }
    float m = warp_sum(s) / C;
    const float* src = ar ? rr : xr;
    __syncwarp();
    float q = 0.0f;
    for (int c = lane; c < C; c += WARP) {
        float d = src[c] - m;
        q += d * d;
    }
    float r = rsqrtf(warp_sum(q) / C + 1e-5f);
    float* o = out + (long long)row * C;
    for (int c = lane; c < C; c += WARP) {
        float v = (src[c] - m) * r * w[c];
        o[c] = b ? v + b[c] : v;
    }
    if (lane == 0) {
        mean[row] = m;
        rstd[row] = r;
    }
}

// dinp (N,C) += ∂/∂inp; dw, db (C) += (db may be 0). A block of warps strides over the
// rows; the block's dw/db partial sums live in shared memory (2C floats) and are added
// to the global gradients with one atomic per element and block.
__global__ void layernorm_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp,
                                   const float* w, const float* mean, const float* rstd, int N, int C) {
    extern __shared__ float sh[];
    float* sdw = sh;
    float* sdb = sh + C;
    for (int c = threadIdx.x; c < 2 * C; c += blockDim.x) sh[c] = 0.0f;
    __syncthreads();
    int wpb = blockDim.x / WARP, lane = threadIdx.x % WARP;
    for (int row = blockIdx.x * wpb + threadIdx.x / WARP; row < N; row += gridDim.x * wpb) {
        const float* d = dout + (long long)row * C;
        const float* x = inp + (long long)row * C;
        float m = mean[row], r = rstd[row];
        float dn = 0.0f, dnx = 0.0f;
        for (int c = lane; c < C; c += WARP) {
            float xh = (x[c] - m) * r;
            float dxh = w[c] * d[c];
            dn += dxh;
            dnx += dxh * xh;
        }
        dn = warp_sum(dn) / C;
        dnx = warp_sum(dnx) / C;
        float* di = dinp + (long long)row * C;
        for (int c = lane; c < C; c += WARP) {
            float xh = (x[c] - m) * r;
            float dxh = w[c] * d[c];
            atomicAdd(&sdw[c], xh * d[c]);
            if (db) atomicAdd(&sdb[c], d[c]);
            di[c] += (dxh - dn - xh * dnx) * r;
        }
    }
    __syncthreads();
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        atomicAdd(&dw[c], sdw[c]);
        if (db) atomicAdd(&db[c], sdb[c]);
    }
}

// out (N,OC) += bias (OC), broadcast over rows.
__global__ void add_bias(float* out, const float* bias, int N, int OC) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)N * OC) return;
    out[i] += bias[i % OC];
}

// dbias (OC) += Σ_n dout (N,OC): grid.x covers columns, grid.y splits the rows.
__global__ void bias_backward(float* dbias, const float* dout, int N, int OC) {
    int oc = blockIdx.x * blockDim.x + threadIdx.x;
    if (oc >= OC) return;
    int per = (N + gridDim.y - 1) / gridDim.y;
    int lo = blockIdx.y * per, hi = min(N, lo + per);
    float s = 0.0f;
    for (int n = lo; n < hi; n++) s += dout[(long long)n * OC + oc];
    atomicAdd(&dbias[oc], s);
}

// qkv (B,T,3,NH,hs) → q, k, v (B,NH,T,hs).
__global__ void attn_permute(float* q, float* k, float* v, const float* qkv, int B, int T, int NH, int hs) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)B * NH * T * hs) return;
    int d = i % hs;
    int t = (i / hs) % T;
    int h = (i / ((long long)hs * T)) % NH;
    int b = i / ((long long)hs * T * NH);
    int C = NH * hs;
    long long src = ((long long)b * T + t) * 3 * C + h * hs + d;
    q[i] = qkv[src];
    k[i] = qkv[src + C];
    v[i] = qkv[src + 2 * C];
}

// dq, dk, dv (B,NH,T,hs) → dqkv (B,T,3,NH,hs).
__global__ void attn_permute_backward(float* dqkv, const float* dq, const float* dk, const float* dv, int B, int T, int NH, int hs) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)B * NH * T * hs) return;
    int d = i % hs;
    int t = (i / hs) % T;
    int h = (i / ((long long)hs * T)) % NH;
    int b = i / ((long long)hs * T * NH);
    int C = NH * hs;
    long long dst = ((long long)b * T + t) * 3 * C + h * hs + d;
    dqkv[dst] = dq[i];
    dqkv[dst + C] = dk[i];
    dqkv[dst + 2 * C] = dv[i];
}

// y (B,NH,T,hs) → out (B,T,NH,hs) when forward != 0, the reverse otherwise.
__global__ void attn_unpermute(float* out, float* y, int B, int T, int NH, int hs, int forward) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)B * NH * T * hs) return;
    int d = i % hs;
    int t = (i / hs) % T;
    int h = (i / ((long long)hs * T)) % NH;
    int b = i / ((long long)hs * T * NH);
    long long o = (((long long)b * T + t) * NH + h) * hs + d;
    if (forward) out[o] = y[i];
    else y[i] = out[o];
}

// Causal softmax over each row of att (rows = B*NH*T, row length T): row t keeps
// columns 0..t (already scaled by 1/√hs in the GEMM), the rest become 0. One block per row.
__global__ void attn_softmax(float* att, int T) {
    __shared__ float sh[WARP];
    long long row = blockIdx.x;
    int t = row % T;
    float* a = att + row * T;
    float mx = -INFINITY;
    for (int j = threadIdx.x; j <= t; j += blockDim.x) mx = fmaxf(mx, a[j]);
    mx = block_max(mx, sh);
    float s = 0.0f;
    for (int j = threadIdx.x; j <= t; j += blockDim.x) {
        float e = expf(a[j] - mx);
        a[j] = e;
        s += e;
    }
    s = block_sum(s, sh);
    float inv = 1.0f / s;
    for (int j = threadIdx.x; j < T; j += blockDim.x) a[j] = j <= t ? a[j] * inv : 0.0f;
}

// datt (rows of T) → dpreatt in place: att·(datt − Σ_j att·datt)·scale, causal.
__global__ void attn_softmax_backward(float* datt, const float* att, int T, float scale) {
    __shared__ float sh[WARP];
    long long row = blockIdx.x;
    int t = row % T;
    float* d = datt + row * T;
    const float* a = att + row * T;
    float s = 0.0f;
    for (int j = threadIdx.x; j <= t; j += blockDim.x) s += a[j] * d[j];
    s = block_sum(s, sh);
    for (int j = threadIdx.x; j < T; j += blockDim.x) d[j] = j <= t ? a[j] * (d[j] - s) * scale : 0.0f;
}

#define GELU_K 0.7978845608028654f

__global__ void gelu_forward(float* out, const float* inp, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = inp[i];
    out[i] = 0.5f * x * (1.0f + tanhf(GELU_K * (x + 0.044715f * x * x * x)));
}

// dinp = gelu'(inp)·dout; dinp may alias dout.
__global__ void gelu_backward(float* dinp, const float* inp, const float* dout, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = inp[i];
    float u = GELU_K * (x + 0.044715f * x * x * x);
    float th = tanhf(u);
    float sech2 = 1.0f - th * th;
    float g = 0.5f * (1.0f + th) + 0.5f * x * sech2 * GELU_K * (1.0f + 3.0f * 0.044715f * x * x);
    dinp[i] = g * dout[i];
}

// Fused softmax + cross-entropy over logits (N,V), one block per row: losses[n] =
// logsumexp − logit[target]; logits become dlogits = (softmax − onehot)·dscale. A
// row with target −1 gets loss 0 and zero gradient.
__global__ void crossentropy_softmax(float* logits, float* losses, const int* targets, int V, float dscale, float softcap) {
    __shared__ float sh[WARP];
    long long n = blockIdx.x;
    float* x = logits + n * V;
    int tg = targets[n];
    if (tg < 0) {
        for (int j = threadIdx.x; j < V; j += blockDim.x) x[j] = 0.0f;
        if (threadIdx.x == 0) losses[n] = 0.0f;
        return;
    }
    if (softcap > 0.0f) {  // logits = c·tanh(logits/c); the gradient below is that of the uncapped logits
        for (int j = threadIdx.x; j < V; j += blockDim.x) x[j] = softcap * tanhf(x[j] / softcap);
        __syncthreads();
    }
    float mx = -INFINITY;
    for (int j = threadIdx.x; j < V; j += blockDim.x) mx = fmaxf(mx, x[j]);
    mx = block_max(mx, sh);
    float s = 0.0f;
    for (int j = threadIdx.x; j < V; j += blockDim.x) s += expf(x[j] - mx);
    s = block_sum(s, sh);
    float xt = x[tg];
    __syncthreads();
    if (threadIdx.x == 0) losses[n] = logf(s) - (xt - mx);
    float inv = dscale / s;
    for (int j = threadIdx.x; j < V; j += blockDim.x) {
        float z = x[j];
        float p = expf(z - mx) * inv;
        float g = j == tg ? p - dscale : p;
        if (softcap > 0.0f) {
            float t = z / softcap;
            g *= 1.0f - t * t;
        }
        x[j] = g;
    }
}

// x (n) = softcap·tanh(x/softcap): the soft-cap of logits without targets.
__global__ void softcap_forward(float* x, long long n, float softcap) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] = softcap * tanhf(x[i] / softcap);
}

// One warp per row. With a != 0: res = a + x first (fused residual), then RMSNorm(res):
// out = v·r·w, r = 1/√(mean v² + eps); otherwise RMSNorm(x).
__global__ void rmsnorm_forward(float* res, float* out, float* rstd, const float* a, const float* x, const float* w,
                                int N, int C, float eps) {
    int row = blockIdx.x * (blockDim.x / WARP) + threadIdx.x / WARP;
    int lane = threadIdx.x % WARP;
    if (row >= N) return;
    const float* xr = x + (long long)row * C;
    float* rr = res ? res + (long long)row * C : 0;
    const float* ar = a ? a + (long long)row * C : 0;
    float q = 0.0f;
    for (int c = lane; c < C; c += WARP) {
        float v = xr[c];
        if (ar) {
            v += ar[c];
            rr[c] = v;
        }
        q += v * v;
    }
    float r = rsqrtf(warp_sum(q) / C + eps);
    const float* src = ar ? rr : xr;
    __syncwarp();
    float* o = out + (long long)row * C;
    for (int c = lane; c < C; c += WARP) o[c] = src[c] * r * w[c];
    if (lane == 0) rstd[row] = r;
}

// dinp (N,C) += ∂/∂inp; dw (C) +=: n = x·r, dinp += (w·d − n·mean(w·d·n))·r. Blocks of
// warps stride over the rows, dw partial sums in shared memory (C floats), as layernorm_backward.
__global__ void rmsnorm_backward(float* dinp, float* dw, const float* dout, const float* inp, const float* w,
                                 const float* rstd, int N, int C) {
    extern __shared__ float sh[];
    for (int c = threadIdx.x; c < C; c += blockDim.x) sh[c] = 0.0f;
    __syncthreads();
    int wpb = blockDim.x / WARP, lane = threadIdx.x % WARP;
    for (int row = blockIdx.x * wpb + threadIdx.x / WARP; row < N; row += gridDim.x * wpb) {
        const float* d = dout + (long long)row * C;
        const float* x = inp + (long long)row * C;
        float r = rstd[row];
        float dnx = 0.0f;
        for (int c = lane; c < C; c += WARP) dnx += w[c] * d[c] * x[c] * r;
        dnx = warp_sum(dnx) / C;
        float* di = dinp + (long long)row * C;
        for (int c = lane; c < C; c += WARP) {
            float n = x[c] * r;
            atomicAdd(&sh[c], n * d[c]);
            di[c] += (w[c] * d[c] - n * dnx) * r;
        }
    }
    __syncthreads();
    for (int c = threadIdx.x; c < C; c += blockDim.x) atomicAdd(&dw[c], sh[c]);
}

// QK-norm and RoPE in place on the query and key parts of qkv (N,3C): one thread per
// (row, part, head). norm: x = x·s, s = 1/√(mean x² + eps), kept in rstd[(row·2+part)·NH+h];
// rotary: pair (i, i+hs/2) turned by the angle of position row mod T (cs, sn: hs/2 per
// position, the CPU engine's float64-computed tables).
__global__ void qk_rotary_forward(float* qkv, float* rstd, const float* cs, const float* sn, int N, int T, int C,
                                  int NH, int norm, int rotary, float eps) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)N * 2 * NH) return;
    int h = i % NH, part = (i / NH) % 2;
    long long row = i / (2 * NH);
    int hs = C / NH, d = hs / 2;
    float* x = qkv + row * 3 * C + part * C + h * hs;
    if (norm) {
        float q = 0.0f;
        for (int j = 0; j < hs; j++) q += x[j] * x[j];
        float f = rsqrtf(q / hs + eps);
        for (int j = 0; j < hs; j++) x[j] *= f;
        rstd[i] = f;
    }
    if (rotary) {
        const float* c = cs + (long long)(row % T) * d;
        const float* s = sn + (long long)(row % T) * d;
        for (int j = 0; j < d; j++) {
            float x1 = x[j], x2 = x[j + d];
            x[j] = x1 * c[j] - x2 * s[j];
            x[j + d] = x2 * c[j] + x1 * s[j];
        }
    }
}

// Backward of qk_rotary_forward, in place on the query and key parts of dqkv; qkv holds
// the forward's output z: u = Rᵀg, y = Rᵀz, dx = f·(u − y·(g·z)/hs) (R is orthogonal).
__global__ void qk_rotary_backward(float* dqkv, const float* qkv, const float* rstd, const float* cs, const float* sn,
                                   int N, int T, int C, int NH, int norm, int rotary) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)N * 2 * NH) return;
    int h = i % NH, part = (i / NH) % 2;
    long long row = i / (2 * NH);
    int hs = C / NH, d = hs / 2;
    float* g = dqkv + row * 3 * C + part * C + h * hs;
    const float* z = qkv + row * 3 * C + part * C + h * hs;
    float f = 1.0f, k = 0.0f;
    if (norm) {
        float dot = 0.0f;
        for (int j = 0; j < hs; j++) dot += g[j] * z[j];
        f = rstd[i];
        k = dot / hs;
    }
    if (rotary) {
        const float* c = cs + (long long)(row % T) * d;
        const float* s = sn + (long long)(row % T) * d;
        for (int j = 0; j < d; j++) {
            float g1 = g[j], g2 = g[j + d], z1 = z[j], z2 = z[j + d];
            float u1 = g1 * c[j] + g2 * s[j], u2 = g2 * c[j] - g1 * s[j];
            float y1 = z1 * c[j] + z2 * s[j], y2 = z2 * c[j] - z1 * s[j];
            g[j] = f * (u1 - y1 * k);
            g[j + d] = f * (u2 - y2 * k);
        }
    } else {
        for (int j = 0; j < hs; j++) g[j] = f * (g[j] - z[j] * k);
    }
}

// ReLU²: out = max(x,0)²; backward dinp = 2·max(x,0)·dout (dinp may alias dout).
__global__ void relu2_forward(float* out, const float* inp, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float x = fmaxf(inp[i], 0.0f);
    out[i] = x * x;
}

__global__ void relu2_backward(float* dinp, const float* inp, const float* dout, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    dinp[i] = 2.0f * fmaxf(inp[i], 0.0f) * dout[i];
}

// One AdamW step (PyTorch's formula): decay[i] != 0 marks decayed parameters.
__global__ void adamw(float* p, const float* g, float* m, float* v, const unsigned char* decay, long long n,
                      float lr, float b1, float b2, float eps, float wd, float stepSize, float bc2sqrt) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float gi = g[i];
    float mi = m[i] + (gi - m[i]) * (1.0f - b1);
    float vi = v[i] * b2 + gi * gi * (1.0f - b2);
    m[i] = mi;
    v[i] = vi;
    float d = decay[i] ? 1.0f - lr * wd : 1.0f;
    p[i] = p[i] * d - stepSize * mi / (sqrtf(vi) / bc2sqrt + eps);
}

// out[0] += Σ x² in double (grid-stride, one atomic per block).
__global__ void sum_squares(double* out, const float* x, long long n) {
    __shared__ double sh[WARP];
    double s = 0.0;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        double v = x[i];
        s += v * v;
    }
    for (int o = WARP / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
    int lane = threadIdx.x % WARP, wid = threadIdx.x / WARP;
    if (lane == 0) sh[wid] = s;
    __syncthreads();
    if (wid == 0) {
        s = lane < (int)(blockDim.x / WARP) ? sh[lane] : 0.0;
        for (int o = WARP / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        if (lane == 0) atomicAdd(out, s);
    }
}

// out (bf16 bits) = in rounded to nearest even; NaN stays NaN. The operands of the
// bf16 matrix products (Options.BF16) go through this.
__global__ void f32_to_bf16(unsigned short* out, const float* in, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    unsigned int u = __float_as_uint(in[i]);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        out[i] = (unsigned short)((u >> 16) | 0x40u);
        return;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    out[i] = (unsigned short)(u >> 16);
}

__global__ void scale(float* x, float s, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] *= s;
}

}  // extern "C"
