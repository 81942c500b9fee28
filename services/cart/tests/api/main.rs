//! cart against the real Redis and a real catalog (in process, on its own database).
//! One test binary, so the suite links once.

mod bad_input;
mod harness;
mod lines;
mod merge;
mod outage;
