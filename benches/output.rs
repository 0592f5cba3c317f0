//! Output is not the bottleneck: rendering and writing `series.csv` for 100 replicates of the
//! baseline, against simulating those 100 replicates (on all cores, as `diaspora run` does).
//!
//! `cargo bench --bench output`

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use diaspora::ensemble;
use diaspora::output::{series_csv, summarise, summary_csv, write_atomic};
use diaspora::scenario::{Override, Scenario};

fn bench(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/baseline.toml");
    let s = Scenario::load(&path, &[Override::integer("run.replicates", 100)]).unwrap();
    let result = ensemble::run(&s).unwrap();
    let rows: usize = result.replicates.iter().map(Vec::len).sum();
    eprintln!("100 replicates: {rows} rows in series.csv");
    let dir = tempfile::tempdir().unwrap();

    let mut g = c.benchmark_group("output_vs_simulation");
    g.sample_size(10);
    g.bench_function("simulate_100_replicates", |b| {
        b.iter(|| ensemble::run(&s).unwrap())
    });
    g.bench_function("write_series_csv_100_replicates", |b| {
        b.iter(|| {
            let reps = result.numbered();
            write_atomic(
                &dir.path().join("series.csv"),
                &series_csv(&result.plan.layout, &reps),
            )
            .unwrap();
        })
    });
    g.bench_function("write_summary_csv_100_replicates", |b| {
        b.iter(|| {
            let reps: Vec<&[_]> = result.replicates.iter().map(Vec::as_slice).collect();
            let text = summary_csv(&result.plan.layout, &summarise(&reps));
            write_atomic(&dir.path().join("summary.csv"), &text).unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
