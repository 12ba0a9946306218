// A CPU emulation of the CUDA features golem's kernels use, to test kernels.cu's
// indexing and reductions on a machine without a GPU (tools/gpucheck/emu). Blocks run
// one after another; the threads of a block run as OS threads, with std::barrier for
// __syncthreads and per-warp barriers for shuffles. Slow, and only for small shapes.
#pragma once
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>
#include <vector>

struct emu_dim3 { unsigned x = 1, y = 1, z = 1; };
inline thread_local emu_dim3 threadIdx, blockIdx;
inline emu_dim3 blockDim, gridDim;
inline std::barrier<>* emu_block_bar;
inline std::vector<std::barrier<>*> emu_warp_bars;
inline std::vector<double> emu_shfl;  // one slot per thread
inline std::vector<unsigned char> emu_dyn_shared;

#define __global__
#define __device__
#define __forceinline__ inline

inline void __syncthreads() { emu_block_bar->arrive_and_wait(); }
inline void __syncwarp() { emu_warp_bars[threadIdx.x / 32]->arrive_and_wait(); }

template <typename T> inline T __shfl_xor_sync(unsigned, T v, int o) {
    int t = threadIdx.x, w = t / 32;
    emu_shfl[t] = (double)v;
    emu_warp_bars[w]->arrive_and_wait();
    T r = (T)emu_shfl[(t & ~31) | ((t % 32) ^ o)];
    emu_warp_bars[w]->arrive_and_wait();
    return r;
}

inline float atomicAdd(float* p, float v) { return std::atomic_ref<float>(*p).fetch_add(v); }
inline double atomicAdd(double* p, double v) { return std::atomic_ref<double>(*p).fetch_add(v); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
using std::min;
using std::max;

// emu_run runs body over a gx×gy grid of bx-thread blocks with shared bytes of dynamic shared memory.
inline void emu_run(int gx, int gy, int bx, int shared, const std::function<void()>& body) {
    gridDim = {(unsigned)gx, (unsigned)gy, 1};
    blockDim = {(unsigned)bx, 1, 1};
    emu_dyn_shared.assign(shared + 16, 0);
    emu_shfl.assign(bx, 0.0);
    for (int by = 0; by < gy; by++)
        for (int b = 0; b < gx; b++) {
            std::barrier<> block_bar(bx);
            emu_block_bar = &block_bar;
            std::vector<std::barrier<>*> wb;
            for (int w = 0; w < (bx + 31) / 32; w++) wb.push_back(new std::barrier<>(std::min(32, bx - 32 * w)));
            emu_warp_bars = wb;
            std::vector<std::thread> ts;
            for (int t = 0; t < bx; t++)
                ts.emplace_back([&, t] {
                    threadIdx = {(unsigned)t, 0, 0};
                    blockIdx = {(unsigned)b, (unsigned)by, 0};
                    body();
                    emu_warp_bars[t / 32]->arrive_and_drop();
                    emu_block_bar->arrive_and_drop();
                });
            for (auto& th : ts) th.join();
            for (auto* p : wb) delete p;
        }
}
