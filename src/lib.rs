//! diaspora: an agent-based simulation of emigration, transit, resettlement and onward
//! migration, with an observation model that produces the series statistics agencies publish.
//!
//! ```text
//!   scenario ──compiles──▶ engine::Model ──▶ engine::Simulation ──YearTally──▶ observe
//!   (TOML, --set,            (places, routes,    (agents, months,               (named series,
//!    validation)              per-year params)    parallel blocks)               masking)
//!                                                                                   │
//!              observed ──▶ compare ◀── summary ◀── output ◀── ensemble ◀───────────┘
//!           (published data)  (fit metrics,        (series.csv, summary.csv,
//!                              distance)            manifest, atomic writes)
//! ```
//!
//! `sweep` sits on top: a design file expanded into a plan of runs (each a scenario with
//! overrides and a seed), run in shards on a laptop or a Slurm job array, fitted with `compare`
//! and merged into one results file; `calibrate` fits free parameters by ABC-SMC, in one
//! process or in rounds of Slurm array tasks (`slurm` writes the batch scripts both share);
//! `sensitivity` computes Morris and Sobol indices from a merged sweep, and `contrast` pairs two
//! runs replicate by replicate. `scaffold` writes a starting scenario and calibration for a new
//! origin from the observed data it finds.
//!
//! The engine never imports `scenario`, `observe`, `output` or `compare`; the command-line
//! interface lives in the binary (`src/cli/`) and is the only place that prints or exits.

pub mod calibrate;
pub mod compare;
pub mod contrast;
pub mod engine;
pub mod ensemble;
pub mod input;
pub mod observe;
pub mod observed;
pub mod output;
#[cfg(feature = "plot")]
pub mod plot;
pub mod scaffold;
pub mod scenario;
pub mod schema;
pub mod sensitivity;
pub mod slurm;
pub mod sweep;
