//! Parameter values as written in a scenario: constants, schedules over years, drivers that
//! tie a parameter to the model's own stocks and flows, and duration distributions.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::raw::RawPlaces;

/// How a schedule fills the years between its knots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Each knot's value holds until the next knot.
    Step,
    /// Straight lines between knots; flat before the first and after the last.
    #[default]
    Linear,
}

/// A parameter written as a table: a constant `value` or knots (`years`, `values`), and
/// optionally `drivers` that multiply it by functions of the model's own stocks and flows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// The same value every year (instead of knots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Knot years, strictly increasing, whole years.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<f64>,
    /// Value at each knot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<f64>,
    /// `step` or `linear` (default).
    #[serde(default, skip_serializing_if = "is_linear")]
    pub interpolation: Interpolation,
    /// Multipliers that follow the model's own stocks and flows (applied in order).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drivers: Vec<RawDriver>,
}

fn is_linear(i: &Interpolation) -> bool {
    *i == Interpolation::Linear
}

impl Schedule {
    /// Value at `year` before drivers (the table is assumed valid: a `value`, or knots of the
    /// same length as their values, increasing, non-empty).
    pub fn at(&self, year: f64) -> f64 {
        if let Some(v) = self.value {
            return v;
        }
        let n = self.years.len();
        let i = self.years.partition_point(|&k| k <= year);
        if i == 0 {
            return self.values[0];
        }
        if i == n {
            return self.values[n - 1];
        }
        match self.interpolation {
            Interpolation::Step => self.values[i - 1],
            Interpolation::Linear => {
                let (x0, x1) = (self.years[i - 1], self.years[i]);
                let (y0, y1) = (self.values[i - 1], self.values[i]);
                y0 + (y1 - y0) * (year - x0) / (x1 - x0)
            }
        }
    }

    /// Hand-set values that differ by year: the knots after the first.
    pub fn time_specific_values(&self) -> usize {
        if self.value.is_some() {
            0
        } else {
            self.years.len().saturating_sub(1)
        }
    }
}

/// A parameter that may change over time: a number, or a table (constant or knots, with
/// optional drivers).
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// The same value every year.
    Const(f64),
    /// Values by year and/or drivers.
    Schedule(Schedule),
}

impl Param {
    /// Value at `year`, before drivers.
    pub fn at(&self, year: f64) -> f64 {
        match self {
            Param::Const(v) => *v,
            Param::Schedule(s) => s.at(year),
        }
    }

    /// The drivers of this parameter (none for a plain number).
    pub fn drivers(&self) -> &[RawDriver] {
        match self {
            Param::Const(_) => &[],
            Param::Schedule(s) => &s.drivers,
        }
    }

    /// Hand-set values that differ by year (schedule knots after the first).
    pub fn time_specific_values(&self) -> usize {
        match self {
            Param::Const(_) => 0,
            Param::Schedule(s) => s.time_specific_values(),
        }
    }
}

/// Life states a stock driver may count; `in_host` is every state of living in a host.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RawState {
    /// Hiding, working or married at a transit place.
    InTransit,
    /// Resettled (citizens of a resettlement place).
    Resettled,
    /// Claim pending in a host.
    AsylumSeeker,
    /// Recognised refugee in a host.
    Refugee,
    /// Complementary protection in a host.
    ComplementaryProtection,
    /// Rejected, staying irregularly in a host.
    Irregular,
    /// Naturalised in a host.
    Naturalised,
    /// Any of the five states of living in a host.
    InHost,
}

/// Flows a flow driver may count.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RawFlow {
    /// First entries into a place.
    Arrivals,
    /// First crossing attempts from the origin.
    ExitAttempts,
    /// Asylum claims lodged.
    Applications,
    /// Arrests.
    Arrests,
    /// Hand-overs to the origin.
    Repatriations,
    /// People setting out on a route from a transit place.
    TransitDepartures,
    /// Departures from the resettlement country, by destination.
    OnwardDepartures,
}

/// The shape of a driver's multiplier of the quantity `S` it reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DriverForm {
    /// `(1 + S/scale)^elasticity`.
    #[default]
    Power,
    /// `1 + cap · S/(S + scale)`: rises with `S` towards `1 + cap`.
    Saturating,
}

/// One driver: a multiplier of a parameter that follows a quantity the model tracks (people
/// in some states at some places, or a flow over the last months), read `lag_months` before
/// the January of each year and held for that year.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDriver {
    /// Life states counted (a stock driver), e.g. `["resettled"]` or `["in_host"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stock: Vec<RawState>,
    /// A flow counted over the last `window_months` (a flow driver), e.g. `"arrivals"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<RawFlow>,
    /// Where it is counted: place ids, or `"hosts"`, `"reporting_hosts"`, `"transit"`,
    /// `"resettlement"`, `"all"`.
    pub places: RawPlaces,
    /// Months summed by a flow driver (default 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_months: Option<u32>,
    /// Months between the end of the counted period and the January it acts from (0: the
    /// December just ended).
    #[serde(default)]
    pub lag_months: u32,
    /// `power` (default) or `saturating`.
    #[serde(default)]
    pub form: DriverForm,
    /// Persons: the scale of `S` in either form.
    pub scale: f64,
    /// Exponent of the `power` form (events may multiply it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elasticity: Option<f64>,
    /// Largest rise of the `saturating` form (events may multiply it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
}

impl RawDriver {
    /// The key of the driver's strength (`elasticity` or `cap`) and its value.
    pub fn strength(&self) -> (&'static str, Option<f64>) {
        match self.form {
            DriverForm::Power => ("elasticity", self.elasticity),
            DriverForm::Saturating => ("cap", self.cap),
        }
    }
}

/// A number or a schedule table, as the deserialiser takes it.
impl JsonSchema for Param {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Param".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let schedule = generator.subschema_for::<Schedule>();
        json_schema!({
            "description": "A constant, or a table: { value = x } or knots { years = [...], values = [...], interpolation = \"step\"|\"linear\" }, with optional drivers = [{ stock|flow, places, scale, elasticity|cap, form, lag_months }].",
            "anyOf": [{ "type": "number" }, schedule]
        })
    }
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Param::Const(v) => s.serialize_f64(*v),
            Param::Schedule(sch) => sch.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ParamVisitor;
        impl<'de> Visitor<'de> for ParamVisitor {
            type Value = Param;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a table (`value` or knots `years` and `values`, optional `drivers`)")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Param, E> {
                Ok(Param::Const(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Param, E> {
                Ok(Param::Const(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Param, E> {
                Ok(Param::Const(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Param, A::Error> {
                Schedule::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Param::Schedule)
            }
        }
        d.deserialize_any(ParamVisitor)
    }
}

/// A waiting time in months, as written in a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "dist", rename_all = "lowercase", deny_unknown_fields)]
pub enum RawDuration {
    /// Always `months`.
    Fixed {
        /// Months.
        months: f64,
    },
    /// Whole months uniformly from `min` to `max` inclusive.
    Uniform {
        /// Shortest.
        min: f64,
        /// Longest.
        max: f64,
    },
    /// Gamma with this mean and standard deviation, rounded to whole months.
    Gamma {
        /// Mean months.
        mean: f64,
        /// Standard deviation in months.
        sd: f64,
    },
    /// Log-normal with this mean and standard deviation, rounded to whole months.
    Lognormal {
        /// Mean months.
        mean: f64,
        /// Standard deviation in months.
        sd: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(interp: Interpolation) -> Schedule {
        Schedule {
            value: None,
            years: vec![2000.0, 2010.0, 2020.0],
            values: vec![1.0, 3.0, 2.0],
            interpolation: interp,
            drivers: Vec::new(),
        }
    }

    #[test]
    fn step_schedule_holds_values() {
        let s = sched(Interpolation::Step);
        assert_eq!(s.at(1990.0), 1.0);
        assert_eq!(s.at(2000.0), 1.0);
        assert_eq!(s.at(2009.0), 1.0);
        assert_eq!(s.at(2010.0), 3.0);
        assert_eq!(s.at(2030.0), 2.0);
    }

    #[test]
    fn linear_schedule_interpolates_and_clamps() {
        let s = sched(Interpolation::Linear);
        assert_eq!(s.at(1990.0), 1.0);
        assert_eq!(s.at(2005.0), 2.0);
        assert_eq!(s.at(2015.0), 2.5);
        assert_eq!(s.at(2025.0), 2.0);
    }

    #[test]
    fn param_reads_numbers_and_tables() {
        let p: Param = toml::from_str::<toml::Table>("x = 3").unwrap()["x"]
            .clone()
            .try_into()
            .unwrap();
        assert_eq!(p, Param::Const(3.0));
        let t: toml::Table =
            toml::from_str("x = { years = [1, 2], values = [0.5, 1.5], interpolation = \"step\" }")
                .unwrap();
        let p: Param = t["x"].clone().try_into().unwrap();
        assert_eq!(p.at(1.5), 0.5);
    }
}
