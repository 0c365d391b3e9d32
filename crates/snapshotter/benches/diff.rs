//! Diff benchmark (filled in below the content store work).
fn main() {}
