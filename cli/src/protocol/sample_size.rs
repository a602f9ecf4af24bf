//! How many proofs a protocol needs.
//!
//! - **Accuracy audit (Hoeffding).** The mean of N independent 0/1 outcomes is within ε of its expectation except
//!   with probability exp(−2Nε²) on each side, so N = ⌈ln(1/δ) / (2ε²)⌉ bounds one side (the model is no worse than
//!   measured − ε) and ⌈ln(2/δ) / (2ε²)⌉ both. Sampling the test set without replacement only tightens it
//!   (Hoeffding 1963, section 6).
//! - **Contested predictions (Clopper–Pearson).** If a fraction p of the served predictions were tampered with, a
//!   uniform sample of n sees at most k of them with probability P[Bin(n, p) ≤ k]. The smallest n with
//!   P[Bin(n, p) ≤ k] ≤ δ is the sample after which seeing ≤ k tampered receipts puts the one-sided Clopper–Pearson
//!   upper bound of the tampering rate at level 1 − δ below p; the two-sided interval spends δ/2 per side.
//!   With k = 0 this is n = ⌈ln δ / ln(1 − p)⌉.
//!
//! Tails are computed exactly (a sum of binomial terms in log space), not by normal approximations.

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// More samples than this is not a protocol anyone runs (and loses float precision in the search).
pub const MAX_SAMPLES: u64 = 1_000_000_000;
/// A smaller δ is below anything a proof system's own soundness means in practice.
pub const MIN_DELTA: f64 = 1e-9;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sides {
    OneSided,
    TwoSided,
}

impl Sides {
    pub fn name(self) -> &'static str {
        match self {
            Sides::OneSided => "one-sided",
            Sides::TwoSided => "two-sided",
        }
    }
}

fn check_delta(delta: f64) -> Result<()> {
    if !(delta.is_finite() && delta > 0.0 && delta < 1.0) {
        bail!("δ = {delta}: a failure probability must lie strictly between 0 and 1");
    }
    if delta < MIN_DELTA {
        bail!("δ = {delta} is below {MIN_DELTA:e}: confidence that close to 1 is not meaningful (use δ ≥ {MIN_DELTA:e})");
    }
    Ok(())
}

fn check_count(n: f64, what: &str) -> Result<u64> {
    if !n.is_finite() || n > MAX_SAMPLES as f64 {
        bail!("{what} needs more than {MAX_SAMPLES} samples: no protocol can run that many proofs");
    }
    Ok(n.max(1.0) as u64)
}

/// Hoeffding: the number of examples so that the measured accuracy is within ε of the true one with probability
/// at least 1 − δ.
pub fn hoeffding(epsilon: f64, delta: f64, sides: Sides) -> Result<u64> {
    if !(epsilon.is_finite() && epsilon > 0.0) {
        bail!("ε = {epsilon}: the accuracy margin must be positive");
    }
    if epsilon >= 0.5 {
        bail!("ε = {epsilon}: a margin of 0.5 or more says nothing about an accuracy in [0, 1] (use ε < 0.5)");
    }
    check_delta(delta)?;
    let tails = match sides {
        Sides::OneSided => 1.0,
        Sides::TwoSided => 2.0,
    };
    let n = ((tails / delta).ln() / (2.0 * epsilon * epsilon)).ceil();
    check_count(n, &format!("ε = {epsilon}, δ = {delta}"))
}

/// ln C(n, k), exact up to float rounding for the k ≪ n used here (a sum of k terms).
fn ln_choose(n: u64, k: u64) -> f64 {
    let k = k.min(n - k.min(n));
    (1..=k).map(|i| ((n - k + i) as f64).ln() - (i as f64).ln()).sum()
}

/// P[Bin(n, p) ≤ k], summed in log space.
pub fn binomial_cdf(k: u64, n: u64, p: f64) -> f64 {
    if k >= n {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    (0..=k).map(|j| (ln_choose(n, j) + j as f64 * lp + (n - j) as f64 * lq).exp()).sum::<f64>().min(1.0)
}

/// Clopper–Pearson: the smallest sample n such that, were a fraction `p` of the predictions tampered with, a
/// uniform sample would show at most `allowed` tampered ones with probability ≤ δ (δ/2 two-sided).
pub fn clopper_pearson(p: f64, delta: f64, allowed: u64, sides: Sides) -> Result<u64> {
    if !(p.is_finite() && p > 0.0 && p < 1.0) {
        bail!("p = {p}: the tampering fraction must lie strictly between 0 and 1");
    }
    check_delta(delta)?;
    let level = match sides {
        Sides::OneSided => delta,
        Sides::TwoSided => delta / 2.0,
    };
    // The k = 0 closed form bounds the search from below; check it fits before any summing.
    let lower = (level.ln() / (-p).ln_1p()).ceil();
    check_count(lower, &format!("p = {p}, δ = {delta}"))?;
    let ok = |n: u64| binomial_cdf(allowed, n, p) <= level;
    let mut hi = (lower as u64).max(allowed + 1);
    while !ok(hi) {
        hi = hi.checked_mul(2).filter(|&h| h <= MAX_SAMPLES).ok_or_else(|| {
            anyhow::anyhow!("p = {p}, δ = {delta}, {allowed} tampered allowed needs more than {MAX_SAMPLES} samples")
        })?;
    }
    // P[Bin(n, p) ≤ k] decreases in n: bisect for the first n that passes.
    let mut lo = allowed; // fails: n ≤ k sees at most k always
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

/// What a sample of `n` tells about tampering when it saw `seen` tampered items: the one-sided Clopper–Pearson
/// upper bound on the tampering fraction at confidence 1 − δ (the p where P[Bin(n, p) ≤ seen] = δ).
pub fn tamper_upper_bound(n: u64, seen: u64, delta: f64) -> Result<f64> {
    check_delta(delta)?;
    if n == 0 {
        bail!("an empty sample bounds nothing");
    }
    if seen >= n {
        return Ok(1.0);
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if binomial_cdf(seen, n, mid) > delta {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The probability that a Hoeffding sample of `n` misses by more than ε (one side): exp(−2nε²).
    fn hoeffding_tail(n: u64, epsilon: f64) -> f64 {
        (-2.0 * n as f64 * epsilon * epsilon).exp()
    }

    /// P[Bin(n, p) ≤ k] by the product/recurrence form, independent of the log-space sum.
    fn cdf_direct(k: u64, n: u64, p: f64) -> f64 {
        let q = 1.0 - p;
        let mut term = q.powi(n as i32); // P[X = 0]
        let mut sum = term;
        for j in 1..=k {
            term *= (n - j + 1) as f64 / j as f64 * p / q;
            sum += term;
        }
        sum
    }

    #[test]
    fn hoeffding_matches_the_closed_form_and_is_tight() {
        // ln(20)/(2ε²) = 599.15, 2396.6, 14978.7: the paper's 2,396 is rounded down, which misses δ.
        assert_eq!(hoeffding(0.05, 0.05, Sides::OneSided).unwrap(), 600);
        assert_eq!(hoeffding(0.025, 0.05, Sides::OneSided).unwrap(), 2397);
        assert_eq!(hoeffding(0.01, 0.05, Sides::OneSided).unwrap(), 14979);
        assert_eq!(hoeffding(0.1, 0.05, Sides::OneSided).unwrap(), 150);
        assert_eq!(hoeffding(0.05, 0.05, Sides::TwoSided).unwrap(), 738); // ln(40)/0.005 = 737.8
        for (e, d) in [(0.05, 0.05), (0.025, 0.05), (0.01, 0.01), (0.2, 0.3)] {
            let n = hoeffding(e, d, Sides::OneSided).unwrap();
            assert!(hoeffding_tail(n, e) <= d && hoeffding_tail(n - 1, e) > d, "ε {e} δ {d}: {n} is not the smallest");
        }
    }

    #[test]
    fn clopper_pearson_zero_tampered_against_exact_tails() {
        // (1 − p)^n ≤ δ (two-sided: δ/2): 59 / 119 / 299 one-sided, 72 / 146 / 368 two-sided at δ = 5%.
        let cases = [(0.05, 59, 72), (0.025, 119, 146), (0.01, 299, 368)];
        for (p, one, two) in cases {
            assert_eq!(clopper_pearson(p, 0.05, 0, Sides::OneSided).unwrap(), one, "p {p}");
            assert_eq!(clopper_pearson(p, 0.05, 0, Sides::TwoSided).unwrap(), two, "p {p}");
            for (n, level) in [(one, 0.05), (two, 0.025)] {
                assert!((1.0 - p as f64).powi(n as i32) <= level);
                assert!((1.0 - p as f64).powi(n as i32 - 1) > level);
            }
        }
    }

    #[test]
    fn clopper_pearson_with_tampered_allowed_is_the_smallest_passing_n() {
        for (p, d, k) in [(0.05, 0.05, 1), (0.05, 0.05, 3), (0.01, 0.1, 2), (0.2, 0.01, 5)] {
            let n = clopper_pearson(p, d, k, Sides::OneSided).unwrap();
            assert!(cdf_direct(k, n, p) <= d, "p {p} k {k}: n = {n} does not pass");
            assert!(cdf_direct(k, n - 1, p) > d, "p {p} k {k}: n − 1 = {} passes too", n - 1);
            assert!((binomial_cdf(k, n, p) - cdf_direct(k, n, p)).abs() < 1e-12);
        }
        // The tampering bound inverts the sample size.
        let n = clopper_pearson(0.05, 0.05, 0, Sides::OneSided).unwrap();
        let ub = tamper_upper_bound(n, 0, 0.05).unwrap();
        assert!(ub <= 0.05 && ub > 0.049, "{ub}");
        assert!(tamper_upper_bound(n - 1, 0, 0.05).unwrap() > 0.05);
    }

    #[test]
    fn edge_cases_are_refused_with_the_reason() {
        let msg = |r: Result<u64>| format!("{:#}", r.unwrap_err());
        assert!(msg(hoeffding(0.5, 0.05, Sides::OneSided)).contains("0.5 or more"));
        assert!(msg(hoeffding(0.7, 0.05, Sides::OneSided)).contains("0.5 or more"));
        assert!(msg(hoeffding(0.0, 0.05, Sides::OneSided)).contains("positive"));
        assert!(msg(hoeffding(f64::NAN, 0.05, Sides::OneSided)).contains("positive"));
        assert!(msg(hoeffding(0.05, 0.0, Sides::OneSided)).contains("strictly between"));
        assert!(msg(hoeffding(0.05, 1e-12, Sides::OneSided)).contains("not meaningful"));
        assert!(msg(hoeffding(1e-6, 0.05, Sides::OneSided)).contains("more than"));
        assert!(msg(clopper_pearson(0.0, 0.05, 0, Sides::OneSided)).contains("strictly between"));
        assert!(msg(clopper_pearson(1e-12, 0.05, 0, Sides::OneSided)).contains("more than"));
        assert!(msg(clopper_pearson(1.0, 0.05, 0, Sides::OneSided)).contains("strictly between"));
        assert!(msg(clopper_pearson(0.05, 1e-15, 0, Sides::TwoSided)).contains("not meaningful"));
        assert!(msg(clopper_pearson(0.05, 1.5, 0, Sides::TwoSided)).contains("strictly between"));
    }
}
