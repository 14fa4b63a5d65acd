//! Standard normal draws by Marsaglia and Tsang's ziggurat (256 layers), the layer table built
//! once from its two defining constants. About 99 % of draws cost one 64-bit random number, a
//! table read and a multiplication, which is what a billion loan-scenarios need.

use std::sync::OnceLock;

use riskpipe_core::Rng;

/// Layers of the ziggurat.
const LAYERS: usize = 256;
/// Where the tail begins.
const R: f64 = 3.654_152_885_361_009;
/// The area of each layer (and of the base layer with the tail).
const V: f64 = 0.004_928_673_233_99;

/// `x[i]`: the right edge of layer `i` (`x[0]` the base layer's pseudo-width `V / f(R)`,
/// `x[1] = R`, falling to `x[256] = 0`), with `ratio[i] = x[i + 1] / x[i]` and `f[i] = f(x[i])`.
struct Table {
    x: [f64; LAYERS + 1],
    ratio: [f64; LAYERS],
    f: [f64; LAYERS + 1],
}

fn density(x: f64) -> f64 {
    (-0.5 * x * x).exp()
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut x = [0.0; LAYERS + 1];
        x[0] = V / density(R);
        x[1] = R;
        for i in 1..LAYERS - 1 {
            x[i + 1] = (-2.0 * (density(x[i]) + V / x[i]).ln()).sqrt();
        }
        x[LAYERS] = 0.0;
        let mut ratio = [0.0; LAYERS];
        for i in 0..LAYERS {
            ratio[i] = x[i + 1] / x[i];
        }
        let mut f = [0.0; LAYERS + 1];
        for i in 0..=LAYERS {
            f[i] = density(x[i]);
        }
        Table { x, ratio, f }
    })
}

/// A standard normal draw from `rng`.
#[inline]
pub fn normal(rng: &mut Rng) -> f64 {
    let t = table();
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0xff) as usize;
        // A uniform in (-1, 1) from the top 53 bits.
        let u = ((bits >> 11) as f64 + 0.5) * (2.0 / (1u64 << 53) as f64) - 1.0;
        let x = u * t.x[i];
        if u.abs() < t.ratio[i] {
            return x;
        }
        if i == 0 {
            // The tail beyond R (Marsaglia's method).
            loop {
                let a = -rng.uniform().max(f64::MIN_POSITIVE).ln() / R;
                let b = -rng.uniform().max(f64::MIN_POSITIVE).ln();
                if 2.0 * b > a * a {
                    return if u < 0.0 { -(R + a) } else { R + a };
                }
            }
        }
        // The wedge between layer i + 1's edge and layer i's.
        if t.f[i + 1] + rng.uniform() * (t.f[i] - t.f[i + 1]) < density(x) {
            return x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normal::cdf;

    #[test]
    fn the_table_closes_at_zero() {
        let t = table();
        // The recurrence, run from R, lands on the top layer: its edge is near 0 and the
        // layer's area matches V.
        assert!(t.x[LAYERS - 1] > 0.0 && t.x[LAYERS - 1] < 0.3, "{}", t.x[LAYERS - 1]);
        let top = t.x[LAYERS - 1] * (1.0 - density(t.x[LAYERS - 1]));
        assert!((top - V).abs() < 1e-9, "{top} vs {V}");
        assert!(t.x.windows(2).skip(1).all(|w| w[0] > w[1]));
    }

    #[test]
    fn draws_follow_the_normal_distribution() {
        let mut rng = Rng::new(11);
        let n = 2_000_000;
        let mut xs: Vec<f64> = (0..n).map(|_| normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.003 && (var - 1.0).abs() < 0.004, "{mean} {var}");
        // Kolmogorov-Smirnov distance against N: the 0.1 % critical value is 1.95 / sqrt(n).
        xs.sort_by(f64::total_cmp);
        let d = xs
            .iter()
            .enumerate()
            .map(|(i, x)| {
                let c = cdf(*x);
                (c - i as f64 / n as f64)
                    .abs()
                    .max((c - (i + 1) as f64 / n as f64).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 1.95 / (n as f64).sqrt(), "KS distance {d}");
        // The tails beyond R: P(|Z| > 3.654) = 2.58e-4.
        let tail = xs.iter().filter(|x| x.abs() > R).count() as f64 / n as f64;
        assert!(
            (tail - 2.0 * cdf(-R)).abs() < 5.0 * (2.0 * cdf(-R) / n as f64).sqrt(),
            "{tail}"
        );
        // Their shape: the mean excess over R is pdf(R) / (1 - N(R)) - R, about 0.23 (the
        // standard error with some 500 tail draws is about 0.01).
        let excess: Vec<f64> = xs.iter().filter(|x| x.abs() > R).map(|x| x.abs() - R).collect();
        let mean_excess = excess.iter().sum::<f64>() / excess.len() as f64;
        let want = crate::normal::pdf(R) / cdf(-R) - R;
        assert!((mean_excess - want).abs() < 0.05, "{mean_excess} vs {want}");
    }
}
