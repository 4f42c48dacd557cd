//! What the benchmark's commands share that is worth a test of its own.
//! (The commands live in the `whatif-bench` binary; the suite runs library tests.)

pub mod symbols;
