//! Keys that earlier versions read and this one does not, each with what to write instead.
//!
//! A removed key is refused like any unknown key, but the message says how to migrate
//! (README, "Migrating scenarios from 0.2").

use toml::{Table, Value};

/// `(section, key, what to write instead)`; `*` stands for any place id.
const REMOVED: &[(&str, &str, &str)] = &[
    (
        "exit",
        "network_elasticity",
        "removed in 0.3: the exit network effect is a driver, e.g. exit.base_rate = { value = 6e-6, drivers = [{ stock = [\"resettled\"], places = \"resettlement\", scale = 2000, elasticity = 0.35 }] }",
    ),
    (
        "exit",
        "network_scale",
        "removed in 0.3: write the scale in a driver of exit.base_rate (see exit.network_elasticity)",
    ),
    (
        "deterrence",
        "link_suppression",
        "removed in 0.3: an event multiplies the driver's elasticity instead, e.g. multiply.exit.base_rate.drivers.0.elasticity = 0.5",
    ),
    (
        "resettlement.*",
        "network_scale",
        "removed in 0.3: the destination network is [choice.network] (scale, elasticity, stock), for movers from every place",
    ),
    (
        "resettlement.*",
        "network_elasticity",
        "removed in 0.3: the destination network is [choice.network] (scale, elasticity, stock), for movers from every place",
    ),
    (
        "resettlement.*",
        "acceptance_weight",
        "removed in 0.3: write choice.acceptance_weight (the rule now holds for movers from every place)",
    ),
    (
        "resettlement.*",
        "acceptance_lag_years",
        "removed in 0.3: write choice.acceptance_lag_years (the rule now holds for movers from every place)",
    ),
    (
        "hosts.*",
        "departure_route",
        "removed in 0.3: people leaving a host choose among every route that leaves it (except its removal route) by the [choice] rule; delete the key",
    ),
];

/// The first removed key in `table`, as `(key path, message)`.
pub fn removed_key(table: &Table) -> Option<(String, String)> {
    for &(section, key, hint) in REMOVED {
        let (head, any) = match section.split_once('.') {
            Some((head, "*")) => (head, true),
            _ => (section, false),
        };
        let Some(Value::Table(t)) = table.get(head) else {
            continue;
        };
        if any {
            for (id, inner) in t {
                if let Value::Table(inner) = inner
                    && inner.contains_key(key)
                {
                    return Some((format!("{head}.{id}.{key}"), hint.to_string()));
                }
            }
        } else if t.contains_key(key) {
            return Some((format!("{head}.{key}"), hint.to_string()));
        }
    }
    None
}
