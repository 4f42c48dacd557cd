//! A fake model provider on 127.0.0.1 that speaks all four wire protocols
//! the engine calls, chosen by the request's path as the real services do:
//!
//! - OpenAI chat completions: `POST /v1/chat/completions`
//! - Anthropic Messages: `POST /v1/messages`
//! - Gemini: `POST /v1beta/models/{model}:generateContent`
//! - Bedrock Converse: `POST /model/{modelId}/converse`
//!
//! It answers with a valid scenario about the topic it was asked about, with
//! token usage, in that protocol's shape; or, per protocol's [`Mode`], with the
//! protocol's 500 / 429 (`Retry-After`), or not at all for a while.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::fake_http::{self, Answer, Served};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

/// How the fake answers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Ok,
    /// 500 with the protocol's error body.
    Down,
    /// 429 with `Retry-After: 7`.
    RateLimited,
    /// Waits this long, then answers as `Ok`.
    Slow(Duration),
}

#[derive(Default)]
struct State {
    /// By protocol; `Ok` when unset.
    modes: Mutex<HashMap<&'static str, Mode>>,
    /// Requests seen, by protocol (`openai`, `anthropic`, `gemini`, `bedrock`).
    calls: Mutex<HashMap<&'static str, usize>>,
}

pub struct FakeModel {
    pub base_url: String,
    state: Arc<State>,
    _served: Served,
}

impl FakeModel {
    pub async fn start() -> FakeModel {
        let state = Arc::new(State::default());
        let served = fake_http::serve(state.clone(), answer).await;
        FakeModel { base_url: served.base_url.clone(), state, _served: served }
    }

    /// How `protocol` (`openai`, `anthropic`, `gemini`, `bedrock`) answers from now on.
    pub fn set_mode(&self, protocol: &'static str, mode: Mode) {
        self.state.modes.lock().unwrap().insert(protocol, mode);
    }

    /// Requests seen by `protocol`.
    pub fn calls(&self, protocol: &str) -> usize {
        self.state.calls.lock().unwrap().get(protocol).copied().unwrap_or(0)
    }

    /// The engine's variables for a chain of `providers` (any of `openai`,
    /// `anthropic`, `gemini`, `bedrock`, `offline`) all pointing here.
    pub fn env(&self, providers: &str) -> HashMap<String, String> {
        let mut env: HashMap<String, String> = [
            ("WHATIF_MODEL_PROVIDERS", providers),
            ("WHATIF_OPENAI_BASE_URL", &self.base_url),
            ("OPENAI_API_KEY", "sk-test"),
            ("WHATIF_ANTHROPIC_BASE_URL", &self.base_url),
            ("ANTHROPIC_API_KEY", "sk-ant-test"),
            ("WHATIF_GEMINI_BASE_URL", &self.base_url),
            ("GEMINI_API_KEY", "gm-test"),
            ("WHATIF_BEDROCK_BASE_URL", &self.base_url),
            ("WHATIF_BEDROCK_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            ("WHATIF_MODEL_BREAKER_FAILURES", "1"),
            ("WHATIF_MODEL_BREAKER_COOLDOWN_SECS", "600"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for timeout in ["OPENAI", "ANTHROPIC", "GEMINI", "BEDROCK"] {
            env.insert(format!("WHATIF_{timeout}_TIMEOUT_MS"), "60000".into());
        }
        env
    }
}

fn protocol(path: &str) -> Option<&'static str> {
    if path == "/v1/chat/completions" {
        Some("openai")
    } else if path == "/v1/messages" {
        Some("anthropic")
    } else if path.starts_with("/v1beta/models/") && path.ends_with(":generateContent") {
        Some("gemini")
    } else if path.starts_with("/model/") && path.ends_with("/converse") {
        Some("bedrock")
    } else {
        None
    }
}

async fn answer(state: Arc<State>, req: Request<Incoming>) -> Answer {
    let path = req.uri().path().to_string();
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(protocol) = protocol(&path) else {
        return Ok(reply(404, json!({"error": {"message": format!("no route {path}")}}), None));
    };
    *state.calls.lock().unwrap().entry(protocol).or_default() += 1;
    let mode = state.modes.lock().unwrap().get(protocol).copied().unwrap_or(Mode::Ok);
    match mode {
        Mode::Down => return Ok(reply(500, error(protocol, "internal server error"), None)),
        Mode::RateLimited => return Ok(reply(429, error(protocol, "rate limited"), Some("7"))),
        Mode::Slow(wait) => tokio::time::sleep(wait).await,
        Mode::Ok => {}
    }
    let text = scenario_text(&request_text(&request));
    let body = match protocol {
        "openai" => json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "model": "gpt-4o-mini-2024-07-18",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 400, "completion_tokens": 300, "total_tokens": 700}
        }),
        "anthropic" => json!({
            "id": "msg_fake", "type": "message", "role": "assistant", "model": "claude-haiku-4-5-20251001",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 400, "output_tokens": 300}
        }),
        "gemini" => json!({
            "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 400, "candidatesTokenCount": 300, "totalTokenCount": 700},
            "modelVersion": "gemini-2.5-flash"
        }),
        _ => json!({
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 400, "outputTokens": 300, "totalTokens": 700},
            "metrics": {"latencyMs": 812}
        }),
    };
    Ok(reply(200, body, None))
}

fn error(protocol: &str, message: &str) -> Value {
    match protocol {
        "anthropic" => json!({"type": "error", "error": {"type": "api_error", "message": message}}),
        "gemini" => json!({"error": {"code": 500, "status": "INTERNAL", "message": message}}),
        "bedrock" => json!({"message": message}),
        _ => json!({"error": {"message": message, "type": "server_error", "code": null}}),
    }
}

fn reply(status: u16, body: Value, retry_after: Option<&str>) -> Response<Full<Bytes>> {
    let mut builder = Response::builder().status(status).header("content-type", "application/json");
    if let Some(wait) = retry_after {
        builder = builder.header("retry-after", wait);
    }
    builder.body(Full::new(Bytes::from(body.to_string()))).expect("a response")
}

/// All the text of the request (every protocol nests it differently).
fn request_text(request: &Value) -> String {
    let mut out = String::new();
    collect_strings(request, &mut out);
    out
}

fn collect_strings(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

/// A scenario about what sits inside the prompt's `<topic>` tag.
fn scenario_text(prompt: &str) -> String {
    // The system text mentions "<topic> tags" too; the question is the tag that closes.
    let topic = prompt
        .split("<topic>")
        .skip(1)
        .find_map(|rest| rest.split_once("</topic>").map(|(inside, _)| inside.trim()))
        .filter(|t| !t.is_empty())
        .unwrap_or("the question");
    json!({
        "title": format!("The world after: {topic}"),
        "summary": format!("A careful look at {topic}, and where it could lead."),
        "sections": [
            {"heading": "The first day", "body": format!("The news of {topic} spreads fast.")},
            {"heading": "A year on", "body": "Habits change, then institutions follow."},
            {"heading": "A generation later", "body": "Children cannot imagine it any other way."}
        ],
        "choices": [
            {"id": "a", "text": "Follow the scientists who saw it coming."},
            {"id": "b", "text": "Follow a family that refuses to change."}
        ]
    })
    .to_string()
}
