//! Parameter values as written in a scenario: constants or schedules over years, and duration
//! distributions.

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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

/// Values at knot years.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Knot years, strictly increasing.
    pub years: Vec<f64>,
    /// Value at each knot.
    pub values: Vec<f64>,
    /// `step` or `linear` (default).
    #[serde(default)]
    pub interpolation: Interpolation,
}

impl Schedule {
    /// Value at `year` (knots are assumed valid: same length, increasing, non-empty).
    pub fn at(&self, year: f64) -> f64 {
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
}

/// A parameter that may change over time: a number, or a schedule table.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// The same value every year.
    Const(f64),
    /// Values by year.
    Schedule(Schedule),
}

impl Param {
    /// Value at `year`.
    pub fn at(&self, year: f64) -> f64 {
        match self {
            Param::Const(v) => *v,
            Param::Schedule(s) => s.at(year),
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
            "description": "A constant, or a schedule { years = [...], values = [...], interpolation = \"step\"|\"linear\" }.",
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
                f.write_str("a number or a schedule { years = [...], values = [...], interpolation = \"step\"|\"linear\" }")
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
            years: vec![2000.0, 2010.0, 2020.0],
            values: vec![1.0, 3.0, 2.0],
            interpolation: interp,
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
