//! Engine benchmarks.
//!
//! * `baseline_replicate` — one replicate of `scenarios/baseline.toml` on one thread;
//! * `baseline_8_replicates` — eight replicates on one and on two threads;
//! * `synthetic_1m_agents` — one replicate of `benches/scenarios/synthetic-1m.toml` (a million
//!   agents) on one and on two threads;
//! * `agents` — the synthetic scenario scaled from 10⁴ to 10⁷ agents (one thread);
//! * `settled_years` — a million settled people with no events, simulated for 10 and 20 years.
//!
//! `cargo bench --bench engine` (or `-- <name>` for one group). Throughput is in agent-months:
//! months lived by agents inside the simulation, from creation to the end of the run.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diaspora::engine::{Observer, Simulation, YearTally};
use diaspora::scenario::{Override, Scenario, Template};

/// Discards tallies: the benchmark measures the engine alone.
struct Discard;
impl Observer for Discard {
    fn year_end(&mut self, _: &YearTally) {}
}

fn load(rel: &str, overrides: &[Override]) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    Template::read(&path)
        .and_then(|t| t.instantiate(overrides))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}

/// One replicate of `s` per iteration, on `threads` threads.
fn bench_one(
    c: &mut Criterion,
    group: &str,
    id: &str,
    s: &Scenario,
    threads: usize,
    samples: usize,
) {
    let sim = Simulation::new(&s.model);
    let pool = pool(threads);
    let stats = pool
        .install(|| sim.run(s.run.seed, 0, &mut Discard))
        .unwrap();
    let mut g = c.benchmark_group(group);
    g.sample_size(samples);
    g.throughput(Throughput::Elements(stats.agent_months));
    g.bench_function(id, |b| {
        b.iter(|| {
            pool.install(|| sim.run(s.run.seed, 0, &mut Discard))
                .unwrap()
        })
    });
    g.finish();
}

fn baseline(c: &mut Criterion) {
    let s = load("scenarios/baseline.toml", &[]);
    bench_one(c, "baseline_replicate", "1-thread", &s, 1, 50);
}

fn baseline_replicates(c: &mut Criterion) {
    let s = load("scenarios/baseline.toml", &[]);
    let sim = Simulation::new(&s.model);
    let mut g = c.benchmark_group("baseline_8_replicates");
    g.sample_size(10);
    for threads in [1, 2] {
        let pool = pool(threads);
        g.bench_function(format!("{threads}-thread"), |b| {
            b.iter(|| {
                pool.install(|| sim.run_ensemble(s.run.seed, 0, 8, |_| Discard))
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn synthetic(c: &mut Criterion) {
    let s = load("benches/scenarios/synthetic-1m.toml", &[]);
    bench_one(c, "synthetic_1m_agents", "1-thread", &s, 1, 10);
    bench_one(c, "synthetic_1m_agents", "2-thread", &s, 2, 10);
}

fn agents(c: &mut Criterion) {
    for (label, people) in [("1e4", 1e4), ("1e5", 1e5), ("1e6", 1e6), ("1e7", 1e7)] {
        let s = load(
            "benches/scenarios/synthetic-1m.toml",
            &[Override::number("exit.population", people)],
        );
        bench_one(c, "agents", label, &s, 1, 10);
    }
}

fn settled(c: &mut Criterion) {
    for end in [2009, 2019] {
        let s = load(
            "benches/scenarios/settled.toml",
            &[Override::integer("run.end_year", end)],
        );
        let years = end - 1999;
        bench_one(c, "settled_years", &format!("{years}-years"), &s, 1, 10);
    }
}

criterion_group!(
    benches,
    baseline,
    baseline_replicates,
    synthetic,
    agents,
    settled
);
criterion_main!(benches);
