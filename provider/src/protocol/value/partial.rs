//! Partly known collections: a map, set or list of plain values with an
//! unknown element, as Terraform sends for `{ Stage = each.key }` while it
//! validates, or `[var.a, aws_x.y.id]` while `aws_x.y` is being created.
//!
//! A typed model has no place for "a map whose `Stage` is unknown", so such a
//! collection reads as unknown as a whole ([`Value::collapse_partial`]), which
//! is what a check or plan can tell from it anyway. Terraform requires the
//! planned value of a configured attribute to be the configuration's, so
//! after the resource has planned, each collection it left unknown gets the
//! proposed, partly known value back ([`Value::restore_partial`]).

use super::Value;

/// Whether `items` are nested blocks (objects), which are read attribute by
/// attribute rather than as one collection.
fn all_objects<'a>(mut items: impl Iterator<Item = &'a Value>) -> bool {
    items.all(|item| matches!(item, Value::Object(_)))
}

fn partly_known(value: &Value) -> bool {
    !value.is_unknown() && !value.is_wholly_known()
}

impl Value {
    /// This value with every partly known collection of plain values made
    /// wholly unknown; objects and nested blocks are kept, their contents
    /// treated the same way.
    pub fn collapse_partial(&self) -> Value {
        match self {
            Value::Object(attributes) => Value::Object(
                attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.collapse_partial()))
                    .collect(),
            ),
            Value::List(items) if all_objects(items.iter()) => {
                Value::List(items.iter().map(Value::collapse_partial).collect())
            }
            Value::Set(items) if all_objects(items.iter()) => {
                Value::Set(items.iter().map(Value::collapse_partial).collect())
            }
            Value::Map(entries) if all_objects(entries.values()) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.collapse_partial()))
                    .collect(),
            ),
            other if partly_known(other) => Value::Unknown,
            other => other.clone(),
        }
    }

    /// `self` (a planned value) with each value it leaves unknown where
    /// `proposed` holds a partly known one replaced by that one.
    pub fn restore_partial(self, proposed: &Value) -> Value {
        match (self, proposed) {
            (Value::Unknown, proposed) if partly_known(proposed) => proposed.clone(),
            (Value::Object(mut planned), Value::Object(proposed)) => {
                for (name, value) in planned.iter_mut() {
                    if let Some(wanted) = proposed.get(name) {
                        *value = std::mem::take(value).restore_partial(wanted);
                    }
                }
                Value::Object(planned)
            }
            (Value::List(planned), Value::List(proposed)) if planned.len() == proposed.len() => {
                Value::List(
                    planned
                        .into_iter()
                        .zip(proposed)
                        .map(|(p, q)| p.restore_partial(q))
                        .collect(),
                )
            }
            (planned, _) => planned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn partly_known_collections_read_as_unknown_and_come_back() {
        let tags = map(&[("Stage", Value::Unknown), ("Team", s("images"))]);
        let block = Value::List(vec![Value::object([("role_arn", Value::Unknown)])]);
        let proposed = Value::object([
            ("tags", tags.clone()),
            ("ids", Value::Set(vec![s("a"), Value::Unknown])),
            ("name", s("x")),
            ("assume_role", block.clone()),
        ]);
        let collapsed = proposed.collapse_partial();
        let attributes = collapsed.as_object().expect("an object");
        assert_eq!(attributes["tags"], Value::Unknown);
        assert_eq!(attributes["ids"], Value::Unknown);
        assert_eq!(attributes["name"], s("x"));
        // A block keeps its shape: its own attributes say what is unknown.
        assert_eq!(attributes["assume_role"], block);

        // The plan leaves them unknown (it could not know more); the proposed values return.
        let planned = collapsed.restore_partial(&proposed);
        assert_eq!(planned, proposed);
    }

    #[test]
    fn known_and_wholly_unknown_values_are_left_alone() {
        let known = Value::object([("tags", map(&[("Stage", s("prod"))]))]);
        assert_eq!(known.collapse_partial(), known);
        let unknown = Value::object([("tags", Value::Unknown)]);
        assert_eq!(unknown.collapse_partial(), unknown);
        // A value the plan decided stays, whatever was proposed.
        let planned = Value::object([("tags", map(&[("Stage", s("prod"))]))]);
        let proposed = Value::object([("tags", map(&[("Stage", Value::Unknown)]))]);
        assert_eq!(planned.clone().restore_partial(&proposed), planned);
    }
}
