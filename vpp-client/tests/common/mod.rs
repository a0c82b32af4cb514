//! Shared helpers of the integration tests.
#![allow(dead_code)]

pub mod api_json;
pub mod replay;
