//! A multilayer perceptron for binary targets: standardised inputs, dense ReLU layers with
//! (inverted) dropout, a sigmoid output, log loss with L2, Adam on shuffled mini-batches, and
//! early stopping on a seeded validation split (the best epoch's weights are kept).
//!
//! Deterministic: initial weights, shuffles and dropout masks come from the seed (a mask bit comes
//! from a hash of seed, epoch, row, layer and group of four units, so it does not depend on which
//! thread computes it), and each mini-batch's gradient is summed over two fixed halves in order.
//!
//! Training reads its rows in shuffled order, so the standardised inputs are copied once into a
//! row-major matrix: a row's values then share cache lines instead of sitting in one column each.

use serde::{Deserialize, Serialize};

use riskpipe_core::{Error, Result, Rng};

/// Parameters of the network and its training.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MlpParams {
    /// Units of each hidden layer.
    pub hidden: Vec<usize>,
    /// Adam step size.
    pub learning_rate: f64,
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// Passes over the training rows at most.
    pub max_epochs: usize,
    /// Share of hidden units dropped during training.
    pub dropout: f64,
    /// L2 penalty on the weights.
    pub l2: f64,
    /// Share of rows held out for early stopping.
    pub validation_fraction: f64,
    /// Epochs without a better validation log loss before stopping.
    pub early_stopping_rounds: usize,
    /// How much lower the validation log loss must be to count as better (scikit-learn's
    /// `tol`).
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Weigh the classes equally in the loss (`class_weight: balanced`).
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub balanced: bool,
    /// Seed.
    pub seed: u64,
}

fn default_tol() -> f64 {
    1e-4
}

impl Default for MlpParams {
    fn default() -> Self {
        MlpParams {
            hidden: vec![32, 16],
            learning_rate: 1e-3,
            batch_size: 256,
            max_epochs: 100,
            dropout: 0.1,
            l2: 1e-4,
            validation_fraction: 0.1,
            early_stopping_rounds: 5,
            tol: default_tol(),
            balanced: false,
            seed: 42,
        }
    }
}

/// One dense layer: `out = w . in + b`, `w` row-major (`n_out` rows of `n_in`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Layer {
    /// Weights.
    pub w: Vec<f64>,
    /// Biases.
    pub b: Vec<f64>,
    /// Inputs.
    pub n_in: usize,
    /// Outputs.
    pub n_out: usize,
}

/// A fitted network.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mlp {
    /// Feature names.
    pub features: Vec<String>,
    /// Training means of the features.
    pub means: Vec<f64>,
    /// Training standard deviations (1 where constant).
    pub scales: Vec<f64>,
    /// Hidden layers then the output layer.
    pub layers: Vec<Layer>,
    /// Validation log loss per epoch.
    pub validation_log_loss: Vec<f64>,
    /// The parameters used.
    pub params: MlpParams,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// A well-mixed 64-bit hash (SplitMix64's finaliser).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// ReLU, then (when training) inverted dropout on one row of layer `k`'s outputs: one hash of
/// the row's key gives four units a 16-bit uniform draw each.
fn dropout_relu(out: &mut [f64], k: usize, drop: Option<(u64, f64)>) {
    match drop {
        Some((key, p)) => {
            let cut = (p * 65536.0).round() as u64;
            for (q, zs) in out.chunks_mut(4).enumerate() {
                let h = mix(key ^ mix(((k as u64) << 32) | q as u64));
                for (j, z) in zs.iter_mut().enumerate() {
                    let u = (h >> (16 * j)) & 0xffff;
                    *z = if u < cut { 0.0 } else { z.max(0.0) / (1.0 - p) };
                }
            }
        }
        None => out.iter_mut().for_each(|z| *z = z.max(0.0)),
    }
}

/// One dense layer on `rows` rows of `a` (`n_in` values each): `out[r][o] = b[o] + sum over j
/// of a[r][j] * wt[j][o]`, j ascending. Two rows and eight outputs at a time keep sixteen sums
/// in registers while each weight is loaded once for both rows.
fn dense_forward(a: &[f64], rows: usize, n_in: usize, wt: &[f64], b: &[f64], out: &mut [f64]) {
    let n_out = b.len();
    let one = |r: usize, o: usize| -> f64 {
        let mut s = b[o];
        for j in 0..n_in {
            s += wt[j * n_out + o] * a[r * n_in + j];
        }
        s
    };
    let mut r = 0;
    while r + 2 <= rows {
        let (a0, a1) = (&a[r * n_in..(r + 1) * n_in], &a[(r + 1) * n_in..(r + 2) * n_in]);
        let mut o = 0;
        while o + 8 <= n_out {
            let mut s0: [f64; 8] = b[o..o + 8].try_into().expect("eight");
            let mut s1 = s0;
            for (j, (&x0, &x1)) in a0.iter().zip(a1).enumerate() {
                let w: &[f64; 8] = wt[j * n_out + o..j * n_out + o + 8].try_into().expect("eight");
                for k in 0..8 {
                    s0[k] += w[k] * x0;
                    s1[k] += w[k] * x1;
                }
            }
            out[r * n_out + o..r * n_out + o + 8].copy_from_slice(&s0);
            out[(r + 1) * n_out + o..(r + 1) * n_out + o + 8].copy_from_slice(&s1);
            o += 8;
        }
        for oo in o..n_out {
            out[r * n_out + oo] = one(r, oo);
            out[(r + 1) * n_out + oo] = one(r + 1, oo);
        }
        r += 2;
    }
    for rr in r..rows {
        for oo in 0..n_out {
            out[rr * n_out + oo] = one(rr, oo);
        }
    }
}

/// Adds `sum over rows r of d[r][o] * a[r][j]` to `gw[o][j]` (row-major, `n_in` per output),
/// rows ascending. Two outputs and eight inputs at a time keep sixteen sums in registers.
fn dense_weight_grad(d: &[f64], a: &[f64], rows: usize, n_in: usize, n_out: usize, gw: &mut [f64]) {
    let mut o = 0;
    while o < n_out {
        let two = o + 1 < n_out;
        let mut j = 0;
        while j + 8 <= n_in {
            let mut s0: [f64; 8] = gw[o * n_in + j..o * n_in + j + 8].try_into().expect("eight");
            let mut s1: [f64; 8] = if two {
                gw[(o + 1) * n_in + j..(o + 1) * n_in + j + 8]
                    .try_into()
                    .expect("eight")
            } else {
                [0.0; 8]
            };
            for r in 0..rows {
                let x: &[f64; 8] = a[r * n_in + j..r * n_in + j + 8].try_into().expect("eight");
                let d0 = d[r * n_out + o];
                let d1 = if two { d[r * n_out + o + 1] } else { 0.0 };
                for k in 0..8 {
                    s0[k] += d0 * x[k];
                    s1[k] += d1 * x[k];
                }
            }
            gw[o * n_in + j..o * n_in + j + 8].copy_from_slice(&s0);
            if two {
                gw[(o + 1) * n_in + j..(o + 1) * n_in + j + 8].copy_from_slice(&s1);
            }
            j += 8;
        }
        for oo in o..(o + 2).min(n_out) {
            for jj in j..n_in {
                let mut s = gw[oo * n_in + jj];
                for r in 0..rows {
                    s += d[r * n_out + oo] * a[r * n_in + jj];
                }
                gw[oo * n_in + jj] = s;
            }
        }
        o += 2;
    }
}

/// Gradient buffers, one per layer.
struct Grads {
    w: Vec<Vec<f64>>,
    b: Vec<Vec<f64>>,
}

impl Grads {
    fn zeros(layers: &[Layer]) -> Grads {
        Grads {
            w: layers.iter().map(|l| vec![0.0; l.w.len()]).collect(),
            b: layers.iter().map(|l| vec![0.0; l.b.len()]).collect(),
        }
    }

    fn add(&mut self, o: &Grads) {
        for (a, b) in self.w.iter_mut().zip(&o.w) {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
        for (a, b) in self.b.iter_mut().zip(&o.b) {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
    }
}

impl Mlp {
    /// Standardised copy of row `i` of `x` (missing values at the mean).
    fn row(&self, x: &[&[f64]], i: usize, out: &mut [f64]) {
        for (j, c) in x.iter().enumerate() {
            let v = c[i];
            out[j] = if v.is_nan() {
                0.0
            } else {
                (v - self.means[j]) / self.scales[j]
            };
        }
    }

    /// Every row of `x` standardised, row after row (`x.len()` values each): training reads
    /// rows in shuffled order, and one row's values then share cache lines.
    fn standardised_rows(&self, x: &[&[f64]]) -> Vec<f64> {
        use rayon::prelude::*;
        let d = x.len();
        let n = x.first().map_or(0, |c| c.len());
        let mut out = vec![0.0; n * d];
        out.par_chunks_mut(d * 4096).enumerate().for_each(|(c, block)| {
            for (k, row) in block.chunks_mut(d).enumerate() {
                self.row(x, c * 4096 + k, row);
            }
        });
        out
    }

    /// Each layer's weights input-major (`wt[j * n_out + o]`), for [`Mlp::forward`].
    fn transposed(&self) -> Vec<Vec<f64>> {
        self.layers
            .iter()
            .map(|l| {
                let mut t = vec![0.0; l.w.len()];
                for o in 0..l.n_out {
                    for j in 0..l.n_in {
                        t[j * l.n_out + o] = l.w[o * l.n_in + j];
                    }
                }
                t
            })
            .collect()
    }

    /// Forward pass of one standardised row, the row-by-row reference [`Mlp::grad_rows`] and
    /// [`Mlp::predict_chunks`] are tested against; returns the output's log-odds. `acts` receives
    /// each layer's activations (after ReLU and dropout). `wt` holds the weights input-major
    /// ([`Mlp::transposed`]).
    #[cfg(test)]
    fn forward(&self, wt: &[Vec<f64>], input: &[f64], acts: &mut [Vec<f64>], drop: Option<(u64, f64)>) -> f64 {
        let last = self.layers.len() - 1;
        for (k, l) in self.layers.iter().enumerate() {
            let (prev, rest) = acts.split_at_mut(k + 1);
            let a_in: &[f64] = if k == 0 { input } else { &prev[k] };
            let out = &mut rest[0];
            out.copy_from_slice(&l.b);
            for (&a, w) in a_in.iter().zip(wt[k].chunks_exact(l.n_out)) {
                for (z, w) in out.iter_mut().zip(w) {
                    *z += w * a;
                }
            }
            if k < last {
                dropout_relu(out, k, drop.filter(|d| d.1 > 0.0));
            }
        }
        acts[last + 1][0]
    }

    /// The log-loss gradient of `rows` (indices into `xs`, a [`Mlp::standardised_rows`]
    /// matrix), summed in row order, with the dropout mask of each row from `key(row)`. Layers
    /// run on the whole group at once ([`dense_forward`], [`dense_weight_grad`]), so each weight
    /// loaded serves several rows and the sums stay in registers; every sum adds its terms in
    /// the same order as [`Mlp::forward`] and [`Mlp::backward`] row by row, so the bits agree (tested).
    #[allow(clippy::too_many_arguments)]
    fn grad_rows(
        &self,
        wt: &[Vec<f64>],
        xs: &[f64],
        rows: &[usize],
        y: &[f64],
        cw: [f64; 2],
        key: impl Fn(usize) -> u64,
    ) -> Grads {
        let d = self.means.len();
        let nr = rows.len();
        let last = self.layers.len() - 1;
        let p = self.params.dropout;
        // acts[0]: the inputs; acts[k + 1]: layer k's outputs (after ReLU and dropout).
        let mut acts: Vec<Vec<f64>> = vec![Vec::with_capacity(nr * d)];
        for &i in rows {
            acts[0].extend_from_slice(&xs[i * d..(i + 1) * d]);
        }
        for (k, l) in self.layers.iter().enumerate() {
            let mut out = vec![0.0; nr * l.n_out];
            dense_forward(&acts[k], nr, l.n_in, &wt[k], &l.b, &mut out);
            if k < last {
                for (r, row) in out.chunks_mut(l.n_out).enumerate() {
                    dropout_relu(row, k, if p > 0.0 { Some((key(rows[r]), p)) } else { None });
                }
            }
            acts.push(out);
        }
        let mut g = Grads::zeros(&self.layers);
        // Output deltas, then down the layers.
        let mut delta: Vec<f64> = rows
            .iter()
            .zip(&acts[last + 1])
            .map(|(&i, &z)| cw[usize::from(y[i] > 0.5)] * (sigmoid(z) - y[i]))
            .collect();
        for k in (0..=last).rev() {
            let l = &self.layers[k];
            for (gb, o) in g.b[k].iter_mut().zip(0..l.n_out) {
                for r in 0..nr {
                    let dv = delta[r * l.n_out + o];
                    if dv != 0.0 {
                        *gb += dv;
                    }
                }
            }
            dense_weight_grad(&delta, &acts[k], nr, l.n_in, l.n_out, &mut g.w[k]);
            if k > 0 {
                // Deltas of the layer below: W^T d per row, through the ReLU and dropout.
                let scale = 1.0 / (1.0 - p.min(0.99));
                let mut below = vec![0.0; nr * l.n_in];
                for r in 0..nr {
                    let prev = &mut below[r * l.n_in..(r + 1) * l.n_in];
                    for o in 0..l.n_out {
                        let dv = delta[r * l.n_out + o];
                        if dv != 0.0 {
                            for (pv, w) in prev.iter_mut().zip(&l.w[o * l.n_in..(o + 1) * l.n_in]) {
                                *pv += dv * w;
                            }
                        }
                    }
                    for (pv, a) in prev.iter_mut().zip(&acts[k][r * l.n_in..(r + 1) * l.n_in]) {
                        if *a <= 0.0 {
                            *pv = 0.0;
                        } else {
                            *pv *= scale;
                        }
                    }
                }
                delta = below;
            }
        }
        g
    }

    /// Adds one row's log-loss gradient to `g` (activations from `forward`): the row-by-row
    /// reference [`Mlp::grad_rows`] is tested against.
    #[cfg(test)]
    fn backward(&self, input: &[f64], acts: &[Vec<f64>], y: f64, g: &mut Grads, deltas: &mut [Vec<f64>]) {
        let last = self.layers.len() - 1;
        deltas[last][0] = sigmoid(acts[last + 1][0]) - y;
        for k in (0..=last).rev() {
            let l = &self.layers[k];
            let a_in: &[f64] = if k == 0 { input } else { &acts[k] };
            for o in 0..l.n_out {
                let d = deltas[k][o];
                if d == 0.0 {
                    continue;
                }
                g.b[k][o] += d;
                let gw = &mut g.w[k][o * l.n_in..(o + 1) * l.n_in];
                for (w, a) in gw.iter_mut().zip(a_in) {
                    *w += d * a;
                }
            }
            if k > 0 {
                // Delta of the layer below: W^T d, through the ReLU (and the dropout mask, which
                // zeroed the activation).
                let (below, here) = deltas.split_at_mut(k);
                let prev = &mut below[k - 1];
                prev.iter_mut().for_each(|v| *v = 0.0);
                for o in 0..l.n_out {
                    let d = here[0][o];
                    if d != 0.0 {
                        for (p, w) in prev.iter_mut().zip(&l.w[o * l.n_in..(o + 1) * l.n_in]) {
                            *p += d * w;
                        }
                    }
                }
                for (p, a) in prev.iter_mut().zip(&acts[k]) {
                    if *a <= 0.0 {
                        *p = 0.0;
                    } else {
                        *p *= 1.0 / (1.0 - self.params.dropout.min(0.99));
                    }
                }
            }
        }
    }

    /// Fits on columns `x` and 0/1 labels `y`.
    pub fn fit(names: &[String], x: &[&[f64]], y: &[f64], p: &MlpParams) -> Result<Mlp> {
        let n = y.len();
        let d = x.len();
        if n == 0 || d == 0 || p.hidden.contains(&0) || p.batch_size == 0 {
            return Err(Error::Internal(
                "mlp: no rows, no features, an empty layer or batch".into(),
            ));
        }
        let mut means = vec![0.0; d];
        let mut scales = vec![1.0; d];
        for (j, c) in x.iter().enumerate() {
            let v: Vec<f64> = c.iter().copied().filter(|v| !v.is_nan()).collect();
            let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
            let s = (v.iter().map(|a| (a - m) * (a - m)).sum::<f64>() / v.len().max(1) as f64).sqrt();
            means[j] = m;
            scales[j] = if s > 1e-12 { s } else { 1.0 };
        }
        let mut rng = Rng::derive(p.seed, "mlp.init");
        let mut sizes = vec![d];
        sizes.extend(&p.hidden);
        sizes.push(1);
        let layers: Vec<Layer> = sizes
            .windows(2)
            .map(|w| {
                let (n_in, n_out) = (w[0], w[1]);
                let sd = (2.0 / n_in as f64).sqrt();
                Layer {
                    w: (0..n_in * n_out).map(|_| rng.normal() * sd).collect(),
                    b: vec![0.0; n_out],
                    n_in,
                    n_out,
                }
            })
            .collect();
        let mut net = Mlp {
            features: names.to_vec(),
            means,
            scales,
            layers,
            validation_log_loss: Vec::new(),
            params: p.clone(),
        };
        let is_val = if p.validation_fraction > 0.0 && p.early_stopping_rounds > 0 {
            riskpipe_core::split::stratified_holdout(
                y,
                p.validation_fraction,
                &mut Rng::derive(p.seed, "mlp.validation"),
            )
        } else {
            vec![false; n]
        };
        let mut train: Vec<usize> = (0..n).filter(|&i| !is_val[i]).collect();
        // Class weights of the output deltas (1 unless `balanced`), from the training rows.
        let cw: [f64; 2] = if p.balanced {
            crate::balanced_pair(train.iter().map(|&i| y[i]))
        } else {
            [1.0, 1.0]
        };
        let val: Vec<usize> = (0..n).filter(|&i| is_val[i]).collect();
        // Adam state.
        let mut m1 = Grads::zeros(&net.layers);
        let mut m2 = Grads::zeros(&net.layers);
        let (b1, b2, eps): (f64, f64, f64) = (0.9, 0.999, 1e-8);
        let mut t = 0i32;
        let mut best = (f64::INFINITY, net.layers.clone(), 0usize);
        let xs = net.standardised_rows(x);
        for epoch in 0..p.max_epochs {
            Rng::derive(p.seed, &format!("mlp.epoch.{epoch}")).shuffle(&mut train);
            for batch in train.chunks(p.batch_size) {
                let half = batch.len().div_ceil(2);
                let wt = net.transposed();
                let key = |i: usize| mix(p.seed ^ mix(((epoch as u64) << 40) ^ i as u64));
                let grad_of = |rows: &[usize]| net.grad_rows(&wt, &xs, rows, y, cw, key);
                let (mut g, g2) = rayon::join(|| grad_of(&batch[..half]), || grad_of(&batch[half..]));
                g.add(&g2);
                t += 1;
                let scale = 1.0 / batch.len() as f64;
                let (c1, c2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
                for (k, l) in net.layers.iter_mut().enumerate() {
                    for (idx, w) in l.w.iter_mut().enumerate() {
                        let gr = g.w[k][idx] * scale + p.l2 * *w;
                        m1.w[k][idx] = b1 * m1.w[k][idx] + (1.0 - b1) * gr;
                        m2.w[k][idx] = b2 * m2.w[k][idx] + (1.0 - b2) * gr * gr;
                        *w -= p.learning_rate * (m1.w[k][idx] / c1) / ((m2.w[k][idx] / c2).sqrt() + eps);
                    }
                    for (idx, b) in l.b.iter_mut().enumerate() {
                        let gr = g.b[k][idx] * scale;
                        m1.b[k][idx] = b1 * m1.b[k][idx] + (1.0 - b1) * gr;
                        m2.b[k][idx] = b2 * m2.b[k][idx] + (1.0 - b2) * gr * gr;
                        *b -= p.learning_rate * (m1.b[k][idx] / c1) / ((m2.b[k][idx] / c2).sqrt() + eps);
                    }
                }
            }
            if val.is_empty() {
                best = (0.0, net.layers.clone(), epoch);
                continue;
            }
            let pv = net.predict_standardised(&xs, &val);
            let loss = val
                .iter()
                .zip(&pv)
                .map(|(&i, q)| {
                    let q = q.clamp(1e-15, 1.0 - 1e-15);
                    -(y[i] * q.ln() + (1.0 - y[i]) * (1.0 - q).ln())
                })
                .sum::<f64>()
                / val.len() as f64;
            net.validation_log_loss.push(loss);
            if loss < best.0 - p.tol.max(1e-12) {
                best = (loss, net.layers.clone(), epoch);
            } else if epoch - best.2 >= p.early_stopping_rounds {
                break;
            }
        }
        net.layers = best.1;
        Ok(net)
    }

    /// P(y = 1) of `rows`, 1,024 at a time in parallel: `fill(row, out)` writes a row's
    /// standardised inputs, then the layers run over the whole chunk ([`dense_forward`]), the
    /// same sums as training's.
    fn predict_chunks(&self, rows: &[usize], fill: impl Fn(usize, &mut [f64]) + Sync) -> Vec<f64> {
        use rayon::prelude::*;
        let d = self.means.len();
        let wt = self.transposed();
        let last = self.layers.len() - 1;
        rows.par_chunks(1024)
            .flat_map_iter(|chunk| {
                let nr = chunk.len();
                let mut a = vec![0.0; nr * d];
                for (&i, row) in chunk.iter().zip(a.chunks_mut(d)) {
                    fill(i, row);
                }
                for (k, l) in self.layers.iter().enumerate() {
                    let mut out = vec![0.0; nr * l.n_out];
                    dense_forward(&a, nr, l.n_in, &wt[k], &l.b, &mut out);
                    if k < last {
                        dropout_relu(&mut out, k, None);
                    }
                    a = out;
                }
                a.into_iter().map(sigmoid)
            })
            .collect()
    }

    /// P(y = 1) of `rows` of a matrix from [`Mlp::standardised_rows`].
    fn predict_standardised(&self, xs: &[f64], rows: &[usize]) -> Vec<f64> {
        let d = self.means.len();
        self.predict_chunks(rows, |i, out| out.copy_from_slice(&xs[i * d..(i + 1) * d]))
    }

    /// P(y = 1) per row.
    pub fn predict_proba(&self, x: &[&[f64]]) -> Vec<f64> {
        let n = x.first().map_or(0, |c| c.len());
        self.predict_chunks(&(0..n).collect::<Vec<_>>(), |i, out| self.row(x, i, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_gradients_and_predictions_equal_row_by_row_ones_bit_for_bit() {
        // Layer sizes that leave remainders in both kernels (not multiples of 8 or 2), an odd
        // row count, dropout on; the reference is the row-by-row forward and backward pass.
        let mut rng = Rng::new(9);
        let (n, d) = (41, 13);
        let cols: Vec<Vec<f64>> = (0..d).map(|_| (0..n).map(|_| rng.normal()).collect()).collect();
        let y: Vec<f64> = (0..n).map(|_| f64::from(u8::from(rng.bernoulli(0.3)))).collect();
        let x: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        let names: Vec<String> = (0..d).map(|j| format!("x{j}")).collect();
        for hidden in [vec![19, 5], vec![16, 8], vec![3]] {
            let p = MlpParams {
                hidden,
                max_epochs: 2,
                dropout: 0.3,
                ..Default::default()
            };
            let net = Mlp::fit(&names, &x, &y, &p).unwrap();
            let xs = net.standardised_rows(&x);
            let wt = net.transposed();
            let key = |i: usize| mix(7 ^ i as u64);
            let rows: Vec<usize> = (0..n).rev().step_by(2).chain([0, 1, 2]).collect();
            let got = net.grad_rows(&wt, &xs, &rows, &y, [1.0, 1.0], key);
            let mut want = Grads::zeros(&net.layers);
            let mut acts = vec![vec![0.0; d]];
            acts.extend(net.layers.iter().map(|l| vec![0.0; l.n_out]));
            let mut deltas: Vec<Vec<f64>> = net.layers.iter().map(|l| vec![0.0; l.n_out]).collect();
            for &i in &rows {
                let input = &xs[i * d..(i + 1) * d];
                net.forward(&wt, input, &mut acts, Some((key(i), p.dropout)));
                net.backward(input, &acts, y[i], &mut want, &mut deltas);
            }
            // Prediction runs the same layers over chunks of rows: the same bits as row by row.
            let all: Vec<usize> = (0..n).collect();
            let by_chunk = net.predict_standardised(&xs, &all);
            for (i, p) in by_chunk.iter().enumerate() {
                let z = net.forward(&wt, &xs[i * d..(i + 1) * d], &mut acts, None);
                assert_eq!(p.to_bits(), sigmoid(z).to_bits(), "row {i}");
            }
            assert_eq!(net.predict_proba(&x), by_chunk);
            let bits = |g: &Grads| -> Vec<u64> { g.w.iter().chain(&g.b).flatten().map(|v| v.to_bits()).collect() };
            assert_eq!(bits(&got), bits(&want), "hidden {:?}", p.hidden);
            assert!(got.w[0].iter().any(|v| *v != 0.0));
        }
    }

    #[test]
    fn learns_a_nonlinear_boundary_deterministically() {
        let mut rng = Rng::new(2);
        let n = 6000;
        let cols: Vec<Vec<f64>> = (0..3).map(|_| (0..n).map(|_| rng.normal()).collect()).collect();
        // A ring: risk rises with the distance from the origin in (x0, x1); x2 is noise.
        let y: Vec<f64> = (0..n)
            .map(|i| {
                let r = cols[0][i] * cols[0][i] + cols[1][i] * cols[1][i];
                f64::from(u8::from(rng.bernoulli(1.0 / (1.0 + (-(2.0 * r - 3.0)).exp()))))
            })
            .collect();
        let names: Vec<String> = (0..3).map(|i| format!("x{i}")).collect();
        let x: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let p = MlpParams {
            max_epochs: 15,
            ..MlpParams::default()
        };
        let m = Mlp::fit(&names, &x, &y, &p).unwrap();
        let auc = riskpipe_core::stats::auc(&y, &m.predict_proba(&x));
        assert!(auc > 0.85, "{auc}");
        // A linear model cannot rank a ring: the network learned the curvature.
        let lr = crate::LogisticRegression::fit(&names, &x, &y, None, &crate::LogisticParams::default()).unwrap();
        let auc_lr = riskpipe_core::stats::auc(&y, &lr.predict_proba(&x));
        assert!(auc_lr < 0.6, "a linear model ranks the ring: {auc_lr}");
        assert!(!m.validation_log_loss.is_empty());
        assert_eq!(Mlp::fit(&names, &x, &y, &p).unwrap(), m);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Mlp>(&json).unwrap(), m);
    }
}
