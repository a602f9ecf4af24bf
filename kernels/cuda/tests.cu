// Test kernels, compiled only in test builds (zkinfer-kernels feature `test-kernels`): field arithmetic checked
// against halo2curves by backend/tests/cuda_emulated.rs (and cuda_gpu.rs on GPUs).
// out[6 i ..] = a + b, a - b, a * b, a^2, a^-1 (0 for 0), a out of Montgomery form.

template <class P> __device__ __forceinline__ void field_ops(const Field<P>* a, const Field<P>* b, Field<P>* out,
                                                             u32 n) {
    u32 i = global_id();
    if (i >= n) return;
    Field<P> x = a[i], y = b[i];
    out[6 * i + 0] = f_add(x, y);
    out[6 * i + 1] = f_sub(x, y);
    out[6 * i + 2] = f_mul(x, y);
    out[6 * i + 3] = f_sqr(x);
    out[6 * i + 4] = f_inv(x);
    out[6 * i + 5] = f_from_mont(x);
}

extern "C" __global__ void test_fq_ops(const Fq* a, const Fq* b, Fq* out, u32 n) { field_ops(a, b, out, n); }

extern "C" __global__ void test_fr_ops(const Fr* a, const Fr* b, Fr* out, u32 n) { field_ops(a, b, out, n); }
