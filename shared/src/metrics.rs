//! Business metrics (tokens, cost, latency of a generation, ...) as CloudWatch
//! Embedded Metric Format: with JSON logs (in Lambda) each observation is one
//! JSON line on stdout that CloudWatch Logs turns into real metrics in the
//! [`NAMESPACE`] namespace, no API call and no extra permission needed; the
//! line stays searchable in the logs too. With text logs (the local server)
//! it is one readable log line.

use std::io::Write;

use serde_json::{Map, Value, json};

/// The CloudWatch namespace of every metric of the project.
pub const NAMESPACE: &str = "WhatIf";

/// A CloudWatch unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    /// Money and other plain numbers.
    None,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::None => "None",
        }
    }
}

/// One observation: what happened (`event`), the dimensions it is counted
/// by, its values, and properties kept in the log line only.
#[derive(Debug, Clone)]
pub struct Observation<'a> {
    pub event: &'a str,
    pub dimensions: Vec<(&'a str, String)>,
    pub values: Vec<(&'a str, f64, Unit)>,
    pub properties: Vec<(&'a str, Value)>,
}

impl<'a> Observation<'a> {
    pub fn new(event: &'a str) -> Self {
        Self { event, dimensions: Vec::new(), values: Vec::new(), properties: Vec::new() }
    }

    pub fn dimension(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.dimensions.push((name, value.into()));
        self
    }

    pub fn value(mut self, name: &'a str, value: f64, unit: Unit) -> Self {
        if value.is_finite() {
            self.values.push((name, value, unit));
        }
        self
    }

    pub fn property(mut self, name: &'a str, value: impl Into<Value>) -> Self {
        self.properties.push((name, value.into()));
        self
    }

    /// The EMF document: the metrics' names and units under `_aws`, each
    /// metric and dimension as a top-level member, then the properties.
    pub fn to_emf(&self, timestamp_ms: i64) -> Value {
        let mut doc = Map::new();
        let dimension_names: Vec<&str> = self.dimensions.iter().map(|(name, _)| *name).collect();
        let metrics: Vec<Value> =
            self.values.iter().map(|(name, _, unit)| json!({"Name": name, "Unit": unit.as_str()})).collect();
        doc.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [dimension_names], "Metrics": metrics}],
            }),
        );
        doc.insert("event".into(), self.event.into());
        for (name, value) in &self.properties {
            doc.insert((*name).into(), value.clone());
        }
        for (name, value) in &self.dimensions {
            doc.insert((*name).into(), value.clone().into());
        }
        for (name, value, _) in &self.values {
            doc.insert((*name).into(), json!(value));
        }
        Value::Object(doc)
    }

    /// Records it: an EMF line with JSON logs, a log line otherwise.
    pub fn emit(&self) {
        if crate::logging::is_json() {
            let now = time::OffsetDateTime::now_utc();
            let timestamp_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
            let mut line = self.to_emf(timestamp_ms).to_string();
            line.push('\n');
            // A metric that cannot be written is not worth failing a request for.
            let _ = std::io::stdout().lock().write_all(line.as_bytes());
        } else {
            let fields: Vec<String> = self
                .dimensions
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .chain(self.values.iter().map(|(k, v, _)| format!("{k}={v}")))
                .chain(self.properties.iter().map(|(k, v)| format!("{k}={v}")))
                .collect();
            tracing::info!(metric = self.event, "{}", fields.join(" "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_valid_emf_with_every_metric_and_dimension_at_the_top() {
        let doc = Observation::new("generation")
            .dimension("provider", "openai")
            .value("TotalTokens", 1234.0, Unit::Count)
            .value("LatencyMs", 812.5, Unit::Milliseconds)
            .value("CostUsd", f64::NAN, Unit::None)
            .property("model", "gpt-4o-mini")
            .to_emf(1_790_000_000_000);
        let aws = &doc["_aws"];
        assert_eq!(aws["Timestamp"], 1_790_000_000_000_i64);
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "WhatIf");
        assert_eq!(directive["Dimensions"], json!([["provider"]]));
        let names: Vec<&str> =
            directive["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap()).collect();
        assert_eq!(names, ["TotalTokens", "LatencyMs"], "a value that is not a number is left out");
        // EMF's rule: each metric and dimension named in the directive is a
        // top-level member of the right type.
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(doc[metric["Name"].as_str().unwrap()].is_number(), "{doc}");
        }
        assert_eq!(doc["provider"], "openai");
        assert_eq!(directive["Metrics"][1]["Unit"], "Milliseconds");
        assert_eq!((doc["event"].as_str(), doc["model"].as_str()), (Some("generation"), Some("gpt-4o-mini")));
    }
}
