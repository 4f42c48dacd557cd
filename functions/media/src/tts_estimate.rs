//! `POST /api/tts/estimate-duration`: how long a text takes to say at a
//! speaking rate, computed from its words and sentences (no synthesis).

use std::sync::Arc;

use whatif_shared::context::AppContext;
use whatif_shared::{ApiError, ApiRequest, ApiResult, Reply};

use crate::narrate::{Estimate, EstimateBody, check_rate, estimate_seconds};
use crate::tts_generate::MAX_TEXT_CHARS;

pub async fn handle(_ctx: Arc<AppContext>, req: ApiRequest) -> ApiResult<Reply> {
    let body: EstimateBody = req.json()?;
    let rate = check_rate(body.speaking_rate, "speakingRate")?;
    let characters = body.text.chars().count();
    if characters > MAX_TEXT_CHARS {
        return Err(ApiError::validation("text", format!("must be at most {MAX_TEXT_CHARS} characters")));
    }
    let seconds = (estimate_seconds(&body.text, rate) * 10.0).round() / 10.0;
    Ok(Reply::ok(Estimate { seconds, words: body.text.split_whitespace().count(), characters }))
}
