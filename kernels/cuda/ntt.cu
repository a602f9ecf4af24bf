// NTT over Fr, natural order in and out, iterative radix-2 decimation in time.
//
//   ntt_permute   src -> dst at the bit-reversed index; folds in the pre-scaling: coset powers g^j (forward coset
//                 NTT), the constant 1/n and the index negation j -> -j that turns the forward transform into the
//                 inverse one (INTT(a) = NTT(a(-j)) / n), so one twiddle table serves both directions
//   ntt_pass      k consecutive radix-2 stages on a tile of 2^k rows x 2^m columns held in shared memory: the
//                 first pass works on contiguous tiles, later ones on rows h0 apart with 2^m adjacent columns so
//                 global loads stay coalesced. log n = 24 takes 3 passes (10 + 7 + 7 stages)
//   ntt_twiddles  tw[t] = omega^t for t < n/2, from the table omega^(2^b), computed once per domain size
//
// Twiddle of the butterfly at index i in stage st (half size h = 2^st): omega^((i mod h) * n / (2h)).

#define NTT_TILE 1024

__device__ __forceinline__ u32 bit_reverse(u32 x, u32 bits) {
    x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
    x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
    x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
    x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
    x = (x >> 16) | (x << 16);
    return bits == 0 ? 0 : x >> (32 - bits);
}

// g^t from pow2[b] = g^(2^b).
__device__ __forceinline__ Fr pow_from_table(const Fr* pow2, u32 t) {
    Fr r = f_one<FrP>();
    for (u32 b = 0; t != 0; b++, t >>= 1)
        if (t & 1) r = f_mul(r, pow2[b]);
    return r;
}

extern "C" __global__ void ntt_twiddles(Fr* tw, u32 half, const Fr* pow2) {
    u32 t = global_id();
    if (t < half) tw[t] = pow_from_table(pow2, t);
}

// Grid-stride over source indices j = t, t + T, ...: with powers, g^j advances by the factor stride = g^T.
// flags: 1 = inverse (read index -j), 2 = multiply by `scale`, 4 = multiply by g^j (pow2 table + stride).
extern "C" __global__ void ntt_permute(const Fr* src, Fr* dst, u32 log_n, u32 flags, Fr scale, const Fr* pow2,
                                       Fr stride) {
    u32 n = 1u << log_n;
    u32 t = global_id();
    u32 step = global_threads();
    Fr g = f_one<FrP>();
    if ((flags & 4) && t < n) g = pow_from_table(pow2, t);
    for (u32 j = t; j < n; j += step) {
        Fr v = src[j];
        if (flags & 4) {
            v = f_mul(v, g);
            g = f_mul(g, stride);
        }
        if (flags & 2) v = f_mul(v, scale);
        u32 k = (flags & 1) ? ((n - j) & (n - 1)) : j;
        dst[bit_reverse(k, log_n)] = v;
    }
}

// The shared tile is limb-major: limb j of element i at sh[j * NTT_TILE + i]. Threads of a warp work on consecutive
// elements, so each limb access hits 32 consecutive words (32 banks, no conflict); element by element (8 words per
// Fr) the same access would be an 8-way bank conflict.
__device__ __forceinline__ Fr tile_load(const u32* sh, u32 i) {
    Fr r;
#pragma unroll
    for (int j = 0; j < 8; j++) r.l[j] = sh[j * NTT_TILE + i];
    return r;
}

__device__ __forceinline__ void tile_store(u32* sh, u32 i, const Fr& v) {
#pragma unroll
    for (int j = 0; j < 8; j++) sh[j * NTT_TILE + i] = v.l[j];
}

// Stages st0 .. st0 + k - 1 on tiles of 2^k rows (stride h0 = 2^st0) x 2^m adjacent columns.
// blockDim = 2^(k + m - 1) (one butterfly per thread per stage), gridDim = n / 2^(k + m). The launch bound keeps
// the register count at or below 128, so 512 threads per block always fit an SM's 64K registers.
extern "C" __global__ __launch_bounds__(NTT_TILE / 2) void ntt_pass(Fr* data, const Fr* tw, u32 log_n, u32 st0, u32 k, u32 m) {
    __shared__ u32 sh[8 * NTT_TILE];  // limb-major, 32 KiB
    u32 h0 = 1u << st0;
    u32 cols = 1u << m;
    u32 col_groups = h0 >> m;
    u32 b = blockIdx.x;
    u32 lo0 = (b % col_groups) << m;
    u64 base = (u64)(b / col_groups) * ((u64)h0 << k) + lo0;
    u32 tid = threadIdx.x;
    u32 threads = blockDim.x;
    for (u32 e = tid; e < 2 * threads; e += threads)
        tile_store(sh, e, data[base + (e & (cols - 1)) + (u64)(e >> m) * h0]);
    __syncthreads();
    u32 c = tid & (cols - 1);
    u32 r = tid >> m;
    for (u32 q = 0; q < k; q++) {
        u32 low = r & ((1u << q) - 1);
        u32 p = ((r >> q) << (q + 1)) | low;
        u32 exp = (low * h0 + lo0 + c) << (log_n - st0 - q - 1);
        u32 iu = p * cols + c, iv = (p + (1u << q)) * cols + c;
        Fr u = tile_load(sh, iu);
        Fr v = f_mul(tile_load(sh, iv), tw[exp]);
        tile_store(sh, iu, f_add(u, v));
        tile_store(sh, iv, f_sub(u, v));
        __syncthreads();
    }
    for (u32 e = tid; e < 2 * threads; e += threads)
        data[base + (e & (cols - 1)) + (u64)(e >> m) * h0] = tile_load(sh, e);
}
