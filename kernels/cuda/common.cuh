// Shared by every kernel file. The sources are concatenated into one NVRTC program (kernels/src/lib.rs gives the
// order) and compile unchanged on the host through kernels/emu/emu.hpp, so: no #include, only statically sized
// __shared__ arrays, every kernel is extern "C" (unmangled names), inline PTX only under `#if defined(__CUDA_ARCH__)`
// with a portable `#else`, and only the intrinsics emu.hpp emulates (__popc, __ffs, __clz, and the warp intrinsics
// __activemask / __match_any_sync / __shfl_sync / __shfl_xor_sync, which the emulator answers as if every thread ran
// alone in its warp — so warp-cooperative code must be correct for any split of a warp into groups).

typedef unsigned int u32;
typedef unsigned long long u64;

// Global thread index of a 1-D launch.
__device__ __forceinline__ u32 global_id() { return blockIdx.x * blockDim.x + threadIdx.x; }

// Total threads of a 1-D launch (for grid-stride loops).
__device__ __forceinline__ u32 global_threads() { return gridDim.x * blockDim.x; }

// Lane of the calling thread in its warp (launches use block sizes that are multiples of 32).
__device__ __forceinline__ u32 lane_id() { return threadIdx.x & 31u; }

// 16-byte alignment for the field and point types, so whole elements move with 128-bit loads and stores. Sizes
// (32, 64, 128 bytes) and byte layout are unchanged; every device buffer is at least 256-byte aligned (cudaMalloc,
// and the emulator's allocator in backend/src/engine/cuda/emu.rs).
#define ZK_ALIGN16 __align__(16)
