//! Compiling `[[initial]]`: the people already in the system when the run starts.
//!
//! Each entry puts a number of persons at a place in a state (hiding in transit, resettled, a
//! claimant, refugee, complementary protection, irregular or naturalised in a host), with a
//! female share, ages and a distribution of months already spent in that state, so that their
//! first events are spread as declared rather than all due at once.

use super::compile::{Ctx, Result, age_bands, check_value, num};
use super::feedback::life_states;
use super::param::{RawDuration, RawState};
use super::raw::{Domain, RawPlaceKind};
use crate::engine::{Duration, InitialStock, LifeState, Place};
use rand_distr::{Gamma, LogNormal};

/// Most months a starting agent may already have spent in its state.
pub const MAX_MONTHS_IN_STATE: f64 = 1200.0;

pub(super) fn compile_initial(cx: &Ctx<'_>, places: &[Place]) -> Result<Vec<InitialStock>> {
    let ppa = f64::from(cx.raw.run.persons_per_agent);
    let mut out = Vec::new();
    for (i, s) in cx.raw.initial.iter().enumerate() {
        let path = format!("initial.{i}");
        let place = cx.place(&format!("{path}.place"), &s.place)?;
        let state = initial_state(cx, &path, s.state, cx.kind(place), &s.place)?;
        if state != LifeState::InTransit
            && state != LifeState::Resettled
            && !cx.raw.hosts.contains_key(&s.place)
        {
            return Err(cx.err(
                &format!("{path}.state"),
                format!("`{}` has no [hosts.{}] section", s.place, s.place),
            ));
        }
        let persons = s.persons;
        if !(persons.is_finite() && persons >= 0.0 && persons.fract() == 0.0) {
            return Err(cx.err(
                &format!("{path}.persons"),
                format!(
                    "expected a whole number of persons >= 0, found {}",
                    num(persons)
                ),
            ));
        }
        check_value(
            cx,
            &format!("{path}.female_share"),
            s.female_share,
            Domain::Probability,
        )?;
        let age = match &s.age {
            Some(a) => age_bands(cx, &format!("{path}.age"), a)?,
            None => age_bands(cx, "exit.age", &cx.raw.exit.age)?,
        };
        let months_in_state = months(cx, &format!("{path}.months_in_state"), &s.months_in_state)?;
        let _ = places;
        out.push(InitialStock {
            place,
            state,
            agents: (persons / ppa).round() as u64,
            female_share: s.female_share,
            age,
            months_in_state,
        });
    }
    Ok(out)
}

/// The state of a starting stock, which must fit the kind of place it is at.
fn initial_state(
    cx: &Ctx<'_>,
    path: &str,
    state: RawState,
    kind: RawPlaceKind,
    id: &str,
) -> Result<LifeState> {
    let fits = match state {
        RawState::InTransit => kind == RawPlaceKind::Transit,
        RawState::Resettled => kind == RawPlaceKind::Resettlement,
        RawState::InHost => false,
        _ => kind == RawPlaceKind::Host || kind == RawPlaceKind::Transit,
    };
    if state == RawState::InHost {
        return Err(cx.err(
            &format!("{path}.state"),
            "expected one state (in_transit, resettled, asylum_seeker, refugee, complementary_protection, irregular, naturalised), found the group in_host",
        ));
    }
    if !fits {
        return Err(cx.err(
            &format!("{path}.state"),
            format!("a place of kind {kind:?} cannot hold people in this state (`{id}`)")
                .to_lowercase(),
        ));
    }
    Ok(life_states(state)[0])
}

/// Months already spent in a state: like a duration, but zero is allowed.
fn months(cx: &Ctx<'_>, path: &str, d: &RawDuration) -> Result<Duration> {
    let check = |key: &str, v: f64| {
        if !(v.is_finite() && (0.0..=MAX_MONTHS_IN_STATE).contains(&v)) {
            return Err(cx.err(
                &format!("{path}.{key}"),
                format!(
                    "expected months from 0 to {MAX_MONTHS_IN_STATE}, found {}",
                    num(v)
                ),
            ));
        }
        Ok(())
    };
    Ok(match *d {
        RawDuration::Fixed { months } => {
            check("months", months)?;
            Duration::Fixed(months.round() as u32)
        }
        RawDuration::Uniform { min, max } => {
            check("min", min)?;
            check("max", max)?;
            if max < min {
                return Err(cx.err(
                    &format!("{path}.max"),
                    format!("expected a value >= min ({}), found {}", num(min), num(max)),
                ));
            }
            Duration::Uniform {
                min: min.round() as u32,
                max: max.round() as u32,
            }
        }
        RawDuration::Gamma { mean, sd } | RawDuration::Lognormal { mean, sd } => {
            check("mean", mean)?;
            check_value(cx, &format!("{path}.mean"), mean, Domain::Positive)?;
            check_value(cx, &format!("{path}.sd"), sd, Domain::Positive)?;
            if matches!(d, RawDuration::Gamma { .. }) {
                let shape = (mean / sd).powi(2);
                Duration::Gamma(
                    Gamma::new(shape, sd * sd / mean)
                        .map_err(|e| cx.err(path, format!("invalid gamma: {e}")))?,
                )
            } else {
                let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
                Duration::LogNormal(
                    LogNormal::new(mean.ln() - sigma2 / 2.0, sigma2.sqrt())
                        .map_err(|e| cx.err(path, format!("invalid log-normal: {e}")))?,
                )
            }
        }
    })
}
