//! The one module that builds table keys. Every item's key shape, and the
//! access pattern it serves, is listed here and in `docs/data-model.md`.

use crate::ids::{ScenarioId, UserId};
use crate::ports::table::Key;

/// A rate-limit window: `RL#<class>#<subject>` / `<window start>` (TTL'd).
/// Access: one atomic ADD per request.
pub fn rate_window(class: &str, subject: &str, window_start: i64) -> Key {
    Key::new(format!("RL#{class}#{subject}"), format!("{window_start:020}"))
}

/// An idempotency record: `IDEM#<subject>#<route>#<key>` / `IDEM` (TTL 24 h).
/// Access: conditional put to claim, get to replay.
pub fn idempotency(subject: &str, route: &str, key: &str) -> Key {
    Key::new(format!("IDEM#{subject}#{route}#{key}"), "IDEM")
}

/// The public keys that verify access tokens: `CONFIG` / `JWKS`.
/// Written by the auth functions when keys rotate; read (and cached) by every function.
pub fn public_jwks() -> Key {
    Key::new("CONFIG", "JWKS")
}

/// An account's partition, `USER#<id>`: its profile, status, sessions and
/// scenarios. Access: the account's deletion reads it whole.
pub fn user_partition(user_id: &UserId) -> String {
    format!("USER#{user_id}")
}

/// An account's status, read on every authenticated request: `USER#<id>` / `STATUS`.
/// Small on purpose (status, role, plan, tokensValidAfter), so the check stays cheap.
pub fn account_status(user_id: &UserId) -> Key {
    Key::new(user_partition(user_id), "STATUS")
}

/// A suspension with an end: `SUSPENSIONS` / `<until, 12 digits>#<userId>`,
/// put and deleted with the account's status (`roles::apply`). Access: the
/// hourly sweep reads the ones whose time ran out in one query, oldest first.
pub fn suspension(until: i64, user_id: &UserId) -> Key {
    Key::new(SUSPENSIONS, format!("{:012}#{user_id}", until.max(0)))
}

/// The partition of every [`suspension`].
pub const SUSPENSIONS: &str = "SUSPENSIONS";

/// An account: `USER#<id>` / `PROFILE`. Access: get by id.
pub fn user_profile(user_id: &UserId) -> Key {
    Key::new(user_partition(user_id), "PROFILE")
}

/// How many index partitions the users' directory spreads over.
pub const USER_DIRECTORY_SHARDS: u32 = 8;

/// The GSI2 key of an account's profile item in the users' directory:
/// `USERS#<shard>` / `<createdAt>#<id>` (the shard an FNV-1a hash of the id).
/// Access: the admin's user list reads every shard at once, newest first,
/// and filters in memory.
pub fn user_directory(user_id: &UserId, created_at: &str) -> (String, String) {
    let hash = user_id.as_str().bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    (user_directory_shard(hash % USER_DIRECTORY_SHARDS), format!("{created_at}#{user_id}"))
}

/// One partition of the users' directory.
pub fn user_directory_shard(shard: u32) -> String {
    format!("USERS#{shard}")
}

/// The active administrators, counted: `ADMINS` / `COUNT` (`active`). Changed
/// in the transaction that makes or unmakes an active admin, conditional on
/// `active > 1` when it unmakes one, so the last active admin is never demoted,
/// suspended or banned, however requests race.
pub fn admin_count() -> Key {
    Key::new("ADMINS", "COUNT")
}

/// Uniqueness of an email (lower-cased): `EMAIL#<email>` / `CLAIM` → userId.
/// Access: conditional put when an account takes the address; get to sign in by email.
pub fn email_claim(email_key: &str) -> Key {
    Key::new(format!("EMAIL#{email_key}"), "CLAIM")
}

/// Uniqueness of a username (lower-cased): `UNAME#<name>` / `CLAIM` → userId.
pub fn username_claim(username_key: &str) -> Key {
    Key::new(format!("UNAME#{username_key}"), "CLAIM")
}

/// A link from an OpenID Connect identity: `OIDC#<provider>#<sub>` / `CLAIM` → userId.
pub fn oidc_claim(provider: &str, subject: &str) -> Key {
    Key::new(format!("OIDC#{provider}#{subject}"), "CLAIM")
}

/// A session (a refresh-token family): `USER#<id>` / `SESSION#<family>`.
/// Access: query `SESSION#` to revoke them all.
pub fn session(user_id: &UserId, family: &str) -> Key {
    Key::new(user_partition(user_id), format!("SESSION#{family}"))
}

/// The prefix of every session of an account.
pub const SESSION_PREFIX: &str = "SESSION#";

/// A refresh token, by the SHA-256 of its value: `REFRESH#<hash>` / `REFRESH`.
pub fn refresh_token(hash: &str) -> Key {
    Key::new(format!("REFRESH#{hash}"), "REFRESH")
}

/// A single-use email token (verification, reset), by hash: `OTT#<hash>` / `OTT` (TTL).
pub fn one_time_token(hash: &str) -> Key {
    Key::new(format!("OTT#{hash}"), "OTT")
}

/// A job: `JOB#<id>` / `JOB`, with GSI1 `USER#<owner>` / `JOB#<createdAt>#<id>`.
/// Access: get by id (owner checked); the owner's jobs, newest first, on GSI1.
pub fn job(job_id: &str) -> Key {
    Key::new(format!("JOB#{job_id}"), "JOB")
}

/// The GSI1 key of a job, listing an owner's jobs by time.
pub fn job_by_owner(user_id: &UserId, created_at: &str, job_id: &str) -> (String, String) {
    (user_partition(user_id), format!("JOB#{created_at}#{job_id}"))
}

// ---- blob keys (the media bucket) ----------------------------------------------
// The blob store's key prefixes, named once: rows grant them (`Access::BlobRead`),
// IAM scopes them, handlers build keys under them, the bucket's lifecycle rule
// expires one of them.

/// Users' avatars: `avatars/<user>/<file>`.
pub const AVATARS: &str = "avatars/";

/// Uploads nothing has accepted yet; expired after 1 day in AWS, so an
/// upload nobody checks does not stay.
pub const TMP: &str = "tmp/";

/// Avatar uploads waiting for the profile to accept them:
/// `tmp/avatars/<user>/<file>` (the [`TMP`] prefix of [`AVATARS`]).
pub const TMP_AVATARS: &str = "tmp/avatars/";

/// Exported files: `exports/<user>/…` (an account's data export, scenarios'
/// exported files); expired after 7 days in AWS.
pub const EXPORTS: &str = "exports/";

/// Media (functions/media): `media/<user>/<mediaId>/…`, a video with its
/// WebVTT subtitles, or a narration. Removed with the media, its scenario's
/// purge and the account's deletion.
pub const MEDIA: &str = "media/";

/// Where a user's avatars live.
pub fn avatars_of(user_id: &UserId) -> String {
    format!("{AVATARS}{user_id}/")
}

/// Where a user's avatar uploads wait for the profile to accept them.
pub fn avatar_uploads_of(user_id: &UserId) -> String {
    format!("{TMP_AVATARS}{user_id}/")
}

/// Where a user's exported files live (the account's deletion removes them).
pub fn exports_of(user_id: &UserId) -> String {
    format!("{EXPORTS}{user_id}/")
}

/// Where a scenario's exported files live: under its owner's exports, so the
/// account's deletion takes them, and the purge removes them with the scenario.
pub fn scenario_exports(owner_id: &UserId, scenario_id: &ScenarioId) -> String {
    format!("{}scenarios/{scenario_id}/", exports_of(owner_id))
}

/// Where a user's media files live (the account's deletion removes them).
pub fn media_of(user_id: &UserId) -> String {
    format!("{MEDIA}{user_id}/")
}

/// Where one video's or narration's files live.
pub fn media_files(user_id: &UserId, media_id: &str) -> String {
    format!("{}{media_id}/", media_of(user_id))
}

// ---- scenarios (functions/generation) --------------------------------------------

/// The prefix of every scenario's sort key in its owner's partition.
pub const SCENARIO_PREFIX: &str = "SCN#";

/// A scenario: `USER#<owner>` / `SCN#<id>`, one item in its owner's partition.
///
/// | attributes | value | access pattern |
/// |---|---|---|
/// | `pk` / `sk` | `USER#<owner>` / `SCN#<id>` | the owner's history (query `SCN#`; ids are ULIDs, so by time); a strongly consistent get when the owner is known (continue, regenerate, versions); written once with `NotExists` |
/// | `gsi1pk` / `gsi1sk` | `SCN#<id>` / `SCN` ([`scenario_by_id`]) | get by id without knowing the owner (`GET /api/scenarios/{id}`, `/tree`) |
/// | `gsi2pk` / `gsi2sk` | `TREE#<rootId>` / `<depth, 4 digits>#<id>` ([`scenario_tree_node`]) | every node of one branch tree in one query, root first, by depth then age; the children of a node: sort key `<depth + 1>#…` and `parentId` = the node |
///
/// The regenerate chain follows `versionOf` (the previous version's id, same
/// owner) back with gets on the owner's partition.
pub fn scenario(user_id: &UserId, scenario_id: &ScenarioId) -> Key {
    Key::new(user_partition(user_id), format!("{SCENARIO_PREFIX}{scenario_id}"))
}

/// The GSI1 key of a scenario, to get it by id: `SCN#<id>` / `SCN`.
pub fn scenario_by_id(scenario_id: &ScenarioId) -> (String, String) {
    (format!("{SCENARIO_PREFIX}{scenario_id}"), "SCN".to_string())
}

/// The GSI2 partition of one branch tree: `TREE#<rootId>`.
pub fn scenario_tree(root_id: &ScenarioId) -> String {
    format!("TREE#{root_id}")
}

/// The GSI2 sort-key prefix of the nodes at `depth` of a tree: `<depth, 4 digits>#`.
pub fn scenario_tree_depth(depth: u32) -> String {
    format!("{depth:04}#")
}

/// The GSI2 key of a scenario in its tree: `TREE#<rootId>` / `<depth, 4 digits>#<id>`.
pub fn scenario_tree_node(root_id: &ScenarioId, depth: u32, scenario_id: &ScenarioId) -> (String, String) {
    (scenario_tree(root_id), format!("{}{scenario_id}", scenario_tree_depth(depth)))
}

/// A scenario's history entry: `HIST#<owner>` / `<id>`, the scenario without
/// its text (content, sections, choices), written with it in one transaction.
/// Access: the owner's whole history in one partition query of small items,
/// filtered, sorted and counted in memory (`GET /api/scenarios/my`, `/stats`).
pub fn scenario_summary(user_id: &UserId, scenario_id: &ScenarioId) -> Key {
    Key::new(scenario_summaries(user_id), scenario_id.as_str())
}

/// The partition of an owner's history entries.
pub fn scenario_summaries(user_id: &UserId) -> String {
    format!("HIST#{user_id}")
}

/// How many partitions hold one owner's search items. Search reads them all
/// at once, so a long history costs a couple of round trips on DynamoDB, not
/// one per megabyte of items in a row.
pub const TERMS_SHARDS: u32 = 8;

/// A scenario's search item: `TERMS#<owner>#<shard>` / `<id>`, the scenario
/// without its text and the distinct folded words of its title, topic, tags
/// and content, written with it (a search answers from these alone); the
/// shard (0..[`TERMS_SHARDS`]) is a hash of the id. Access: the owner's
/// [`scenario_terms_partitions`] read in parallel and matched in memory
/// (`GET /api/scenarios/search`).
pub fn scenario_terms(user_id: &UserId, scenario_id: &ScenarioId) -> Key {
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let hash = scenario_id.as_str().bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    Key::new(scenario_terms_partition(user_id, hash % TERMS_SHARDS), scenario_id.as_str())
}

/// One partition of an owner's search terms.
pub fn scenario_terms_partition(user_id: &UserId, shard: u32) -> String {
    format!("TERMS#{user_id}#{shard}")
}

/// Every partition of an owner's search terms.
pub fn scenario_terms_partitions(user_id: &UserId) -> Vec<String> {
    (0..TERMS_SHARDS).map(|shard| scenario_terms_partition(user_id, shard)).collect()
}

/// One counted view: `VIEW#<scenarioId>#<yyyy-mm-dd>` / `<viewer>`, TTL 2 days;
/// put with `NotExists`, so a viewer counts once per scenario and day.
pub fn scenario_view(scenario_id: &ScenarioId, day: &str, viewer: &str) -> Key {
    Key::new(format!("VIEW#{scenario_id}#{day}"), viewer)
}

/// The partition of soft-deleted scenarios waiting for their purge.
pub const PURGE_PARTITION: &str = "PURGE";

/// A soft-deleted scenario: `PURGE` / `<deletedAt>#<owner>#<id>`. Access: the
/// purge worker queries sort keys below `<now - 30 days>`; restore deletes it.
pub fn scenario_purge(deleted_at: &str, user_id: &UserId, scenario_id: &ScenarioId) -> Key {
    Key::new(PURGE_PARTITION, format!("{deleted_at}#{user_id}#{scenario_id}"))
}

/// A cached generation: `GENCACHE#<sha256 hex>` / `CACHE`, TTL 24 h. The hash
/// covers the normalised topic, the options, the language, the provider chain
/// and the prompt version. Access: one get before a model call (an expired
/// entry counts as absent), one put after it.
pub fn generation_cache(hash: &str) -> Key {
    Key::new(format!("GENCACHE#{hash}"), "CACHE")
}

// ---- shares and reports (functions/sharing) -----------------------------------------

/// A share link: `SHARE#<shareId>` / `SHARE`, with GSI1 [`shares_by_owner`]
/// and GSI2 [`shares_of_scenario`].
///
/// | attributes | value | access pattern |
/// |---|---|---|
/// | `pk` / `sk` | `SHARE#<shareId>` / `SHARE` | get by id on every public read (`/shared`, `/s`, `/qr`, metadata), strongly consistent |
/// | `gsi1pk` / `gsi1sk` | `SHARES#<owner>` / `<createdAt>#<shareId>` | the owner's shares, newest first (`/api/sharing/my`, analytics' `activeShares`) |
/// | `gsi2pk` / `gsi2sk` | `SHAREOF#<scenarioId>` / `<shareId>` | every share of a scenario (its purge removes them) |
pub fn share(share_id: &str) -> Key {
    Key::new(format!("SHARE#{share_id}"), "SHARE")
}

/// The GSI1 key of a share: its owner's shares by time.
pub fn shares_by_owner(user_id: &UserId, created_at: &str, share_id: &str) -> (String, String) {
    (shares_of_owner(user_id), format!("{created_at}#{share_id}"))
}

/// The GSI1 partition of an owner's shares.
pub fn shares_of_owner(user_id: &UserId) -> String {
    format!("SHARES#{user_id}")
}

/// The GSI2 key of a share: the shares of its scenario.
pub fn shares_of_scenario(scenario_id: &ScenarioId, share_id: &str) -> (String, String) {
    (shares_of_scenario_partition(scenario_id), share_id.to_string())
}

/// The GSI2 partition of a scenario's shares.
pub fn shares_of_scenario_partition(scenario_id: &ScenarioId) -> String {
    format!("SHAREOF#{scenario_id}")
}

/// The share a new share request of a scenario reuses: `ACTIVESHARE#<scenarioId>` /
/// `ACTIVE` → `shareId`. Written with the share in one transaction, conditional
/// on what was read, so two requests never make two "reused" shares.
pub fn active_share(scenario_id: &ScenarioId) -> Key {
    Key::new(format!("ACTIVESHARE#{scenario_id}"), "ACTIVE")
}

/// One counted view of a share: `SHAREVIEW#<shareId>#<yyyy-mm-dd>` / `<viewer>`,
/// TTL 2 days; put with `NotExists`, so a viewer counts once per share and day.
pub fn share_view(share_id: &str, day: &str, viewer: &str) -> Key {
    Key::new(format!("SHAREVIEW#{share_id}#{day}"), viewer)
}

/// An owner's share counters of one day: `SHARESTATS#<owner>` / `<yyyy-mm-dd>`
/// (`shares`, `views`, `platform.<name>` by atomic ADD). Access: analytics
/// reads the owner's days between two dates (at most 366 small items).
pub fn share_stats(user_id: &UserId, day: &str) -> Key {
    Key::new(share_stats_partition(user_id), day)
}

/// The partition of an owner's daily share counters.
pub fn share_stats_partition(user_id: &UserId) -> String {
    format!("SHARESTATS#{user_id}")
}

/// A reported target: `REPORTED#<targetType>#<targetId>` / `TARGET`, the
/// queue item the admin routes act on: distinct reporters, verified ones,
/// reasons, the computed priority, with GSI1 [`report_queue`].
pub fn report_target(target_type: &str, target_id: &str) -> Key {
    Key::new(report_target_partition(target_type, target_id), "TARGET")
}

/// The partition of one reported target: the target item and its reports.
pub fn report_target_partition(target_type: &str, target_id: &str) -> String {
    format!("REPORTED#{target_type}#{target_id}")
}

/// The GSI2 key of a reported target: its case id (the first open report's
/// id), so `PATCH /api/admin/reports/{reportId}` finds it: `REPORTCASE#<id>` / `TARGET`.
pub fn report_case(report_id: &str) -> (String, String) {
    (format!("REPORTCASE#{report_id}"), "TARGET".to_string())
}

/// One reporter's open report of a target: `REPORTED#<type>#<id>` /
/// `OPEN#<reporter>`; put with `NotExists`, so a reporter (an account, or a
/// hash of a client address) has one open report per target. With GSI2
/// [`reports_by_reporter`] when the reporter is an account.
pub fn open_report(target_type: &str, target_id: &str, reporter: &str) -> Key {
    Key::new(report_target_partition(target_type, target_id), format!("OPEN#{reporter}"))
}

/// The GSI1 key of a reported target in the moderation queue:
/// `REPORTQ#<status>` / `<9999 - priority score, 4 digits>#<first reported at>#<type>#<id>`,
/// so a query reads one status, highest priority first, oldest first within it.
pub fn report_queue(status: &str, score: u32, first_at: &str, target_type: &str, target_id: &str) -> (String, String) {
    (format!("REPORTQ#{status}"), format!("{:04}#{first_at}#{target_type}#{target_id}", 9999 - score.min(9999)))
}

/// The GSI2 key of an account's report: `REPORTER#<user>` / `<createdAt>#<reportId>`
/// (the account's data export and deletion).
pub fn reports_by_reporter(user_id: &UserId, created_at: &str, report_id: &str) -> (String, String) {
    (reports_of_reporter(user_id), format!("{created_at}#{report_id}"))
}

/// The GSI2 partition of an account's reports.
pub fn reports_of_reporter(user_id: &UserId) -> String {
    format!("REPORTER#{user_id}")
}

// ---- media (functions/media) ---------------------------------------------------------

/// A video or a narration: `MEDIA#<id>` / `MEDIA` (the id is its job's id:
/// the job record `JOB#<id>` holds the status and progress), with GSI1
/// [`media_by_owner`] and, when made from a scenario, GSI2 [`media_of_scenario`].
///
/// | attributes | value | access pattern |
/// |---|---|---|
/// | `pk` / `sk` | `MEDIA#<id>` / `MEDIA` | get by id (owner checked) on status, download, delete and in its job |
/// | `gsi1pk` / `gsi1sk` | `MEDIAS#<owner>` / `<createdAt>#<id>` | the owner's media, newest first (`/api/video/my`; the data export and deletion) |
/// | `gsi2pk` / `gsi2sk` | `MEDIAOF#<scenarioId>` / `<id>` | every media of a scenario (its purge removes them and their files) |
pub fn media(media_id: &str) -> Key {
    Key::new(format!("MEDIA#{media_id}"), "MEDIA")
}

/// The GSI1 key of a media item: its owner's media by time.
pub fn media_by_owner(user_id: &UserId, created_at: &str, media_id: &str) -> (String, String) {
    (media_of_owner(user_id), format!("{created_at}#{media_id}"))
}

/// The GSI1 partition of an owner's media.
pub fn media_of_owner(user_id: &UserId) -> String {
    format!("MEDIAS#{user_id}")
}

/// The GSI2 key of a media item made from a scenario.
pub fn media_of_scenario(scenario_id: &ScenarioId, media_id: &str) -> (String, String) {
    (media_of_scenario_partition(scenario_id), media_id.to_string())
}

/// The GSI2 partition of a scenario's media.
pub fn media_of_scenario_partition(scenario_id: &ScenarioId) -> String {
    format!("MEDIAOF#{scenario_id}")
}

// ---- posts, comments and likes (shared/src/social/{posts,comments,likes}.rs, functions/social) ----
// docs/social.md ("Posts", "Comments", "Likes", "Feeds") lists every access pattern.

/// A post: `POST#<postId>` / `POST`, with GSI1 [`activity_entry`] (always,
/// whatever its visibility) and GSI2 [`feed_entry`] only while it is public
/// and not hidden (the attributes are removed otherwise).
///
/// | attributes | value | access pattern |
/// |---|---|---|
/// | `pk` / `sk` | `POST#<postId>` / `POST` | get by id (every read, like and comment checks it first); `likes` and `comments` by atomic ADD in the transaction of what they count |
/// | `gsi1pk` / `gsi1sk` | `ACTIVITY#<author>` / `<publishedAt>#<postId>` | the author's activity: the following feed and profiles, filtered by visibility; the account's export and deletion |
/// | `gsi2pk` / `gsi2sk` | `FEED` / `<publishedAt>#<postId>` | the public feed (latest, trending), public and not hidden only |
pub fn post(post_id: &str) -> Key {
    Key::new(format!("POST#{post_id}"), "POST")
}

/// A comment: `COMMENT#<commentId>` / `COMMENT`, with GSI1 [`comment_in_post`]
/// and GSI2 [`comment_by_author`].
///
/// | attributes | value | access pattern |
/// |---|---|---|
/// | `pk` / `sk` | `COMMENT#<commentId>` / `COMMENT` | get by id (edit, delete, like, a reply's parent) |
/// | `gsi1pk` / `gsi1sk` | `COMMENTS#<postId>` / `<threadId>` (a top-level comment) or `<threadId>#<commentId>` (a reply) | a post's comments by thread, each thread's replies right after it, in one forward query; a post's deletion removes them |
/// | `gsi2pk` / `gsi2sk` | `COMMENTSBY#<author>` / `<commentId>` | the author's comments (the account's export and deletion) |
pub fn comment(comment_id: &str) -> Key {
    Key::new(format!("COMMENT#{comment_id}"), "COMMENT")
}

/// The GSI1 partition of a post's comments.
pub fn comments_of_post(post_id: &str) -> String {
    format!("COMMENTS#{post_id}")
}

/// The GSI1 key of a comment in its post: `<threadId>` for a top-level
/// comment (its own id), `<threadId>#<commentId>` for a reply, so a forward
/// query reads threads oldest first with their replies after them.
pub fn comment_in_post(post_id: &str, thread_id: &str, comment_id: &str) -> (String, String) {
    let sk = if thread_id == comment_id { thread_id.to_string() } else { format!("{thread_id}#{comment_id}") };
    (comments_of_post(post_id), sk)
}

/// The GSI1 sort key past every reply of a thread (`<threadId>#~`: `~` sorts
/// after every ULID character), for the next page of threads.
pub fn comment_thread_end(thread_id: &str) -> String {
    format!("{thread_id}#~")
}

/// The GSI2 key of a comment in its author's list: `COMMENTSBY#<author>` / `<commentId>`.
pub fn comment_by_author(user_id: &UserId, comment_id: &str) -> (String, String) {
    (comments_by(user_id), comment_id.to_string())
}

/// The GSI2 partition of an author's comments.
pub fn comments_by(user_id: &UserId) -> String {
    format!("COMMENTSBY#{user_id}")
}

/// A like: `LIKE#<targetType>#<targetId>` / `<userId>` (`post` or `comment`),
/// with GSI1 [`like_by_user`]. Put with `NotExists` and deleted with `Exists`,
/// each in one transaction with the target's `likes` and its author's
/// `likesReceived`, so counts are exact however many toggles race. Access: a
/// strongly consistent get (is it liked?), a batch get of a page's markers
/// for `isLiked`, the target's partition when the target is deleted.
pub fn like(target_type: &str, target_id: &str, user_id: &UserId) -> Key {
    Key::new(likes_of_target(target_type, target_id), user_id.as_str())
}

/// The partition of a target's likes.
pub fn likes_of_target(target_type: &str, target_id: &str) -> String {
    format!("LIKE#{target_type}#{target_id}")
}

/// The GSI1 key of a like in its giver's list: `LIKES#<user>` / `<at>#<type>#<id>`
/// (the account's export and deletion).
pub fn like_by_user(user_id: &UserId, at: &str, target_type: &str, target_id: &str) -> (String, String) {
    (likes_by(user_id), format!("{at}#{target_type}#{target_id}"))
}

/// The GSI1 partition of the likes an account gave.
pub fn likes_by(user_id: &UserId) -> String {
    format!("LIKES#{user_id}")
}

// ---- credits and billing (shared/src/credits.rs, functions/billing) ----------------

/// An account's credit balance: `USER#<id>` / `CREDITS` (`balance`, the
/// `period` (`yyyy-mm`) its monthly allowance was last renewed for). Access:
/// a strongly consistent get on every spend and `GET /api/credits`; changed
/// only inside a transaction that also writes a [`ledger_entry`].
pub fn credits(user_id: &UserId) -> Key {
    Key::new(user_partition(user_id), "CREDITS")
}

/// The prefix of every ledger entry's sort key in its account's partition.
pub const LEDGER_PREFIX: &str = "LEDGER#";

/// One ledger entry (append-only: written once with `NotExists`, never
/// changed): `USER#<id>` / `LEDGER#<ulid>`. Access: the account's ledger,
/// newest first (query `LEDGER#` backward, paginated).
pub fn ledger_entry(user_id: &UserId, entry_id: &str) -> Key {
    Key::new(user_partition(user_id), format!("{LEDGER_PREFIX}{entry_id}"))
}

/// A Stripe event applied: `STRIPE-EVENT#<event id>` / `EVENT`, put with
/// `NotExists` in the transaction that applies the event, so each event
/// changes balances once however often Stripe sends it.
pub fn stripe_event(event_id: &str) -> Key {
    Key::new(format!("STRIPE-EVENT#{event_id}"), "EVENT")
}

/// A payment that granted credits: `PAYMENT#<payment intent id>` / `PAYMENT`
/// (account, credits, pack, `takenBack`). Written with the grant; a refund
/// or dispute of the payment reads it to take back what was granted, once.
pub fn payment(payment_id: &str) -> Key {
    Key::new(format!("PAYMENT#{payment_id}"), "PAYMENT")
}

// ---- the social layer (shared/src/social, functions/social, functions/profiles) ------
// docs/social.md lists every item below with the access patterns it serves.

/// The public feed's partition (GSI2): public posts and public scenarios,
/// not hidden, sort key `<publishedAt>#<id>`; `GET /api/feed/latest` reads
/// one page of it backward, trending reads a time window of it.
pub const FEED: &str = "FEED";

/// The GSI2 key of an entry of the public feed.
pub fn feed_entry(published_at: &str, id: &str) -> (String, String) {
    (FEED.to_string(), format!("{published_at}#{id}"))
}

/// The GSI1 key of an author's activity: their posts (any visibility) and
/// public scenarios, newest first: `ACTIVITY#<user>` / `<publishedAt>#<id>`.
/// The following feed reads the first page of each followed account's.
pub fn activity_entry(user_id: &UserId, published_at: &str, id: &str) -> (String, String) {
    (activity_of(user_id), format!("{published_at}#{id}"))
}

/// The GSI1 partition of an author's activity.
pub fn activity_of(user_id: &UserId) -> String {
    format!("ACTIVITY#{user_id}")
}

/// A public scenario's entry in the feeds: `PUBSCN#<scenarioId>` / `FEED`
/// (title, summary, owner, counters), with GSI1 [`activity_entry`] and GSI2
/// [`feed_entry`]. Written in the transaction that makes the scenario public
/// (and rewritten by each edit while it stays so), deleted in the one that
/// makes it private, hidden or deleted.
pub fn public_scenario(scenario_id: &ScenarioId) -> Key {
    Key::new(format!("PUBSCN#{scenario_id}"), "FEED")
}

/// An account's social counters: `USER#<id>` / `SOCIAL` (`followers`,
/// `following`, `posts`, `scenarios`, `likesReceived`, `comments`, and `rev`,
/// added to with each of them). Changed only by atomic ADD, in the
/// transaction that makes what they count.
pub fn social_stats(user_id: &UserId) -> Key {
    Key::new(user_partition(user_id), "SOCIAL")
}

/// An account's row on one leaderboard: `USER#<id>` / `BOARD#<board>`, with
/// GSI1 [`board_entry`]. Rewritten from the counters after they change, only
/// by a newer `rev`, so the last state wins.
pub fn board_row(user_id: &UserId, board: &str) -> Key {
    Key::new(user_partition(user_id), format!("BOARD#{board}"))
}

/// The GSI1 key of a leaderboard row: `BOARD#<board>` / `<score, 12 digits>#<user>`;
/// a backward query reads the board from the top.
pub fn board_entry(board: &str, score: u64, user_id: &UserId) -> (String, String) {
    (board_partition(board), format!("{:012}#{user_id}", score.min(999_999_999_999)))
}

/// The GSI1 partition of one leaderboard.
pub fn board_partition(board: &str) -> String {
    format!("BOARD#{board}")
}

/// A word of a profile's name (folded: lower case, no diacritics), for
/// profile search: `PWORD#<first two characters>` / `<word>#<userId>`.
/// A search of `q` queries the partition of its first two characters with
/// the sort key beginning with `q` (a prefix of a word).
pub fn profile_word(word: &str, user_id: &UserId) -> Key {
    Key::new(profile_words(word), format!("{word}#{user_id}"))
}

/// The partition of the profile words that begin like `word` (its first two characters).
pub fn profile_words(word: &str) -> String {
    let head: String = word.chars().take(2).collect();
    format!("PWORD#{head}")
}

/// A follow: `FOLLOW#<follower>#<followee>` / `FOLLOW`, with GSI1
/// [`following_entry`] and GSI2 [`follower_entry`]. Put with `NotExists`
/// and deleted with `Exists`, each in one transaction with both accounts'
/// counters, so the counts are exact however many requests race.
pub fn follow(follower: &UserId, followee: &UserId) -> Key {
    Key::new(format!("FOLLOW#{follower}#{followee}"), "FOLLOW")
}

/// The GSI1 key of a follow in its follower's list: `FOLLOWING#<follower>` / `<at>#<followee>`.
pub fn following_entry(follower: &UserId, at: &str, followee: &UserId) -> (String, String) {
    (following_of(follower), format!("{at}#{followee}"))
}

/// The GSI1 partition of the accounts `user_id` follows.
pub fn following_of(user_id: &UserId) -> String {
    format!("FOLLOWING#{user_id}")
}

/// The GSI2 key of a follow in its followee's list: `FOLLOWERS#<followee>` / `<at>#<follower>`.
pub fn follower_entry(followee: &UserId, at: &str, follower: &UserId) -> (String, String) {
    (followers_of(followee), format!("{at}#{follower}"))
}

/// The GSI2 partition of the accounts that follow `user_id`.
pub fn followers_of(user_id: &UserId) -> String {
    format!("FOLLOWERS#{user_id}")
}

/// The partition of an account's notifications: `NOTIF#<user>`.
pub fn notifications_of(user_id: &UserId) -> String {
    format!("NOTIF#{user_id}")
}

/// A notification: `NOTIF#<user>` / `U#<id>` while unread, `R#<id>` once
/// read (marking it read moves it). `R` sorts before `U`, so one backward
/// query of the partition reads the unread ones newest first, then the read
/// ones newest first; `unreadOnly` queries `U#`. TTL 90 days.
pub fn notification(user_id: &UserId, read: bool, id: &str) -> Key {
    Key::new(notifications_of(user_id), format!("{}{id}", if read { NOTE_READ } else { NOTE_UNREAD }))
}

/// The sort-key prefix of unread notifications.
pub const NOTE_UNREAD: &str = "U#";
/// The sort-key prefix of read notifications.
pub const NOTE_READ: &str = "R#";

/// The unread notification that gathers a burst: `NOTEGROUP#<user>#<kind>#<target>` /
/// `GROUP` → its id, TTL 1 hour. While it lives, another like of the same
/// target adds to that notification instead of making a new one.
pub fn notification_group(user_id: &UserId, kind: &str, target: &str) -> Key {
    Key::new(format!("NOTEGROUP#{user_id}#{kind}#{target}"), "GROUP")
}

/// The prefix of achievements' sort keys in their account's partition.
pub const ACHIEVEMENT_PREFIX: &str = "ACH#";

/// An achievement earned: `USER#<id>` / `ACH#<code>`, put with `NotExists`
/// (each is earned once; the item keeps when).
pub fn achievement(user_id: &UserId, code: &str) -> Key {
    Key::new(user_partition(user_id), format!("{ACHIEVEMENT_PREFIX}{code}"))
}

// ---- operations: jobs by status, the stats counters (shared/src/stats.rs, functions/operations) ----

/// The GSI2 partition of the jobs in one status: `JOBS#<status>`. Access: the
/// admin's job list, newest first, one status at a time (never a scan).
pub fn jobs_in_status(status: &str) -> String {
    format!("JOBS#{status}")
}

/// The GSI2 key of a job: `JOBS#<status>` / `<createdAt>#<id>`, written with
/// the job and moved (the partition) by every change of its status.
pub fn job_by_status(status: &str, created_at: &str, job_id: &str) -> (String, String) {
    (jobs_in_status(status), format!("{created_at}#{job_id}"))
}

/// How many items the counters are spread over: a transaction adds to one
/// shard at random, so concurrent transactions rarely touch the same item.
pub const STATS_SHARDS: u32 = 8;

/// One shard of the counters: `STATS#<shard>` / `COUNTERS`, one numeric
/// attribute per counter (`users.status.active`, `jobs.status.failed`, ...).
/// Access: an `ADD` in the transaction of what it counts; read as one batch
/// get of every shard ([`stats_shards`]), summed.
pub fn stats_shard(shard: u32) -> Key {
    Key::new(format!("STATS#{}", shard % STATS_SHARDS), "COUNTERS")
}

/// Every shard of the counters.
pub fn stats_shards() -> Vec<Key> {
    (0..STATS_SHARDS).map(stats_shard).collect()
}

/// One day's model usage: `STATSDAY#<yyyy-mm-dd>` / `USAGE`, `tokens.<provider>`
/// and `costMicroUsd.<provider>` by `ADD` after each model answer. Access: a
/// batch get of the days asked for.
pub fn stats_day(day: &str) -> Key {
    Key::new(format!("STATSDAY#{day}"), "USAGE")
}

// ---- admin and moderation (shared/src/audit.rs, functions/admin) -------------------

/// An audit entry (append-only: put once with `NotExists`, never changed or
/// deleted; no account's deletion touches it): `AUDIT#<yyyy-mm>` / `<ulid>`,
/// with GSI1 [`audit_by_actor`] and GSI2 [`audit_on_target`]. Access: a time
/// range reads its months backward; an actor's or a target's entries, newest
/// first, one query each.
pub fn audit_entry(month: &str, entry_id: &str) -> Key {
    Key::new(audit_month(month), entry_id)
}

/// The partition of one month's audit entries (`yyyy-mm`, UTC).
pub fn audit_month(month: &str) -> String {
    format!("AUDIT#{month}")
}

/// The GSI1 key of an audit entry: its actor's entries (`system` for none).
pub fn audit_by_actor(actor: &str, entry_id: &str) -> (String, String) {
    (audit_of_actor(actor), entry_id.to_string())
}

/// The GSI1 partition of an actor's audit entries.
pub fn audit_of_actor(actor: &str) -> String {
    format!("AUDITBY#{actor}")
}

/// The GSI2 key of an audit entry: its target's entries.
pub fn audit_on_target(target_type: &str, target_id: &str, entry_id: &str) -> (String, String) {
    (audit_of_target(target_type, target_id), entry_id.to_string())
}

/// The GSI2 partition of a target's audit entries.
pub fn audit_of_target(target_type: &str, target_id: &str) -> String {
    format!("AUDITON#{target_type}#{target_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avatar_uploads_wait_under_the_expiring_prefix() {
        assert_eq!(TMP_AVATARS, format!("{TMP}{AVATARS}"));
        let u1 = UserId::from_trusted("u1");
        assert_eq!(avatar_uploads_of(&u1), format!("{TMP}{}", avatars_of(&u1)));
    }

    #[test]
    fn search_items_spread_over_every_shard_and_each_stays_in_its_own() {
        let u1 = UserId::from_trusted("u1");
        let ids: Vec<ScenarioId> = (0..200).map(|i| ScenarioId::from_trusted(format!("01JD{i:022}"))).collect();
        let partitions: std::collections::HashSet<String> = ids.iter().map(|id| scenario_terms(&u1, id).pk).collect();
        assert_eq!(partitions.len(), TERMS_SHARDS as usize, "every shard is used");
        let all: std::collections::HashSet<String> = scenario_terms_partitions(&u1).into_iter().collect();
        assert_eq!(partitions, all, "and search reads exactly those");
        assert_eq!(scenario_terms(&u1, &ids[7]), scenario_terms(&u1, &ids[7]), "one id, one key");
        // FNV-1a 32 of "01ABC" is 0x84b4c66e (computed independently), mod 8 = 6.
        assert_eq!(
            scenario_terms(&u1, &ScenarioId::from_trusted("01ABC")).pk,
            "TERMS#u1#6",
            "stable across builds (FNV-1a)"
        );
    }
}
