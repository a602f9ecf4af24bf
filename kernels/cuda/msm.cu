// Pippenger MSM over BN254 G1.
//
// Pipeline (host orchestration in backend/src/engine/cuda/msm.rs):
//   msm_digits         scalar -> canonical form (on the device) -> W signed c-bit digits; one (bucket, point) pair
//                      per non-zero digit; bucket histogram with atomics
//   scan_block/add     exclusive scan of the histogram = start of every bucket in the sorted list
//   msm_scatter        counting-sort scatter of the pairs into bucket order
//   msm_seg_counts +   bucket accumulation in levels: every thread adds at most L consecutive entries of one
//   msm_accumulate_*   bucket (affine points first, XYZZ partial sums after), so a bucket holding many points (skewed
//                      scalars) is still summed in parallel
//   msm_bucket_gather  dense bucket array (identity for empty buckets)
//   msm_bucket_reduce  per window sum_j (j+1) B_j, split into chunks: running sums inside a chunk plus offset * total
//   msm_reduce_groups  sums consecutive groups of partials (chunks of a window) in levels of L
//   msm_window_combine Horner over the windows: sum_w 2^(c w) W_w (one thread; the engine normally does this on
//                      the host, where the ~255 dependent doublings are faster)
//
// Digits: d in [-(2^(c-1) - 1), 2^(c-1)], bucket |d| - 1, 2^(c-1) buckets per window, W = ceil(255 / c) windows so
// the carry of the top window is always absorbed (scalars < r < 2^254). Pair value = point index | sign << 31.

#define MSM_NO_BUCKET 0xffffffffu

// c bits of a canonical scalar starting at bit `pos` (bits beyond 256 read as 0).
__device__ __forceinline__ u32 scalar_bits(const Fr& s, u32 pos, u32 c) {
    u32 limb = pos >> 5, sh = pos & 31;
    if (limb >= 8) return 0;
    u64 w = s.l[limb];
    if (limb + 1 < 8) w |= (u64)s.l[limb + 1] << 32;
    return (u32)(w >> sh) & ((1u << c) - 1);
}

extern "C" __global__ void msm_digits(const Fr* scalars, u32 n, u32 c, u32 windows, u32* keys, u32* vals,
                                      u32* counts) {
    u32 i = global_id();
    if (i >= n) return;
    Fr s = f_from_mont(scalars[i]);
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
        u64 e = (u64)w * n + i;
        keys[e] = key;
        vals[e] = i | (sign << 31);
        if (key != MSM_NO_BUCKET) atomicAdd(&counts[key], 1u);
    }
}

// Scatter every pair to offsets[bucket] + (its rank among the bucket's pairs; `fill` starts at zero).
extern "C" __global__ void msm_scatter(const u32* keys, const u32* vals, u32 entries, const u32* offsets, u32* fill,
                                       u32* sorted) {
    u32 e = global_id();
    if (e >= entries) return;
    u32 k = keys[e];
    if (k == MSM_NO_BUCKET) return;
    u32 pos = offsets[k] + atomicAdd(&fill[k], 1u);
    sorted[pos] = vals[e];
}

// cnt_out[b] = ceil(cnt_in[b] / L): the number of threads (segments) bucket b needs at the next level.
extern "C" __global__ void msm_seg_counts(const u32* cnt_in, u32* cnt_out, u32 buckets, u32 seg) {
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
extern "C" __global__ void msm_accumulate_points(const G1A* bases, const u32* sorted, const u32* cnt_in,
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
extern "C" __global__ void msm_accumulate_partials(const G1X* in, const u32* cnt_in, const u32* off_in,
                                                   const u32* cnt_out, const u32* off_out, u32 buckets, u32 seg,
                                                   G1X* out) {
    u32 s = global_id(), start, end;
    if (!msm_segment(cnt_in, off_in, cnt_out, off_out, buckets, seg, s, start, end)) return;
    G1X acc = in[start];
    for (u32 j = start + 1; j < end; j++) acc = g1x_add(acc, in[j]);
    out[s] = acc;
}

// buckets[b] = the single partial of bucket b (cnt[b] is 0 or 1 after the last level).
extern "C" __global__ void msm_bucket_gather(const G1X* partials, const u32* cnt, const u32* off, u32 buckets,
                                             G1X* out) {
    u32 b = global_id();
    if (b >= buckets) return;
    out[b] = cnt[b] ? partials[off[b]] : g1x_identity();
}

// Thread (w, k) covers buckets [k m, k m + m) of window w: running sums give sum (j - k m + 1) B_j and
// A = sum B_j; adding (k m) A makes it the chunk's share of sum_j (j + 1) B_j.
extern "C" __global__ void msm_bucket_reduce(const G1X* buckets, u32 windows, u32 nb, u32 chunks, u32 m, G1X* out) {
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
extern "C" __global__ void msm_reduce_groups(const G1X* in, u32 groups, u32 len, u32 seg, G1X* out) {
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
extern "C" __global__ void msm_window_combine(const G1X* win, u32 windows, u32 c, G1X* out) {
    if (global_id() != 0) return;
    G1X acc = win[windows - 1];
    for (int w = (int)windows - 2; w >= 0; w--) {
        for (u32 i = 0; i < c; i++) acc = g1x_double(acc);
        acc = g1x_add(acc, win[w]);
    }
    out[0] = acc;
}
