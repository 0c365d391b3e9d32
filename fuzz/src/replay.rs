//! Replay inputs through the fuzz code on stable Rust:
//! `cargo run --release --bin replay -- PATH...` (files or directories).
//! Exits non-zero (with the panic message) on the first input that fails.

use std::path::{Path, PathBuf};

fn main() {
    let mut inputs = Vec::new();
    for arg in std::env::args().skip(1) {
        collect(Path::new(&arg), &mut inputs);
    }
    if inputs.is_empty() {
        eprintln!("usage: replay PATH... (files or directories of fuzz inputs)");
        std::process::exit(2);
    }
    for input in &inputs {
        let data = match std::fs::read(input) {
            Ok(data) => data,
            Err(error) => {
                eprintln!("{}: {error}", input.display());
                std::process::exit(2);
            }
        };
        if std::panic::catch_unwind(|| rbuild_fuzz::exercise(&data)).is_err() {
            eprintln!("FAILED on {}", input.display());
            std::process::exit(1);
        }
    }
    println!("{} inputs replayed, no failure", inputs.len());
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        if let Ok(entries) = std::fs::read_dir(path) {
            let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            entries.sort();
            for entry in entries {
                collect(&entry, out);
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
}
