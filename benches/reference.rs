//! The machine's floor for an agent-based model, and the engine measured against it.
//!
//! The reference is the least an agent-month can cost: one byte of state per agent in a flat
//! array, one random draw and one state-dependent transition per agent per month, in parallel
//! chunks with a stream per (month, chunk) like the engine's. The engine runs the synthetic
//! scenarios in `benches/scenarios/` (every agent faces hazards every month). Both report
//! throughput in agent-months; at the end this bench prints the engine's cost per agent-month
//! as a ratio to the reference's, from the medians of this same run.
//!
//! It also runs one replicate of `scenarios/baseline.toml` and prints its cost per event (a
//! wake-up the engine handles, counted by `RunStats::events`; the replicate's whole time,
//! creating leavers included, divided by its events), again as a ratio to the reference's
//! cost per agent-month. Issue 15's goal is at most 25 ns per event.
//!
//! `cargo bench --bench reference`

use std::path::{Path, PathBuf};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use diaspora::engine::rng::{Purpose, stream};
use diaspora::engine::{Observer, RunStats, Simulation, YearTally};
use diaspora::scenario::Scenario;
use rand::Rng as _;
use rayon::prelude::*;

/// Agents in the reference loop (as in the synthetic scenarios).
const AGENTS: usize = 1_000_000;
/// Months in the reference loop (ten years, as in the synthetic scenarios).
const MONTHS: u32 = 120;
/// Agents per parallel chunk.
const CHUNK: usize = 1 << 14;

/// Four states; from each, move on with probability `LEAVE[s] / 2^64` to `NEXT[s]`.
const LEAVE: [u64; 4] = [u64::MAX / 20, u64::MAX / 10, u64::MAX / 50, u64::MAX / 100];
const NEXT: [u8; 4] = [1, 2, 3, 0];

fn reference_loop(states: &mut [u8], seed: u64) {
    for month in 0..MONTHS {
        states
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                let mut rng = stream(seed, 0, Purpose::External, month, c as u32);
                for s in chunk {
                    let u = rng.next_u64();
                    let i = usize::from(*s);
                    if u < LEAVE[i] {
                        *s = NEXT[i];
                    }
                }
            });
    }
}

struct Discard;
impl Observer for Discard {
    fn year_end(&mut self, _: &YearTally) {}
}

fn load(rel: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    Scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// The target scenario (every agent faces a 2-5% hazard every month), the general synthetic
/// scenario (agents also die, return and stay home), and the worst case (hazards 3-5 times
/// higher).
const SCENARIOS: [(&str, &str); 3] = [
    (
        "engine_hazard_every_month_1m",
        "benches/scenarios/hazard-every-month.toml",
    ),
    ("engine_synthetic_1m", "benches/scenarios/synthetic-1m.toml"),
    ("engine_dense_1m", "benches/scenarios/dense.toml"),
];

/// The baseline replicate measured per event.
const BASELINE: (&str, &str) = ("engine_baseline_replicate", "scenarios/baseline.toml");

fn bench(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("agent_month");
    group.sample_size(10);

    let mut states = vec![0u8; AGENTS];
    group.throughput(Throughput::Elements(AGENTS as u64 * u64::from(MONTHS)));
    group.bench_function("reference_loop", |b| {
        b.iter(|| pool.install(|| reference_loop(&mut states, 7)))
    });

    for (name, rel) in SCENARIOS {
        let stats = bench_replicate(&mut group, &pool, name, rel, |s| s.agent_months);
        eprintln!(
            "{name}: {} agents, {} agent-months, {:.3} events per agent-month",
            stats.agents_created,
            stats.agent_months,
            stats.events as f64 / stats.agent_months as f64
        );
    }
    let (name, rel) = BASELINE;
    let stats = bench_replicate(&mut group, &pool, name, rel, |s| s.events);
    eprintln!(
        "{name}: {} agents, {} agent-months, {} events",
        stats.agents_created, stats.agent_months, stats.events
    );
    group.finish();
}

/// Benchmarks one replicate of scenario `rel` on `pool` as `name`, its throughput counted in
/// the units `per` reads from the replicate's statistics (agent-months, events); returns them.
fn bench_replicate(
    group: &mut BenchmarkGroup<'_, WallTime>,
    pool: &rayon::ThreadPool,
    name: &str,
    rel: &str,
    per: fn(&RunStats) -> u64,
) -> RunStats {
    let s = load(rel);
    let sim = Simulation::new(&s.model);
    let run = || {
        pool.install(|| sim.run(s.run.seed, 0, &mut Discard))
            .unwrap()
    };
    let stats = run();
    group.throughput(Throughput::Elements(per(&stats)));
    group.bench_function(name, |b| b.iter(run));
    stats
}

/// Median nanoseconds per unit (agent-month, event) of a benchmark in this run, from
/// criterion's estimates.
fn median_ns_per(function: &str, units: f64) -> Option<f64> {
    let home = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
                .join("criterion")
        });
    let path = home
        .join("agent_month")
        .join(function)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(json["median"]["point_estimate"].as_f64()? / units)
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    let Some(reference) = median_ns_per("reference_loop", AGENTS as f64 * f64::from(MONTHS)) else {
        return;
    };
    println!("\nreference loop: {reference:.3} ns per agent-month (1 thread)");
    for (name, rel) in SCENARIOS {
        let s = load(rel);
        let stats = Simulation::new(&s.model)
            .run(s.run.seed, 0, &mut Discard)
            .unwrap();
        if let Some(engine) = median_ns_per(name, stats.agent_months as f64) {
            let density = stats.events as f64 / stats.agent_months as f64;
            println!(
                "{name}: {engine:.3} ns per agent-month = {:.2} x the reference ({density:.3} events per agent-month)",
                engine / reference
            );
        }
    }
    let (name, rel) = BASELINE;
    let s = load(rel);
    let stats = Simulation::new(&s.model)
        .run(s.run.seed, 0, &mut Discard)
        .unwrap();
    if let Some(event) = median_ns_per(name, stats.events as f64) {
        let replicate = event * stats.events as f64 / 1e6;
        println!(
            "{name}: {replicate:.2} ms, {} events: {event:.1} ns per event = {:.1} x the reference's agent-month (goal: 25 ns per event)",
            stats.events,
            event / reference
        );
    }
}
