// Exclusive prefix sum of u32 counts (MSM bucket offsets). One block scans SCAN_TILE elements and writes its total;
// the host scans the totals the same way and adds them back with scan_add.

#define SCAN_THREADS 512
#define SCAN_TILE (2 * SCAN_THREADS)
// scan_add's block size (backend/src/engine/cuda/msm.rs BLOCK).
#define SCAN_ADD_BLOCK 256

// Launch with blockDim = SCAN_THREADS. `sums` may be null when a single block covers n.
extern "C" __global__ __launch_bounds__(SCAN_THREADS) void scan_block(u32* data, u32* sums, u32 n) {
    __shared__ u32 buf[2][SCAN_THREADS];
    u32 t = threadIdx.x;
    u32 i0 = blockIdx.x * SCAN_TILE + 2 * t;
    u32 a = i0 < n ? data[i0] : 0;
    u32 b = i0 + 1 < n ? data[i0 + 1] : 0;
    u32 pair = a + b;
    // Hillis-Steele inclusive scan of the pair sums, double-buffered.
    int cur = 0;
    buf[0][t] = pair;
    __syncthreads();
    for (u32 off = 1; off < SCAN_THREADS; off <<= 1) {
        u32 v = buf[cur][t];
        if (t >= off) v += buf[cur][t - off];
        buf[1 - cur][t] = v;
        cur = 1 - cur;
        __syncthreads();
    }
    u32 incl = buf[cur][t];
    u32 excl = incl - pair;
    if (i0 < n) data[i0] = excl;
    if (i0 + 1 < n) data[i0 + 1] = excl + a;
    if (sums != 0 && t == SCAN_THREADS - 1) sums[blockIdx.x] = incl;
}

// data[i] += sums[i / SCAN_TILE] (the scanned block totals).
extern "C" __global__ __launch_bounds__(SCAN_ADD_BLOCK) void scan_add(u32* data, const u32* sums, u32 n) {
    u32 i = global_id();
    if (i < n) data[i] += sums[i / SCAN_TILE];
}
