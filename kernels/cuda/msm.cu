// Pippenger MSM over BN254 G1.
//
// Pipeline (host orchestration in backend/src/engine/cuda/msm.rs):
//   msm_scalar_prep    scalar -> canonical form (on the device), replaced by r - s (its point negated) when
//                      s > (r - 1) / 2; the longest bit length of the results (read back by the host, which sizes the
//                      number of windows by it: int8-valued witnesses, arriving as r - |v|, need one window, not 254/c)
//   msm_digits         W signed c-bit digits per prepared scalar; one (bucket, point) pair per non-zero digit; bucket
//                      histogram with warp-aggregated atomics
//   scan_block/add     exclusive scan of the histogram = start of every bucket in the sorted list
//   msm_scatter        counting-sort scatter of the pairs into bucket order (warp-aggregated atomics)
//   msm_seg_counts +   bucket accumulation in levels: every thread adds at most L consecutive entries of one
//   msm_accumulate_*   bucket (affine points first, XYZZ partial sums after), so a bucket holding many points (skewed
//                      scalars) is still summed in parallel
//   msm_bucket_gather  dense bucket array (identity for empty buckets)
//   msm_bucket_reduce  per window sum_j (j+1) B_j, split into chunks: running sums inside a chunk plus offset * total
//   msm_reduce_groups  sums consecutive groups of partials (chunks of a window) in levels of L
//   msm_window_combine Horner over the windows: sum_w 2^(c w) W_w (one thread; the engine normally does this on
//                      the host, where the ~255 dependent doublings are faster)
//
// Digits: d in [-(2^(c-1) - 1), 2^(c-1)], bucket |d| - 1, 2^(c-1) buckets per window. A prepared scalar has at most
// `bits` <= 253 bits, and W = ceil((bits + 1) / c) windows leave the top window below 2^(c-1), so its carry is always
// absorbed. Pair value = point index | sign << 31, the sign being the digit's sign xor the scalar's negation.
//
// Block sizes: every kernel carries __launch_bounds__ with the block size msm.rs launches it with (MSM_BLOCK =
// msm.rs BLOCK, MSM_BLOCK_ACC = msm.rs BLOCK_ACC); the accumulation and reduction kernels need ~250 registers per
// thread, which 128 threads per block allow (32K of an SM's 64K registers). The warp-aggregated kernels need block
// sizes that are multiples of 32 (all lanes of every warp present).

#define MSM_NO_BUCKET 0xffffffffu
#define MSM_BLOCK 256
#define MSM_BLOCK_ACC 128
// Bit 255 of a prepared scalar (bit 31 of limb 7): the scalar was negated (prepared scalars are < 2^253).
#define MSM_NEG_FLAG 0x80000000u

// c bits of a canonical scalar starting at bit `pos` (bits beyond 256 read as 0).
__device__ __forceinline__ u32 scalar_bits(const Fr& s, u32 pos, u32 c) {
    u32 limb = pos >> 5, sh = pos & 31;
    if (limb >= 8) return 0;
    u64 w = s.l[limb];
    if (limb + 1 < 8) w |= (u64)s.l[limb + 1] << 32;
    return (u32)(w >> sh) & ((1u << c) - 1);
}

// Whether the canonical s exceeds (r - 1) / 2 = r >> 1 (r is odd).
__device__ __forceinline__ bool fr_canon_gt_half(const Fr& s) {
#pragma unroll
    for (int i = 7; i >= 0; i--) {
        u32 h = (FrP::mod(i) >> 1) | (i < 7 ? FrP::mod(i + 1) << 31 : 0u);
        if (s.l[i] != h) return s.l[i] > h;
    }
    return false;
}

// Bit length of a canonical scalar (0 for 0).
__device__ __forceinline__ u32 fr_canon_bits(const Fr& s) {
    for (int i = 7; i >= 0; i--)
        if (s.l[i] != 0) return 32u * (u32)i + 32u - (u32)__clz((int)s.l[i]);
    return 0;
}

// prep[i] = canonical s_i, or r - s_i with MSM_NEG_FLAG when s_i > (r - 1) / 2; *max_bits = max over i of the bit
// length (without the flag). *max_bits starts at 0. Warp max-reduction, then one atomicMax per warp (per thread on
// the emulator, where the shuffles return the own value).
extern "C" __global__ __launch_bounds__(MSM_BLOCK) void msm_scalar_prep(const Fr* scalars, u32 n, Fr* prep,
                                                                       u32* max_bits) {
    u32 i = global_id();
    u32 bits = 0;
    if (i < n) {
        Fr s = f_from_mont(scalars[i]);
        bool neg = fr_canon_gt_half(s);
        if (neg) {
            Fr d;
            u64 borrow = 0;
#pragma unroll
            for (int j = 0; j < 8; j++) {
                u64 t = (u64)FrP::mod(j) - s.l[j] - borrow;
                d.l[j] = (u32)t;
                borrow = (t >> 32) & 1;
            }
            s = d;  // r - s < (r - 1) / 2 < 2^253
        }
        bits = fr_canon_bits(s);
        if (neg) s.l[7] |= MSM_NEG_FLAG;
        prep[i] = s;
    }
    // No thread has returned: all 32 lanes take part (the block size is a multiple of 32).
#pragma unroll
    for (u32 off = 16; off != 0; off >>= 1) {
        u32 other = __shfl_xor_sync(0xffffffffu, bits, off);
        if (other > bits) bits = other;
    }
    u32 leader = (u32)__ffs((int)__activemask()) - 1;  // lane 0 of a full warp; the thread itself on the emulator
    if (lane_id() == leader && bits != 0) atomicMax(max_bits, bits);
}

// Warp-aggregated atomicAdd(&ctr[key], 1) for every lane with key != MSM_NO_BUCKET, returning the lane's old value
// plus its rank among the lanes of its warp with the same key (so every lane gets a distinct slot, as with one
// atomic per lane). All 32 lanes must call it together.
__device__ __forceinline__ u32 warp_aggregated_inc(u32* ctr, u32 key) {
    u32 lane = lane_id();
    u32 peers = __match_any_sync(0xffffffffu, key);  // lanes with the same key (the own lane on the emulator)
    u32 leader = (u32)__ffs((int)peers) - 1;
    u32 rank = (u32)__popc(peers & ((1u << lane) - 1u));
    u32 base = 0;
    if (lane == leader && key != MSM_NO_BUCKET) base = atomicAdd(&ctr[key], (u32)__popc(peers));
    base = __shfl_sync(0xffffffffu, base, (int)leader);
    return base + rank;
}

// Digits of the prepared scalars (msm_scalar_prep). Threads past n take part with no bucket so that whole warps
// run the aggregated histogram.
extern "C" __global__ __launch_bounds__(MSM_BLOCK) void msm_digits(const Fr* prep, u32 n, u32 c, u32 windows, u32* keys,
                                                                  u32* vals, u32* counts) {
    u32 i = global_id();
    bool live = i < n;
    Fr s = live ? prep[i] : f_zero<FrP>();
    u32 neg = s.l[7] >> 31;
    s.l[7] &= ~MSM_NEG_FLAG;
    u32 nb = 1u << (c - 1);
    u32 carry = 0;
    for (u32 w = 0; w < windows; w++) {
        u32 bits = scalar_bits(s, w * c, c) + carry;
        u32 key = MSM_NO_BUCKET, sign = 0;
        if (bits > nb) {
            carry = 1;
            u32 mag = (1u << c) - bits;  // digit = bits - 2^c < 0 (0 when bits = 2^c)
            if (mag != 0) {
                key = w * nb + mag - 1;
                sign = 1;
            }
        } else {
            carry = 0;
            if (bits != 0) key = w * nb + bits - 1;
        }
        if (live) {
            u64 e = (u64)w * n + i;
            keys[e] = key;
            vals[e] = i | ((sign ^ neg) << 31);
        }
        warp_aggregated_inc(counts, key);
    }
}

// Scatter every pair to offsets[bucket] + (its rank among the bucket's pairs; `fill` starts at zero).
// Threads past `entries` take part with no bucket (whole warps run the aggregated atomics).
extern "C" __global__ __launch_bounds__(MSM_BLOCK) void msm_scatter(const u32* keys, const u32* vals, u32 entries,
                                                                   const u32* offsets, u32* fill, u32* sorted) {
    u32 e = global_id();
    u32 k = e < entries ? keys[e] : MSM_NO_BUCKET;
    u32 slot = warp_aggregated_inc(fill, k);
    if (k != MSM_NO_BUCKET) sorted[offsets[k] + slot] = vals[e];
}

// cnt_out[b] = ceil(cnt_in[b] / L): the number of threads (segments) bucket b needs at the next level.
extern "C" __global__ __launch_bounds__(MSM_BLOCK) void msm_seg_counts(const u32* cnt_in, u32* cnt_out, u32 buckets, u32 seg) {
    u32 b = global_id();
    if (b < buckets) cnt_out[b] = (cnt_in[b] + seg - 1) / seg;
}

// The bucket that owns output segment s: the largest b with off[b] <= s (empty buckets share their successor's
// offset, so the largest one is the non-empty owner).
__device__ __forceinline__ u32 owner_bucket(const u32* off, u32 buckets, u32 s) {
    u32 lo = 0, hi = buckets - 1;
    while (lo < hi) {
        u32 mid = lo + (hi - lo + 1) / 2;
        if (off[mid] <= s) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

// Segment s (a thread) of an accumulation level: entries [start, end) of its bucket, at most `seg` of them.
// Returns false for threads past the last segment.
__device__ __forceinline__ bool msm_segment(const u32* cnt_in, const u32* off_in, const u32* cnt_out,
                                            const u32* off_out, u32 buckets, u32 seg, u32 s, u32& start, u32& end) {
    u32 total = off_out[buckets - 1] + cnt_out[buckets - 1];
    if (s >= total) return false;
    u32 b = owner_bucket(off_out, buckets, s);
    start = off_in[b] + (s - off_out[b]) * seg;
    end = off_in[b] + cnt_in[b];
    if (end > start + seg) end = start + seg;
    return true;
}

// First level: segment s of bucket b sums affine points sorted[off_in[b] + k L ...] (k = s - off_out[b]).
extern "C" __global__ __launch_bounds__(MSM_BLOCK_ACC) void msm_accumulate_points(const G1A* bases, const u32* sorted, const u32* cnt_in,
                                                 const u32* off_in, const u32* cnt_out, const u32* off_out,
                                                 u32 buckets, u32 seg, G1X* out) {
    u32 s = global_id(), start, end;
    if (!msm_segment(cnt_in, off_in, cnt_out, off_out, buckets, seg, s, start, end)) return;
    G1X acc = g1x_identity();
    for (u32 j = start; j < end; j++) {
        u32 v = sorted[j];
        G1A p = bases[v & 0x7fffffffu];
        if (v >> 31) p = g1a_neg(p);
        acc = g1x_add_affine(acc, p);
    }
    out[s] = acc;
}

// Later levels: the same over XYZZ partial sums.
extern "C" __global__ __launch_bounds__(MSM_BLOCK_ACC) void msm_accumulate_partials(const G1X* in, const u32* cnt_in, const u32* off_in,
                                                   const u32* cnt_out, const u32* off_out, u32 buckets, u32 seg,
                                                   G1X* out) {
    u32 s = global_id(), start, end;
    if (!msm_segment(cnt_in, off_in, cnt_out, off_out, buckets, seg, s, start, end)) return;
    G1X acc = in[start];
    for (u32 j = start + 1; j < end; j++) acc = g1x_add(acc, in[j]);
    out[s] = acc;
}

// buckets[b] = the single partial of bucket b (cnt[b] is 0 or 1 after the last level).
extern "C" __global__ __launch_bounds__(MSM_BLOCK) void msm_bucket_gather(const G1X* partials, const u32* cnt, const u32* off, u32 buckets,
                                             G1X* out) {
    u32 b = global_id();
    if (b >= buckets) return;
    out[b] = cnt[b] ? partials[off[b]] : g1x_identity();
}

// Thread (w, k) covers buckets [k m, k m + m) of window w: running sums give sum (j - k m + 1) B_j and
// A = sum B_j; adding (k m) A makes it the chunk's share of sum_j (j + 1) B_j.
extern "C" __global__ __launch_bounds__(MSM_BLOCK_ACC) void msm_bucket_reduce(const G1X* buckets, u32 windows, u32 nb, u32 chunks, u32 m, G1X* out) {
    u32 g = global_id();
    if (g >= windows * chunks) return;
    u32 w = g / chunks, k = g % chunks;
    const G1X* bw = buckets + (u64)w * nb + (u64)k * m;
    G1X run = g1x_identity();
    G1X sum = g1x_identity();
    for (int j = (int)m - 1; j >= 0; j--) {
        run = g1x_add(run, bw[j]);
        sum = g1x_add(sum, run);
    }
    out[g] = g1x_add(sum, g1x_mul_u32(run, k * m));
}

// out[g * len_out + k] = sum of in[g * len + k L ...] (at most L terms) for `groups` groups of `len` partials.
extern "C" __global__ __launch_bounds__(MSM_BLOCK_ACC) void msm_reduce_groups(const G1X* in, u32 groups, u32 len, u32 seg, G1X* out) {
    u32 len_out = (len + seg - 1) / seg;
    u32 t = global_id();
    if (t >= groups * len_out) return;
    u32 g = t / len_out, k = t % len_out;
    u32 start = g * len + k * seg;
    u32 end = g * len + len;
    if (end > start + seg) end = start + seg;
    G1X acc = in[start];
    for (u32 j = start + 1; j < end; j++) acc = g1x_add(acc, in[j]);
    out[t] = acc;
}

// One thread: Horner over the window sums.
extern "C" __global__ __launch_bounds__(1) void msm_window_combine(const G1X* win, u32 windows, u32 c, G1X* out) {
    if (global_id() != 0) return;
    G1X acc = win[windows - 1];
    for (int w = (int)windows - 2; w >= 0; w--) {
        for (u32 i = 0; i < c; i++) acc = g1x_double(acc);
        acc = g1x_add(acc, win[w]);
    }
    out[0] = acc;
}
