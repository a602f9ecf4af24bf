// Host emulation of the CUDA C subset the kernels use, so the same sources compile with g++ -std=c++20 and run on
// the CPU (tests on machines without a GPU). Blocks run one at a time; the threads of a block are real threads
// (kernels that synchronise) or a loop (kernels that do not), so __syncthreads and __shared__ keep their meaning:
// a __shared__ array is a function-static array, shared by the block's threads and reused by the next block.
// Standard headers first: the macros below must not reach them.
#include <barrier>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __constant__
#define __shared__ static
#define __restrict__ __restrict
#define __align__(n) alignas(n)

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};

extern thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;
extern thread_local std::barrier<>* emu_block_barrier;

// A kernel that synchronises must be registered with EMU_KERNEL_SYNC (emu.cpp) so its block runs on real threads.
inline void __syncthreads() {
    if (!emu_block_barrier) {
        std::fputs("zkinfer emulator: __syncthreads in a kernel registered without EMU_KERNEL_SYNC\n", stderr);
        std::abort();
    }
    emu_block_barrier->arrive_and_wait();
}

inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}
inline unsigned atomicMax(unsigned* p, unsigned v) {
    unsigned old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
    return old;
}
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) {
    return (unsigned long long)(((unsigned __int128)a * b) >> 64);
}

// Bit intrinsics.
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }

// Warp intrinsics. Threads of a block run one after another (or as unsynchronised real threads), never in lockstep,
// so the emulator answers as if every thread ran alone in its warp: the active mask and every match are the
// caller's own lane, and a shuffle returns the caller's own value. Kernels use them only in ways that are correct
// for any split of a warp into groups (warp-aggregated atomics: each group's leader adds the group's count), so this
// gives the same results as a real warp, with one atomic per thread.
inline unsigned emu_lane_bit() { return 1u << (threadIdx.x & 31u); }
inline unsigned __activemask() { return emu_lane_bit(); }
inline unsigned __match_any_sync(unsigned, unsigned) { return emu_lane_bit(); }
inline unsigned __match_any_sync(unsigned, unsigned long long) { return emu_lane_bit(); }
inline unsigned __ballot_sync(unsigned, int pred) { return pred ? emu_lane_bit() : 0u; }
template <class T> inline T __shfl_sync(unsigned, T v, int, int = 32) { return v; }
template <class T> inline T __shfl_xor_sync(unsigned, T v, int, int = 32) { return v; }
