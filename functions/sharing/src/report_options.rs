//! `GET /api/reporting/options`: what a report form offers: target types,
//! reasons, categories and severities, each with its label in English and
//! Vietnamese.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use whatif_shared::context::AppContext;
use whatif_shared::{ApiRequest, ApiResult, Reply};

use crate::reports::{Category, Labels, Reason, Severity, TargetType};

#[derive(Debug, Serialize, JsonSchema)]
/// One choice of a list, with its labels.
pub struct Choice {
    pub value: &'static str,
    pub labels: Labels,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportOptions {
    pub target_types: Vec<&'static str>,
    pub reasons: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub severities: Vec<Choice>,
    /// The longest description a report takes.
    pub max_description_length: usize,
}

pub async fn handle(_ctx: Arc<AppContext>, _req: ApiRequest) -> ApiResult<Reply> {
    let options = ReportOptions {
        target_types: TargetType::ALL.iter().map(|t| t.name()).collect(),
        reasons: Reason::ALL.iter().map(|r| Choice { value: r.value(), labels: r.labels() }).collect(),
        categories: Category::ALL.iter().map(|c| Choice { value: c.value(), labels: c.labels() }).collect(),
        severities: Severity::ALL.iter().map(|s| Choice { value: s.value(), labels: s.labels() }).collect(),
        max_description_length: crate::report::MAX_DESCRIPTION_CHARS,
    };
    Ok(Reply::ok(options).header(http::header::CACHE_CONTROL, "public, max-age=3600"))
}
