//! Criterion benchmarks of the file home (placeholder).

fn main() {}
