//! Tests of the mechanisms against closed forms and brute force: a stock-driven hazard, the
//! destination-choice rule from a transit place, starting stocks, prima facie recognition,
//! cessation and women's hazard multipliers.

mod common;

use diaspora::engine::rng::{Purpose, stream};
use diaspora::ensemble::{self, EnsembleResult};
use diaspora::observe::Sex;
use diaspora::scenario::Scenario;
use rand::RngExt;

fn load(text: &str) -> Scenario {
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_scenario(dir.path(), "s.toml", text);
    Scenario::load(&path, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// Value of `(series, place, sex)` in `year` for replicate `rep` (0 if the run has no row).
fn value(r: &EnsembleResult, rep: usize, year: i32, series: &str, place: &str, sex: Sex) -> f64 {
    common::value(r, rep, year, series, place, sex).unwrap_or(0.0)
}

/// Sum over replicates and the given years.
fn sum(r: &EnsembleResult, years: &[i32], series: &str, place: &str, sex: Sex) -> f64 {
    (0..r.replicates.len())
        .flat_map(|rep| years.iter().map(move |&y| (rep, y)))
        .map(|(rep, y)| value(r, rep, y, series, place, sex))
        .sum()
}

/// `|x − expected| < k · se`, with a readable failure.
fn close(what: &str, x: f64, expected: f64, se: f64, k: f64) {
    assert!(
        (x - expected).abs() < k * se,
        "{what}: {x}, expected {expected} ± {} ({k} se)",
        k * se
    );
}

// ----- a stock-driven hazard against a brute-force monthly simulation ----------------------

const DRIVEN: &str = r#"
name = "driven"
[run]
start_year = 2000
end_year = 2007
seed = 5
replicates = 12
[places.O]
kind = "origin"
[places.T]
kind = "transit"
[places.R]
kind = "resettlement"
[exit]
origin = "O"
population = 1
base_rate = 0
[transit.T]
arrest = 0.01
# Moving on follows the stock resettled in R (last December): a broker market it finances.
move_on = { value = 0.01, drivers = [{ stock = ["resettled"], places = ["R"], scale = 2000, elasticity = 1.0 }] }
[resettlement.R]
[routes.O-T]
from = "O"
to = "T"
duration = { dist = "fixed", months = 1 }
[routes.T-R]
from = "T"
to = "R"
duration = { dist = "fixed", months = 1 }
[[initial]]
place = "T"
state = "in_transit"
persons = 20000
"#;

/// The same rule simulated the slow way: every month, every agent hiding in T faces a
/// Bernoulli trial with this year's probabilities; the year's moving-on probability is
/// `1 − 0.99^(1 + S/2000)` with `S` the resettled stock at the end of the previous December.
/// Those who move on arrive `travel` months after the month they set out. Returns, per year,
/// arrests and the resettled stock at the end of the year.
fn brute_force(seed: u64, years: usize, travel: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = stream(seed, 0, Purpose::External, 0, 0);
    let mut hiding = 20_000u32;
    let mut travelling = vec![0u32; 12 * years + travel];
    let mut resettled = 0u32;
    let h_arrest = -(0.99f64.ln());
    let (mut arrests, mut stock) = (vec![0.0; years], vec![0.0; years]);
    for y in 0..years {
        let h_move = -(0.99f64.ln()) * (1.0 + f64::from(resettled) / 2000.0);
        let total = h_arrest + h_move;
        let p_event = 1.0 - (-total).exp();
        for m in 12 * y..12 * (y + 1) {
            // Those who set out `travel` months ago arrive now.
            resettled += travelling[m];
            let mut stay = 0;
            for _ in 0..hiding {
                if rng.random::<f64>() < p_event {
                    if rng.random::<f64>() < h_move / total {
                        travelling[m + travel] += 1;
                    } else {
                        arrests[y] += 1.0;
                    }
                } else {
                    stay += 1;
                }
            }
            hiding = stay;
        }
        stock[y] = f64::from(resettled);
    }
    (arrests, stock)
}

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// Compares the engine on `scenario` with [`brute_force`] year by year: arrests in T and the
/// resettled stock, within 4.5 standard errors of the difference.
fn compare_with_brute_force(scenario: &str, travel: usize) -> f64 {
    let s = load(scenario);
    let r = ensemble::run(&s).unwrap();
    let years = 8;
    let reps = r.replicates.len();
    let brute: Vec<(Vec<f64>, Vec<f64>)> = (0..reps as u64)
        .map(|k| brute_force(k, years, travel))
        .collect();
    for y in 0..years {
        let year = 2000 + y as i32;
        for (series, place, pick) in [("arrests", "T", 0usize), ("population_resettled", "ALL", 1)]
        {
            let engine: Vec<f64> = (0..reps)
                .map(|k| value(&r, k, year, series, place, Sex::Total))
                .collect();
            let slow: Vec<f64> = brute
                .iter()
                .map(|b| if pick == 0 { b.0[y] } else { b.1[y] })
                .collect();
            let (me, se) = mean_sd(&engine);
            let (mb, sb) = mean_sd(&slow);
            let se_diff = ((se * se + sb * sb) / reps as f64).sqrt().max(1.0);
            close(
                &format!("{series} {year} (travel {travel})"),
                me,
                mb,
                se_diff,
                4.5,
            );
        }
    }
    mean_sd(
        &(0..reps)
            .map(|k| value(&r, k, 2007, "population_resettled", "ALL", Sex::Total))
            .collect::<Vec<_>>(),
    )
    .0
}

#[test]
fn stock_driven_hazard_matches_brute_force_monthly_trials() {
    let last = compare_with_brute_force(DRIVEN, 1);
    // The driver matters: without it the resettled stock after eight years would be about
    // 20,000 × 0.5 × (1 − 0.98^96) ≈ 8,600; with it the broker market drains T much faster.
    assert!(last > 11_000.0, "resettled by 2007: {last}");
}

/// The month of an event matters, not only its year: with an 11-month journey, those who set
/// out in January arrive within the year and those who set out in February the next. Agents
/// kept waiting across a January (their event falls in a year not known when they drew) must
/// then have their January events in January.
#[test]
fn stock_driven_hazard_keeps_event_months_across_januaries() {
    let text = DRIVEN.replace(
        "to = \"R\"\nduration = { dist = \"fixed\", months = 1 }",
        "to = \"R\"\nduration = { dist = \"fixed\", months = 11 }",
    );
    assert_ne!(text, DRIVEN);
    compare_with_brute_force(&text, 11);
}

/// The same comparison for a driven hazard with steps in time in state (waiting agents draw
/// again each January): refugees in H leave for H2 at a rate that follows the refugees already
/// in H2; naturalisation (never, here) steps the hazard after a year with status.
const DRIVEN_STEPPED: &str = r#"
name = "driven-stepped"
[run]
start_year = 2000
end_year = 2007
seed = 6
replicates = 12
[places.O]
kind = "origin"
[places.H]
kind = "host"
[places.H2]
kind = "host"
[exit]
origin = "O"
population = 1
base_rate = 0
[hosts.H]
recognition = 1.0
processing = { dist = "fixed", months = 3 }
death = 0.01
naturalisation = 0.0
naturalisation_min_years = 1
departure = { value = 0.01, drivers = [{ stock = ["refugee"], places = ["H2"], scale = 2000, elasticity = 1.0 }] }
[hosts.H2]
recognition = 1.0
prima_facie = 1.0
processing = { dist = "fixed", months = 3 }
[routes.O-H]
from = "O"
to = "H"
duration = { dist = "fixed", months = 1 }
[routes.H-H2]
from = "H"
to = "H2"
duration = { dist = "fixed", months = 1 }
[[initial]]
place = "H"
state = "refugee"
persons = 20000
"#;

#[test]
fn stock_driven_hazard_with_steps_matches_brute_force_monthly_trials() {
    let text = format!(
        "{DRIVEN_STEPPED}\n[[observation.series]]\nname = \"refugees\"\ncount = \"refugees\"\nplaces = [\"H2\"]\n"
    );
    let s = load(&text);
    let r = ensemble::run(&s).unwrap();
    let years = 8;
    let reps = r.replicates.len();
    // Death plays the part of arrest, departure the part of moving on: the rule is the same.
    let brute: Vec<(Vec<f64>, Vec<f64>)> = (0..reps as u64)
        .map(|k| brute_force(k + 100, years, 1))
        .collect();
    for y in 0..years {
        let year = 2000 + y as i32;
        let dead = |k: usize, year: i32| value(&r, k, year, "population_dead", "ALL", Sex::Total);
        let deaths: Vec<f64> = (0..reps)
            .map(|k| dead(k, year) - if y == 0 { 0.0 } else { dead(k, year - 1) })
            .collect();
        let stock: Vec<f64> = (0..reps)
            .map(|k| value(&r, k, year, "refugees", "H2", Sex::Total))
            .collect();
        for (what, engine, pick) in [("deaths", deaths, 0usize), ("refugees in H2", stock, 1)] {
            let slow: Vec<f64> = brute
                .iter()
                .map(|b| if pick == 0 { b.0[y] } else { b.1[y] })
                .collect();
            let (me, se) = mean_sd(&engine);
            let (mb, sb) = mean_sd(&slow);
            let se_diff = ((se * se + sb * sb) / reps as f64).sqrt().max(1.0);
            close(&format!("{what} {year}"), me, mb, se_diff, 4.5);
        }
    }
}

// ----- destination choice from a transit place ----------------------------------------------

const CHOICE: &str = r#"
name = "choice"
[run]
start_year = 2000
end_year = 2004
seed = 3
replicates = 4
[places.O]
kind = "origin"
[places.T]
kind = "transit"
[places.U]
kind = "transit"
[places.A]
kind = "host"
[places.B]
kind = "host"
[exit]
origin = "O"
population = 1
base_rate = 0
[transit.T]
move_on = 0.05
cost_sensitivity = 0.5
[hosts.A]
attraction = 2.0
recognition = 0.8
processing = { dist = "fixed", months = 600 }
[hosts.B]
attraction = 1.0
recognition = 0.2
complementary = 0.2
processing = { dist = "fixed", months = 600 }
[choice]
acceptance_weight = 1.5
# The network counts the naturalised, who never change here: a known, constant stock.
network = { stock = ["naturalised"], scale = 100, elasticity = 0.5 }
[routes.O-T]
from = "O"
to = "T"
duration = { dist = "fixed", months = 1 }
[routes.T-A]
from = "T"
to = "A"
weight = 1.0
cost = 2000
duration = { dist = "fixed", months = 1 }
[routes.T-B]
from = "T"
to = "B"
weight = 3.0
duration = { dist = "fixed", months = 1 }
[routes.T-U]
from = "T"
to = "U"
weight = 0.5
duration = { dist = "fixed", months = 1 }
[[initial]]
place = "T"
state = "in_transit"
persons = 40000
[[initial]]
place = "A"
state = "naturalised"
persons = 300
[[initial]]
place = "B"
state = "naturalised"
persons = 800
[[observation.series]]
name = "arrivals"
count = "arrivals"
places = ["A", "B", "U"]
"#;

#[test]
fn destination_shares_from_transit_follow_weight_attraction_network_acceptance() {
    let s = load(CHOICE);
    let r = ensemble::run(&s).unwrap();
    let years: Vec<i32> = (2000..=2004).collect();
    let arrivals = |p: &str| sum(&r, &years, "arrivals", p, Sex::Total);
    let (a, b, u) = (arrivals("A"), arrivals("B"), arrivals("U"));
    // weight × cost penalty × attraction × (1 + S/100)^0.5 × acceptance^1.5
    let wa =
        1.0 * (-0.5f64 * 2000.0 / 1000.0).exp() * 2.0 * (1.0 + 3.0f64).powf(0.5) * 0.8f64.powf(1.5);
    let wb = 3.0 * 1.0 * (1.0 + 8.0f64).powf(0.5) * 0.4f64.powf(1.5);
    let wu = 0.5;
    let n = a + b + u;
    assert!(n > 100_000.0, "movers: {n}");
    for (what, got, w) in [("A", a, wa), ("B", b, wb), ("U", u, wu)] {
        let p = w / (wa + wb + wu);
        let se = (p * (1.0 - p) / n).sqrt();
        close(&format!("share to {what}"), got / n, p, se, 4.0);
    }
}

// ----- starting stocks ----------------------------------------------------------------------

const STOCKS: &str = r#"
name = "stocks"
[run]
start_year = 2000
end_year = 2002
seed = 9
replicates = 4
[places.O]
kind = "origin"
[places.H]
kind = "host"
[exit]
origin = "O"
population = 1
base_rate = 0
[hosts.H]
recognition = 1.0
processing = { dist = "fixed", months = 6 }
naturalisation = 0.1
naturalisation_min_years = 2
[routes.O-H]
from = "O"
to = "H"
duration = { dist = "fixed", months = 1 }
[[initial]]
place = "H"
state = "refugee"
persons = 10000
female_share = 0.3
months_in_state = { dist = "uniform", min = 0, max = 47 }
[[observation.series]]
name = "naturalisations"
count = "naturalisations"
places = ["H"]
by_sex = true
"#;

#[test]
fn starting_stocks_are_conserved_and_their_first_events_spread_as_declared() {
    let s = load(STOCKS);
    let r = ensemble::run(&s).unwrap();
    let reps = r.replicates.len() as f64;
    // Months already waited w are uniform on 0..=47; naturalisation (10% a month) is possible
    // from 24 months with status. In the first year an agent who waited w can naturalise in
    // months max(0, 24 − w) ..= 11; in the first two years up to month 23.
    let q = 0.9f64;
    let by = |last: i32| -> f64 {
        (0..48)
            .map(|w: i32| {
                let first = (24 - w).max(0);
                let months = (last - first + 1).max(0);
                1.0 - q.powi(months)
            })
            .sum::<f64>()
            / 48.0
    };
    let n = 10_000.0;
    let y1 = sum(&r, &[2000], "naturalisations", "H", Sex::Total) / reps;
    let y12 = sum(&r, &[2000, 2001], "naturalisations", "H", Sex::Total) / reps;
    let p1 = by(11);
    let p12 = by(23);
    close(
        "naturalised in 2000",
        y1,
        n * p1,
        (n * p1 * (1.0 - p1) / reps).sqrt(),
        5.0,
    );
    close(
        "naturalised by 2001",
        y12,
        n * p12,
        (n * p12 * (1.0 - p12) / reps).sqrt(),
        5.0,
    );
    // All 10,000 are somewhere every year, and the female share is as declared.
    for year in 2000..=2002 {
        for k in 0..r.replicates.len() {
            let everyone: f64 = ["refugee", "naturalised", "dead"]
                .iter()
                .map(|st| value(&r, k, year, &format!("population_{st}"), "ALL", Sex::Total))
                .sum();
            assert_eq!(everyone, n, "replicate {k}, {year}");
        }
    }
    let women = sum(&r, &[2000, 2001, 2002], "naturalisations", "H", Sex::Female);
    let all = sum(&r, &[2000, 2001, 2002], "naturalisations", "H", Sex::Total);
    close("female share", women / all, 0.3, (0.21 / all).sqrt(), 5.0);
}

// ----- prima facie recognition and cessation -------------------------------------------------

const CAMP: &str = r#"
name = "camp"
[run]
start_year = 2000
end_year = 2001
seed = 4
replicates = 4
[places.O]
kind = "origin"
[places.H]
kind = "host"
[exit]
origin = "O"
population = 1e6
base_rate = 0.001
[hosts.H]
prima_facie = 1.0
recognition = 0.5
processing = { dist = "fixed", months = 3 }
[routes.O-H]
from = "O"
to = "H"
duration = { dist = "fixed", months = 1 }
[[observation.series]]
name = "refugees"
count = "refugees"
places = ["H"]
[[observation.series]]
name = "applications"
count = "applications"
places = ["H"]
[[observation.series]]
name = "recognised"
count = "decisions_recognized"
places = ["H"]
[[observation.series]]
name = "arrivals"
count = "arrivals"
places = ["H"]
[[observation.series]]
name = "group"
count = "group_recognitions"
places = ["H"]
"#;

#[test]
fn prima_facie_arrivals_are_refugees_without_claims() {
    let s = load(CAMP);
    let r = ensemble::run(&s).unwrap();
    let years = [2000, 2001];
    let arrivals = sum(&r, &years, "arrivals", "H", Sex::Total);
    assert!(arrivals > 10_000.0);
    assert_eq!(sum(&r, &years, "applications", "H", Sex::Total), 0.0);
    assert_eq!(sum(&r, &years, "recognised", "H", Sex::Total), 0.0);
    assert_eq!(sum(&r, &years, "group", "H", Sex::Total), arrivals);
    // Nobody dies or leaves: everyone who arrived is a refugee at the end.
    let stock = sum(&r, &[2001], "refugees", "H", Sex::Total);
    assert_eq!(stock, arrivals);

    // A group share of 0.3: the rest claim, in proportion.
    let dir = tempfile::tempdir().unwrap();
    let path = common::write_scenario(dir.path(), "c.toml", CAMP);
    let s = Scenario::load(
        &path,
        &[diaspora::scenario::Override::parse("hosts.H.prima_facie=0.3").unwrap()],
    )
    .unwrap();
    let r = ensemble::run(&s).unwrap();
    let arrivals = sum(&r, &years, "arrivals", "H", Sex::Total);
    let claims = sum(&r, &years, "applications", "H", Sex::Total);
    close(
        "claims per arrival",
        claims / arrivals,
        0.7,
        (0.21 / arrivals).sqrt(),
        5.0,
    );
}

const CESSATION: &str = r#"
name = "cessation"
[run]
start_year = 2000
end_year = 2001
seed = 8
replicates = 4
[places.O]
kind = "origin"
[places.H]
kind = "host"
[exit]
origin = "O"
population = 1
base_rate = 0
[hosts.H]
recognition = 1.0
processing = { dist = "fixed", months = 3 }
cessation = 0.02
cessation_to = "irregular"
[routes.O-H]
from = "O"
to = "H"
duration = { dist = "fixed", months = 1 }
[[initial]]
place = "H"
state = "refugee"
persons = 20000
[[observation.series]]
name = "cessations"
count = "cessations"
places = ["H"]
"#;

#[test]
fn cessation_moves_the_expected_share_out_of_refugee_status() {
    let s = load(CESSATION);
    let r = ensemble::run(&s).unwrap();
    let reps = r.replicates.len() as f64;
    let n = 20_000.0;
    for (year, months) in [(2000, 12), (2001, 24)] {
        let p = 1.0 - 0.98f64.powi(months);
        let irregular = sum(&r, &[year], "population_irregular", "ALL", Sex::Total) / reps;
        close(
            &format!("irregular at the end of {year}"),
            irregular,
            n * p,
            (n * p * (1.0 - p) / reps).sqrt(),
            5.0,
        );
    }
    let ceased = sum(&r, &[2000, 2001], "cessations", "H", Sex::Total) / reps;
    let irregular = sum(&r, &[2001], "population_irregular", "ALL", Sex::Total) / reps;
    assert_eq!(ceased, irregular);

    // To the origin instead: the same share returns.
    let text = CESSATION.replace(
        "cessation_to = \"irregular\"",
        "cessation_to = \"returned\"",
    );
    let r = ensemble::run(&load(&text)).unwrap();
    let returned = sum(&r, &[2001], "population_returned", "ALL", Sex::Total) / reps;
    let p = 1.0 - 0.98f64.powi(24);
    close(
        "returned by 2001",
        returned,
        n * p,
        (n * p * (1.0 - p) / reps).sqrt(),
        5.0,
    );
    assert_eq!(
        sum(&r, &[2001], "population_irregular", "ALL", Sex::Total),
        0.0
    );
}

// ----- women's hazard multipliers -----------------------------------------------------------

const SEXES: &str = r#"
name = "sexes"
[run]
start_year = 2000
end_year = 2019
seed = 2
replicates = 4
[places.O]
kind = "origin"
[places.T]
kind = "transit"
[places.R]
kind = "resettlement"
[exit]
origin = "O"
population = 1
base_rate = 0
[transit.T]
arrest = 0.02
move_on = 0.02
female = { move_on = 2.0, arrest = 0.5 }
[resettlement.R]
[routes.O-T]
from = "O"
to = "T"
duration = { dist = "fixed", months = 1 }
[routes.T-R]
from = "T"
to = "R"
duration = { dist = "fixed", months = 1 }
[[initial]]
place = "T"
state = "in_transit"
persons = 20000
female_share = 0.5
[[observation.series]]
name = "arrivals"
count = "arrivals"
places = ["R"]
by_sex = true
"#;

#[test]
fn womens_hazard_multipliers_change_the_female_share_of_arrivals_as_closed_form() {
    let s = load(SEXES);
    let r = ensemble::run(&s).unwrap();
    let years: Vec<i32> = (2000..=2019).collect();
    let women = sum(&r, &years, "arrivals", "R", Sex::Female);
    let all = sum(&r, &years, "arrivals", "R", Sex::Total);
    // Everyone leaves T within the run (hazards of 4% a month or more for 20 years). A man
    // moves on rather than being arrested with probability 1/2; a woman with 2/(2 + 0.5).
    let (pm, pf) = (0.5, 2.0 / 2.5);
    let share = 0.5 * pf / (0.5 * pf + 0.5 * pm);
    close(
        "female share of arrivals",
        women / all,
        share,
        (share * (1.0 - share) / all).sqrt(),
        5.0,
    );
    // (Without the multipliers the share would be 0.5.)
    assert!((share - 0.5f64).abs() > 0.1);
}

/// Drivers, starting stocks and the destination network change nothing with the thread count.
#[test]
fn feedbacks_do_not_depend_on_thread_count() {
    let text = DRIVEN.replace("persons = 20000", "persons = 40000");
    let s = load(&text);
    let run_with = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let r = pool.install(|| ensemble::run(&s)).unwrap();
        diaspora::output::series_csv(&r.plan.layout, &r.numbered())
    };
    let one = run_with(1);
    assert_eq!(one, run_with(2));
    assert_eq!(one, run_with(4));
}

// ----- degrees of freedom ------------------------------------------------------------------

#[test]
fn hand_set_values_are_counted_on_the_paths_into_each_series() {
    // minimal.toml: the crackdown multiplies transit.TRN.arrest and exit.push (both upstream of
    // RES); knots added here: push 3 knots (2 count), the host's recognition 2 knots (1 counts,
    // and only for series at the host), and a route into RES open part of the run.
    let s = common::load(
        "tests/fixtures/minimal.toml",
        &[
            "exit.push={ years = [2000, 2003, 2006], values = [1, 2, 1] }",
            "hosts.HST.recognition={ years = [2000, 2005], values = [0.6, 0.3] }",
            "routes.TRN-RES.years_open=[2001, 2009]",
        ],
    );
    let counts = diaspora::scenario::freedom::count(&s);
    let of = |name: &str| counts.iter().find(|c| c.series == name).unwrap();
    let arrivals = of("arrivals");
    assert_eq!(
        (arrivals.knots, arrivals.multipliers, arrivals.windows),
        (2, 2, 1)
    );
    // The refugees at HST: everything upstream of HST (the origin, TRN, RES and their routes)
    // and HST's own recognition knot.
    let refugees = of("refugees");
    assert_eq!(
        (refugees.knots, refugees.multipliers, refugees.windows),
        (3, 2, 1)
    );
}

#[test]
fn values_a_calibration_estimates_are_counted_apart_from_hand_set_ones() {
    // As above; the calibration frees the push's schedule (4 knots: 3 after the first), the
    // crackdown's arrest multiplier and the host's recognition.
    let s = common::load(
        "tests/fixtures/minimal.toml",
        &["exit.push={ years = [2000, 2003, 2006], values = [1, 2, 1] }"],
    );
    let free = diaspora::scenario::freedom::Freed {
        constants: vec![
            "events.crackdown.multiply.transit.TRN.arrest".into(),
            "hosts.HST.recognition".into(),
        ],
        schedules: vec![("exit.push".into(), 4)],
    };
    let counts = diaspora::scenario::freedom::count_with(&s, &free);
    let of = |name: &str| counts.iter().find(|c| c.series == name).unwrap();
    let arrivals = of("arrivals");
    // Hand-set: only the crackdown's push multiplier is left.
    assert_eq!((arrivals.knots, arrivals.multipliers), (0, 1));
    // Estimated: 3 knots after the first; the arrest multiplier acts on arrivals, the host's
    // recognition does not.
    assert_eq!((arrivals.free_knots, arrivals.free_constants), (3, 1));
    let refugees = of("refugees");
    assert_eq!((refugees.free_knots, refugees.free_constants), (3, 2));
}

#[test]
fn the_baseline_has_at_most_twelve_hand_set_values_on_mou_arrivals() {
    let s = common::load("scenarios/baseline.toml", &[]);
    let counts = diaspora::scenario::freedom::count(&s);
    let mou = counts.iter().find(|c| c.series == "mou_arrivals").unwrap();
    assert!(mou.total() <= 12, "{mou:?}");
}
