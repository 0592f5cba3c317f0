//! The limits checked before a run allocates anything: the expected number of agents (hand
//! computed for the minimal fixture), the agent ceiling at its boundary, and the memory check.

mod common;

use diaspora::scenario::limits::{self, BYTES_PER_AGENT, MAX_EXPECTED_AGENTS};
use diaspora::scenario::{Location, Override};

/// minimal.toml: 1e6 people × 2e-4 a month × 12 months = 2,400 leavers a year for ten years,
/// halved by the crackdown's push of 0.5 in 2004 and 2005: 9 × 2,400 = 21,600 agents.
#[test]
fn expected_agents_of_the_minimal_fixture_by_hand() {
    let s = common::load("tests/fixtures/minimal.toml", &[]);
    let agents = limits::expected_agents(&s.model);
    assert!((agents - 21_600.0).abs() < 1e-6, "{agents}");
    // Starting stocks add their agents; persons per agent divide the leavers.
    let s = common::load("tests/fixtures/minimal.toml", &["run.persons_per_agent=4"]);
    assert!((limits::expected_agents(&s.model) - 5_400.0).abs() < 1e-6);
}

/// The ceiling holds at its boundary: 1e8 expected agents pass, a little more is refused at
/// exit.population with the number.
#[test]
fn the_agent_ceiling_is_exact() {
    // 2,400 a year per 1e6 people, 9 full-push years: population p gives p × 0.0216 agents.
    let at_limit = MAX_EXPECTED_AGENTS / 0.0216;
    let t = common::template("tests/fixtures/minimal.toml");
    let set = |p: f64| t.instantiate(&[Override::number("exit.population", p)]);
    assert!(set(at_limit * (1.0 - 1e-9)).is_ok());
    let e = set(at_limit * 1.01).unwrap_err();
    assert_eq!(e.path, "exit.population");
    assert!(matches!(e.location, Location::Set(_)), "{e}");
    assert!(
        e.message
            .starts_with("the run is expected to create 1.010e8 agents a replicate"),
        "{e}"
    );
}

/// A run that needs more memory than is available is refused at exit.population, naming the
/// gigabytes needed and available; with enough memory it passes.
#[test]
fn memory_is_checked_against_what_is_available() {
    let t = common::template("tests/fixtures/minimal.toml");
    let s = t.instantiate(&[]).unwrap();
    let needed = 21_600.0 * BYTES_PER_AGENT * 4.0;
    assert!((limits::memory_needed(&s.model, 4) - needed).abs() < 1e-3);
    assert!(t.check_memory(&s, 4, needed as u64 + 1).is_ok());
    let e = t.check_memory(&s, 4, needed as u64 / 2).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{}:30:14: exit.population: the run needs about 2.1 MB (2.160e4 agents a replicate, 4 replicate(s) at once), more than the 1.0 MB of memory available: raise run.persons_per_agent, lower the rates or run fewer threads",
            common::path("tests/fixtures/minimal.toml").display()
        )
    );
}
