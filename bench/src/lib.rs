//! Whole-daemon benchmark harness (issue 8).
