//! Counting equivalence classes fast, for the k-anonymity search.
//!
//! Each quasi-identifier is a small integer code per row and per level of its hierarchy. A
//! class table lists the distinct (codes at a node's levels, sensitive code) with their row
//! counts; a node's table is rolled up from a finer node's table (hierarchies nest, so a
//! coarser class is a union of finer ones), which after the first generalisations is far
//! smaller than the rows. Grouping hashes the codes packed in a `u128` in an open-addressing
//! table; nothing depends on its order but speed.

use rayon::prelude::*;

use riskpipe_core::Column;

/// A quasi-identifier encoded: each row's code at level 0, and per level the code each level-0
/// code generalises to.
pub struct Encoded {
    /// Code of each row at level 0.
    pub codes0: Vec<u32>,
    /// `up[level][code0]`: the code at `level`.
    pub up: Vec<Vec<u32>>,
    /// Distinct codes per level.
    pub distinct: Vec<u32>,
}

impl Encoded {
    /// Each code at level `a` mapped to its code at level `b` (`a <= b`).
    fn map(&self, a: usize, b: usize) -> Vec<u32> {
        let mut m = vec![0u32; self.distinct[a] as usize];
        for (ca, cb) in self.up[a].iter().zip(&self.up[b]) {
            m[*ca as usize] = *cb;
        }
        m
    }
}

/// Codes of a column's values (missing is a value) and the distinct values, in code order.
pub fn encode(col: &Column) -> (Vec<u32>, Column) {
    /// Codes in value order: indices sorted by value (on both cores), then numbered.
    fn by_order<T: Ord + Clone + Sync>(v: &[T]) -> (Vec<u32>, Vec<T>) {
        let mut idx: Vec<u32> = (0..v.len() as u32).collect();
        idx.par_sort_unstable_by(|a, b| v[*a as usize].cmp(&v[*b as usize]));
        let mut codes = vec![0u32; v.len()];
        let mut values: Vec<T> = Vec::new();
        for (i, &r) in idx.iter().enumerate() {
            let x = &v[r as usize];
            if i == 0 || *x != v[idx[i - 1] as usize] {
                values.push(x.clone());
            }
            codes[r as usize] = (values.len() - 1) as u32;
        }
        (codes, values)
    }
    match col {
        Column::Number(v) => {
            // Every NaN is one missing value.
            let bits: Vec<u64> = v
                .iter()
                .map(|x| if x.is_nan() { u64::MAX } else { x.to_bits() })
                .collect();
            let (codes, values) = by_order(&bits);
            let values = values
                .iter()
                .map(|b| if *b == u64::MAX { f64::NAN } else { f64::from_bits(*b) })
                .collect();
            (codes, Column::Number(values))
        }
        Column::Text(v) => {
            let (codes, values) = by_order(v);
            (codes, Column::Text(values))
        }
        Column::Date(v) => {
            let (codes, values) = by_order(v);
            (codes, Column::Date(values))
        }
    }
}

/// Open-addressing grouping of packed keys: the first occurrence's index, a row count and the
/// number of entries merged.
struct Groups {
    slots: Vec<u32>,
    mask: usize,
    shift: u32,
    keys: Vec<u128>,
    counts: Vec<u64>,
    entries: Vec<u32>,
}

impl Groups {
    fn with_capacity(n: usize) -> Groups {
        let cap = (2 * n.max(8)).next_power_of_two();
        Groups {
            slots: vec![0; cap],
            mask: cap - 1,
            shift: 64 - cap.trailing_zeros(),
            keys: Vec::new(),
            counts: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// Adds `n` rows under `key`; true when the key is new.
    #[inline]
    fn add(&mut self, key: u128, n: u64) -> bool {
        // Fibonacci hashing: the top bits of the product depend on every bit of the key.
        let folded = (key as u64) ^ ((key >> 64) as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        let mut i = (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize;
        loop {
            let s = self.slots[i];
            if s == 0 {
                self.keys.push(key);
                self.counts.push(n);
                self.entries.push(1);
                self.slots[i] = self.keys.len() as u32;
                return true;
            }
            let g = s as usize - 1;
            if self.keys[g] == key {
                self.counts[g] += n;
                self.entries[g] += 1;
                return false;
            }
            i = (i + 1) & self.mask;
        }
    }
}

/// Distinct (quasi-identifier codes at `levels`, sensitive code) with their row counts.
pub struct Table {
    /// The node's level per quasi-identifier.
    pub levels: Vec<usize>,
    /// Codes per entry: one per quasi-identifier, then the sensitive code.
    codes: Vec<u32>,
    counts: Vec<u64>,
}

impl Table {
    /// Distinct entries.
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> usize {
        self.counts.len()
    }
}

/// One class of a node: its key, rows, and distinct sensitive values.
#[derive(Debug, Clone, Copy)]
pub struct Class {
    /// The packed codes.
    pub key: u128,
    /// Rows.
    pub size: u64,
    /// Distinct sensitive values.
    pub diversity: u32,
}

/// The quasi-identifiers and the sensitive column, encoded.
pub struct Space<'a> {
    /// The quasi-identifiers.
    pub qis: &'a [Encoded],
}

impl Space<'_> {
    fn pack(&self, levels: &[usize], codes: &[u32]) -> u128 {
        let mut key = 0u128;
        for (j, qi) in self.qis.iter().enumerate() {
            key = key * u128::from(qi.distinct[levels[j]]) + u128::from(codes[j]);
        }
        key
    }

    /// The class key of row `r` at `levels` (as [`Space::classes`] gives it).
    pub fn row_key(&self, r: usize, levels: &[usize]) -> u128 {
        let codes: Vec<u32> = self
            .qis
            .iter()
            .enumerate()
            .map(|(j, qi)| qi.up[levels[j]][qi.codes0[r] as usize])
            .collect();
        self.pack(levels, &codes)
    }

    /// The table of the rows at level 0.
    pub fn base(&self, sens: &[u32]) -> Table {
        let q = self.qis.len();
        let levels = vec![0; q];
        let mut g = Groups::with_capacity(sens.len());
        let mut codes = Vec::new();
        let mut row = vec![0u32; q + 1];
        for (r, s) in sens.iter().enumerate() {
            for (j, qi) in self.qis.iter().enumerate() {
                row[j] = qi.codes0[r];
            }
            row[q] = *s;
            let key = self.pack(&levels, &row) * u128::from(u32::MAX) + u128::from(*s);
            if g.add(key, 1) {
                codes.extend_from_slice(&row);
            }
        }
        Table {
            levels,
            codes,
            counts: g.counts,
        }
    }

    /// The classes of `t` generalised to `levels` (at or above the table's), counted by sorting
    /// packed keys: a radix sort of `u64` keys when they fit (every realistic table), else a
    /// comparison sort of `u128` keys. Same classes as `classes(roll_up(t, levels))`.
    pub fn classes_at(&self, t: &Table, levels: &[usize], n_sens: u32) -> Vec<Class> {
        let span = self
            .qis
            .iter()
            .enumerate()
            .try_fold(u128::from(n_sens.max(1)), |acc, (j, qi)| {
                acc.checked_mul(u128::from(qi.distinct[levels[j]]))
            });
        let narrow = span.is_some_and(|s| s <= u128::from(u64::MAX));
        self.count(t, levels, n_sens, narrow)
    }

    fn count(&self, t: &Table, levels: &[usize], n_sens: u32, narrow: bool) -> Vec<Class> {
        let q = self.qis.len();
        let maps: Vec<Option<Vec<u32>>> = self
            .qis
            .iter()
            .enumerate()
            .map(|(j, qi)| (t.levels[j] != levels[j]).then(|| qi.map(t.levels[j], levels[j])))
            .collect();
        let key_of = |e: usize| -> u128 {
            let src = &t.codes[e * (q + 1)..(e + 1) * (q + 1)];
            let mut key = 0u128;
            for (j, qi) in self.qis.iter().enumerate() {
                let c = maps[j].as_ref().map_or(src[j], |m| m[src[j] as usize]);
                key = key * u128::from(qi.distinct[levels[j]]) + u128::from(c);
            }
            key * u128::from(n_sens.max(1)) + u128::from(src[q])
        };
        let n_sens = u128::from(n_sens.max(1));
        let mut out: Vec<Class> = Vec::new();
        let mut push = |key: u128, n: u64, last: &mut Option<u128>| {
            let class = key / n_sens;
            match out.last_mut() {
                Some(c) if c.key == class => {
                    c.size += n;
                    if *last != Some(key) {
                        c.diversity += 1;
                    }
                }
                _ => out.push(Class {
                    key: class,
                    size: n,
                    diversity: 1,
                }),
            }
            *last = Some(key);
        };
        let mut last = None;
        if narrow {
            let mut pairs: Vec<(u64, u64)> = (0..t.len()).map(|e| (key_of(e) as u64, t.counts[e])).collect();
            radix_sort(&mut pairs);
            for (k, n) in pairs {
                push(u128::from(k), n, &mut last);
            }
        } else {
            let mut pairs: Vec<(u128, u64)> = (0..t.len()).map(|e| (key_of(e), t.counts[e])).collect();
            pairs.sort_unstable();
            for (k, n) in pairs {
                push(k, n, &mut last);
            }
        }
        out
    }
}

/// Sorts `(key, count)` pairs by key: least significant byte first, skipping the bytes every
/// key shares.
fn radix_sort(v: &mut Vec<(u64, u64)>) {
    let mut buf = vec![(0u64, 0u64); v.len()];
    for byte in 0..8 {
        let shift = byte * 8;
        let mut counts = [0usize; 256];
        for (k, _) in v.iter() {
            counts[((k >> shift) & 0xFF) as usize] += 1;
        }
        if counts.contains(&v.len()) {
            continue;
        }
        let mut start = [0usize; 256];
        let mut acc = 0;
        for (s, c) in start.iter_mut().zip(counts) {
            *s = acc;
            acc += c;
        }
        for x in v.iter() {
            let b = ((x.0 >> shift) & 0xFF) as usize;
            buf[start[b]] = *x;
            start[b] += 1;
        }
        std::mem::swap(v, &mut buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskpipe_core::Rng;

    /// The radix path (keys in a u64) and the comparison path (u128) count the same classes,
    /// and both count what grouping the rows directly counts.
    #[test]
    fn both_sort_paths_count_the_classes_of_the_rows() {
        let mut rng = Rng::new(5);
        let rows = 5000;
        let a: Vec<f64> = (0..rows).map(|_| rng.below(300) as f64).collect();
        let b: Vec<Option<String>> = (0..rows).map(|_| Some(format!("b{}", rng.below(7)))).collect();
        let s: Vec<u32> = (0..rows).map(|_| rng.below(3) as u32).collect();
        let enc = |c: &Column, step: &[u32]| {
            let (codes0, values) = encode(c);
            let n0 = values.len() as u32;
            // One coarser level: code / 10 (nests by construction), then dropped.
            let up1: Vec<u32> = (0..n0).map(|x| x / step[0]).collect();
            Encoded {
                codes0,
                distinct: vec![n0, up1.iter().max().unwrap() + 1, 1],
                up: vec![(0..n0).collect(), up1, vec![0; n0 as usize]],
            }
        };
        let qis = [
            enc(&Column::Number(a.clone()), &[10]),
            enc(&Column::Text(b.clone()), &[2]),
        ];
        let space = Space { qis: &qis };
        let base = space.base(&s);
        for levels in [[0, 0], [1, 0], [1, 1], [2, 1], [0, 2]] {
            let small = space.classes_at(&base, &levels, 3);
            let wide = space.count(&base, &levels, 3, false);
            let strip = |v: &[Class]| v.iter().map(|c| (c.key, c.size, c.diversity)).collect::<Vec<_>>();
            assert_eq!(strip(&small), strip(&wide), "{levels:?}");
            // Direct: group the rows by their codes at the levels.
            let mut direct: std::collections::BTreeMap<u128, (u64, std::collections::BTreeSet<u32>)> =
                Default::default();
            for r in 0..rows as usize {
                let e = direct.entry(space.row_key(r, &levels)).or_default();
                e.0 += 1;
                e.1.insert(s[r]);
            }
            let direct: Vec<(u128, u64, u32)> = direct.into_iter().map(|(k, (n, d))| (k, n, d.len() as u32)).collect();
            assert_eq!(strip(&small), direct, "{levels:?}");
        }
    }
}
