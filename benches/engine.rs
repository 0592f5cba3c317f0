//! Engine benchmarks: one baseline replicate, and a synthetic scenario with one million agents.
//!
//! Run with `cargo bench --bench engine`. Each benchmark runs on a one-thread rayon pool unless
//! its name says otherwise; throughput is reported in agent-months (months lived by agents
//! inside the simulation, from creation to the end of the run).

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use diaspora::engine::{Observer, Simulation, YearTally};
use diaspora::scenario::Scenario;

/// Discards tallies: the benchmark measures the engine alone.
struct Discard;
impl Observer for Discard {
    fn year_end(&mut self, _: &YearTally) {}
}

fn load(rel: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    Scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"))
}

fn bench_scenario(c: &mut Criterion, name: &str, rel: &str, threads: usize, samples: usize) {
    let s = load(rel);
    let sim = Simulation::new(&s.model);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let stats = pool
        .install(|| sim.run(s.run.seed, 0, &mut Discard))
        .unwrap();
    let mut group = c.benchmark_group(name);
    group.sample_size(samples);
    group.throughput(Throughput::Elements(stats.agent_months));
    group.bench_function(format!("{threads}-thread"), |b| {
        b.iter(|| {
            pool.install(|| sim.run(s.run.seed, 0, &mut Discard))
                .unwrap()
        })
    });
    group.finish();
}

fn baseline(c: &mut Criterion) {
    bench_scenario(c, "baseline_replicate", "scenarios/baseline.toml", 1, 50);
}

fn synthetic(c: &mut Criterion) {
    bench_scenario(
        c,
        "synthetic_1m_agents",
        "benches/scenarios/synthetic-1m.toml",
        1,
        10,
    );
    bench_scenario(
        c,
        "synthetic_1m_agents",
        "benches/scenarios/synthetic-1m.toml",
        2,
        10,
    );
}

criterion_group!(benches, baseline, synthetic);
criterion_main!(benches);
