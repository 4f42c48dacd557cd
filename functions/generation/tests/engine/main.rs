//! The engine's tests in one binary: provider adapters against fake servers,
//! the fallback chain, the offline provider and the service layer.

mod anthropic;
mod bedrock;
mod chain;
mod common;
mod gemini;
mod offline;
mod openai;
mod service;
