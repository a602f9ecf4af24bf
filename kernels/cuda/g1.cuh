// BN254 G1 (y^2 = x^3 + 3 over Fq). Bases are halo2curves G1Affine {x, y} (64 bytes, Montgomery form, identity =
// (0, 0)). Sums are kept in XYZZ coordinates: x = X/ZZ, y = Y/ZZZ, identity when ZZ = 0. Formulas: EFD
// "xyzz" madd-2008-s, add-2008-s, dbl-2008-s-1, mdbl-2008-s-1 (a = 0), with the doubling and P + (-P) cases.

struct G1A {
    Fq x, y;
};

struct G1X {
    Fq x, y, zz, zzz;
};

// halo2curves' byte layout is kept: the 16-byte alignment of Fq adds no padding.
static_assert(sizeof(Fq) == 32 && alignof(Fq) == 16, "Fq: 8 limbs, 16-byte aligned");
static_assert(sizeof(G1A) == 64 && alignof(G1A) == 16, "G1A: {x, y}, 64 bytes");
static_assert(sizeof(G1X) == 128 && alignof(G1X) == 16, "G1X: {x, y, zz, zzz}, 128 bytes");

__device__ __forceinline__ bool g1a_is_identity(const G1A& p) { return f_is_zero(p.x) && f_is_zero(p.y); }

__device__ __forceinline__ G1X g1x_identity() {
    G1X r;
    r.x = f_one<FqP>();
    r.y = f_one<FqP>();
    r.zz = f_zero<FqP>();
    r.zzz = f_zero<FqP>();
    return r;
}

__device__ __forceinline__ bool g1x_is_identity(const G1X& p) { return f_is_zero(p.zz); }

__device__ __forceinline__ G1A g1a_neg(const G1A& p) {
    G1A r;
    r.x = p.x;
    r.y = f_neg(p.y);
    return r;
}

// The doubling formulas on (X, Y) alone: X3, Y3, and ZZ3 = V, ZZZ3 = W for an affine input (ZZ = ZZZ = 1); an
// XYZZ input scales them by its ZZ and ZZZ.
__device__ __forceinline__ G1X g1x_double_xy(const Fq& x, const Fq& y) {
    Fq u = f_dbl(y);
    Fq v = f_sqr(u);
    Fq w = f_mul(u, v);
    Fq s = f_mul(x, v);
    Fq x2 = f_sqr(x);
    Fq m = f_add(f_dbl(x2), x2);
    G1X r;
    r.x = f_sub(f_sqr(m), f_dbl(s));
    r.y = f_sub(f_mul(m, f_sub(s, r.x)), f_mul(w, y));
    r.zz = v;
    r.zzz = w;
    return r;
}

// 2 * (x, y) for an affine point (never the identity here).
__device__ __forceinline__ G1X g1x_double_affine(const G1A& p) {
    return g1x_double_xy(p.x, p.y);
}

__device__ __forceinline__ G1X g1x_double(const G1X& p) {
    if (g1x_is_identity(p)) return p;
    G1X r = g1x_double_xy(p.x, p.y);
    r.zz = f_mul(r.zz, p.zz);
    r.zzz = f_mul(r.zzz, p.zzz);
    return r;
}

// p + q with q affine (the bucket accumulation step).
__device__ __forceinline__ G1X g1x_add_affine(const G1X& p, const G1A& q) {
    if (g1a_is_identity(q)) return p;
    if (g1x_is_identity(p)) {
        G1X r;
        r.x = q.x;
        r.y = q.y;
        r.zz = f_one<FqP>();
        r.zzz = f_one<FqP>();
        return r;
    }
    Fq u2 = f_mul(q.x, p.zz);
    Fq s2 = f_mul(q.y, p.zzz);
    Fq pp_ = f_sub(u2, p.x);
    Fq rr = f_sub(s2, p.y);
    if (f_is_zero(pp_)) {
        if (f_is_zero(rr)) return g1x_double_affine(q);
        return g1x_identity();
    }
    Fq pp = f_sqr(pp_);
    Fq ppp = f_mul(pp_, pp);
    Fq qq = f_mul(p.x, pp);
    G1X r;
    r.x = f_sub(f_sub(f_sqr(rr), ppp), f_dbl(qq));
    r.y = f_sub(f_mul(rr, f_sub(qq, r.x)), f_mul(p.y, ppp));
    r.zz = f_mul(p.zz, pp);
    r.zzz = f_mul(p.zzz, ppp);
    return r;
}

__device__ __forceinline__ G1X g1x_add(const G1X& p, const G1X& q) {
    if (g1x_is_identity(q)) return p;
    if (g1x_is_identity(p)) return q;
    Fq u1 = f_mul(p.x, q.zz);
    Fq u2 = f_mul(q.x, p.zz);
    Fq s1 = f_mul(p.y, q.zzz);
    Fq s2 = f_mul(q.y, p.zzz);
    Fq pp_ = f_sub(u2, u1);
    Fq rr = f_sub(s2, s1);
    if (f_is_zero(pp_)) {
        if (f_is_zero(rr)) return g1x_double(p);
        return g1x_identity();
    }
    Fq pp = f_sqr(pp_);
    Fq ppp = f_mul(pp_, pp);
    Fq qq = f_mul(u1, pp);
    G1X r;
    r.x = f_sub(f_sub(f_sqr(rr), ppp), f_dbl(qq));
    r.y = f_sub(f_mul(rr, f_sub(qq, r.x)), f_mul(s1, ppp));
    r.zz = f_mul(f_mul(p.zz, q.zz), pp);
    r.zzz = f_mul(f_mul(p.zzz, q.zzz), ppp);
    return r;
}

// k * p for a small non-negative k (double and add, most significant bit first).
__device__ __forceinline__ G1X g1x_mul_u32(const G1X& p, u32 k) {
    G1X r = g1x_identity();
    for (int bit = 31; bit >= 0; bit--) {
        r = g1x_double(r);
        if ((k >> bit) & 1) r = g1x_add(r, p);
    }
    return r;
}
