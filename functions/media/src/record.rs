//! The media item (`MEDIA#<id>` / `MEDIA`, see `keys::media`): what a video or
//! narration is made of and where its files are. Its id is its job's id; the
//! job record (`JOB#<id>`) holds the status, progress and error, so a cancel
//! (`POST /api/jobs/{jobId}/cancel`) and the job system's failures show here.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use whatif_shared::clock::rfc3339;
use whatif_shared::context::AppContext;
use whatif_shared::credits::{Charge, Spending};
use whatif_shared::jobs::records::NewJob;
use whatif_shared::jobs::{JobRecord, JobStatus, records};
use whatif_shared::ports::table::{
    Cond, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Index, Item, PK, Query, SK, TxOp, Update, query_all,
};
use whatif_shared::{ApiError, ApiResult, ScenarioId, UserId, keys};

/// The most media one listing reads.
pub const MAX_MEDIA: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Video,
    Audio,
}

/// A media item as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    pub id: String,
    pub kind: MediaKind,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    /// The scenario's title, or the first words of the text.
    pub title: String,
    /// The request's options (kind-specific).
    pub options: Value,
    pub created_at: String,
    /// Its files by role (`video`, `subtitles`, `audio`) once made.
    #[serde(default)]
    pub files: serde_json::Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_sec: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

impl Media {
    pub fn owner(&self) -> UserId {
        UserId::from_trusted(&self.user_id)
    }

    /// The key of its file `role`, once made.
    pub fn file(&self, role: &str) -> Option<&str> {
        self.files.get(role).and_then(Value::as_str)
    }

    fn from_item(item: Item) -> ApiResult<Self> {
        serde_json::from_value(Value::Object(item)).map_err(|e| ApiError::internal(format!("a media item: {e}")))
    }
}

/// The item of a new media.
fn new_item(media: &Media) -> ApiResult<Item> {
    let Value::Object(mut item) = serde_json::to_value(media).map_err(ApiError::internal)? else {
        return Err(ApiError::internal("a media item is an object"));
    };
    let key = keys::media(&media.id);
    let (gpk, gsk) = keys::media_by_owner(&media.owner(), &media.created_at, &media.id);
    item.insert(PK.into(), key.pk.into());
    item.insert(SK.into(), key.sk.into());
    item.insert(GSI1_PK.into(), gpk.into());
    item.insert(GSI1_SK.into(), gsk.into());
    if let Some(scenario) = &media.scenario_id {
        let (pk2, sk2) = keys::media_of_scenario(&ScenarioId::from_trusted(scenario), &media.id);
        item.insert(GSI2_PK.into(), pk2.into());
        item.insert(GSI2_SK.into(), sk2.into());
    }
    Ok(item)
}

/// Writes a new media item alone (tests and tools; a request uses [`create_queued`]).
pub async fn create(ctx: &AppContext, media: &Media) -> ApiResult<()> {
    ctx.table.put(new_item(media)?, Some(Cond::NotExists)).await?;
    Ok(())
}

/// Writes a new media item (under its job's id) with its job's record and
/// the debit of `spending`, in one transaction, then queues the job: 402,
/// nothing written, when the owner's balance cannot pay.
pub async fn create_queued(
    ctx: &AppContext,
    media: &Media,
    job_kind: &str,
    input: Value,
    spending: Spending,
) -> ApiResult<JobRecord> {
    let item = TxOp::Put { item: new_item(media)?, cond: Some(Cond::NotExists) };
    let job = NewJob {
        id: media.id.clone(),
        kind: job_kind.to_string(),
        input,
        charge: Some(Charge::new(ctx, spending, &media.id)),
    };
    let mut records = records::enqueue_charged(ctx, &media.user_id, vec![job], vec![item]).await?;
    records.pop().ok_or_else(|| ApiError::internal("a media job was queued without its record"))
}

pub async fn get(ctx: &AppContext, id: &str) -> ApiResult<Option<Media>> {
    match ctx.table.get(&keys::media(id)).await? {
        Some(item) => Media::from_item(item).map(Some),
        None => Ok(None),
    }
}

/// The caller's media `id` of `kind`; 404 for anyone else's, another kind's, or none.
pub async fn get_owned(ctx: &AppContext, owner: &UserId, id: &str, kind: MediaKind) -> ApiResult<Media> {
    get(ctx, id)
        .await?
        .filter(|m| m.user_id == owner.as_str() && m.kind == kind)
        .ok_or_else(|| ApiError::not_found(if kind == MediaKind::Video { "Video" } else { "Audio" }))
}

/// The caller's media `id` of `kind` and its state, read at once (a job has
/// its media's id); 404 as [`get_owned`].
pub async fn get_owned_with_state(
    ctx: &AppContext,
    owner: &UserId,
    id: &str,
    kind: MediaKind,
) -> ApiResult<(Media, State)> {
    let (media, job) = futures::try_join!(get_owned(ctx, owner, id, kind), records::get(ctx, id))?;
    Ok((media, state_of(ctx, job)))
}

/// Records the finished files; fails (condition) when the item is gone,
/// so a media deleted while it rendered does not come back.
pub async fn set_files(
    ctx: &AppContext,
    id: &str,
    files: &serde_json::Map<String, Value>,
    duration_sec: f64,
    size_bytes: u64,
) -> ApiResult<bool> {
    let update = Update::new()
        .set("files", Value::Object(files.clone()))
        .set("durationSec", json!(duration_sec))
        .set("sizeBytes", json!(size_bytes));
    match ctx.table.update(&keys::media(id), update, Some(Cond::Exists)).await {
        Ok(_) => Ok(true),
        Err(whatif_shared::ports::StoreError::ConditionFailed) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Every media of `owner`, newest first.
pub async fn all_of(ctx: &AppContext, owner: &UserId) -> ApiResult<Vec<Media>> {
    let query = Query::partition(Index::Gsi1, keys::media_of_owner(owner)).backward();
    let items = query_all(ctx.table.as_ref(), query, MAX_MEDIA).await?;
    items.into_iter().map(Media::from_item).collect()
}

/// Removes a media: its files, then its item (a retry finishes the rest).
pub async fn remove(ctx: &AppContext, media: &Media) -> ApiResult<()> {
    ctx.blobs.delete_all(&keys::media_files(&media.owner(), &media.id)).await?;
    ctx.table.delete(&keys::media(&media.id), None).await?;
    Ok(())
}

/// A media's job state: its status, progress and error.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub status: JobStatus,
    pub progress: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub updated_at: String,
}

/// The state of `media` (its job record; a missing one reads as failed).
pub async fn state(ctx: &AppContext, media: &Media) -> ApiResult<State> {
    Ok(state_of(ctx, records::get(ctx, &media.id).await?))
}

/// The states of `media`, in its order: their job records read at once.
pub async fn states(ctx: &AppContext, media: &[Media]) -> ApiResult<Vec<State>> {
    let keys: Vec<whatif_shared::ports::Key> = media.iter().map(|m| keys::job(&m.id)).collect();
    let mut jobs = std::collections::HashMap::new();
    for item in whatif_shared::ports::table::get_all(ctx.table.as_ref(), &keys).await? {
        let job = records::record_of(&item)?;
        jobs.insert(job.id.clone(), job);
    }
    Ok(media.iter().map(|m| state_of(ctx, jobs.remove(&m.id))).collect())
}

fn state_of(ctx: &AppContext, job: Option<JobRecord>) -> State {
    match job {
        Some(JobRecord { status, progress, error, updated_at, .. }) => State { status, progress, error, updated_at },
        None => State {
            status: JobStatus::Failed,
            progress: 0,
            error: Some("Its job record is gone".into()),
            updated_at: rfc3339(ctx.clock.now()),
        },
    }
}
