//! A fake of Stripe's API on 127.0.0.1, speaking its wire format for what
//! the billing service calls: `POST /v1/checkout/sessions` with a
//! form-encoded body and `Authorization: Bearer sk_...`, answered with a
//! Checkout Session as JSON. It checks the form as Stripe would (required
//! fields, `mode`, a line item with a price or price data), replays a known
//! `Idempotency-Key` with the first answer (`Idempotent-Replayed: true`),
//! refuses the key reused with another body (400 `idempotency_error`), and
//! answers Stripe's JSON errors (`{"error": {"type", "message"}}`): 401 for a
//! bad key, 400 for a bad form, and, on demand, 429 or a slow answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::fake_http::{self, Answer, Served};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{Value, json};

/// The secret key the fake accepts.
pub const SECRET_KEY: &str = "sk_test_fake_51Whatif";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    Ok,
    /// 429 `rate_limit_error`, with `Retry-After: 2`.
    RateLimited,
    /// 500 `api_error`.
    Down,
    /// Waits this long, then answers as `Ok`.
    Slow(Duration),
}

/// A form body, field by field, in order.
type Form = Vec<(String, String)>;

#[derive(Default)]
struct State {
    mode: Mutex<Option<Mode>>,
    /// Idempotency key → (the form it came with, the answer).
    replays: Mutex<HashMap<String, (Form, Value)>>,
    /// Every form received, in order.
    forms: Mutex<Vec<Form>>,
    created: Mutex<u32>,
}

pub struct FakeStripe {
    pub base_url: String,
    state: Arc<State>,
    _served: Served,
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let state = Arc::new(State::default());
        let served = fake_http::serve(state.clone(), answer).await;
        FakeStripe { base_url: served.base_url.clone(), state, _served: served }
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().unwrap() = Some(mode);
    }

    /// Sessions created (replays not counted).
    pub fn sessions_created(&self) -> u32 {
        *self.state.created.lock().unwrap()
    }

    /// The last form received, as a map.
    pub fn last_form(&self) -> HashMap<String, String> {
        self.state.forms.lock().unwrap().last().cloned().unwrap_or_default().into_iter().collect()
    }
}

fn json_response(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("request-id", "req_fake")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a response")
}

fn error(status: u16, kind: &str, message: &str) -> Response<Full<Bytes>> {
    json_response(status, json!({"error": {"type": kind, "message": message}}))
}

async fn answer(state: Arc<State>, req: Request<Incoming>) -> Answer {
    let (parts, body) = req.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    if parts.method != hyper::Method::POST || parts.uri.path() != "/v1/checkout/sessions" {
        return Ok(error(404, "invalid_request_error", "Unrecognized request URL"));
    }
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    if header("authorization") != format!("Bearer {SECRET_KEY}") {
        return Ok(error(401, "invalid_request_error", "Invalid API Key provided"));
    }
    if !header("content-type").starts_with("application/x-www-form-urlencoded") {
        return Ok(error(400, "invalid_request_error", "Send a form-encoded body"));
    }
    let form: Form = match serde_urlencoded::from_bytes(&bytes) {
        Ok(form) => form,
        Err(_) => return Ok(error(400, "invalid_request_error", "The body is not form-encoded")),
    };
    state.forms.lock().unwrap().push(form.clone());
    let mode = *state.mode.lock().unwrap();
    match mode {
        Some(Mode::RateLimited) => {
            let mut response = error(429, "rate_limit_error", "Too many requests made to the API too quickly");
            response.headers_mut().insert("retry-after", "2".parse().expect("a header"));
            return Ok(response);
        }
        Some(Mode::Down) => return Ok(error(500, "api_error", "An unknown error occurred (internal detail 7f3a)")),
        Some(Mode::Slow(by)) => tokio::time::sleep(by).await,
        _ => {}
    }
    let key = header("idempotency-key");
    if !key.is_empty()
        && let Some((first_form, first_answer)) = state.replays.lock().unwrap().get(&key).cloned()
    {
        if first_form != form {
            return Ok(error(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they were first used with",
            ));
        }
        let mut response = json_response(200, first_answer);
        response.headers_mut().insert("idempotent-replayed", "true".parse().expect("a header"));
        return Ok(response);
    }
    let fields: HashMap<&str, &str> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    for required in ["mode", "success_url", "cancel_url", "line_items[0][quantity]"] {
        if !fields.contains_key(required) {
            return Ok(error(400, "invalid_request_error", &format!("Missing required param: {required}.")));
        }
    }
    if fields["mode"] != "payment" {
        return Ok(error(400, "invalid_request_error", "Invalid mode"));
    }
    let priced = fields.contains_key("line_items[0][price]")
        || ["currency", "unit_amount", "product_data][name"]
            .iter()
            .all(|f| fields.contains_key(format!("line_items[0][price_data][{f}]").as_str()));
    if !priced {
        return Ok(error(400, "invalid_request_error", "A line item needs a price or price_data"));
    }
    let n = {
        let mut created = state.created.lock().unwrap();
        *created += 1;
        *created
    };
    let id = format!("cs_test_fake{n:04}");
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "unpaid",
        "status": "open",
        "client_reference_id": fields.get("client_reference_id"),
        "metadata": {"account_id": fields.get("metadata[account_id]"), "pack": fields.get("metadata[pack]")},
        "success_url": fields["success_url"],
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
    });
    if !key.is_empty() {
        state.replays.lock().unwrap().insert(key, (form, session.clone()));
    }
    Ok(json_response(200, session))
}
