// BN254 base field Fq and scalar field Fr in Montgomery form.
//
// Layout: 8 little-endian u32 limbs = the bytes of halo2curves' [u64; 4] little-endian limbs, so buffers of
// halo2curves Fq / Fr are used on the device as they are. R = 2^256 for both limb widths, hence the same
// Montgomery form. Products: inline-PTX carry chains on the GPU, u64 intermediates on the host (see f_mul).

// Moduli, R mod p and -p^-1 mod 2^32. Limb i of a constant is read through a switch so that, once the limb loops
// are unrolled, every constant folds into an immediate.
struct FqP {
    static const u32 INV = 0xe4866389u;
    static __device__ __forceinline__ u32 mod(int i) {
        switch (i) {
        case 0: return 0xd87cfd47u; case 1: return 0x3c208c16u; case 2: return 0x6871ca8du; case 3: return 0x97816a91u;
        case 4: return 0x8181585du; case 5: return 0xb85045b6u; case 6: return 0xe131a029u; default: return 0x30644e72u;
        }
    }
    static __device__ __forceinline__ u32 one(int i) {
        switch (i) {
        case 0: return 0xc58f0d9du; case 1: return 0xd35d438du; case 2: return 0xf5c70b3du; case 3: return 0x0a78eb28u;
        case 4: return 0x7879462cu; case 5: return 0x666ea36fu; case 6: return 0x9a07df2fu; default: return 0x0e0a77c1u;
        }
    }
};

struct FrP {
    static const u32 INV = 0xefffffffu;
    static __device__ __forceinline__ u32 mod(int i) {
        switch (i) {
        case 0: return 0xf0000001u; case 1: return 0x43e1f593u; case 2: return 0x79b97091u; case 3: return 0x2833e848u;
        case 4: return 0x8181585du; case 5: return 0xb85045b6u; case 6: return 0xe131a029u; default: return 0x30644e72u;
        }
    }
    static __device__ __forceinline__ u32 one(int i) {
        switch (i) {
        case 0: return 0x4ffffffbu; case 1: return 0xac96341cu; case 2: return 0x9f60cd29u; case 3: return 0x36fc7695u;
        case 4: return 0x7879462eu; case 5: return 0x666ea36fu; case 6: return 0x9a07df2fu; default: return 0x0e0a77c1u;
        }
    }
};

template <class P> struct ZK_ALIGN16 Field {
    u32 l[8];
};
typedef Field<FqP> Fq;
typedef Field<FrP> Fr;

template <class P> __device__ __forceinline__ Field<P> f_zero() {
    Field<P> r;
#pragma unroll
    for (int i = 0; i < 8; i++) r.l[i] = 0;
    return r;
}

// 1 in Montgomery form (R mod p).
template <class P> __device__ __forceinline__ Field<P> f_one() {
    Field<P> r;
#pragma unroll
    for (int i = 0; i < 8; i++) r.l[i] = P::one(i);
    return r;
}

template <class P> __device__ __forceinline__ bool f_is_zero(const Field<P>& a) {
    u32 acc = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) acc |= a.l[i];
    return acc == 0;
}

template <class P> __device__ __forceinline__ bool f_eq(const Field<P>& a, const Field<P>& b) {
    u32 acc = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) acc |= a.l[i] ^ b.l[i];
    return acc == 0;
}

// r - p if r >= p, else r (inputs < 2p < 2^256).
template <class P> __device__ __forceinline__ Field<P> f_reduce_once(const Field<P>& a) {
    Field<P> s;
    u64 borrow = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        u64 d = (u64)a.l[i] - P::mod(i) - borrow;
        s.l[i] = (u32)d;
        borrow = (d >> 32) & 1;
    }
    return borrow ? a : s;
}

template <class P> __device__ __forceinline__ Field<P> f_add(const Field<P>& a, const Field<P>& b) {
    // p < 2^254, so a + b < 2^255 never carries out of 256 bits.
    Field<P> r;
    u64 c = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        c += (u64)a.l[i] + b.l[i];
        r.l[i] = (u32)c;
        c >>= 32;
    }
    return f_reduce_once(r);
}

template <class P> __device__ __forceinline__ Field<P> f_sub(const Field<P>& a, const Field<P>& b) {
    Field<P> r;
    u64 borrow = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        u64 d = (u64)a.l[i] - b.l[i] - borrow;
        r.l[i] = (u32)d;
        borrow = (d >> 32) & 1;
    }
    if (borrow) {
        u64 c = 0;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            c += (u64)r.l[i] + P::mod(i);
            r.l[i] = (u32)c;
            c >>= 32;
        }
    }
    return r;
}

template <class P> __device__ __forceinline__ Field<P> f_neg(const Field<P>& a) {
    return f_is_zero(a) ? a : f_sub(f_zero<P>(), a);
}

template <class P> __device__ __forceinline__ Field<P> f_dbl(const Field<P>& a) { return f_add(a, a); }

// Montgomery product a * b * 2^-256 mod p (CIOS: per limb b_i, t += a b_i, then t += m p with m = t_0 (-p^-1)
// mod 2^32, which zeroes t_0, then t >>= 32). t[8], t[9] hold the carries beyond the 8 limbs; t < 2p after every
// round, so the final t fits 8 limbs and one conditional subtraction reduces it.
//
// Two implementations of the same algorithm:
//   - on the GPU (__CUDA_ARCH__): inline PTX carry chains (mad.lo.cc / madc.lo.cc / madc.hi.cc / addc), the hardware
//     carry flag instead of 64-bit intermediates. NOT YET EXECUTED on a GPU: it is compiled by NVRTC (sm_75, sm_90;
//     ci/check-kernels) but no GPU has run it yet, so the first GPU run must check it (the
//     field test kernels (cuda/tests.cu) against halo2curves, backend/tests/cuda_gpu.rs).
//   - everywhere else (the host emulator): the portable u64 version below, tested bit for bit by
//     backend/tests/cuda_emulated.rs.
#if defined(__CUDA_ARCH__)
// t[0..10] += x[0..8] * y, exactly (the caller guarantees the sum stays below 2^320). Each carry chain is one asm
// statement: the carry flag does not survive between asm statements. Chain 1 adds the low halves lo(x_j y) at limb
// j, chain 2 the high halves hi(x_j y) at limb j + 1; each ends by propagating its carry into t[8..9].
__device__ __forceinline__ void mac_row(u32 (&t)[10], const u32 (&x)[8], u32 y) {
    asm("{\n\t"
        "mad.lo.cc.u32 %0, %10, %18, %0;\n\t"
        "madc.lo.cc.u32 %1, %11, %18, %1;\n\t"
        "madc.lo.cc.u32 %2, %12, %18, %2;\n\t"
        "madc.lo.cc.u32 %3, %13, %18, %3;\n\t"
        "madc.lo.cc.u32 %4, %14, %18, %4;\n\t"
        "madc.lo.cc.u32 %5, %15, %18, %5;\n\t"
        "madc.lo.cc.u32 %6, %16, %18, %6;\n\t"
        "madc.lo.cc.u32 %7, %17, %18, %7;\n\t"
        "addc.cc.u32 %8, %8, 0;\n\t"
        "addc.u32 %9, %9, 0;"
        "\n\t}"
        : "+r"(t[0]), "+r"(t[1]), "+r"(t[2]), "+r"(t[3]), "+r"(t[4]), "+r"(t[5]), "+r"(t[6]), "+r"(t[7]),
          "+r"(t[8]), "+r"(t[9])
        : "r"(x[0]), "r"(x[1]), "r"(x[2]), "r"(x[3]), "r"(x[4]), "r"(x[5]), "r"(x[6]), "r"(x[7]), "r"(y));
    asm("{\n\t"
        "mad.hi.cc.u32 %1, %10, %18, %1;\n\t"
        "madc.hi.cc.u32 %2, %11, %18, %2;\n\t"
        "madc.hi.cc.u32 %3, %12, %18, %3;\n\t"
        "madc.hi.cc.u32 %4, %13, %18, %4;\n\t"
        "madc.hi.cc.u32 %5, %14, %18, %5;\n\t"
        "madc.hi.cc.u32 %6, %15, %18, %6;\n\t"
        "madc.hi.cc.u32 %7, %16, %18, %7;\n\t"
        "madc.hi.cc.u32 %8, %17, %18, %8;\n\t"
        "addc.u32 %9, %9, 0;"
        "\n\t}"
        : "+r"(t[0]), "+r"(t[1]), "+r"(t[2]), "+r"(t[3]), "+r"(t[4]), "+r"(t[5]), "+r"(t[6]), "+r"(t[7]),
          "+r"(t[8]), "+r"(t[9])
        : "r"(x[0]), "r"(x[1]), "r"(x[2]), "r"(x[3]), "r"(x[4]), "r"(x[5]), "r"(x[6]), "r"(x[7]), "r"(y));
}

template <class P> __device__ __forceinline__ Field<P> f_mul(const Field<P>& a, const Field<P>& b) {
    u32 t[10], p[8];
#pragma unroll
    for (int i = 0; i < 10; i++) t[i] = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) p[i] = P::mod(i);
#pragma unroll
    for (int i = 0; i < 8; i++) {
        mac_row(t, a.l, b.l[i]);  // t += a b_i
        u32 m = t[0] * P::INV;
        mac_row(t, p, m);  // t += m p: t[0] becomes 0
#pragma unroll
        for (int j = 0; j < 9; j++) t[j] = t[j + 1];  // t >>= 32
        t[9] = 0;
    }
    Field<P> r;
#pragma unroll
    for (int i = 0; i < 8; i++) r.l[i] = t[i];
    return f_reduce_once(r);
}
#else
// Portable CIOS with u64 intermediates (the host emulator).
template <class P> __device__ __forceinline__ Field<P> f_mul(const Field<P>& a, const Field<P>& b) {
    u32 t[10];
#pragma unroll
    for (int i = 0; i < 10; i++) t[i] = 0;
#pragma unroll
    for (int i = 0; i < 8; i++) {
        u64 c = 0;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            c += (u64)a.l[j] * b.l[i] + t[j];
            t[j] = (u32)c;
            c >>= 32;
        }
        c += t[8];
        t[8] = (u32)c;
        t[9] = (u32)(c >> 32);
        u32 m = t[0] * P::INV;
        c = ((u64)m * P::mod(0) + t[0]) >> 32;
#pragma unroll
        for (int j = 1; j < 8; j++) {
            c += (u64)m * P::mod(j) + t[j];
            t[j - 1] = (u32)c;
            c >>= 32;
        }
        c += t[8];
        t[7] = (u32)c;
        t[8] = t[9] + (u32)(c >> 32);
    }
    Field<P> r;
#pragma unroll
    for (int i = 0; i < 8; i++) r.l[i] = t[i];
    return f_reduce_once(r);
}
#endif

template <class P> __device__ __forceinline__ Field<P> f_sqr(const Field<P>& a) { return f_mul(a, a); }

// Out of Montgomery form: a * 2^-256 = the canonical integer, as 8 limbs.
template <class P> __device__ __forceinline__ Field<P> f_from_mont(const Field<P>& a) {
    Field<P> one_raw = f_zero<P>();
    one_raw.l[0] = 1;
    return f_mul(a, one_raw);
}

// a^(p-2) (Fermat); 0 maps to 0. Not on hot paths.
template <class P> __device__ Field<P> f_inv(const Field<P>& a) {
    Field<P> r = f_one<P>();
    for (int i = 7; i >= 0; i--) {
        u32 e = P::mod(i) - (i == 0 ? 2u : 0u);  // p is odd and p mod 2^32 > 2: no borrow
        for (int bit = 31; bit >= 0; bit--) {
            r = f_sqr(r);
            if ((e >> bit) & 1) r = f_mul(r, a);
        }
    }
    return r;
}

// x^e for a small exponent (square and multiply).
template <class P> __device__ __forceinline__ Field<P> f_pow_u32(Field<P> x, u32 e) {
    Field<P> r = f_one<P>();
    while (e) {
        if (e & 1) r = f_mul(r, x);
        x = f_sqr(x);
        e >>= 1;
    }
    return r;
}
