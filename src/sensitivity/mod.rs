//! Which parameters drive an output: Morris screening and Sobol indices of a sweep's outputs,
//! computed from the design and the runs' values only (pure functions, no I/O).
//!
//! * `morris` — elementary effects, `μ`, `μ*`, `σ`;
//! * `sobol` — first-order, total and second-order Sobol indices from a Saltelli design;
//! * `bootstrap` — percentile intervals by resampling trajectories or base points;
//! * `noise` — the mean over replicates and the share of its variance that is replicate noise;
//! * `table` — `sensitivity.csv`, rendered and read back.
//!
//! [`analyse`] takes a sweep's settings, the unit-cube coordinates of its points and every
//! run's outputs, averages each point's replicates and returns one [`OutputAnalysis`] per
//! output.

pub mod bootstrap;
pub mod morris;
pub mod noise;
pub mod sobol;
pub mod table;

pub use bootstrap::Bootstrap;
pub use table::{Index, TableRow};

use crate::sweep::results::OutputName;

/// The analysis a design supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Design {
    /// Morris trajectories.
    Morris,
    /// A Saltelli design; with `second_order`, the `B_A` points too.
    Saltelli {
        /// Whether second-order indices can be computed.
        second_order: bool,
    },
}

impl Design {
    /// Method name in `sensitivity.csv`.
    pub fn name(self) -> &'static str {
        match self {
            Design::Morris => "morris",
            Design::Saltelli { .. } => "sobol",
        }
    }
}

/// The indices of one output.
#[derive(Clone, Debug, PartialEq)]
pub enum Indices {
    /// Morris summaries, per parameter.
    Morris(Vec<morris::MorrisIndices>),
    /// Sobol indices.
    Sobol(sobol::SobolIndices),
}

/// One output's analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputAnalysis {
    /// The output.
    pub output: OutputName,
    /// Variance of the analysed values (the point means).
    pub variance: f64,
    /// Share of that variance that is replicate noise (with two or more replicates).
    pub noise_share: Option<f64>,
    /// The indices.
    pub indices: Indices,
}

impl OutputAnalysis {
    /// The parameters ranked, most influential first: by `μ*` (Morris) or total index (Sobol);
    /// ties keep the design's order.
    pub fn ranking(&self) -> Vec<usize> {
        let key: Vec<f64> = match &self.indices {
            Indices::Morris(m) => m.iter().map(|x| x.mu_star).collect(),
            Indices::Sobol(s) => s.total.iter().map(|x| x.value).collect(),
        };
        let mut order: Vec<usize> = (0..key.len()).collect();
        order.sort_by(|&a, &b| key[b].total_cmp(&key[a]).then(a.cmp(&b)));
        order
    }
}

/// An output that cannot be analysed, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// The output.
    pub output: OutputName,
    /// Why.
    pub reason: String,
}

/// Analyses every output: `points` are the unit-cube coordinates of the design's points,
/// `values[o]` output `o` of every run (point-major, `replicates` per point).
pub fn analyse(
    design: Design,
    points: &[Vec<f64>],
    replicates: usize,
    outputs: &[OutputName],
    values: &[Vec<Option<f64>>],
    bootstrap: &Bootstrap,
) -> (Vec<OutputAnalysis>, Vec<Skipped>) {
    let d = points.first().map_or(0, Vec::len);
    let mut done = Vec::new();
    let mut skipped = Vec::new();
    for (output, runs) in outputs.iter().zip(values) {
        let skip = |reason: String| Skipped {
            output: output.clone(),
            reason,
        };
        let means = match noise::point_means(runs, replicates) {
            Ok(m) => m,
            Err(point) => {
                skipped.push(skip(format!("undefined at point {point}")));
                continue;
            }
        };
        let noise = noise::noise_share(runs, replicates);
        let variance = noise::variance(&means);
        let indices = match design {
            Design::Morris => match morris::effects(points, &means) {
                Ok(ee) => Indices::Morris(morris::summarise(&ee, bootstrap)),
                Err(e) => {
                    skipped.push(skip(e.to_string()));
                    continue;
                }
            },
            Design::Saltelli { second_order } => {
                let ix = sobol::indices(&means, d, second_order, bootstrap);
                if ix.variance == 0.0 {
                    skipped.push(skip(
                        "the same value at every point of A and B (variance 0)".into(),
                    ));
                    continue;
                }
                Indices::Sobol(ix)
            }
        };
        done.push(OutputAnalysis {
            output: output.clone(),
            variance,
            noise_share: noise,
            indices,
        });
    }
    (done, skipped)
}
