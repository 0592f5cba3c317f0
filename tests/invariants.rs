//! Engine invariants over many random scenario shapes: every run conserves its agents (the
//! engine recounts them every year) and keeps the wake-up invariant (every agent in a live
//! state has exactly one pending wake-up, every absorbing one none), checked at every year's
//! end. Shapes are drawn from a seeded generator: starting stocks, resettlement quotas with
//! arrest on the quota route, arrest routes, several persons per agent, events that change
//! hazards and routes that open and close.

mod common;

use diaspora::engine::{FlowKind, KeepAll, LifeState, Simulation};
use diaspora::scenario::Scenario;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn load(text: &str) -> Scenario {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_scenario(dir.path(), "s.toml", text);
    Scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// One random scenario: origin O, transit places T and U, resettlement country R, host H.
fn shape(rng: &mut StdRng) -> String {
    let p = |rng: &mut StdRng, max: f64| format!("{:.4}", rng.random::<f64>() * max);
    let start = 2000;
    let end = start + rng.random_range(1..6);
    let ppa = rng.random_range(1..5u32);
    let seed = rng.random_range(0..1000u32);
    let rate = 1e-5 + rng.random::<f64>() * 2e-4;
    let mut s = format!(
        r#"name = "shape"
[run]
start_year = {start}
end_year = {end}
seed = {seed}
replicates = 1
persons_per_agent = {ppa}
[places.O]
kind = "origin"
[places.T]
kind = "transit"
[places.U]
kind = "transit"
[places.R]
kind = "resettlement"
[places.H]
kind = "host"
[exit]
origin = "O"
population = 1e6
base_rate = {rate:.6}
[deterrence]
border_enforcement = {be}
reattempt = {re}
punishment = {{ dist = "fixed", months = {pun} }}
[transit.T]
arrest = {ta}
death = {td}
move_on = {tm}
return_home = {tr}
[transit.U]
arrest = {ua}
move_on = {um}
[resettlement.R]
programme_months = 2
death = 0.001
onward = {ro}
[hosts.H]
recognition = {rec}
complementary = 0.1
processing = {{ dist = "uniform", min = 1, max = 9 }}
removal = {rem}
removal_route = "H-R"
naturalisation = 0.05
naturalisation_min_years = 1
death = 0.002
irregular_departure = {idep}
resettlement_quota = {quota}
resettlement_route = "T-H"
[routes.O-T]
from = "O"
to = "T"
duration = {{ dist = "fixed", months = 1 }}
arrest = {oa}
[routes.T-H]
from = "T"
to = "H"
duration = {{ dist = "uniform", min = 1, max = 3 }}
arrest = {qa}
weight = {qw}
[routes.T-U]
from = "T"
to = "U"
duration = {{ dist = "fixed", months = 2 }}
[routes.U-H]
from = "U"
to = "H"
duration = {{ dist = "fixed", months = 1 }}
arrest = {uh}
[routes.T-R]
from = "T"
to = "R"
duration = {{ dist = "fixed", months = 1 }}
[routes.R-H]
from = "R"
to = "H"
duration = {{ dist = "fixed", months = 1 }}
[routes.H-R]
from = "H"
to = "R"
duration = {{ dist = "fixed", months = 1 }}
[routes.H-U]
from = "H"
to = "U"
duration = {{ dist = "fixed", months = 2 }}
"#,
        be = p(rng, 0.5),
        re = p(rng, 1.0),
        pun = rng.random_range(1..13u32),
        ta = p(rng, 0.2),
        td = p(rng, 0.02),
        tm = p(rng, 0.3),
        tr = p(rng, 0.05),
        ua = p(rng, 0.1),
        um = p(rng, 0.5),
        ro = p(rng, 0.1),
        rec = p(rng, 0.7),
        rem = p(rng, 1.0),
        idep = p(rng, 0.05),
        quota = rng.random_range(0..400u32),
        oa = p(rng, 0.3),
        qa = p(rng, 1.0),
        qw = p(rng, 1.0),
        uh = p(rng, 0.5),
    );
    if rng.random_bool(0.5) {
        s = s.replace("[transit.U]", "arrest_route = \"T-R\"\n[transit.U]");
    }
    if rng.random_bool(0.5) {
        s = s.replace("weight = ", "arrest_route = \"T-R\"\nweight = ");
    }
    if rng.random_bool(0.5) {
        let from = rng.random_range(start..=end);
        s.push_str(&format!(
            "[events.e]\nfrom = {from}\nto = {end}\nmultiply.transit.T.arrest = {}\nmultiply.exit.push = {}\n",
            rng.random_range(0..5u32),
            rng.random_range(0..3u32)
        ));
    }
    if rng.random_bool(0.5) {
        let a = rng.random_range(start..=end);
        let b = rng.random_range(a..=end);
        s = s.replace(
            "to = \"U\"\n",
            &format!("to = \"U\"\nyears_open = [{a}, {b}]\n"),
        );
    }
    let states = [
        ("T", "in_transit"),
        ("R", "resettled"),
        ("H", "asylum_seeker"),
        ("H", "refugee"),
        ("H", "irregular"),
        ("H", "naturalised"),
    ];
    for (place, state) in states {
        if rng.random_bool(0.4) {
            s.push_str(&format!(
                "[[initial]]\nplace = \"{place}\"\nstate = \"{state}\"\npersons = {}\nmonths_in_state = {{ dist = \"uniform\", min = 0, max = 30 }}\n",
                rng.random_range(0..3000u32)
            ));
        }
    }
    s
}

#[test]
fn random_shapes_conserve_people_and_keep_one_wake_up_per_live_agent() {
    let mut rng = StdRng::seed_from_u64(13);
    for case in 0..200 {
        let text = shape(&mut rng);
        let s = load(&text);
        let sim = Simulation::new(&s.model).checked(true);
        let mut keep = KeepAll::default();
        let stats = sim
            .run(s.run.seed, 0, &mut keep)
            .unwrap_or_else(|e| panic!("case {case}: {e}\n{text}"));
        let ppa = u64::from(s.run.persons_per_agent);
        // Everyone created is somewhere at the end (the engine also checks every year).
        let last = keep.years.last().expect("a year");
        let people: u64 = last.stocks.iter().sum();
        assert_eq!(people, stats.agents_created * ppa, "case {case}");
        assert_eq!(
            keep.years.len() as u32 * 12,
            s.model.months(),
            "case {case}"
        );
    }
}

/// A resettlement quota whose route arrests everyone: nobody completes it, so nobody may be
/// counted as a resettlement arrival, and every arrival in the host (by the free route through
/// U, taken by those handed over to R and moving on, or by reattempts) claims asylum.
#[test]
fn arrested_quota_travellers_claim_like_everyone_else() {
    let text = QUOTA;
    let s = load(text);
    let sim = Simulation::new(&s.model).checked(true);
    let mut keep = KeepAll::default();
    sim.run(3, 0, &mut keep).unwrap();
    let h = s.model.places.iter().position(|p| p.id == "H").unwrap();
    let sum = |k: FlowKind| keep.years.iter().map(|t| t.flow_total(k, h)).sum::<u64>();
    let arrivals = sum(FlowKind::Arrivals);
    let claims = sum(FlowKind::Applications);
    let referred = sum(FlowKind::ResettlementArrivals);
    assert!(arrivals > 500, "{arrivals} arrivals");
    assert_eq!(
        referred, 0,
        "resettlement arrivals without a completed quota trip"
    );
    assert_eq!(claims, arrivals, "every arrival claims");
    let last = keep.years.last().unwrap();
    assert!(last.state_total(LifeState::AsylumSeeker) + last.state_total(LifeState::Refugee) > 0);
}

const QUOTA: &str = r#"
name = "quota"
[run]
start_year = 2000
end_year = 2005
seed = 3
replicates = 1
persons_per_agent = 2
[places.O]
kind = "origin"
[places.T]
kind = "transit"
[places.U]
kind = "transit"
[places.H]
kind = "host"
[exit]
origin = "O"
population = 1e6
base_rate = 2e-4
[deterrence]
reattempt = 1.0
punishment = { dist = "fixed", months = 1 }
[transit.T]
move_on = 0.3
[transit.U]
move_on = 0.5
[hosts.H]
recognition = 0.5
processing = { dist = "fixed", months = 3 }
resettlement_quota = 300
resettlement_route = "T-H"
[routes.O-T]
from = "O"
to = "T"
duration = { dist = "fixed", months = 1 }
[routes.T-H]
from = "T"
to = "H"
duration = { dist = "fixed", months = 1 }
arrest = 1.0
# rarely chosen freely (a zero weight would switch the quota off)
weight = 0.01
[routes.T-U]
from = "T"
to = "U"
duration = { dist = "fixed", months = 1 }
[routes.U-H]
from = "U"
to = "H"
duration = { dist = "fixed", months = 1 }
"#;
