//! BN254 G1 points in extended Jacobian "XYZZ" coordinates (x = X/ZZ, y = Y/ZZZ, ZZ^3 = ZZZ^2).
//!
//! Used for MSM bucket reduction and for the rare bucket additions that cannot wait for the batched affine pass:
//! mixed addition costs 8M+2S and full addition 12M+2S, versus about 11M+ for halo2curves' complete projective
//! formulas. Formulas: Bernstein–Lange EFD, "xyzz" shape for a = 0 (madd-2008-s, add-2008-s, dbl-2008-s-1,
//! mdbl-2008-s-1), with the doubling / inverse special cases handled explicitly. Squares are written as products:
//! halo2curves' `Fq::square` is slower than its (inlined) `mul` on x86-64.

use halo2_proofs::halo2curves::ff::Field;
use halo2_proofs::halo2curves::group::Group;

use crate::{Fq, G1Affine, G1};

#[derive(Clone, Copy, Debug)]
pub struct Xyzz {
    pub x: Fq,
    pub y: Fq,
    pub zz: Fq,
    pub zzz: Fq,
}

impl Xyzz {
    pub const IDENTITY: Xyzz = Xyzz {
        x: Fq::ONE,
        y: Fq::ONE,
        zz: Fq::ZERO,
        zzz: Fq::ZERO,
    };

    #[inline]
    pub fn is_identity(&self) -> bool {
        self.zz == Fq::ZERO
    }

    #[inline]
    pub fn from_affine(x: Fq, y: Fq) -> Xyzz {
        Xyzz {
            x,
            y,
            zz: Fq::ONE,
            zzz: Fq::ONE,
        }
    }

    /// Doubling of an affine point (mdbl-2008-s-1). y != 0 always holds on BN254 G1 (odd order).
    #[inline]
    fn double_affine(x: Fq, y: Fq) -> Xyzz {
        let u = y.double();
        let v = u * u;
        let w = u * v;
        let s = x * v;
        let xx = x * x;
        let m = xx.double() + xx;
        let x3 = m * m - s.double();
        let y3 = m * (s - x3) - w * y;
        Xyzz {
            x: x3,
            y: y3,
            zz: v,
            zzz: w,
        }
    }

    /// In-place doubling (dbl-2008-s-1, a = 0).
    #[inline]
    pub fn double_in_place(&mut self) {
        if self.is_identity() {
            return;
        }
        let u = self.y.double();
        let v = u * u;
        let w = u * v;
        let s = self.x * v;
        let xx = self.x * self.x;
        let m = xx.double() + xx;
        let x3 = m * m - s.double();
        let y3 = m * (s - x3) - w * self.y;
        self.zz *= v;
        self.zzz *= w;
        self.x = x3;
        self.y = y3;
    }

    /// `self += (x2, y2)` for an affine point that is not the identity (madd-2008-s).
    #[inline]
    pub fn add_affine(&mut self, x2: Fq, y2: Fq) {
        if self.is_identity() {
            *self = Xyzz::from_affine(x2, y2);
            return;
        }
        let u2 = x2 * self.zz;
        let s2 = y2 * self.zzz;
        let p = u2 - self.x;
        let r = s2 - self.y;
        if p == Fq::ZERO {
            if r == Fq::ZERO {
                *self = Xyzz::double_affine(x2, y2);
            } else {
                *self = Xyzz::IDENTITY;
            }
            return;
        }
        let pp = p * p;
        let ppp = p * pp;
        let q = self.x * pp;
        let x3 = r * r - ppp - q.double();
        let y3 = r * (q - x3) - self.y * ppp;
        self.zz *= pp;
        self.zzz *= ppp;
        self.x = x3;
        self.y = y3;
    }

    /// `self += other` (add-2008-s).
    #[inline]
    pub fn add_assign(&mut self, other: &Xyzz) {
        if other.is_identity() {
            return;
        }
        if self.is_identity() {
            *self = *other;
            return;
        }
        let u1 = self.x * other.zz;
        let u2 = other.x * self.zz;
        let s1 = self.y * other.zzz;
        let s2 = other.y * self.zzz;
        let p = u2 - u1;
        let r = s2 - s1;
        if p == Fq::ZERO {
            if r == Fq::ZERO {
                self.double_in_place();
            } else {
                *self = Xyzz::IDENTITY;
            }
            return;
        }
        let pp = p * p;
        let ppp = p * pp;
        let q = u1 * pp;
        let x3 = r * r - ppp - q.double();
        let y3 = r * (q - x3) - s1 * ppp;
        self.zz = self.zz * other.zz * pp;
        self.zzz = self.zzz * other.zzz * ppp;
        self.x = x3;
        self.y = y3;
    }

    /// Converts to halo2curves' homogeneous projective G1 (x = X/Z, y = Y/Z) without an inversion:
    /// Z = ZZ·ZZZ, X = X·ZZZ, Y = Y·ZZ.
    pub fn to_projective(&self) -> G1 {
        if self.is_identity() {
            return G1::identity();
        }
        G1 {
            x: self.x * self.zzz,
            y: self.y * self.zz,
            z: self.zz * self.zzz,
        }
    }

    pub fn from_g1_affine(p: &G1Affine) -> Xyzz {
        if is_affine_identity(p) {
            Xyzz::IDENTITY
        } else {
            Xyzz::from_affine(p.x, p.y)
        }
    }
}

/// halo2curves encodes the affine identity as (0, 0).
#[inline]
pub fn is_affine_identity(p: &G1Affine) -> bool {
    p.x == Fq::ZERO && p.y == Fq::ZERO
}
