//! The simulation engine: agents, their life-course state machine, and the month loop.
//!
//! The engine reads a [`Model`] (places, routes, per-year parameters) and reports [`YearTally`]s
//! to an [`Observer`]. It knows kinds of places and kinds of counts, never a country, a file or
//! a publisher; it never imports `scenario`, `observe`, `output` or the CLI.
//!
//! * `model` — the input the engine reads;
//! * `agents` — column-wise agent storage in fixed-size blocks;
//! * `calendar` — each block's per-month lists of agents to wake (chunked, reused);
//! * `hazard` — waiting times under piecewise-constant hazards (one draw per state entry);
//! * `tables` — per-year hazard lookups by place and sex, and the routes movers may choose;
//! * `choice` — the one rule by which movers choose among the routes leaving a place;
//! * `drivers` — quantities the model tracks, and the yearly values of parameters that follow
//!   them;
//! * `step` — the life-course state machine for one block and one month;
//! * `sim` — the month loop, ensembles, and the conservation check;
//! * `waiting` — queues of agents whose hazard follows drivers, released each January;
//! * `prefetch` — a cache hint used where agents are visited out of index order;
//! * `rng` — random streams keyed by (seed, replicate, purpose, month, block);
//! * `tally` — states, flows, and the yearly tally handed to observers.

mod agents;
mod calendar;
mod choice;
mod drivers;
pub mod hazard;
mod invariant;
pub mod model;
mod prefetch;
pub mod rng;
mod sim;
mod step;
mod tables;
pub mod tally;
mod waiting;

pub use agents::BLOCK_SIZE;
pub use model::{
    AgeBands, Choice, ChoiceNetwork, DrivenParam, Driver, DriverForm, Duration, Host, HostParam,
    InitialStock, Model, Origin, OriginParam, ParamRef, Place, PlaceId, PlaceKind, Quantity,
    Resettlement, ResettlementParam, Route, RouteId, RouteParam, Transit, TransitParam, YearSeries,
};
pub use sim::{EngineError, RunStats, Simulation};
pub use tally::{FEMALE, FlowKind, KeepAll, LifeState, MALE, Observer, YearTally};
