//! `whatif-lambda`: the one binary every Lambda function of the system runs.
//! It serves the function its handler (`_HANDLER`) names; see `whatif_app::lambda`.
//!
//! One thread runs the function: Lambda hands a process one event at a
//! time, and what runs at once inside an event (the checks beside a read,
//! a batch's jobs) is futures on that thread; CPU work (password hashing,
//! rendering) goes to tokio's blocking threads or to its own process. A
//! second worker thread would only add its stack and its allocator arena to
//! every function's memory.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    whatif_app::lambda::run().await
}
