//! Validation of a resolved scenario and its compilation into the engine's [`Model`] and the
//! observation plan. Every check names the key path it is about; nothing is silently fixed.

use std::collections::BTreeMap;

use rand_distr::{Gamma, LogNormal};

use super::error::{ScenarioError, Sources};
use super::feedback::{Quantities, compile_choice, compile_drivers};
use super::initial::compile_initial;
use super::limits;
use super::param::{Param, RawDuration, Schedule};
use super::raw::{
    Domain, RawAge, RawCessation, RawCount, RawPlaceKind, RawPlaces, RawScenario, for_each_param,
};
use crate::engine::{
    AgeBands, Duration, Host, Model, Origin, Place, PlaceId, PlaceKind, Resettlement, Route,
    RouteId, Transit, YearSeries,
};
use crate::observe::{Count, Masking, ObservationSpec, SeriesSpec, UNOBSERVABLES};

pub(super) type Result<T> = std::result::Result<T, ScenarioError>;

/// Formats a number the way a user would write it.
pub(crate) fn num(v: f64) -> String {
    format!("{v}")
}

/// What every check reads: the scenario, where its values came from, and its ids.
pub(super) struct Ctx<'a> {
    pub raw: &'a RawScenario,
    pub src: &'a Sources,
    pub start: i32,
    pub years: usize,
    pub place_index: BTreeMap<&'a str, PlaceId>,
    route_index: BTreeMap<&'a str, RouteId>,
    /// Enabled event multipliers by parameter path: `(event path, from, to, factor)`.
    scaling: BTreeMap<String, Vec<(String, i32, i32, f64)>>,
    /// Resolved parameters by path.
    params: BTreeMap<String, YearSeries>,
}

impl Ctx<'_> {
    pub fn err(&self, path: &str, message: impl Into<String>) -> ScenarioError {
        self.src.error(path, message)
    }

    pub fn series(&self, path: &str) -> YearSeries {
        self.params
            .get(path)
            .cloned()
            .unwrap_or_else(|| panic!("parameter {path} was resolved"))
    }

    pub fn place(&self, path: &str, id: &str) -> Result<PlaceId> {
        self.place_index.get(id).copied().ok_or_else(|| {
            let known: Vec<&str> = self.place_index.keys().copied().collect();
            self.err(
                path,
                format!(
                    "expected a place id (one of: {}), found `{id}`",
                    known.join(", ")
                ),
            )
        })
    }

    pub fn route(&self, path: &str, id: &Option<String>) -> Result<Option<RouteId>> {
        let Some(id) = id else { return Ok(None) };
        self.route_index
            .get(id.as_str())
            .copied()
            .map(Some)
            .ok_or_else(|| {
                let known: Vec<&str> = self.route_index.keys().copied().collect();
                self.err(
                    path,
                    format!(
                        "expected a route id (one of: {}), found `{id}`",
                        known.join(", ")
                    ),
                )
            })
    }

    /// A route id that must start at place `start` (where the people it takes are).
    pub fn route_from(
        &self,
        path: &str,
        id: &Option<String>,
        start: &str,
    ) -> Result<Option<RouteId>> {
        let route = self.route(path, id)?;
        if let Some(id) = id
            && self.raw.routes[id].from != start
        {
            return Err(self.err(
                path,
                format!(
                    "expected a route starting at `{start}`, found `{id}` (from `{}`)",
                    self.raw.routes[id].from
                ),
            ));
        }
        Ok(route)
    }

    pub fn kind(&self, p: PlaceId) -> RawPlaceKind {
        let id = self
            .place_index
            .iter()
            .find(|(_, v)| **v == p)
            .map(|(k, _)| *k)
            .expect("place");
        self.raw.places[id].kind
    }
}

/// Validates `raw` and builds the engine model and the observation spec.
pub fn compile(raw: &RawScenario, src: &Sources) -> Result<(Model, ObservationSpec)> {
    let run = &raw.run;
    if run.step != "month" {
        return Err(src.error(
            "run.step",
            format!(
                "expected \"month\" (the only step supported), found \"{}\"",
                run.step
            ),
        ));
    }
    if run.end_year < run.start_year {
        return Err(src.error(
            "run.end_year",
            format!(
                "expected a year >= run.start_year ({}), found {}",
                run.start_year, run.end_year
            ),
        ));
    }
    limits::check_years(src, run.start_year, run.end_year)?;
    limits::check_name(src, "name", &raw.name)?;
    if run.seed > i64::MAX as u64 {
        return Err(src.error(
            "run.seed",
            format!("expected a seed in 0..=2^63-1, found {}", run.seed),
        ));
    }
    if run.replicates == 0 {
        return Err(src.error("run.replicates", "expected at least 1 replicate, found 0"));
    }
    if run.persons_per_agent == 0 {
        return Err(src.error("run.persons_per_agent", "expected at least 1, found 0"));
    }
    let years = (run.end_year - run.start_year + 1) as usize;

    limits::check_ids_differ_by_more_than_case(src, "places", raw.places.keys())?;
    limits::check_ids_differ_by_more_than_case(src, "routes", raw.routes.keys())?;
    limits::check_ids_differ_by_more_than_case(src, "events", raw.events.keys())?;
    let mut place_index = BTreeMap::new();
    for (i, (id, place)) in raw.places.iter().enumerate() {
        check_id(src, &format!("places.{id}"), id)?;
        if let Some(iso) = &place.iso3
            && !(iso.len() == 3 && iso.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(src.error(
                &format!("places.{id}.iso3"),
                format!("expected three capital letters, found \"{iso}\""),
            ));
        }
        place_index.insert(id.as_str(), i as PlaceId);
    }
    if raw.places.len() > usize::from(u16::MAX - 1) {
        return Err(src.error("places", "too many places"));
    }
    let origins: Vec<&String> = raw
        .places
        .iter()
        .filter(|(_, p)| p.kind == RawPlaceKind::Origin)
        .map(|(k, _)| k)
        .collect();
    if origins.len() != 1 {
        return Err(src.error(
            "places",
            format!(
                "expected exactly one place of kind \"origin\", found {}",
                origins.len()
            ),
        ));
    }
    let route_index = raw
        .routes
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i as RouteId))
        .collect();

    let mut cx = Ctx {
        raw,
        src,
        start: run.start_year,
        years,
        place_index,
        route_index,
        scaling: BTreeMap::new(),
        params: BTreeMap::new(),
    };
    collect_events(&mut cx)?;
    resolve_params(&mut cx)?;

    let places: Vec<Place> = raw
        .places
        .iter()
        .map(|(id, p)| Place {
            id: id.clone(),
            kind: place_kind(p.kind),
        })
        .collect();
    let routes = compile_routes(&cx)?;
    let origin = compile_origin(&cx)?;
    let transit = compile_transit(&cx, &places)?;
    let resettlement = compile_resettlement(&cx, &places)?;
    let hosts = compile_hosts(&cx, &places, &routes)?;
    let observation = compile_observation(&cx, &places)?;
    let mut quantities = Quantities::default();
    let choice = compile_choice(&cx, &places, &mut quantities)?;
    let driven = compile_drivers(&cx, &places, &mut quantities)?;
    let initial = compile_initial(&cx, &places)?;
    let model = Model {
        start_year: run.start_year,
        n_years: years,
        persons_per_agent: run.persons_per_agent,
        places,
        routes,
        origin,
        transit,
        resettlement,
        hosts,
        choice,
        quantities: quantities.0,
        driven,
        initial,
    };
    limits::check_agents(&cx, &model)?;
    Ok((model, observation))
}

/// `[transit.<place>]` sections; transit places without one get all-zero hazards.
fn compile_transit(cx: &Ctx<'_>, places: &[Place]) -> Result<Vec<Option<Transit>>> {
    let raw = cx.raw;
    let mut transit: Vec<Option<Transit>> = places
        .iter()
        .map(|place| (place.kind == PlaceKind::Transit).then(|| default_transit(cx.years)))
        .collect();
    for (id, t) in &raw.transit {
        let path = format!("transit.{id}");
        let p = cx.place(&path, id)?;
        if cx.kind(p) != RawPlaceKind::Transit {
            return Err(cx.err(
                &path,
                format!("expected a place of kind \"transit\", found `{id}` of another kind"),
            ));
        }
        let f = &t.female;
        let female = [f.arrest, f.death, f.move_on, f.return_home, f.claim_asylum];
        check_female(
            cx,
            &path,
            &["arrest", "death", "move_on", "return_home", "claim_asylum"],
            &female,
        )?;
        let compiled = Transit {
            arrest: cx.series(&format!("{path}.arrest")),
            death: cx.series(&format!("{path}.death")),
            move_on: cx.series(&format!("{path}.move_on")),
            return_home: cx.series(&format!("{path}.return_home")),
            claim_asylum: cx.series(&format!("{path}.claim_asylum")),
            cost_sensitivity: cx.series(&format!("{path}.cost_sensitivity")),
            arrest_route: cx.route_from(&format!("{path}.arrest_route"), &t.arrest_route, id)?,
            female,
        };
        if compiled.claim_asylum.iter().any(|&v| v > 0.0) && !raw.hosts.contains_key(id) {
            return Err(cx.err(
                &format!("{path}.claim_asylum"),
                format!("claims need a [hosts.{id}] section"),
            ));
        }
        transit[usize::from(p)] = Some(compiled);
    }
    Ok(transit)
}

/// Women's hazard multipliers: numbers >= 0.
fn check_female(cx: &Ctx<'_>, path: &str, keys: &[&str], values: &[f64]) -> Result<()> {
    for (key, &v) in keys.iter().zip(values) {
        check_value(cx, &format!("{path}.female.{key}"), v, Domain::NonNegative)?;
    }
    Ok(())
}

/// `[resettlement.<place>]` sections; every resettlement place needs one.
fn compile_resettlement(cx: &Ctx<'_>, places: &[Place]) -> Result<Vec<Option<Resettlement>>> {
    let mut resettlement: Vec<Option<Resettlement>> = vec![None; places.len()];
    for (id, r) in &cx.raw.resettlement {
        let path = format!("resettlement.{id}");
        let p = cx.place(&path, id)?;
        if cx.kind(p) != RawPlaceKind::Resettlement {
            return Err(cx.err(
                &path,
                format!("expected a place of kind \"resettlement\", found `{id}` of another kind"),
            ));
        }
        let by_duration = duration_steps(
            cx,
            &format!("{path}.onward_by_years_since_arrival"),
            &r.onward_by_years_since_arrival,
        )?;
        let f = &r.female;
        let female = [f.death, f.return_to_origin, f.onward];
        check_female(cx, &path, &["death", "return_to_origin", "onward"], &female)?;
        resettlement[usize::from(p)] = Some(Resettlement {
            programme_months: r.programme_months,
            death: cx.series(&format!("{path}.death")),
            return_to_origin: cx.series(&format!("{path}.return_to_origin")),
            onward: cx.series(&format!("{path}.onward")),
            onward_by_duration: by_duration,
            female,
        });
    }
    for (p, place) in places.iter().enumerate() {
        if place.kind == PlaceKind::Resettlement && resettlement[p].is_none() {
            return Err(cx.src.error(
                &format!("places.{}", place.id),
                format!(
                    "resettlement place needs a [resettlement.{}] section",
                    place.id
                ),
            ));
        }
    }
    Ok(resettlement)
}

/// `[hosts.<place>]` sections; every host place needs one (transit places may have one).
fn compile_hosts(cx: &Ctx<'_>, places: &[Place], routes: &[Route]) -> Result<Vec<Option<Host>>> {
    let mut hosts: Vec<Option<Host>> = vec![None; places.len()];
    for (id, h) in &cx.raw.hosts {
        let path = format!("hosts.{id}");
        let p = cx.place(&path, id)?;
        let kind = cx.kind(p);
        if kind != RawPlaceKind::Host && kind != RawPlaceKind::Transit {
            return Err(cx.err(
                &path,
                format!("expected a place of kind \"host\" or \"transit\", found `{id}`"),
            ));
        }
        let s = |k: &str| cx.series(&format!("{path}.{k}"));
        let (rec, comp, closed) = (s("recognition"), s("complementary"), s("closed"));
        for y in 0..cx.years {
            let total = rec[y] + comp[y] + closed[y];
            if total > 1.0 + 1e-12 {
                return Err(cx.err(
                    &format!("{path}.recognition"),
                    format!(
                        "recognition + complementary + closed must be at most 1, found {} in {}",
                        num(total),
                        cx.start + y as i32
                    ),
                ));
            }
        }
        let removal_route =
            cx.route_from(&format!("{path}.removal_route"), &h.removal_route, id)?;
        let resettlement_route =
            cx.route(&format!("{path}.resettlement_route"), &h.resettlement_route)?;
        if let Some(r) = resettlement_route {
            let route = &routes[usize::from(r)];
            if route.to != p || places[usize::from(route.from)].kind != PlaceKind::Transit {
                return Err(cx.err(
                    &format!("{path}.resettlement_route"),
                    format!("expected a route from a transit place to `{id}`"),
                ));
            }
        }
        let leaves = routes
            .iter()
            .enumerate()
            .any(|(r, route)| route.from == p && Some(r as RouteId) != removal_route);
        for key in ["departure", "irregular_departure"] {
            if !leaves && s(key).iter().any(|&v| v > 0.0) {
                return Err(cx.err(
                    &format!("{path}.{key}"),
                    format!("is positive but no route leaves `{id}` (besides its removal route)"),
                ));
            }
        }
        if resettlement_route.is_none() && s("resettlement_quota").iter().any(|&v| v > 0.0) {
            return Err(cx.err(
                &format!("{path}.resettlement_quota"),
                format!("is positive but `{path}.resettlement_route` is not set"),
            ));
        }
        let f = &h.female;
        let female = [
            f.death,
            f.departure,
            f.naturalisation,
            f.cessation,
            f.irregular_removal,
            f.irregular_departure,
        ];
        check_female(
            cx,
            &path,
            &[
                "death",
                "departure",
                "naturalisation",
                "cessation",
                "irregular_removal",
                "irregular_departure",
            ],
            &female,
        )?;
        hosts[usize::from(p)] = Some(Host {
            attraction: s("attraction"),
            recognition: rec,
            complementary: comp,
            closed,
            citizenship_check: s("citizenship_check"),
            check_effect: s("check_effect"),
            processing: duration(cx, &format!("{path}.processing"), &h.processing)?,
            removal: s("removal"),
            irregular_removal: s("irregular_removal"),
            naturalisation: s("naturalisation"),
            naturalisation_min_months: h.naturalisation_min_years.saturating_mul(12),
            departure: s("departure"),
            cessation: s("cessation"),
            cessation_to_origin: h.cessation_to == RawCessation::Returned,
            prima_facie: s("prima_facie"),
            irregular_departure: s("irregular_departure"),
            death: s("death"),
            removal_route,
            resettlement_quota: s("resettlement_quota"),
            resettlement_route,
            female,
        });
    }
    for (p, place) in places.iter().enumerate() {
        if place.kind == PlaceKind::Host && hosts[p].is_none() {
            return Err(cx.src.error(
                &format!("places.{}", place.id),
                format!("host place needs a [hosts.{}] section", place.id),
            ));
        }
    }
    Ok(hosts)
}

/// The places of a list of ids or of a named set (`hosts`, `reporting_hosts`, `transit`,
/// `resettlement`, `all`), sorted by id, each once.
pub(super) fn place_set(cx: &Ctx<'_>, path: &str, places: &RawPlaces) -> Result<Vec<PlaceId>> {
    let of = |keep: &dyn Fn(&str, RawPlaceKind) -> bool| -> Vec<PlaceId> {
        cx.place_index
            .iter()
            .filter(|(id, _)| keep(id, cx.raw.places[**id].kind))
            .map(|(_, &p)| p)
            .collect()
    };
    let hosts = |id: &str| cx.raw.hosts.contains_key(id);
    let mut ids = match places {
        RawPlaces::Named(name) => match name.as_str() {
            "hosts" => of(&|id, _| hosts(id)),
            "reporting_hosts" => of(&|id, _| cx.raw.hosts.get(id).is_some_and(|h| h.reports)),
            "transit" => of(&|_, k| k == RawPlaceKind::Transit),
            "resettlement" => of(&|_, k| k == RawPlaceKind::Resettlement),
            "all" => of(&|_, k| k != RawPlaceKind::Origin),
            other => {
                return Err(cx.err(
                    path,
                    format!(
                        "expected a list of place ids or one of \"hosts\", \"reporting_hosts\", \"transit\", \"resettlement\", \"all\"; found \"{other}\""
                    ),
                ));
            }
        },
        RawPlaces::List(list) => list
            .iter()
            .enumerate()
            .map(|(j, id)| cx.place(&format!("{path}.{j}"), id))
            .collect::<Result<Vec<_>>>()?,
    };
    // Place indices follow id order (places are a sorted map).
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

fn place_kind(k: RawPlaceKind) -> PlaceKind {
    match k {
        RawPlaceKind::Origin => PlaceKind::Origin,
        RawPlaceKind::Transit => PlaceKind::Transit,
        RawPlaceKind::Resettlement => PlaceKind::Resettlement,
        RawPlaceKind::Host => PlaceKind::Host,
    }
}

fn default_transit(years: usize) -> Transit {
    let z = vec![0.0; years];
    Transit {
        arrest: z.clone(),
        death: z.clone(),
        move_on: z.clone(),
        return_home: z.clone(),
        claim_asylum: z.clone(),
        cost_sensitivity: z,
        arrest_route: None,
        female: [1.0; 5],
    }
}

fn check_id(src: &Sources, path: &str, id: &str) -> Result<()> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(src.error(
            path,
            format!("expected an id of letters, digits, '_' or '-', found \"{id}\""),
        ));
    }
    Ok(())
}

pub(super) fn check_value(cx: &Ctx<'_>, path: &str, v: f64, d: Domain) -> Result<()> {
    if !d.admits(v) {
        return Err(cx.err(path, format!("expected {}, found {}", d.expected(), num(v))));
    }
    Ok(())
}

/// Checks a parameter's value or knots (its drivers are checked where they are compiled).
fn check_param(cx: &Ctx<'_>, path: &str, p: &Param, d: Domain) -> Result<()> {
    match p {
        Param::Const(v) => check_value(cx, path, *v, d),
        Param::Schedule(s) => match s.value {
            Some(v) if s.years.is_empty() && s.values.is_empty() => {
                check_value(cx, &format!("{path}.value"), v, d)
            }
            Some(_) => Err(cx.err(
                &format!("{path}.value"),
                "expected either `value` or knots (`years`, `values`), found both",
            )),
            None => check_knots(cx, path, s, d),
        },
    }
}

/// A schedule's knots: as many values as years, whole years, increasing, values in `d`.
fn check_knots(cx: &Ctx<'_>, path: &str, s: &Schedule, d: Domain) -> Result<()> {
    if s.years.is_empty() {
        return Err(cx.err(
            &format!("{path}.years"),
            "expected at least one knot (or a constant `value`), found none",
        ));
    }
    if s.years.len() != s.values.len() {
        return Err(cx.err(
            &format!("{path}.values"),
            format!(
                "expected {} values (one per year in `years`), found {}",
                s.years.len(),
                s.values.len()
            ),
        ));
    }
    for (i, &y) in s.years.iter().enumerate() {
        if !y.is_finite() || y.fract() != 0.0 {
            return Err(cx.err(
                &format!("{path}.years.{i}"),
                format!("expected a whole year, found {}", num(y)),
            ));
        }
    }
    for (i, w) in s.years.windows(2).enumerate() {
        if w[1] <= w[0] {
            return Err(cx.err(
                &format!("{path}.years.{}", i + 1),
                format!(
                    "expected knot years to increase, found {} after {}",
                    num(w[1]),
                    num(w[0])
                ),
            ));
        }
    }
    for (i, &v) in s.values.iter().enumerate() {
        check_value(cx, &format!("{path}.values.{i}"), v, d)?;
    }
    Ok(())
}

fn collect_events(cx: &mut Ctx<'_>) -> Result<()> {
    let mut known = BTreeMap::new();
    for_each_param(cx.raw, &mut |path, _, d| {
        known.insert(path, d);
    });
    let run = &cx.raw.run;
    for (name, ev) in &cx.raw.events {
        let path = format!("events.{name}");
        check_id(cx.src, &path, name)?;
        if ev.to < ev.from {
            return Err(cx.err(
                &format!("{path}.to"),
                format!("expected a year >= from ({}), found {}", ev.from, ev.to),
            ));
        }
        for (key, year) in [("from", ev.from), ("to", ev.to)] {
            if year < run.start_year || year > run.end_year {
                return Err(cx.err(
                    &format!("{path}.{key}"),
                    format!(
                        "expected a year within the run ({}..={}), found {year}",
                        run.start_year, run.end_year
                    ),
                ));
            }
        }
        let mut leaves = Vec::new();
        flatten(&ev.multiply, String::new(), &mut leaves);
        if leaves.is_empty() {
            return Err(cx.err(
                &format!("{path}.multiply"),
                "expected at least one parameter to scale, e.g. multiply.exit.push = 2",
            ));
        }
        for (target, value) in leaves {
            let at = format!("{path}.multiply.{target}");
            if !known.contains_key(&target) {
                return Err(cx.err(
                    &at,
                    format!("`{target}` is not a time-varying parameter of this scenario"),
                ));
            }
            let factor = match value {
                toml::Value::Float(f) => *f,
                toml::Value::Integer(i) => *i as f64,
                other => {
                    return Err(cx.err(
                        &at,
                        format!(
                            "expected a number >= 0, found {}",
                            super::wording::describe(other)
                        ),
                    ));
                }
            };
            check_value(cx, &at, factor, Domain::NonNegative)?;
            if ev.enabled {
                cx.scaling
                    .entry(target)
                    .or_default()
                    .push((at, ev.from, ev.to, factor));
            }
        }
    }
    Ok(())
}

fn flatten<'t>(t: &'t toml::Table, prefix: String, out: &mut Vec<(String, &'t toml::Value)>) {
    for (k, v) in t {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(inner) => flatten(inner, path, out),
            other => out.push((path, other)),
        }
    }
}

fn resolve_params(cx: &mut Ctx<'_>) -> Result<()> {
    let mut list = Vec::new();
    for_each_param(cx.raw, &mut |path, p, d| list.push((path, p.clone(), d)));
    for (path, p, d) in list {
        check_param(cx, &path, &p, d)?;
        let mut series: YearSeries = (0..cx.years)
            .map(|y| p.at(f64::from(cx.start + y as i32)))
            .collect();
        for (at, from, to, factor) in cx.scaling.get(&path).into_iter().flatten() {
            for (y, v) in series.iter_mut().enumerate() {
                let year = cx.start + y as i32;
                if (*from..=*to).contains(&year) {
                    *v *= factor;
                    if !d.admits(*v) {
                        return Err(cx.err(
                            at,
                            format!(
                                "scales {path} to {} in {year}; expected {}",
                                num(*v),
                                d.expected()
                            ),
                        ));
                    }
                }
            }
        }
        cx.params.insert(path, series);
    }
    Ok(())
}

pub(super) fn duration(cx: &Ctx<'_>, path: &str, d: &RawDuration) -> Result<Duration> {
    let positive = |key: &str, v: f64| {
        let at = format!("{path}.{key}");
        check_value(cx, &at, v, Domain::Positive)?;
        if v > limits::MAX_MONTHS {
            return Err(cx.err(
                &at,
                format!(
                    "expected at most {} months, found {}",
                    limits::MAX_MONTHS,
                    num(v)
                ),
            ));
        }
        Ok(())
    };
    Ok(match *d {
        RawDuration::Fixed { months } => {
            positive("months", months)?;
            Duration::Fixed(months.round().max(1.0) as u32)
        }
        RawDuration::Uniform { min, max } => {
            positive("min", min)?;
            positive("max", max)?;
            if max < min {
                return Err(cx.err(
                    &format!("{path}.max"),
                    format!("expected a value >= min ({}), found {}", num(min), num(max)),
                ));
            }
            Duration::Uniform {
                min: min.round().max(1.0) as u32,
                max: max.round().max(1.0) as u32,
            }
        }
        RawDuration::Gamma { mean, sd } => {
            positive("mean", mean)?;
            positive("sd", sd)?;
            let shape = (mean / sd).powi(2);
            let scale = sd * sd / mean;
            Duration::Gamma(
                Gamma::new(shape, scale)
                    .map_err(|e| cx.err(path, format!("invalid gamma: {e}")))?,
            )
        }
        RawDuration::Lognormal { mean, sd } => {
            positive("mean", mean)?;
            positive("sd", sd)?;
            let sigma2 = (1.0 + (sd / mean).powi(2)).ln();
            let mu = mean.ln() - sigma2 / 2.0;
            Duration::LogNormal(
                LogNormal::new(mu, sigma2.sqrt())
                    .map_err(|e| cx.err(path, format!("invalid log-normal: {e}")))?,
            )
        }
    })
}

/// A duration-keyed parameter (years since arrival) as monthly steps.
fn duration_steps(cx: &Ctx<'_>, path: &str, p: &Param) -> Result<Vec<(u32, f64)>> {
    check_param(cx, path, p, Domain::NonNegative)?;
    if !p.drivers().is_empty() {
        return Err(cx.err(
            &format!("{path}.drivers"),
            "a multiplier by years since arrival cannot have drivers (it is not a calendar parameter)",
        ));
    }
    if let Param::Schedule(s) = p
        && s.years.first().is_some_and(|&y| y < 0.0)
    {
        return Err(cx.err(
            &format!("{path}.years.0"),
            format!(
                "expected years since arrival >= 0, found {}",
                num(s.years[0])
            ),
        ));
    }
    let mut steps: Vec<(u32, f64)> = Vec::new();
    for d in 0..cx.years.max(1) {
        let v = p.at(d as f64);
        if steps.last().is_none_or(|s| s.1 != v) {
            steps.push((d as u32 * 12, v));
        }
    }
    Ok(steps)
}

fn compile_routes(cx: &Ctx<'_>) -> Result<Vec<Route>> {
    let mut routes = Vec::new();
    for (id, r) in &cx.raw.routes {
        let path = format!("routes.{id}");
        check_id(cx.src, &path, id)?;
        let from = cx.place(&format!("{path}.from"), &r.from)?;
        let to = cx.place(&format!("{path}.to"), &r.to)?;
        if from == to {
            return Err(cx.err(
                &format!("{path}.to"),
                format!("expected a place other than `from`, found `{}`", r.to),
            ));
        }
        if cx.kind(to) == RawPlaceKind::Origin {
            return Err(cx.err(
                &format!("{path}.to"),
                "routes may not lead into the origin (returns are not journeys)",
            ));
        }
        check_value(cx, &format!("{path}.cost"), r.cost, Domain::NonNegative)?;
        let mut weight = cx.series(&format!("{path}.weight"));
        if let Some([open, close]) = r.years_open {
            if close < open {
                return Err(cx.err(
                    &format!("{path}.years_open.1"),
                    format!("expected a last year >= the first ({open}), found {close}"),
                ));
            }
            for (y, w) in weight.iter_mut().enumerate() {
                let year = cx.start + y as i32;
                if year < open || year > close {
                    *w = 0.0;
                }
            }
        }
        routes.push(Route {
            id: id.clone(),
            from,
            to,
            duration: duration(cx, &format!("{path}.duration"), &r.duration)?,
            arrest: cx.series(&format!("{path}.arrest")),
            death: cx.series(&format!("{path}.death")),
            cost: r.cost,
            weight,
            arrest_route: cx.route_from(
                &format!("{path}.arrest_route"),
                &r.arrest_route,
                &r.from,
            )?,
        });
    }
    Ok(routes)
}

/// Age bands: increasing edges from 0 up, one share per band, shares summing to 1.
pub(super) fn age_bands(cx: &Ctx<'_>, path: &str, age: &RawAge) -> Result<AgeBands> {
    if age.edges.len() < 2 || age.shares.len() != age.edges.len() - 1 {
        return Err(cx.err(
            &format!("{path}.shares"),
            format!(
                "expected one share per band ({} edges make {} bands), found {}",
                age.edges.len(),
                age.edges.len().saturating_sub(1),
                age.shares.len()
            ),
        ));
    }
    for (i, w) in age.edges.windows(2).enumerate() {
        if w[1] <= w[0] || w[0] < 0.0 {
            return Err(cx.err(
                &format!("{path}.edges.{}", i + 1),
                format!(
                    "expected increasing ages >= 0, found {} after {}",
                    num(w[1]),
                    num(w[0])
                ),
            ));
        }
    }
    for (i, &s) in age.shares.iter().enumerate() {
        check_value(cx, &format!("{path}.shares.{i}"), s, Domain::Probability)?;
    }
    let total: f64 = age.shares.iter().sum();
    if (total - 1.0).abs() > 1e-6 {
        return Err(cx.err(
            &format!("{path}.shares"),
            format!("expected shares summing to 1, found {}", num(total)),
        ));
    }
    let cumulative = age
        .shares
        .iter()
        .scan(0.0, |acc, s| {
            *acc += s / total;
            Some(*acc)
        })
        .collect();
    Ok(AgeBands {
        edges: age.edges.clone(),
        cumulative,
    })
}

fn compile_origin(cx: &Ctx<'_>) -> Result<Origin> {
    let e = &cx.raw.exit;
    let place = cx.place("exit.origin", &e.origin)?;
    if cx.kind(place) != RawPlaceKind::Origin {
        return Err(cx.err(
            "exit.origin",
            format!(
                "expected the place of kind \"origin\", found `{}`",
                e.origin
            ),
        ));
    }
    let age = age_bands(cx, "exit.age", &e.age)?;
    let d = &cx.raw.deterrence;
    let crossings = cx
        .raw
        .routes
        .values()
        .filter(|r| r.from == e.origin)
        .count();
    if crossings == 0 {
        return Err(cx.err(
            "exit.origin",
            format!(
                "no route leaves the origin `{}`: add a [routes.<id>] with from = \"{}\"",
                e.origin, e.origin
            ),
        ));
    }
    Ok(Origin {
        place,
        population: cx.series("exit.population"),
        base_rate: cx.series("exit.base_rate"),
        push: cx.series("exit.push"),
        female_share: cx.series("exit.female_share"),
        age,
        border_enforcement: cx.series("deterrence.border_enforcement"),
        family_pressure: cx.series("deterrence.family_pressure"),
        detention: duration(cx, "deterrence.detention", &d.detention)?,
        detention_death: cx.series("deterrence.detention_death"),
        punishment: duration(cx, "deterrence.punishment", &d.punishment)?,
        reattempt: cx.series("deterrence.reattempt"),
    })
}

fn compile_observation(cx: &Ctx<'_>, places: &[Place]) -> Result<ObservationSpec> {
    let raw = &cx.raw.observation;
    let n = places.len();
    let by_id =
        |a: &PlaceId, b: &PlaceId| places[usize::from(*a)].id.cmp(&places[usize::from(*b)].id);
    let mut hosts: Vec<PlaceId> = cx
        .raw
        .hosts
        .keys()
        .map(|id| cx.place_index[id.as_str()])
        .collect();
    hosts.sort_by(by_id);
    let masking = match (raw.masking.below, raw.masking.shown_as) {
        (0, _) => None,
        (below, shown_as) => {
            if shown_as == 0 {
                return Err(cx.err(
                    "observation.masking.shown_as",
                    "expected a value >= 1 when masking is on, found 0",
                ));
            }
            Some(Masking { below, shown_as })
        }
    };
    let mut names = std::collections::BTreeSet::new();
    let mut series = Vec::new();
    for (i, s) in raw.series.iter().enumerate() {
        let path = format!("observation.series.{i}");
        if s.name.is_empty()
            || !s
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(cx.err(
                &format!("{path}.name"),
                format!("expected a name of a-z, 0-9 and '_', found \"{}\"", s.name),
            ));
        }
        if UNOBSERVABLES.contains(&s.name.as_str()) || s.name.starts_with("population_") {
            return Err(cx.err(
                &format!("{path}.name"),
                format!("\"{}\" is a built-in series name", s.name),
            ));
        }
        if !names.insert(s.name.clone()) {
            return Err(cx.err(
                &format!("{path}.name"),
                format!("series \"{}\" is declared twice", s.name),
            ));
        }
        let ids = place_set(cx, &format!("{path}.places"), &s.places)?;
        let count = match s.count {
            RawCount::Arrivals => Count::Arrivals,
            RawCount::Applications => Count::Applications,
            RawCount::Refugees => Count::Refugees,
            RawCount::AsylumSeekers => Count::AsylumSeekers,
            RawCount::DecisionsRecognized => Count::DecisionsRecognized,
            RawCount::DecisionsComplementary => Count::DecisionsComplementary,
            RawCount::DecisionsRejected => Count::DecisionsRejected,
            RawCount::DecisionsClosed => Count::DecisionsClosed,
            RawCount::Naturalisations => Count::Naturalisations,
            RawCount::ResettlementArrivals => Count::ResettlementArrivals,
            RawCount::OnwardDepartures => Count::OnwardDepartures,
            RawCount::GroupRecognitions => Count::GroupRecognitions,
            RawCount::Cessations => Count::Cessations,
            RawCount::HostDepartures => Count::HostDepartures,
        };
        series.push(SeriesSpec {
            name: s.name.clone(),
            count,
            places: ids,
            by_sex: s.by_sex,
            mask: s.mask,
        });
    }
    let complementary_in_refugees = (0..n)
        .map(|p| {
            cx.raw
                .hosts
                .get(places[p].id.as_str())
                .is_some_and(|h| h.complementary_in_refugee_stock)
        })
        .collect();
    Ok(ObservationSpec {
        place_ids: places.iter().map(|p| p.id.clone()).collect(),
        kinds: places.iter().map(|p| p.kind).collect(),
        hosts,
        complementary_in_refugees,
        series,
        masking,
    })
}
