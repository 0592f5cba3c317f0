//! diaspora: an agent-based simulation of emigration, transit, resettlement and onward
//! migration, with an observation model that produces the series statistics agencies publish.
//!
//! ```text
//!   scenario ──compiles──▶ engine::Model ──▶ engine::Simulation ──YearTally──▶ observe
//!   (TOML, --set,            (places, routes,    (agents, months,               (named series,
//!    validation)              per-year params)    parallel blocks)               masking)
//!                                                                                   │
//!                                                                     output ◀──────┘
//!                                                           (series.csv, summary.csv, manifest)
//! ```
//!
//! The engine never imports `scenario`, `observe` or `output`; the command-line interface lives
//! in the binary (`src/cli/`) and is the only place that prints or exits.

pub mod engine;
pub mod ensemble;
pub mod observe;
pub mod observed;
pub mod output;
pub mod scenario;
