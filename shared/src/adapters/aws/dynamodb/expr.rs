//! Expression building: every attribute name and value goes through a
//! placeholder (`#n0`, `:v0`, ...), so reserved words never reach DynamoDB.
//!
//! Conditions follow the port's TTL rule: an expired item is evaluated as if
//! it were absent. A condition `c` becomes `(#ttl <= :now OR c)` when `c`
//! holds on an absent item, else `(NOT #ttl <= :now AND c)`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::attr::{Attrs, to_attr};
use crate::ports::table::{Cond, PK, SK, TTL, Update};
use crate::ports::{StoreError, StoreResult};

/// Placeholders of one request's expressions.
#[derive(Debug, Default)]
pub struct Expr {
    names: HashMap<String, String>,
    values: Attrs,
    now: Option<String>,
}

impl Expr {
    pub fn new() -> Self {
        Self::default()
    }

    /// The placeholder of an attribute name (one per distinct name).
    pub fn name(&mut self, attr: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, a)| a.as_str() == attr) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), attr.to_string());
        placeholder
    }

    /// The placeholder of a fresh value.
    pub fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// `#ttl <= :now`: true only for an item with a numeric ttl that has passed.
    pub fn expired(&mut self, now: i64) -> String {
        let ttl = self.name(TTL);
        let now = match &self.now {
            Some(placeholder) => placeholder.clone(),
            None => {
                let placeholder = self.value(AttributeValue::N(now.to_string()));
                self.now = Some(placeholder.clone());
                placeholder
            }
        };
        format!("{ttl} <= {now}")
    }

    /// `NOT #ttl <= :now`: the item is missing or alive.
    pub fn not_expired(&mut self, now: i64) -> String {
        format!("(NOT {})", self.expired(now))
    }

    /// A condition, with expired items evaluated as absent.
    pub fn cond(&mut self, cond: &Cond, now: i64) -> String {
        let inner = self.raw_cond(cond);
        let expired = self.expired(now);
        if holds_when_absent(cond) {
            format!("({expired} OR {inner})")
        } else {
            format!("((NOT {expired}) AND {inner})")
        }
    }

    fn raw_cond(&mut self, cond: &Cond) -> String {
        match cond {
            Cond::Exists => format!("attribute_exists({})", self.name(PK)),
            Cond::NotExists => format!("attribute_not_exists({})", self.name(PK)),
            Cond::AttrExists(attr) => format!("attribute_exists({})", self.name(attr)),
            Cond::AttrNotExists(attr) => format!("attribute_not_exists({})", self.name(attr)),
            Cond::Eq(attr, v) => self.compare(attr, "=", v),
            // A missing attribute is "not equal", as on the embedded table.
            Cond::Ne(attr, v) => {
                let name = self.name(attr);
                let value = self.value(to_attr(v));
                format!("(attribute_not_exists({name}) OR {name} <> {value})")
            }
            Cond::Lt(attr, v) => self.compare(attr, "<", v),
            Cond::Le(attr, v) => self.compare(attr, "<=", v),
            Cond::Gt(attr, v) => self.compare(attr, ">", v),
            Cond::Ge(attr, v) => self.compare(attr, ">=", v),
            Cond::And(all) => self.join(all, " AND ", true),
            Cond::Or(any) => self.join(any, " OR ", false),
        }
    }

    fn compare(&mut self, attr: &str, op: &str, v: &serde_json::Value) -> String {
        let name = self.name(attr);
        let value = self.value(to_attr(v));
        format!("{name} {op} {value}")
    }

    fn join(&mut self, conds: &[Cond], sep: &str, empty: bool) -> String {
        if conds.is_empty() {
            // DynamoDB has no literals: spell true / false with the key attribute.
            let pk = self.name(PK);
            return if empty {
                format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
            } else {
                format!("(attribute_exists({pk}) AND attribute_not_exists({pk}))")
            };
        }
        let parts: Vec<String> = conds.iter().map(|c| self.raw_cond(c)).collect();
        format!("({})", parts.join(sep))
    }

    /// The UpdateExpression of `update` (None when it is empty).
    pub fn update(&mut self, update: &Update) -> StoreResult<Option<String>> {
        let touched = update
            .set
            .iter()
            .chain(&update.set_if_absent)
            .map(|(a, _)| a)
            .chain(update.add.iter().map(|(a, _)| a))
            .chain(&update.remove);
        for attr in touched {
            if attr == PK || attr == SK {
                return Err(StoreError::Invalid("the key attributes cannot be updated".into()));
            }
        }
        let mut clauses = Vec::new();
        let mut sets = Vec::new();
        for (attr, value) in &update.set {
            let (name, value) = (self.name(attr), self.value(to_attr(value)));
            sets.push(format!("{name} = {value}"));
        }
        for (attr, value) in &update.set_if_absent {
            let (name, value) = (self.name(attr), self.value(to_attr(value)));
            sets.push(format!("{name} = if_not_exists({name}, {value})"));
        }
        if !sets.is_empty() {
            clauses.push(format!("SET {}", sets.join(", ")));
        }
        if !update.add.is_empty() {
            let adds: Vec<String> = update
                .add
                .iter()
                .map(|(attr, by)| {
                    let (name, value) = (self.name(attr), self.value(AttributeValue::N(by.to_string())));
                    format!("{name} {value}")
                })
                .collect();
            clauses.push(format!("ADD {}", adds.join(", ")));
        }
        if !update.remove.is_empty() {
            let removes: Vec<String> = update.remove.iter().map(|attr| self.name(attr)).collect();
            clauses.push(format!("REMOVE {}", removes.join(", ")));
        }
        Ok((!clauses.is_empty()).then(|| clauses.join(" ")))
    }

    /// ExpressionAttributeNames (None when there are none: DynamoDB refuses an empty map).
    pub fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    /// ExpressionAttributeValues (None when there are none).
    pub fn values(&self) -> Option<Attrs> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

/// Whether a condition holds on an absent (or expired) item.
pub fn holds_when_absent(cond: &Cond) -> bool {
    match cond {
        Cond::Exists | Cond::AttrExists(_) => false,
        Cond::NotExists | Cond::AttrNotExists(_) | Cond::Ne(..) => true,
        Cond::Eq(..) | Cond::Lt(..) | Cond::Le(..) | Cond::Gt(..) | Cond::Ge(..) => false,
        Cond::And(all) => all.iter().all(holds_when_absent),
        Cond::Or(any) => any.iter().any(holds_when_absent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_shared_and_values_are_not() {
        let mut e = Expr::new();
        let s = e.cond(&Cond::And(vec![Cond::eq("status", "a"), Cond::AttrExists("status".into())]), 100);
        assert_eq!(s, "((NOT #n1 <= :v1) AND (#n0 = :v0 AND attribute_exists(#n0)))");
        assert_eq!(e.names().map(|n| n.len()), Some(2));
        assert_eq!(e.values().map(|v| v.len()), Some(2));
    }

    #[test]
    fn not_exists_accepts_expired_items() {
        let mut e = Expr::new();
        assert_eq!(e.cond(&Cond::NotExists, 5), "(#n1 <= :v0 OR attribute_not_exists(#n0))");
    }

    #[test]
    fn updates_use_placeholders_everywhere() {
        let mut e = Expr::new();
        let u = Update::new().set("name", "x").set_if_absent("created", 1).add("count", 2).remove("ttl");
        assert_eq!(
            e.update(&u).unwrap().as_deref(),
            Some("SET #n0 = :v0, #n1 = if_not_exists(#n1, :v1) ADD #n2 :v2 REMOVE #n3")
        );
        assert!(e.update(&Update::new().set("pk", "x")).is_err());
        assert_eq!(Expr::new().update(&Update::new()).unwrap(), None);
    }
}
