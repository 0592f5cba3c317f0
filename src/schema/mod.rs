//! JSON Schemas of the three input files — scenario, calibration and sweep design — generated
//! with `schemars` from the serde types that parse them (doc comments become descriptions,
//! `deny_unknown_fields` becomes `additionalProperties: false`), for editors (Taplo, Even Better
//! TOML, VS Code) and for `diaspora keys`, which reads the descriptions as the meaning of each
//! key path ([`describe`], [`keys`]).
//!
//! Schemas are JSON Schema draft-07, the newest draft TOML editors read. A scenario that
//! `extends` another file needs none of the required keys (the other file has them): the
//! scenario schema checks such a file against a copy of itself with every `required` list
//! removed, so unknown keys are still refused.

mod keys;

pub use keys::{Key, keys, matches};

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::calibrate::config::RawCalibration;
use crate::scenario::raw::RawScenario;

/// The files a schema describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A scenario file.
    Scenario,
    /// A calibration file.
    Calibration,
    /// A sweep design file.
    Sweep,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 3] = [Kind::Scenario, Kind::Calibration, Kind::Sweep];

    /// Name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Scenario => "scenario",
            Kind::Calibration => "calibration",
            Kind::Sweep => "sweep",
        }
    }
}

/// Prefix of the definitions of the partial scenario (a file that `extends` another).
const PARTIAL: &str = "Partial";

/// The draft-07 JSON Schema of `T` (also read by the scenario loader to word its errors).
pub fn generate<T: schemars::JsonSchema>() -> Value {
    SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// The JSON Schema of a kind of file.
pub fn schema(kind: Kind) -> Value {
    let (mut root, title) = match kind {
        Kind::Scenario => (scenario(), "diaspora scenario"),
        Kind::Calibration => (generate::<RawCalibration>(), "diaspora calibration file"),
        Kind::Sweep => (
            generate::<crate::sweep::design::RawDesign>(),
            "diaspora sweep design",
        ),
    };
    if let Some(o) = root.as_object_mut() {
        o.insert("title".into(), Value::String(title.into()));
    }
    root
}

/// The scenario schema: the full file, or (with `extends`) a file of any subset of its keys.
fn scenario() -> Value {
    let mut full = generate::<RawScenario>();
    let extends = json!({
        "description": "File this scenario extends, relative to this file: it is read first and this file's tables are merged into it key by key (arrays and values are replaced whole).",
        "type": "string"
    });
    let root = full.as_object_mut().expect("a schema object");
    let mut definitions = match root.remove("definitions") {
        Some(Value::Object(d)) => d,
        _ => Map::new(),
    };
    if let Some(Value::Object(p)) = root.get_mut("properties") {
        p.insert("extends".into(), extends);
    }
    let meta = root.remove("$schema");
    let description = root.get("description").cloned();
    let top = Value::Object(std::mem::take(root));
    let mut partial_defs = Map::new();
    for (name, def) in &definitions {
        partial_defs.insert(format!("{PARTIAL}{name}"), partial(def.clone()));
    }
    definitions.extend(partial_defs);
    definitions.insert("Scenario".into(), top.clone());
    definitions.insert(format!("{PARTIAL}Scenario"), partial(top));
    let mut out = Map::new();
    if let Some(m) = meta {
        out.insert("$schema".into(), m);
    }
    if let Some(d) = description {
        out.insert("description".into(), d);
    }
    out.insert(
        "if".into(),
        json!({ "type": "object", "required": ["extends"] }),
    );
    out.insert(
        "then".into(),
        json!({ "$ref": format!("#/definitions/{PARTIAL}Scenario") }),
    );
    out.insert("else".into(), json!({ "$ref": "#/definitions/Scenario" }));
    out.insert("definitions".into(), Value::Object(definitions));
    Value::Object(out)
}

/// A copy of `schema` that requires no key and refers to the partial definitions.
fn partial(mut schema: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                o.remove("required");
                if let Some(Value::String(r)) = o.get_mut("$ref")
                    && let Some(name) = r.strip_prefix("#/definitions/")
                {
                    *r = format!("#/definitions/{PARTIAL}{name}");
                }
                o.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut schema);
    schema
}

/// What a schema says of a key path (`hosts.GBR.recognition`, `exit.push.values.2`): the
/// description of the deepest node it reaches, or `None` where the path leaves the schema.
pub fn describe(schema: &Value, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('.').collect();
    let root = resolve(schema, schema)?;
    let root = match (root.get("then"), root.get("else")) {
        (Some(_), Some(full)) => resolve(schema, full)?,
        _ => root,
    };
    let mut node = root;
    let mut found = description(node);
    let mut i = 0;
    while i < segments.len() {
        let seg = segments[i];
        // Event multipliers: the rest of the path is a parameter path of the scenario.
        if seg == "multiply" && segments[0] == "events" && i == 2 {
            let target = segments[i + 1..].join(".");
            let of = describe(schema, &target).unwrap_or_default();
            return Some(format!(
                "multiplier of {target} while the event lasts: {of}"
            ));
        }
        node = child(schema, node, seg)?;
        if let Some(d) = description(node) {
            found = Some(d);
        }
        i += 1;
    }
    found
}

/// A schema node with `$ref` followed.
fn resolve<'a>(root: &'a Value, node: &'a Value) -> Option<&'a Value> {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => root.pointer(r.strip_prefix('#')?),
        None => Some(node),
    }
}

fn description(node: &Value) -> Option<String> {
    node.get("description")
        .and_then(Value::as_str)
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The schema of key `seg` inside `node` (a property, a map entry, an array item, or the
/// branch of an `anyOf`/`oneOf` that has it).
fn child<'a>(root: &'a Value, node: &'a Value, seg: &str) -> Option<&'a Value> {
    let node = resolve(root, node)?;
    if let Some(p) = node.get("properties").and_then(|p| p.get(seg)) {
        return resolve(root, p);
    }
    if let Some(items) = node.get("items")
        && seg.parse::<usize>().is_ok()
    {
        return resolve(root, items);
    }
    if let Some(a) = node.get("additionalProperties")
        && a.is_object()
    {
        return resolve(root, a);
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = node.get(key) {
            for b in branches {
                if let Some(c) = child(root, b, seg) {
                    return Some(c);
                }
            }
        }
    }
    None
}

/// The schema nodes a key path may reach: every branch of an `anyOf`/`oneOf` that has the
/// key, so the tag of an internally tagged enum gives each variant's value.
fn nodes_at<'a>(root: &'a Value, path: &[String]) -> Vec<&'a Value> {
    let mut nodes = vec![root];
    for seg in path {
        nodes = nodes
            .into_iter()
            .flat_map(|n| children(root, n, seg))
            .collect();
    }
    nodes
}

/// Every schema of key `seg` inside `node` (see [`child`], which keeps the first).
fn children<'a>(root: &'a Value, node: &'a Value, seg: &str) -> Vec<&'a Value> {
    let Some(node) = resolve(root, node) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = node.get(key) {
            out.extend(branches.iter().flat_map(|b| children(root, b, seg)));
        }
    }
    if out.is_empty()
        && let Some(c) = child(root, node, seg)
    {
        out.push(c);
    }
    out
}

/// The strings a key path accepts, if the schema lists them (an enum's variants, the tag
/// values of an internally tagged enum), in schema order.
pub fn choices(root: &Value, path: &[String]) -> Option<Vec<String>> {
    fn collect(root: &Value, node: &Value, out: &mut Vec<String>) -> bool {
        let Some(node) = resolve(root, node) else {
            return false;
        };
        if node.get("type").and_then(Value::as_str) == Some("null") {
            return true;
        }
        if let Some(Value::String(c)) = node.get("const") {
            out.push(c.clone());
            return true;
        }
        if let Some(Value::Array(e)) = node.get("enum") {
            out.extend(e.iter().filter_map(Value::as_str).map(String::from));
            return !e.is_empty();
        }
        ["anyOf", "oneOf", "allOf"].iter().any(|key| {
            node.get(*key)
                .and_then(Value::as_array)
                .is_some_and(|b| b.iter().all(|b| collect(root, b, out)))
        })
    }
    let mut out = Vec::new();
    for node in nodes_at(root, path) {
        if !collect(root, node, &mut out) {
            return None;
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.clone()));
    (!out.is_empty()).then_some(out)
}

/// The tag key and its values when the key path holds an internally tagged enum (a table
/// whose `tag` says which variant it is, e.g. a duration's `dist`).
pub fn tagged(root: &Value, path: &[String]) -> Option<(String, Vec<String>)> {
    let node = resolve(root, *nodes_at(root, path).first()?)?;
    let node = match node.get("allOf").and_then(Value::as_array) {
        Some(a) if a.len() == 1 => resolve(root, &a[0])?,
        _ => node,
    };
    let branches = node.get("oneOf")?.as_array()?;
    let required = resolve(root, branches.first()?)?
        .get("required")?
        .as_array()?;
    required.iter().filter_map(Value::as_str).find_map(|tag| {
        let mut with = path.to_vec();
        with.push(tag.to_string());
        choices(root, &with).map(|c| (tag.to_string(), c))
    })
}

/// Whether the schema at a key path is a table (an object with named keys) and nothing else.
pub fn is_table(root: &Value, path: &[String]) -> bool {
    fn table(root: &Value, node: &Value) -> bool {
        let Some(node) = resolve(root, node) else {
            return false;
        };
        if node.get("type").and_then(Value::as_str) == Some("object") {
            return true;
        }
        match node.get("allOf").and_then(Value::as_array) {
            Some(a) => a.iter().all(|b| table(root, b)),
            None => false,
        }
    }
    let nodes = nodes_at(root, path);
    !nodes.is_empty() && nodes.into_iter().all(|n| table(root, n))
}

/// How many items an array at a key path holds, when the schema fixes it (`minItems` equal
/// to `maxItems`).
pub fn fixed_len(root: &Value, path: &[String]) -> Option<u64> {
    nodes_at(root, path).into_iter().find_map(|n| {
        let n = resolve(root, n)?;
        let min = n.get("minItems")?.as_u64()?;
        (n.get("maxItems")?.as_u64()? == min).then_some(min)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_come_from_doc_comments() {
        let s = schema(Kind::Scenario);
        assert_eq!(
            describe(&s, "hosts.GBR.recognition").as_deref(),
            Some("Probability a decided claim is recognised.")
        );
        assert_eq!(
            describe(&s, "exit.push.values.2").as_deref(),
            Some("Value at each knot.")
        );
        assert_eq!(
            describe(&s, "run.seed").as_deref(),
            Some("Master seed (0 ..= 2^63 − 1).")
        );
        let m = describe(&s, "events.famine.multiply.exit.push").unwrap();
        assert!(m.starts_with("multiplier of exit.push"), "{m}");
        assert!(m.ends_with("Push multiplier."), "{m}");
        assert_eq!(describe(&s, "no.such.key"), None);
    }

    #[test]
    fn the_partial_scenario_requires_nothing_but_knows_every_key() {
        let s = schema(Kind::Scenario);
        let d = &s["definitions"];
        assert!(d["Scenario"]["required"].as_array().is_some());
        assert!(d["PartialScenario"].get("required").is_none());
        assert!(d["PartialRawHost"].get("required").is_none());
        assert_eq!(d["PartialScenario"]["additionalProperties"], json!(false));
        // schemars puts a described reference inside `allOf` (draft 07 ignores `$ref` siblings).
        let run = &d["PartialScenario"]["properties"]["run"];
        let r = run.get("$ref").or(run.pointer("/allOf/0/$ref"));
        assert_eq!(
            r.and_then(Value::as_str),
            Some("#/definitions/PartialRawRun")
        );
    }
}
