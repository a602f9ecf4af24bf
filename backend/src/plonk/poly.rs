//! Small host-side polynomial helpers the protocol needs around the engine kernels (evaluation at a point,
//! division by a linear factor, interpolation through a handful of points).

use halo2_proofs::halo2curves::ff::Field;
use rayon::prelude::*;

use crate::Fr;

/// p(x) for coefficients p, Horner in parallel chunks.
pub fn eval(p: &[Fr], x: Fr) -> Fr {
    const CHUNK: usize = 1 << 12;
    if p.len() <= CHUNK {
        return p.iter().rev().fold(Fr::ZERO, |acc, c| acc * x + c);
    }
    p.par_chunks(CHUNK)
        .enumerate()
        .map(|(i, chunk)| {
            let v = chunk.iter().rev().fold(Fr::ZERO, |acc, c| acc * x + c);
            v * x.pow_vartime([(i * CHUNK) as u64])
        })
        .reduce(|| Fr::ZERO, |a, b| a + b)
}

/// Quotient of p(X) by (X - b), dropping the remainder (callers divide exact multiples).
pub fn divide_by_linear(p: &[Fr], b: Fr) -> Vec<Fr> {
    if p.is_empty() {
        return Vec::new();
    }
    let mut q = vec![Fr::ZERO; p.len() - 1];
    let mut carry = Fr::ZERO;
    for i in (1..p.len()).rev() {
        carry = p[i] + carry * b;
        q[i - 1] = carry;
    }
    q
}

/// Coefficients of the unique polynomial of degree < points.len() through (points[i], evals[i]).
pub fn interpolate(points: &[Fr], evals: &[Fr]) -> Vec<Fr> {
    let m = points.len();
    let mut out = vec![Fr::ZERO; m];
    for (j, (&xj, &yj)) in points.iter().zip(evals).enumerate() {
        // basis_j(X) = prod_{k != j} (X - x_k) / (x_j - x_k)
        let mut basis = vec![Fr::ONE];
        let mut denom = Fr::ONE;
        for (k, &xk) in points.iter().enumerate() {
            if k == j {
                continue;
            }
            let mut next = vec![Fr::ZERO; basis.len() + 1];
            for (i, &c) in basis.iter().enumerate() {
                next[i + 1] += c;
                next[i] -= c * xk;
            }
            basis = next;
            denom *= xj - xk;
        }
        let scale = yj * denom.invert().unwrap();
        for (o, c) in out.iter_mut().zip(basis) {
            *o += c * scale;
        }
    }
    out
}

/// prod (x - r) over the roots.
pub fn vanishing_at(roots: &[Fr], x: Fr) -> Fr {
    roots.iter().fold(Fr::ONE, |acc, r| acc * (x - r))
}

/// Divides p(X) by prod (X - r) (exact division assumed).
pub fn divide_by_vanishing(mut p: Vec<Fr>, roots: &[Fr]) -> Vec<Fr> {
    for &r in roots {
        p = divide_by_linear(&p, r);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn helpers_agree_with_definitions() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let p: Vec<Fr> = (0..10_000).map(|_| Fr::random(&mut rng)).collect();
        let x = Fr::random(&mut rng);
        let naive = p.iter().rev().fold(Fr::ZERO, |acc, c| acc * x + c);
        assert_eq!(eval(&p, x), naive);

        // (X - b) * q + p(b) == p
        let b = Fr::random(&mut rng);
        let q = divide_by_linear(&p, b);
        assert_eq!(eval(&q, x) * (x - b) + eval(&p, b), eval(&p, x));

        let pts: Vec<Fr> = (0..4).map(|_| Fr::random(&mut rng)).collect();
        let ev: Vec<Fr> = (0..4).map(|_| Fr::random(&mut rng)).collect();
        let r = interpolate(&pts, &ev);
        for (pt, e) in pts.iter().zip(&ev) {
            assert_eq!(eval(&r, *pt), *e);
        }
    }
}

/// In-place inversion of every element (zeros stay zero), Montgomery's trick per parallel chunk.
pub fn batch_invert(v: &mut [Fr]) {
    use halo2_proofs::halo2curves::ff::BatchInvert;
    v.par_chunks_mut(1 << 14).for_each(|c| {
        c.iter_mut().batch_invert();
    });
}
