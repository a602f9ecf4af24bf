// Element-wise work on resident Fr buffers (ScalarBuffer ops). One thread per element unless noted.

extern "C" __global__ void fr_mul_assign(Fr* a, const Fr* b, u32 n) {
    u32 i = global_id();
    if (i < n) a[i] = f_mul(a[i], b[i]);
}

extern "C" __global__ void fr_add_assign(Fr* a, const Fr* b, u32 n) {
    u32 i = global_id();
    if (i < n) a[i] = f_add(a[i], b[i]);
}

extern "C" __global__ void fr_sub_assign(Fr* a, const Fr* b, u32 n) {
    u32 i = global_id();
    if (i < n) a[i] = f_sub(a[i], b[i]);
}

// a[i] += c * b[i]
extern "C" __global__ void fr_add_scaled(Fr* a, Fr c, const Fr* b, u32 n) {
    u32 i = global_id();
    if (i < n) a[i] = f_add(a[i], f_mul(c, b[i]));
}

extern "C" __global__ void fr_scale(Fr* a, Fr c, u32 n) {
    u32 i = global_id();
    if (i < n) a[i] = f_mul(a[i], c);
}

// a[j] *= g^j, grid-stride: g^t from the table pow2[b] = g^(2^b), then times stride = g^(total threads) per step.
extern "C" __global__ void fr_distribute_powers(Fr* a, u32 n, const Fr* pow2, Fr stride) {
    u32 t = global_id();
    if (t >= n) return;
    Fr g = pow_from_table(pow2, t);
    for (u32 j = t; j < n; j += global_threads()) {
        a[j] = f_mul(a[j], g);
        g = f_mul(g, stride);
    }
}
