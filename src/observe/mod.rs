//! The observation model: from the engine's true counts to the series statistics publish.
//!
//! A scenario declares its observable series (name, kind of count, places, by sex, masking);
//! the engine knows kinds of count, not publishers. Beside the declared series, every run
//! reports the unobservables a researcher still wants to see (people hiding in transit,
//! repatriations, deaths in transit, onward departures, returns, population by state, and the
//! shape of the diaspora). Rows come out in a fixed order: year, then series name, then place,
//! then sex (`female`, `male`, `total`).

use std::sync::Arc;

use crate::engine::{FEMALE, FlowKind, LifeState, MALE, Observer, PlaceId, PlaceKind, YearTally};

/// Kind of count an observable reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// First entries into the place per year.
    Arrivals,
    /// Asylum claims lodged per year.
    Applications,
    /// Refugees at year end (plus complementary protection where the host counts it).
    Refugees,
    /// Pending claims at year end.
    AsylumSeekers,
    /// Recognitions per year.
    DecisionsRecognized,
    /// Complementary protection grants per year.
    DecisionsComplementary,
    /// Rejections per year.
    DecisionsRejected,
    /// Claims closed otherwise per year.
    DecisionsClosed,
    /// Naturalisations per year.
    Naturalisations,
    /// Referred (quota) refugees arriving per year.
    ResettlementArrivals,
    /// Departures from the resettlement country to the place per year.
    OnwardDepartures,
    /// Arrivals registered as refugees on a group basis (prima facie) per year.
    GroupRecognitions,
    /// Losses of status (cessation, withdrawal) per year.
    Cessations,
    /// Departures of protected or irregular people from the host per year.
    HostDepartures,
}

impl Count {
    /// Whether the count is an end-of-year stock (else a flow during the year).
    pub fn is_stock(self) -> bool {
        matches!(self, Count::Refugees | Count::AsylumSeekers)
    }
}

/// A declared observable series.
#[derive(Clone, Debug)]
pub struct SeriesSpec {
    /// Name in outputs.
    pub name: String,
    /// What is counted.
    pub count: Count,
    /// Places reported, sorted by id.
    pub places: Vec<PlaceId>,
    /// Also report female and male rows.
    pub by_sex: bool,
    /// Apply masking.
    pub mask: bool,
}

/// Small-number masking: values `1 ..= below − 1` are shown as `shown_as`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Masking {
    /// Exclusive upper bound of masked values.
    pub below: u64,
    /// Value shown instead.
    pub shown_as: u64,
}

impl Masking {
    /// The published value of a true count.
    pub fn apply(self, v: u64) -> u64 {
        if v >= 1 && v < self.below {
            self.shown_as
        } else {
            v
        }
    }
}

/// What a run reports.
#[derive(Clone, Debug)]
pub struct ObservationSpec {
    /// Place ids, indexed by `PlaceId`.
    pub place_ids: Vec<String>,
    /// Place kinds, indexed by `PlaceId`.
    pub kinds: Vec<PlaceKind>,
    /// Hosts (places with asylum), sorted by id.
    pub hosts: Vec<PlaceId>,
    /// Whether complementary protection counts in the refugee stock, per place.
    pub complementary_in_refugees: Vec<bool>,
    /// Declared series.
    pub series: Vec<SeriesSpec>,
    /// Masking, if configured.
    pub masking: Option<Masking>,
}

/// Sex of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Both.
    Total,
}

impl Sex {
    /// Name in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Total => "total",
        }
    }
}

/// Place column value for rows that are not about one place.
pub const ALL_PLACES: &str = "ALL";

/// One output row, with names interned in a [`Layout`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Row {
    /// Calendar year.
    pub year: i32,
    /// Index into [`Layout::series`].
    pub series: u16,
    /// Index into [`Layout::places`].
    pub place: u16,
    /// Sex.
    pub sex: Sex,
    /// Value (persons, or a share for shape summaries).
    pub value: f64,
}

/// The names rows refer to.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Series names.
    pub series: Vec<String>,
    /// Place labels (place ids, then `ALL`).
    pub places: Vec<String>,
}

/// How one output series is computed from a tally.
#[derive(Clone, Debug)]
enum Source {
    Declared(usize),
    Flow(FlowKind),
    Stock(LifeState),
    Population(LifeState),
    ShareOutsideResettlement,
    HostsWithAny,
    HostsWithOver25,
}

#[derive(Clone, Debug)]
struct OutSeries {
    name: String,
    source: Source,
    places: Vec<PlaceId>,
    by_sex: bool,
}

/// Built-in unobservable series names (a scenario may not declare these).
pub const UNOBSERVABLES: [&str; 11] = [
    "exit_attempts",
    "reattempts",
    "hidden_in_transit",
    "arrests",
    "repatriations",
    "deaths_in_transit",
    "onward_departures",
    "returns_to_origin",
    "diaspora_share_outside_resettlement",
    "hosts_with_any",
    "hosts_with_over_25",
];

/// The compiled reporting plan shared by every replicate's recorder.
#[derive(Debug)]
pub struct Plan {
    spec: ObservationSpec,
    out: Vec<OutSeries>,
    /// Names used by rows.
    pub layout: Layout,
}

impl Plan {
    /// Builds the plan for a spec.
    pub fn new(spec: ObservationSpec) -> Plan {
        let n = spec.place_ids.len();
        let of_kind = |k: PlaceKind| -> Vec<PlaceId> {
            let mut v: Vec<PlaceId> = (0..n)
                .filter(|&p| spec.kinds[p] == k)
                .map(|p| p as PlaceId)
                .collect();
            v.sort_by(|a, b| spec.place_ids[usize::from(*a)].cmp(&spec.place_ids[usize::from(*b)]));
            v
        };
        let origin = of_kind(PlaceKind::Origin);
        let transit = of_kind(PlaceKind::Transit);
        let resettlement = of_kind(PlaceKind::Resettlement);
        let mut outside_origin: Vec<PlaceId> = (0..n)
            .filter(|&p| spec.kinds[p] != PlaceKind::Origin)
            .map(|p| p as PlaceId)
            .collect();
        outside_origin
            .sort_by(|a, b| spec.place_ids[usize::from(*a)].cmp(&spec.place_ids[usize::from(*b)]));
        let mut origin_and_transit = origin.clone();
        origin_and_transit.extend(&transit);
        origin_and_transit
            .sort_by(|a, b| spec.place_ids[usize::from(*a)].cmp(&spec.place_ids[usize::from(*b)]));
        let all = vec![ALL as PlaceId];

        let mut out: Vec<OutSeries> = spec
            .series
            .iter()
            .enumerate()
            .map(|(i, s)| OutSeries {
                name: s.name.clone(),
                source: Source::Declared(i),
                places: s.places.clone(),
                by_sex: s.by_sex,
            })
            .collect();
        let mut add = |name: &str, source: Source, places: &[PlaceId]| {
            out.push(OutSeries {
                name: name.to_string(),
                source,
                places: places.to_vec(),
                by_sex: false,
            })
        };
        add(
            "exit_attempts",
            Source::Flow(FlowKind::ExitAttempts),
            &origin,
        );
        add("reattempts", Source::Flow(FlowKind::Reattempts), &origin);
        add(
            "hidden_in_transit",
            Source::Stock(LifeState::InTransit),
            &transit,
        );
        add(
            "arrests",
            Source::Flow(FlowKind::Arrests),
            &origin_and_transit,
        );
        add(
            "repatriations",
            Source::Flow(FlowKind::Repatriations),
            &origin_and_transit,
        );
        add(
            "deaths_in_transit",
            Source::Flow(FlowKind::DeathsInTransit),
            &origin_and_transit,
        );
        add(
            "onward_departures",
            Source::Flow(FlowKind::OnwardDepartures),
            &spec.hosts,
        );
        add(
            "returns_to_origin",
            Source::Flow(FlowKind::Returns),
            &outside_origin,
        );
        add(
            "diaspora_share_outside_resettlement",
            Source::ShareOutsideResettlement,
            &all,
        );
        add("hosts_with_any", Source::HostsWithAny, &all);
        add("hosts_with_over_25", Source::HostsWithOver25, &all);
        for state in LifeState::ALL {
            add(
                &format!("population_{}", state.name()),
                Source::Population(state),
                &all,
            );
        }
        let _ = resettlement;
        out.sort_by(|a, b| a.name.cmp(&b.name));

        let mut places = spec.place_ids.clone();
        places.push(ALL_PLACES.to_string());
        let layout = Layout {
            series: out.iter().map(|s| s.name.clone()).collect(),
            places,
        };
        Plan { spec, out, layout }
    }

    /// The observation spec.
    pub fn spec(&self) -> &ObservationSpec {
        &self.spec
    }

    /// A handle on one output value — `(series, place, sex)` — to read from tallies without
    /// producing every row; `None` if the run does not produce it.
    pub fn probe(&self, series: &str, place: &str, sex: Sex) -> Option<Probe> {
        let s = self.out.iter().position(|o| o.name == series)?;
        let out = &self.out[s];
        let place = if place == ALL_PLACES {
            ALL
        } else {
            let p = self.spec.place_ids.iter().position(|id| id == place)? as PlaceId;
            out.places.contains(&p).then_some(p)?
        };
        if !out.places.contains(&place) || (sex != Sex::Total && !out.by_sex) {
            return None;
        }
        let sex = match sex {
            Sex::Female => Some(FEMALE),
            Sex::Male => Some(MALE),
            Sex::Total => None,
        };
        Some(Probe {
            series: s,
            place,
            sex,
        })
    }

    /// The places a series is reported at (place ids in output order, or `ALL`) and whether it
    /// also has female and male rows; `None` if the run does not produce the series.
    pub fn series_places(&self, series: &str) -> Option<(Vec<&str>, bool)> {
        let out = self.out.iter().find(|o| o.name == series)?;
        let places = out
            .places
            .iter()
            .map(|&p| {
                if p == ALL {
                    ALL_PLACES
                } else {
                    self.spec.place_ids[usize::from(p)].as_str()
                }
            })
            .collect();
        Some((places, out.by_sex))
    }

    /// Whether a series of this plan counts people present on 31 December (a stock or a
    /// share) rather than events during the year (a flow); `None` for a series it lacks.
    pub fn is_stock(&self, series: &str) -> Option<bool> {
        let out = self.out.iter().find(|o| o.name == series)?;
        Some(match &out.source {
            Source::Declared(i) => self.spec.series[*i].count.is_stock(),
            Source::Flow(_) => false,
            Source::Stock(_)
            | Source::Population(_)
            | Source::ShareOutsideResettlement
            | Source::HostsWithAny
            | Source::HostsWithOver25 => true,
        })
    }

    /// The value `probe` addresses in one year's tally (as it would appear in `series.csv`).
    pub fn read(&self, probe: &Probe, tally: &YearTally) -> f64 {
        self.value(&self.out[probe.series], tally, probe.place, probe.sex)
    }

    /// Appends the rows of one year to `rows`.
    pub fn rows(&self, tally: &YearTally, rows: &mut Vec<Row>) {
        let all = self.spec.place_ids.len() as u16;
        for (si, s) in self.out.iter().enumerate() {
            for &p in &s.places {
                let place = if p == ALL { all } else { p };
                let mut push = |sex: Sex, value: f64| {
                    rows.push(Row {
                        year: tally.year,
                        series: si as u16,
                        place,
                        sex,
                        value,
                    });
                };
                if s.by_sex {
                    push(Sex::Female, self.value(s, tally, p, Some(FEMALE)));
                    push(Sex::Male, self.value(s, tally, p, Some(MALE)));
                }
                push(Sex::Total, self.value(s, tally, p, None));
            }
        }
    }

    fn value(&self, s: &OutSeries, t: &YearTally, p: PlaceId, sex: Option<usize>) -> f64 {
        let p = usize::from(p);
        let flow = |k: FlowKind| match sex {
            Some(x) => t.flow(k, p, x),
            None => t.flow_total(k, p),
        };
        let stock = |st: LifeState| match sex {
            Some(x) => t.stock(st, p, x),
            None => t.stock_total(st, p),
        };
        match &s.source {
            Source::Declared(i) => {
                let d = &self.spec.series[*i];
                let v = match d.count {
                    Count::Arrivals => flow(FlowKind::Arrivals),
                    Count::Applications => flow(FlowKind::Applications),
                    Count::Refugees => {
                        let extra = if self.spec.complementary_in_refugees[p] {
                            stock(LifeState::Complementary)
                        } else {
                            0
                        };
                        stock(LifeState::Refugee) + extra
                    }
                    Count::AsylumSeekers => stock(LifeState::AsylumSeeker),
                    Count::DecisionsRecognized => flow(FlowKind::DecisionsRecognized),
                    Count::DecisionsComplementary => flow(FlowKind::DecisionsComplementary),
                    Count::DecisionsRejected => flow(FlowKind::DecisionsRejected),
                    Count::DecisionsClosed => flow(FlowKind::DecisionsClosed),
                    Count::Naturalisations => flow(FlowKind::Naturalisations),
                    Count::ResettlementArrivals => flow(FlowKind::ResettlementArrivals),
                    Count::OnwardDepartures => flow(FlowKind::OnwardDepartures),
                    Count::GroupRecognitions => flow(FlowKind::GroupRecognitions),
                    Count::Cessations => flow(FlowKind::Cessations),
                    Count::HostDepartures => flow(FlowKind::HostDepartures),
                };
                let v = match (d.mask, self.spec.masking) {
                    (true, Some(m)) => m.apply(v),
                    _ => v,
                };
                v as f64
            }
            Source::Flow(k) => flow(*k) as f64,
            Source::Stock(st) => stock(*st) as f64,
            Source::Population(st) => t.state_total(*st) as f64,
            Source::ShareOutsideResettlement => {
                let abroad: u64 = LifeState::ALL
                    .iter()
                    .filter(|s| s.in_host())
                    .map(|&s| t.state_total(s))
                    .sum();
                let resettled = t.state_total(LifeState::Resettled);
                if abroad + resettled == 0 {
                    0.0
                } else {
                    abroad as f64 / (abroad + resettled) as f64
                }
            }
            Source::HostsWithAny | Source::HostsWithOver25 => {
                let threshold = if matches!(s.source, Source::HostsWithAny) {
                    0
                } else {
                    25
                };
                self.spec
                    .hosts
                    .iter()
                    .filter(|&&h| {
                        let h = usize::from(h);
                        t.stock_total(LifeState::Refugee, h)
                            + t.stock_total(LifeState::Complementary, h)
                            + t.stock_total(LifeState::AsylumSeeker, h)
                            > threshold
                    })
                    .count() as f64
            }
        }
    }
}

/// One output value of a [`Plan`], addressed by series, place and sex.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    series: usize,
    place: PlaceId,
    sex: Option<usize>,
}

/// Marker for "all places" inside [`OutSeries::places`].
const ALL: PlaceId = PlaceId::MAX;

/// Records one replicate's rows.
pub struct Recorder {
    plan: Arc<Plan>,
    /// Rows so far, in output order.
    pub rows: Vec<Row>,
}

impl Recorder {
    /// A recorder for one replicate.
    pub fn new(plan: Arc<Plan>) -> Recorder {
        Recorder {
            plan,
            rows: Vec::new(),
        }
    }
}

impl Observer for Recorder {
    fn year_end(&mut self, tally: &YearTally) {
        self.plan.rows(tally, &mut self.rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_shows_one_to_four_as_five() {
        let m = Masking {
            below: 5,
            shown_as: 5,
        };
        let shown: Vec<u64> = (0..8).map(|v| m.apply(v)).collect();
        assert_eq!(shown, vec![0, 5, 5, 5, 5, 5, 6, 7]);
    }
}
