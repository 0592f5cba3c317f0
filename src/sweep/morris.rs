//! The Morris design (elementary effects; Morris 1991): `r` trajectories on a `p`-level grid of
//! the unit cube, each of `d + 1` points that change one parameter at a time by
//! `Δ = p / (2(p − 1))`, optionally chosen for spread among many random candidates
//! (Campolongo, Cariboni & Saltelli 2007).
//!
//! A trajectory starts at a base point `x*` whose coordinates are levels `k / (p − 1)` with
//! `k < p/2` (so that `x* + Δ` is on the grid), moves every parameter once, in a random order,
//! up by `Δ` or down by `Δ` (a random direction per parameter; going down starts from `x* + Δ`).
//! This is the `B*` construction of Morris (1991) as SALib implements it. Levels are kept as
//! integers, so every coordinate is exactly `k / (p − 1)`.
//!
//! **Optimised choice.** With `candidates = M`, `M` random trajectories are drawn and `r` of
//! them are kept, greedily: first the two furthest apart, then one at a time the candidate that
//! adds most to the sum of squared distances between kept trajectories, the distance between two
//! trajectories being the sum of the Euclidean distances between all pairs of their points
//! (Campolongo et al. 2007, eq. 3). The greedy choice approximates their exhaustive search at a
//! cost of `O(M² d³)` instead of `C(M, r)`.
//!
//! Everything is a pure function of `(settings, d, seed)`: trajectory `c` draws from its own
//! Xoshiro256++ stream keyed by `(seed, "MORRIS", c)`.

use rand::Rng as _;

use crate::engine::rng::{Purpose, from_key, mix_key};

/// Tag of the Morris streams within [`Purpose::External`].
const MORRIS: u64 = 0x004d_4f52_5249_5353; // "MORRISS"

/// Most candidate trajectories of an optimised design.
pub const MAX_CANDIDATES: usize = 2000;

/// The design's `[morris]` table, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MorrisSettings {
    /// Trajectories kept (`r`).
    pub trajectories: usize,
    /// Grid levels (`p`, even).
    pub levels: usize,
    /// Random candidates the trajectories are chosen from (`M`); `None`: no optimisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidates: Option<usize>,
}

impl MorrisSettings {
    /// The step `Δ = p / (2(p − 1))`.
    pub fn delta(&self) -> f64 {
        self.levels as f64 / (2.0 * (self.levels as f64 - 1.0))
    }
}

/// The design's trajectories: `r × (d + 1)` points in the unit cube, trajectory-major.
pub fn points(s: &MorrisSettings, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let drawn = s.candidates.unwrap_or(s.trajectories);
    let candidates: Vec<Vec<Vec<usize>>> = (0..drawn)
        .map(|c| trajectory(d, s.levels, seed, c as u64))
        .collect();
    let chosen: Vec<usize> = if drawn > s.trajectories {
        choose(&candidates, s.trajectories)
    } else {
        (0..drawn).collect()
    };
    let scale = 1.0 / (s.levels - 1) as f64;
    chosen
        .into_iter()
        .flat_map(|c| candidates[c].clone())
        .map(|p| {
            p.into_iter()
                .map(|k| {
                    if k == s.levels - 1 {
                        1.0
                    } else {
                        k as f64 * scale
                    }
                })
                .collect()
        })
        .collect()
}

/// One random trajectory as grid levels: `d + 1` points, each differing from the previous in
/// exactly one coordinate by `p/2` levels.
fn trajectory(d: usize, p: usize, seed: u64, index: u64) -> Vec<Vec<usize>> {
    let mut rng = from_key(mix_key(&[seed, Purpose::External as u64, MORRIS, index]));
    let half = p / 2;
    let mut below = |n: usize| ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize;
    let base: Vec<usize> = (0..d).map(|_| below(half)).collect();
    let up: Vec<bool> = (0..d).map(|_| below(2) == 1).collect();
    let mut order: Vec<usize> = (0..d).collect();
    for i in (1..d).rev() {
        order.swap(i, below(i + 1));
    }
    let mut x: Vec<usize> = base
        .iter()
        .zip(&up)
        .map(|(&b, &u)| if u { b } else { b + half })
        .collect();
    let mut points = Vec::with_capacity(d + 1);
    points.push(x.clone());
    for &j in &order {
        if up[j] {
            x[j] += half;
        } else {
            x[j] -= half;
        }
        points.push(x.clone());
    }
    points
}

/// Campolongo's distance between two trajectories: the sum over all pairs of their points of
/// the Euclidean distance (in units of grid levels; the choice does not depend on the unit).
fn distance(a: &[Vec<usize>], b: &[Vec<usize>]) -> f64 {
    let mut total = 0.0;
    for x in a {
        for y in b {
            let sq: f64 = x
                .iter()
                .zip(y)
                .map(|(&u, &v)| (u as f64 - v as f64).powi(2))
                .sum();
            total += sq.sqrt();
        }
    }
    total
}

/// Greedy choice of `r` of the candidates maximising the sum of squared pairwise distances;
/// the indices come back in increasing order.
fn choose(candidates: &[Vec<Vec<usize>>], r: usize) -> Vec<usize> {
    use rayon::prelude::*;
    let m = candidates.len();
    let d2: Vec<Vec<f64>> = (0..m)
        .into_par_iter()
        .map(|i| {
            (0..m)
                .map(|j| {
                    if i == j {
                        0.0
                    } else {
                        distance(&candidates[i], &candidates[j]).powi(2)
                    }
                })
                .collect()
        })
        .collect();
    // The furthest pair (first in index order on ties).
    let (mut a, mut b, mut best) = (0, 1, f64::NEG_INFINITY);
    for (i, row) in d2.iter().enumerate() {
        for (j, &v) in row.iter().enumerate().skip(i + 1) {
            if v > best {
                (a, b, best) = (i, j, v);
            }
        }
    }
    let mut chosen = vec![a, b];
    let mut gain: Vec<f64> = (0..m).map(|c| d2[c][a] + d2[c][b]).collect();
    while chosen.len() < r {
        let next = (0..m)
            .filter(|c| !chosen.contains(c))
            .fold(None, |acc: Option<usize>, c| match acc {
                Some(k) if gain[k] >= gain[c] => Some(k),
                _ => Some(c),
            })
            .expect("more candidates than trajectories");
        chosen.push(next);
        for (c, g) in gain.iter_mut().enumerate() {
            *g += d2[c][next];
        }
    }
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(r: usize, p: usize, candidates: Option<usize>) -> MorrisSettings {
        MorrisSettings {
            trajectories: r,
            levels: p,
            candidates,
        }
    }

    #[test]
    fn each_step_moves_one_parameter_by_delta_on_the_grid() {
        for (p, d) in [(4, 5), (6, 3), (2, 4), (8, 1)] {
            let s = settings(7, p, None);
            let pts = points(&s, d, 99);
            assert_eq!(pts.len(), 7 * (d + 1));
            let delta = s.delta();
            for t in pts.chunks(d + 1) {
                let mut moved = vec![0; d];
                for w in t.windows(2) {
                    let changed: Vec<usize> = (0..d).filter(|&j| w[0][j] != w[1][j]).collect();
                    assert_eq!(changed.len(), 1, "one parameter per step");
                    let j = changed[0];
                    assert!(((w[1][j] - w[0][j]).abs() - delta).abs() < 1e-12);
                    moved[j] += 1;
                }
                assert!(moved.iter().all(|&m| m == 1), "every parameter moves once");
                for x in t.iter().flatten() {
                    let level = x * (p - 1) as f64;
                    assert!((level - level.round()).abs() < 1e-12 && (0.0..=1.0).contains(x));
                }
            }
        }
    }

    #[test]
    fn designs_are_functions_of_the_seed_and_directions_and_levels_vary() {
        let s = settings(50, 4, None);
        let a = points(&s, 3, 1);
        assert_eq!(a, points(&s, 3, 1));
        assert_ne!(a, points(&s, 3, 2));
        // Both directions and every level are used.
        let firsts: Vec<f64> = a.chunks(4).map(|t| t[0][0]).collect();
        for level in [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0] {
            assert!(firsts.iter().any(|&x| (x - level).abs() < 1e-12), "{level}");
        }
    }

    #[test]
    fn the_optimised_choice_spreads_the_trajectories_more_than_a_random_choice() {
        let d = 4;
        let spread = |pts: &[Vec<f64>]| -> f64 {
            let t: Vec<Vec<Vec<usize>>> = pts
                .chunks(d + 1)
                .map(|t| {
                    t.iter()
                        .map(|p| p.iter().map(|x| (x * 3.0).round() as usize).collect())
                        .collect()
                })
                .collect();
            let mut s = 0.0;
            for i in 0..t.len() {
                for j in i + 1..t.len() {
                    s += distance(&t[i], &t[j]).powi(2);
                }
            }
            s
        };
        let random = points(&settings(6, 4, None), d, 5);
        let optimised = points(&settings(6, 4, Some(200)), d, 5);
        assert_eq!(optimised.len(), random.len());
        assert!(
            spread(&optimised) > spread(&random),
            "{} vs {}",
            spread(&optimised),
            spread(&random)
        );
    }
}
