//! A finished calibration's posterior read back from `posterior.csv`, and parameter sets drawn
//! from it by weight — what `diaspora run --posterior` runs, and what figures draw.
//!
//! Draw `d` picks particle `j` with probability `w_j / Σ w` from its own Xoshiro256++ stream
//! keyed by `(seed, "POSTERIOR", d)`, so the draws of a run depend only on its seed and the
//! posterior, never on the thread count.

use std::path::{Path, PathBuf};

use rand::Rng as _;

use super::schedule::{Column, knots_override};
use crate::engine::rng::{Purpose, from_key, mix_key};
use crate::input::FileError;
use crate::scenario::Override;

/// Tag of the posterior-draw streams within [`Purpose::External`].
const POSTERIOR: u64 = 0x504f_5354; // "POST"

/// The particles of `posterior.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Posterior {
    /// The file read.
    pub file: PathBuf,
    /// The generation of the population (from its first row).
    pub generation: String,
    /// Parameter key paths, in column order.
    pub parameters: Vec<String>,
    /// Particle weights (finite, not negative, positive sum).
    pub weights: Vec<f64>,
    /// `values[j]`: particle `j`'s parameter values.
    pub values: Vec<Vec<f64>>,
    /// BLAKE3 of the file.
    pub hash: String,
}

const FIXED: [&str; 4] = ["generation", "particle", "weight", "distance"];

impl Posterior {
    /// Reads `path/posterior.csv` when `path` is a calibration's folder, or `path` itself when
    /// it is a file (a posterior shipped on its own, e.g. `docs/calibration/`).
    pub fn read(path: &Path) -> Result<Posterior, FileError> {
        let file = if path.is_file() {
            path.to_path_buf()
        } else {
            path.join("posterior.csv")
        };
        let name = file.display().to_string();
        let bytes = std::fs::read(&file).map_err(|source| FileError::Io {
            path: name.clone(),
            source,
        })?;
        let format = |line: u64, message: String| FileError::Format {
            path: name.clone(),
            line,
            message,
        };
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let header = r.headers().map_err(|e| format(1, e.to_string()))?.clone();
        if header.len() <= FIXED.len() || header.iter().take(4).ne(FIXED) {
            return Err(format(
                1,
                format!(
                    "expected the columns {} and then one per parameter",
                    FIXED.join(",")
                ),
            ));
        }
        let parameters: Vec<String> = header.iter().skip(4).map(String::from).collect();
        let (mut weights, mut values) = (Vec::new(), Vec::new());
        let mut generation = String::new();
        for (i, rec) in r.records().enumerate() {
            let line = i as u64 + 2;
            let rec = rec.map_err(|e| format(line, e.to_string()))?;
            let num = |k: usize| -> Result<f64, FileError> {
                let s = rec.get(k).unwrap_or("");
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        format(
                            line,
                            format!("{}: expected a finite number, found \"{s}\"", &header[k]),
                        )
                    })
            };
            if i == 0 {
                generation = rec.get(0).unwrap_or("").to_string();
            }
            let w = num(2)?;
            if w < 0.0 {
                return Err(format(
                    line,
                    format!("weight: expected a weight of at least 0, found {w}"),
                ));
            }
            weights.push(w);
            values.push((4..header.len()).map(num).collect::<Result<Vec<_>, _>>()?);
        }
        if weights.iter().sum::<f64>() <= 0.0 {
            return Err(format(
                2,
                "expected particles with a positive total weight, found none".into(),
            ));
        }
        Ok(Posterior {
            file,
            generation,
            parameters,
            weights,
            values,
            hash: blake3::hash(&bytes).to_hex().to_string(),
        })
    }

    /// The particle of draw `draw` of a run seeded `seed`.
    pub fn draw(&self, seed: u64, draw: u32) -> usize {
        let total: f64 = self.weights.iter().sum();
        let mut rng = from_key(mix_key(&[
            seed,
            Purpose::External as u64,
            POSTERIOR,
            u64::from(draw),
        ]));
        let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64) * total;
        let mut acc = 0.0;
        for (j, &w) in self.weights.iter().enumerate() {
            acc += w;
            if u < acc {
                return j;
            }
        }
        // Rounding at the top end: the last particle with weight.
        self.weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
    }

    /// The overrides that set particle `j`'s parameter values: a constant's column sets its
    /// path; the knot columns of a free schedule (`path@YEAR`) set its knots together; a step
    /// standard deviation (`path@step_sd`) is not a scenario value.
    pub fn overrides(&self, j: usize) -> Vec<Override> {
        let mut out = Vec::new();
        let mut knots: Vec<(&str, Vec<f64>, Vec<f64>)> = Vec::new();
        for (name, &v) in self.parameters.iter().zip(&self.values[j]) {
            match Column::parse(name) {
                Column::Constant(path) => out.push(Override::number(path, v)),
                Column::Knot(path, year) => match knots.iter_mut().find(|k| k.0 == path) {
                    Some(k) => {
                        k.1.push(f64::from(year));
                        k.2.push(v);
                    }
                    None => knots.push((path, vec![f64::from(year)], vec![v])),
                },
                Column::StepSd(_) => {}
            }
        }
        out.extend(
            knots
                .iter()
                .map(|(path, years, values)| knots_override(path, years, values)),
        );
        out
    }

    /// The scenario key paths drawn from the posterior (a schedule's path once).
    pub fn paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = Vec::new();
        for name in &self.parameters {
            let path = match Column::parse(name) {
                Column::Constant(p) | Column::Knot(p, _) | Column::StepSd(p) => p,
            };
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
        paths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posterior(weights: &[f64]) -> Posterior {
        Posterior {
            file: PathBuf::new(),
            generation: "1".into(),
            parameters: vec!["a.b".into()],
            weights: weights.to_vec(),
            values: weights.iter().map(|&w| vec![w]).collect(),
            hash: String::new(),
        }
    }

    #[test]
    fn draws_follow_the_weights_and_skip_zero_weights() {
        let p = posterior(&[0.1, 0.0, 0.6, 0.3]);
        let mut counts = [0usize; 4];
        for d in 0..20_000 {
            counts[p.draw(5, d)] += 1;
        }
        assert_eq!(counts[1], 0);
        for (j, &w) in [0.1, 0.0, 0.6, 0.3].iter().enumerate() {
            let share = counts[j] as f64 / 20_000.0;
            assert!((share - w).abs() < 0.015, "particle {j}: {share} vs {w}");
        }
        assert_eq!(p.draw(5, 7), p.draw(5, 7));
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let write = |text: &str| std::fs::write(dir.path().join("posterior.csv"), text).unwrap();
        write("generation,particle,weight,distance,a.b\n3,0,0.5,1.2,7\n3,1,-1,1.3,8\n");
        let e = Posterior::read(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("posterior.csv:3: weight: expected a weight of at least 0, found -1"),
            "{e}"
        );
        write("generation,particle,weight,distance,a.b\n3,0,0.5,1.2,x\n");
        let e = Posterior::read(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("posterior.csv:2: a.b: expected a finite number, found \"x\""),
            "{e}"
        );
        write("generation,particle,weight,distance,a.b\n3,0,0.5,1.2,7\n");
        let p = Posterior::read(dir.path()).unwrap();
        assert_eq!(p.parameters, ["a.b"]);
        assert_eq!(p.values, [[7.0]]);
    }
}
