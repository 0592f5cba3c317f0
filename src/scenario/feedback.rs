//! Compiling the model's feedbacks: parameters' drivers and the choice rule's destination
//! network, with the quantities they read.
//!
//! A driver names what it counts (people in some states, or a flow over some months, at some
//! places), how (`power` or `saturating`), with which scale, strength and lag. Its strength is
//! resolved like any time-varying parameter (events may multiply it), at the path
//! `<parameter>.drivers.<i>.elasticity` (or `.cap`).

use super::compile::{Ctx, Result, check_value, place_set};
use super::param::{DriverForm as RawForm, RawDriver, RawFlow, RawState};
use super::raw::{Domain, for_each_param};
use crate::engine::{
    ChoiceNetwork, DrivenParam, Driver, DriverForm, FlowKind, HostParam, LifeState, OriginParam,
    ParamRef, Place, PlaceId, PlaceKind, Quantity, ResettlementParam, RouteParam, TransitParam,
};

/// Longest lag a driver may have, in months (the starting stocks stand for anything earlier).
const MAX_LAG_MONTHS: u32 = 1200;

/// The quantities drivers read, each once.
#[derive(Default)]
pub(super) struct Quantities(pub Vec<Quantity>);

impl Quantities {
    fn index(&mut self, q: Quantity) -> usize {
        match self.0.iter().position(|x| *x == q) {
            Some(i) => i,
            None => {
                self.0.push(q);
                self.0.len() - 1
            }
        }
    }
}

/// Life states a raw state name stands for (`in_host`: every state of living in a host).
pub(super) fn life_states(s: RawState) -> Vec<LifeState> {
    match s {
        RawState::InTransit => vec![LifeState::InTransit],
        RawState::Resettled => vec![LifeState::Resettled],
        RawState::AsylumSeeker => vec![LifeState::AsylumSeeker],
        RawState::Refugee => vec![LifeState::Refugee],
        RawState::ComplementaryProtection => vec![LifeState::Complementary],
        RawState::Irregular => vec![LifeState::Irregular],
        RawState::Naturalised => vec![LifeState::Naturalised],
        RawState::InHost => LifeState::ALL
            .iter()
            .copied()
            .filter(|s| s.in_host())
            .collect(),
    }
}

fn flow_kind(f: RawFlow) -> FlowKind {
    match f {
        RawFlow::Arrivals => FlowKind::Arrivals,
        RawFlow::ExitAttempts => FlowKind::ExitAttempts,
        RawFlow::Applications => FlowKind::Applications,
        RawFlow::Arrests => FlowKind::Arrests,
        RawFlow::Repatriations => FlowKind::Repatriations,
        RawFlow::TransitDepartures => FlowKind::TransitDepartures,
        RawFlow::OnwardDepartures => FlowKind::OnwardDepartures,
    }
}

fn states_of(list: &[RawState]) -> Vec<LifeState> {
    let mut states: Vec<LifeState> = list.iter().flat_map(|&s| life_states(s)).collect();
    states.sort();
    states.dedup();
    states
}

/// `[choice]`: acceptance weight and lag, and the destination network.
pub(super) fn compile_choice(
    cx: &Ctx<'_>,
    places: &[Place],
    quantities: &mut Quantities,
) -> Result<crate::engine::Choice> {
    let c = &cx.raw.choice;
    check_value(
        cx,
        "choice.acceptance_weight",
        c.acceptance_weight,
        Domain::NonNegative,
    )?;
    let network = match &c.network {
        None => None,
        Some(n) => {
            check_value(cx, "choice.network.scale", n.scale, Domain::Positive)?;
            check_lag(cx, "choice.network.lag_months", n.lag_months)?;
            if n.stock.is_empty() {
                return Err(cx.err(
                    "choice.network.stock",
                    "expected at least one life state, e.g. [\"in_host\"]",
                ));
            }
            let states = states_of(&n.stock);
            let quantity = places
                .iter()
                .enumerate()
                .map(|(p, place)| {
                    (cx.raw.hosts.contains_key(&place.id)).then(|| {
                        quantities.index(Quantity::Stock {
                            states: states.clone(),
                            places: vec![p as PlaceId],
                        })
                    })
                })
                .collect();
            Some(ChoiceNetwork {
                quantity,
                scale: n.scale,
                elasticity: cx.series("choice.network.elasticity"),
                lag_months: n.lag_months,
            })
        }
    };
    Ok(crate::engine::Choice {
        acceptance_weight: c.acceptance_weight,
        acceptance_lag_years: c.acceptance_lag_years,
        network,
    })
}

fn check_lag(cx: &Ctx<'_>, path: &str, lag: u32) -> Result<()> {
    if lag > MAX_LAG_MONTHS {
        return Err(cx.err(
            path,
            format!("expected at most {MAX_LAG_MONTHS} months, found {lag}"),
        ));
    }
    Ok(())
}

/// Every parameter with drivers, compiled.
pub(super) fn compile_drivers(
    cx: &Ctx<'_>,
    places: &[Place],
    quantities: &mut Quantities,
) -> Result<Vec<DrivenParam>> {
    let mut with_drivers = Vec::new();
    for_each_param(cx.raw, &mut |path, p, _| {
        if !p.drivers().is_empty() {
            with_drivers.push((path, p.drivers().to_vec()));
        }
    });
    let mut driven = Vec::new();
    for (path, raw_drivers) in with_drivers {
        let at = format!("{path}.drivers");
        let target = param_ref(cx, &path)
            .ok_or_else(|| cx.err(&at, "this parameter cannot have drivers"))?;
        if matches!(target, ParamRef::Host(_, HostParam::Death)) {
            return Err(cx.err(
                &at,
                "a host's death rate cannot have drivers (claimants wait under it with a timer)",
            ));
        }
        let drivers = raw_drivers
            .iter()
            .enumerate()
            .map(|(i, d)| compile_driver(cx, &format!("{at}.{i}"), d, places, quantities))
            .collect::<Result<Vec<_>>>()?;
        driven.push(DrivenParam {
            target,
            base: cx.series(&path),
            drivers,
        });
    }
    Ok(driven)
}

fn compile_driver(
    cx: &Ctx<'_>,
    path: &str,
    d: &RawDriver,
    places: &[Place],
    quantities: &mut Quantities,
) -> Result<Driver> {
    let ids = place_set(cx, &format!("{path}.places"), &d.places)?;
    if ids.is_empty() {
        return Err(cx.err(&format!("{path}.places"), "expected at least one place"));
    }
    if let Some(&origin) = ids
        .iter()
        .find(|&&p| places[usize::from(p)].kind == PlaceKind::Origin)
    {
        return Err(cx.err(
            &format!("{path}.places"),
            format!(
                "the origin `{}` holds no one a driver could count",
                places[usize::from(origin)].id
            ),
        ));
    }
    let quantity = match (&d.stock[..], d.flow) {
        ([], Some(flow)) => {
            let window = d.window_months.unwrap_or(12);
            if window == 0 || window > MAX_LAG_MONTHS {
                return Err(cx.err(
                    &format!("{path}.window_months"),
                    format!("expected 1 to {MAX_LAG_MONTHS} months, found {window}"),
                ));
            }
            Quantity::Flow {
                kind: flow_kind(flow),
                places: ids,
                window,
            }
        }
        ([_, ..], None) => {
            if d.window_months.is_some() {
                return Err(cx.err(
                    &format!("{path}.window_months"),
                    "only a flow driver sums over months; a stock is read at one month",
                ));
            }
            Quantity::Stock {
                states: states_of(&d.stock),
                places: ids,
            }
        }
        _ => {
            return Err(cx.err(
                path,
                "expected exactly one of `stock = [states…]` or `flow = \"…\"`",
            ));
        }
    };
    check_lag(cx, &format!("{path}.lag_months"), d.lag_months)?;
    check_value(cx, &format!("{path}.scale"), d.scale, Domain::Positive)?;
    let (key, other, form) = match d.form {
        RawForm::Power => ("elasticity", ("cap", d.cap), DriverForm::Power),
        RawForm::Saturating => ("cap", ("elasticity", d.elasticity), DriverForm::Saturating),
    };
    if d.strength().1.is_none() {
        return Err(cx.err(
            path,
            format!("missing required key `{key}` (the form is {:?})", d.form).to_lowercase(),
        ));
    }
    if other.1.is_some() {
        return Err(cx.err(
            &format!("{path}.{}", other.0),
            format!(
                "`{}` belongs to the other form; this driver's form takes `{key}`",
                other.0
            ),
        ));
    }
    Ok(Driver {
        quantity: quantities.index(quantity),
        lag_months: d.lag_months,
        form,
        scale: d.scale,
        strength: cx.series(&format!("{path}.{key}")),
    })
}

/// The parameter at a `for_each_param` path.
fn param_ref(cx: &Ctx<'_>, path: &str) -> Option<ParamRef> {
    let parts: Vec<&str> = path.split('.').collect();
    let place = |id: &str| cx.place_index.get(id).copied();
    Some(match parts.as_slice() {
        ["routes", id, field] => {
            let r = cx.raw.routes.keys().position(|k| k == id)? as u16;
            ParamRef::Route(
                r,
                match *field {
                    "arrest" => RouteParam::Arrest,
                    "death" => RouteParam::Death,
                    "weight" => RouteParam::Weight,
                    _ => return None,
                },
            )
        }
        ["exit" | "deterrence", field] => ParamRef::Origin(match *field {
            "population" => OriginParam::Population,
            "base_rate" => OriginParam::BaseRate,
            "push" => OriginParam::Push,
            "female_share" => OriginParam::FemaleShare,
            "border_enforcement" => OriginParam::BorderEnforcement,
            "family_pressure" => OriginParam::FamilyPressure,
            "detention_death" => OriginParam::DetentionDeath,
            "reattempt" => OriginParam::Reattempt,
            _ => return None,
        }),
        ["transit", id, field] => ParamRef::Transit(
            place(id)?,
            match *field {
                "arrest" => TransitParam::Arrest,
                "death" => TransitParam::Death,
                "move_on" => TransitParam::MoveOn,
                "return_home" => TransitParam::ReturnHome,
                "claim_asylum" => TransitParam::ClaimAsylum,
                "cost_sensitivity" => TransitParam::CostSensitivity,
                _ => return None,
            },
        ),
        ["resettlement", id, field] => ParamRef::Resettlement(
            place(id)?,
            match *field {
                "death" => ResettlementParam::Death,
                "return_to_origin" => ResettlementParam::ReturnToOrigin,
                "onward" => ResettlementParam::Onward,
                _ => return None,
            },
        ),
        ["hosts", id, field] => ParamRef::Host(
            place(id)?,
            match *field {
                "attraction" => HostParam::Attraction,
                "recognition" => HostParam::Recognition,
                "complementary" => HostParam::Complementary,
                "closed" => HostParam::Closed,
                "citizenship_check" => HostParam::CitizenshipCheck,
                "check_effect" => HostParam::CheckEffect,
                "removal" => HostParam::Removal,
                "irregular_removal" => HostParam::IrregularRemoval,
                "naturalisation" => HostParam::Naturalisation,
                "departure" => HostParam::Departure,
                "cessation" => HostParam::Cessation,
                "prima_facie" => HostParam::PrimaFacie,
                "irregular_departure" => HostParam::IrregularDeparture,
                "death" => HostParam::Death,
                "resettlement_quota" => HostParam::ResettlementQuota,
                _ => return None,
            },
        ),
        _ => return None,
    })
}
