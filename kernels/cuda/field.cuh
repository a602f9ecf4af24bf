// BN254 base field Fq and scalar field Fr in Montgomery form.
//
// Layout: 8 little-endian u32 limbs = the bytes of halo2curves' [u64; 4] little-endian limbs, so buffers of
// halo2curves Fq / Fr are used on the device as they are. R = 2^256 for both limb widths, hence the same
// Montgomery form. Products use u64 intermediates (portable: no PTX, no intrinsics).

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

// Montgomery product a * b * 2^-256 mod p (CIOS). t[8], t[9] hold the carries beyond the 8 limbs.
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
