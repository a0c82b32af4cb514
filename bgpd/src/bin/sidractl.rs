//! `sidractl`: the sidra operator CLI.

fn main() {}
