//! The Saltelli design for Sobol indices (Saltelli 2002, 2010): two `N × d` matrices `A` and
//! `B` from one scrambled Sobol sequence of dimension `2d` (the first `d` coordinates of point
//! `i` are row `i` of `A`, the last `d` row `i` of `B`), and the matrices `A_B^(j)` (`A` with
//! column `j` taken from `B`) — and, for second-order indices, `B_A^(j)` (`B` with column `j`
//! from `A`).
//!
//! Points come in `N` blocks, one per base point `i`, in SALib's order:
//! `A_i, A_B^(1)_i, …, A_B^(d)_i, [B_A^(1)_i, …, B_A^(d)_i,] B_i` — `d + 2` points per block,
//! or `2d + 2` with second order, `N(d + 2)` or `N(2d + 2)` runs per replicate in all. The
//! sequence is the production Sobol sampler ([`super::sample::sobol`]: Joe–Kuo direction
//! numbers, Owen-scrambled by the master seed), so `2d ≤ 256` and `N ≤ 65,536`.

use super::sample;

/// The design's `[saltelli]` table, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SaltelliSettings {
    /// Base points `N` (rows of `A` and `B`).
    pub base_points: usize,
    /// Whether the `B_A^(j)` points for second-order indices are included.
    #[serde(default)]
    pub second_order: bool,
}

impl SaltelliSettings {
    /// Points per base point: `d + 2`, or `2d + 2` with second order.
    pub fn block(&self, d: usize) -> usize {
        if self.second_order { 2 * d + 2 } else { d + 2 }
    }
}

/// Most parameters of a Saltelli design (the sequence has 256 dimensions, two per parameter).
pub const MAX_PARAMETERS: usize = sobol_burley::NUM_DIMENSIONS as usize / 2;

/// Where a point of a block sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Row of `A`.
    A,
    /// Row of `A_B^(j)`.
    AB(usize),
    /// Row of `B_A^(j)`.
    BA(usize),
    /// Row of `B`.
    B,
}

/// The role of point `k` (0-based) of a block of `d` parameters.
pub fn role(k: usize, d: usize, second_order: bool) -> Role {
    match k {
        0 => Role::A,
        k if k <= d => Role::AB(k - 1),
        k if second_order && k <= 2 * d => Role::BA(k - d - 1),
        _ => Role::B,
    }
}

/// The design's points in the unit cube, block-major.
pub fn points(s: &SaltelliSettings, d: usize, seed: u64) -> Vec<Vec<f64>> {
    let base = sample::sobol(s.base_points, 2 * d, seed);
    let block = s.block(d);
    let mut out = Vec::with_capacity(s.base_points * block);
    for x in &base {
        let (a, b) = x.split_at(d);
        for k in 0..block {
            out.push(match role(k, d, s.second_order) {
                Role::A => a.to_vec(),
                Role::B => b.to_vec(),
                Role::AB(j) => {
                    let mut p = a.to_vec();
                    p[j] = b[j];
                    p
                }
                Role::BA(j) => {
                    let mut p = b.to_vec();
                    p[j] = a[j];
                    p
                }
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_hold_a_the_mixed_matrices_and_b_in_salib_order() {
        let d = 3;
        for second_order in [false, true] {
            let s = SaltelliSettings {
                base_points: 8,
                second_order,
            };
            let pts = points(&s, d, 4);
            let block = s.block(d);
            assert_eq!(pts.len(), 8 * block);
            let base = sample::sobol(8, 2 * d, 4);
            for (i, blk) in pts.chunks(block).enumerate() {
                let (a, b) = base[i].split_at(d);
                assert_eq!(blk[0], a);
                assert_eq!(blk[block - 1], b);
                for j in 0..d {
                    let ab = &blk[1 + j];
                    for c in 0..d {
                        assert_eq!(ab[c], if c == j { b[c] } else { a[c] });
                    }
                    if second_order {
                        let ba = &blk[1 + d + j];
                        for c in 0..d {
                            assert_eq!(ba[c], if c == j { a[c] } else { b[c] });
                        }
                    }
                }
            }
        }
        assert_eq!(role(0, 3, true), Role::A);
        assert_eq!(role(3, 3, true), Role::AB(2));
        assert_eq!(role(4, 3, true), Role::BA(0));
        assert_eq!(role(7, 3, true), Role::B);
        assert_eq!(role(4, 3, false), Role::B);
    }
}
