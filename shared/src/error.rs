//! The one error type of the API, and the one place it becomes HTTP.
//!
//! Handlers return `Result<Reply, ApiError>`; `ApiError::into_response` writes
//! the envelope of API.md. Internal detail is logged, never sent.

use http::StatusCode;
use serde::Serialize;
use serde_json::json;

use crate::ports::StoreError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub errors: Vec<FieldError>,
    /// Seconds; sent as `Retry-After` and `retryAfter`.
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), errors: Vec::new(), retry_after: None }
    }

    /// 400 with one field error.
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", format!("{field}: {message}")).with_field(field, message)
    }

    /// 400 with several field errors.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let mut err = Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", "The request is not valid");
        err.errors = errors;
        err
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }
    /// 404, also for things the caller may not see.
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("{what} not found"))
    }
    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "This method is not allowed on this path")
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", format!("The body is over {limit} bytes"))
    }
    pub fn unsupported_media_type() -> Self {
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json")
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    pub fn locked(message: impl Into<String>, retry_after: u64) -> Self {
        Self::new(StatusCode::LOCKED, "LOCKED", message).retry_after(retry_after)
    }
    pub fn rate_limited(retry_after: u64) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", "Too many requests, try again later")
            .retry_after(retry_after)
    }
    pub fn payment_required(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYMENT_REQUIRED, "INSUFFICIENT_CREDITS", message)
    }
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", message)
    }

    /// 500. `detail` goes to the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "Something went wrong on our side")
    }

    pub fn with_field(mut self, field: &str, message: impl Into<String>) -> Self {
        self.errors.push(FieldError { field: field.to_string(), message: message.into() });
        self
    }

    /// Replaces the message (the field errors stay).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Replaces the machine code (e.g. `TOKEN_EXPIRED` for a 401).
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// The envelope body of API.md.
    pub fn body(&self, request_id: &str) -> serde_json::Value {
        let mut body = json!({
            "success": false,
            "message": self.message,
            "code": self.code,
            "requestId": request_id,
        });
        if !self.errors.is_empty() {
            body["errors"] = json!(self.errors);
        }
        if let Some(seconds) = self.retry_after {
            body["retryAfter"] = json!(seconds);
        }
        body
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(detail) => {
                tracing::error!(error = %detail, "dependency unavailable");
                ApiError::unavailable("A service we depend on is unavailable, try again shortly")
            }
            StoreError::ConditionFailed | StoreError::TransactionCanceled { .. } => {
                ApiError::conflict("CONFLICT", "The resource changed meanwhile, try again")
            }
            StoreError::Invalid(detail) => ApiError::internal(format!("store refused a request: {detail}")),
            // A missing grant is a bug of the row, not of the request: a 500
            // whose log line says what to add (never sent to the client).
            StoreError::AccessDenied(detail) => ApiError::internal(format!("access denied: {detail}")),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_the_fields_of_the_contract() {
        let body = ApiError::validation("email", "is not an email address").body("req-1");
        assert_eq!(body["success"], false);
        assert_eq!(body["code"], "VALIDATION_ERROR");
        assert_eq!(body["requestId"], "req-1");
        assert_eq!(body["errors"][0]["field"], "email");
        let limited = ApiError::rate_limited(30).body("r");
        assert_eq!(limited["retryAfter"], 30);
    }

    #[test]
    fn store_failures_never_leak_their_detail() {
        let err: ApiError = StoreError::Unavailable("dynamodb: secret-table-name timed out".into()).into();
        assert_eq!(err.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(!err.message.contains("secret-table-name"));
        let err: ApiError = StoreError::Invalid("key attributes must be ...".into()).into();
        assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!err.message.contains("key attributes"));
        let err: ApiError =
            StoreError::AccessDenied("function `history-get` is not granted TableWrite for PutItem on USER#1".into())
                .into();
        assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(err.code, "INTERNAL_ERROR");
        assert!(!err.message.contains("history-get") && !err.message.contains("TableWrite"));
    }
}

/// Collects the field errors of a whole body, so one 400 names every bad field.
#[derive(Debug, Default)]
pub struct Validation(Vec<FieldError>);

impl Validation {
    /// Keeps the value, or records why it is invalid.
    pub fn check<T>(&mut self, result: ApiResult<T>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) if err.errors.is_empty() => {
                self.0.push(FieldError { field: "body".into(), message: err.message });
                None
            }
            Err(err) => {
                self.0.extend(err.errors);
                None
            }
        }
    }

    /// 400 naming every recorded field, or Ok.
    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::invalid_fields(self.0)) }
    }
}
