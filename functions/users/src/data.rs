//! What the users service stores of an account, for the data export and the
//! account deletion: its files (avatars, exports) and the account itself
//! (profile, status, claims, sessions, jobs). Other services declare their
//! own `DataOwner`s in their manifests; the export and deletion jobs run
//! every service's (`whatif_shared::service::Catalog::data_owners`).

use std::sync::Arc;

use serde_json::{Value, json};
use whatif_shared::accounts::store;
use whatif_shared::context::AppContext;
use whatif_shared::jobs::records;
use whatif_shared::keys;
use whatif_shared::ports::table::{Cond, Index, Item, Key, Query, SortKey};
use whatif_shared::routes::Access;
use whatif_shared::service::{ACCOUNT_OWNER, DataOwner, ExportFile};
use whatif_shared::{ApiError, ApiResult, UserId};

/// This service's owners; the account's runs after every other service's.
pub const OWNERS: &[DataOwner] = &[
    DataOwner {
        name: "files",
        export: |c, u| Box::pin(export_files(c, u)),
        delete: |c, u| Box::pin(delete_files(c, u)),
        access: &[
            Access::BlobRead(keys::AVATARS),
            Access::BlobWrite(keys::AVATARS),
            Access::BlobRead(keys::TMP_AVATARS),
            Access::BlobWrite(keys::TMP_AVATARS),
            Access::BlobRead(keys::EXPORTS),
            Access::BlobWrite(keys::EXPORTS),
        ],
    },
    DataOwner {
        name: ACCOUNT_OWNER,
        export: |c, u| Box::pin(export_account(c, u)),
        delete: |c, u| Box::pin(delete_account(c, u)),
        access: &[Access::TableRead, Access::TableWrite],
    },
];

/// Every item of a partition (or an index partition), all pages.
async fn all(ctx: &AppContext, query: Query) -> ApiResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = ctx.table.query(&query.clone().start(start)).await?;
        items.extend(page.items);
        start = page.next;
        if start.is_none() {
            return Ok(items);
        }
    }
}

fn without_keys(mut item: Item) -> Item {
    for attr in ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "ttl", "currentHash", "passwordHash"] {
        item.remove(attr);
    }
    item
}

async fn export_account(ctx: Arc<AppContext>, user_id: String) -> ApiResult<Vec<ExportFile>> {
    let user = store::get_user(&ctx, &user_id).await?.ok_or_else(|| ApiError::not_found("Account"))?;
    let owner = UserId::from_trusted(&user_id);
    let mut account = without_keys(user.to_item()?);
    account.remove("failedLogins");
    account.remove("lockedUntil");
    let sessions = all(
        &ctx,
        Query::partition(Index::Primary, keys::user_partition(&owner))
            .sk(SortKey::BeginsWith(keys::SESSION_PREFIX.into())),
    )
    .await?;
    let jobs =
        all(&ctx, Query::partition(Index::Gsi1, keys::user_partition(&owner)).sk(SortKey::BeginsWith("JOB#".into())))
            .await?;
    let sessions: Vec<Item> = sessions.into_iter().map(without_keys).collect();
    let jobs: Vec<Item> = jobs.into_iter().map(without_keys).collect();
    Ok(vec![
        ExportFile::json("account.json", &Value::Object(account))?,
        ExportFile::json("sessions.json", &json!(sessions))?,
        ExportFile::json("jobs.json", &json!(jobs))?,
    ])
}

async fn delete_account(ctx: Arc<AppContext>, user_id: String) -> ApiResult<()> {
    let owner = UserId::from_trusted(&user_id);
    let mut keys_to_delete: Vec<Key> = Vec::new();
    for session in all(&ctx, Query::partition(Index::Primary, keys::user_partition(&owner))).await? {
        if let Some(hash) = session.get("currentHash").and_then(Value::as_str) {
            keys_to_delete.push(keys::refresh_token(hash));
        }
        if let Some(key) = Key::of(&session) {
            keys_to_delete.push(key);
        }
    }
    for job in all(&ctx, Query::partition(Index::Gsi1, keys::user_partition(&owner))).await? {
        if let Some(key) = Key::of(&job) {
            keys_to_delete.push(key);
        }
    }
    // The claims were released when deletion was asked for; make sure, without
    // touching a claim someone else has taken since.
    if let Some(user) = store::get_user(&ctx, &user_id).await? {
        let email = whatif_shared::accounts::types::Email::parse("email", &user.email)?;
        let mine = Cond::eq("userId", user_id.as_str());
        release(&ctx, keys::email_claim(&email.claim_key()), &mine).await?;
        if let Some(name) = &user.username {
            release(&ctx, keys::username_claim(&name.to_ascii_lowercase()), &mine).await?;
        }
        for link in &user.oidc_links {
            if let Some((provider, subject)) = link.split_once('#') {
                release(&ctx, keys::oidc_claim(provider, subject), &mine).await?;
            }
        }
    }
    // The profile and status items are in the USER# partition, so they go after the
    // rest of it; the job records go last of all: a retried deletion job that finds
    // no record of itself takes the account for gone.
    keys_to_delete.sort_by_key(|k| match (k.pk.starts_with("JOB#"), k.sk.as_str()) {
        (true, _) => 2,
        (false, "PROFILE" | "STATUS") => 1,
        _ => 0,
    });
    for key in keys_to_delete {
        match key.pk.strip_prefix("JOB#") {
            // Out of the platform's job counts with it.
            Some(job_id) if key == keys::job(job_id) => records::remove(&ctx, job_id).await?,
            _ => {
                ctx.table.delete(&key, None).await?;
            }
        }
    }
    Ok(())
}

async fn release(ctx: &AppContext, key: Key, mine: &Cond) -> ApiResult<()> {
    match ctx.table.delete(&key, Some(mine.clone())).await {
        Ok(_) | Err(whatif_shared::ports::StoreError::ConditionFailed) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Every file of an account: avatars, avatar uploads not accepted yet, exports.
fn file_prefixes(user_id: &str) -> [String; 3] {
    let user_id = UserId::from_trusted(user_id);
    [keys::avatars_of(&user_id), keys::avatar_uploads_of(&user_id), keys::exports_of(&user_id)]
}

async fn export_files(ctx: Arc<AppContext>, user_id: String) -> ApiResult<Vec<ExportFile>> {
    let mut files = Vec::new();
    for key in ctx.blobs.list(&crate::avatar::prefix(&user_id)).await? {
        if let Some((bytes, _)) = ctx.blobs.get(&key).await? {
            let name = key.rsplit('/').next().unwrap_or("avatar");
            files.push(ExportFile { name: format!("{}{name}", keys::AVATARS), bytes: bytes.to_vec() });
        }
    }
    Ok(files)
}

async fn delete_files(ctx: Arc<AppContext>, user_id: String) -> ApiResult<()> {
    for prefix in file_prefixes(&user_id) {
        ctx.blobs.delete_all(&prefix).await?;
    }
    Ok(())
}
