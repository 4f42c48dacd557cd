//! `PATCH /api/scenarios/bulk`: one operation on up to 50 of the caller's
//! scenarios. Only the caller's own are touched; the answer lists the ids
//! updated and, for the others, why not (someone else's scenario is simply
//! "not found", as a missing one is).

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use whatif_shared::context::AppContext;
use whatif_shared::scenarios::store;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply, ScenarioId, UserId};

use crate::fields::{Tag, tag_set};
use crate::lifecycle;

pub const MAX_IDS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum Operation {
    Delete,
    Favorite,
    Unfavorite,
    MakePublic,
    MakePrivate,
    AddTags,
    RemoveTags,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkData {
    #[schemars(length(min = 1))]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkBody {
    /// 1–50 ids.
    #[schemars(length(min = 1, max = 50))]
    pub scenario_ids: Vec<String>,
    pub operation: Operation,
    /// `{tags}` for addTags and removeTags.
    #[serde(default, deserialize_with = "whatif_shared::http::optional_object")]
    pub data: Option<BulkData>,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkAnswer {
    pub updated: Vec<String>,
    pub not_updated: Vec<NotUpdated>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NotUpdated {
    pub id: String,
    pub reason: String,
}

pub async fn handle(ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let user = req.user()?.user_id.clone();
    let body: BulkBody = req.json()?;
    if body.scenario_ids.is_empty() || body.scenario_ids.len() > MAX_IDS {
        return Err(ApiError::validation("scenarioIds", format!("must hold 1 to {MAX_IDS} ids")));
    }
    let tags: Vec<String> = match (body.operation, &body.data) {
        (Operation::AddTags | Operation::RemoveTags, Some(data)) if !data.tags.is_empty() => {
            data.tags.iter().map(|t| t.as_str().to_string()).collect()
        }
        (Operation::AddTags | Operation::RemoveTags, _) => {
            return Err(ApiError::validation("data.tags", "addTags and removeTags need at least one tag"));
        }
        (_, Some(_)) => return Err(ApiError::validation("data", "only addTags and removeTags take data")),
        (_, None) => Vec::new(),
    };
    let mut answer = BulkAnswer { updated: Vec::new(), not_updated: Vec::new() };
    let mut seen = Vec::new();
    for id in body.scenario_ids {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id.clone());
        if ulid::Ulid::from_string(&id).is_err() {
            answer.not_updated.push(NotUpdated { id, reason: "not a valid id".into() });
            continue;
        }
        match apply(&ctx, &user, &id, body.operation, &tags).await {
            Ok(()) => answer.updated.push(id),
            Err(e) if e.status.is_client_error() => answer.not_updated.push(NotUpdated { id, reason: reason(&e) }),
            Err(e) => return Err(e),
        }
    }
    Ok(Reply::ok(answer))
}

async fn apply(ctx: &AppContext, user: &str, id: &str, operation: Operation, tags: &[String]) -> ApiResult<()> {
    if operation == Operation::Delete {
        return lifecycle::soft_delete(ctx, user, id, None).await.map(|_| ());
    }
    // The caller's id, and an id checked to be a ULID (as sent, as before).
    let (user, id) = (&UserId::from_trusted(user), &ScenarioId::from_trusted(id));
    store::edit(ctx, user, id, None, |s| {
        if s.is_deleted() {
            return Err(ApiError::not_found("Scenario"));
        }
        match operation {
            Operation::Favorite | Operation::Unfavorite => s.is_favorite = operation == Operation::Favorite,
            Operation::MakePublic | Operation::MakePrivate => s.is_public = operation == Operation::MakePublic,
            Operation::AddTags => {
                let all = s.tags.iter().chain(tags).cloned();
                s.tags = tag_set(all).map_err(|e| ApiError::validation("data.tags", e))?;
            }
            Operation::RemoveTags => {
                s.tags.retain(|t| !tags.iter().any(|r| r.to_lowercase() == t.to_lowercase()));
            }
            Operation::Delete => {}
        }
        Ok(Vec::new())
    })
    .await
    .map(|_| ())
}

fn reason(e: &ApiError) -> String {
    if e.status == http::StatusCode::NOT_FOUND { "not found".into() } else { e.message.clone() }
}
