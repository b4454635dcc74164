//! Measures how many ground-truth fields of the development corpus
//! (ntc-templates and genieparser expectations, see `corpus/ATTRIBUTION.md`)
//! netswim's parsers reproduce, and fails below 97 %.
//!
//! Every leaf of every ground-truth file counts once. A mapper (one per
//! corpus folder, in `corpus_map/`) translates a ground-truth path into the
//! place netswim keeps that fact; unmapped leaves count as misses.
//!
//! `CORPUS_ONLY=<substring>` limits the run to matching folders;
//! `CORPUS_VERBOSE=1` prints every miss.

mod corpus_map;

use std::path::{Path, PathBuf};

use corpus_map::{Seg, suites};
use netswim_domain::Os;
use serde_json::{Value, json};

const REQUIRED_PERCENT: f64 = 97.0;

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// Runs the parser the way `netswim parse --json` does and returns its envelope.
fn run_parser(os: Option<Os>, command: &str, raw: &str) -> Value {
    let os = match os {
        Some(os) => Some(os),
        None => netswim_parse::detect_os(raw),
    };
    let Some(os) = os else {
        return json!({ "os": null, "command": command, "data": null });
    };
    match netswim_parse::parse(os, command, raw) {
        Ok(parsed) => json!({
            "os": os.as_str(),
            "command": command,
            "data": serde_json::to_value(parsed).unwrap_or(Value::Null),
        }),
        Err(error) => {
            json!({ "os": os.as_str(), "command": command, "data": null, "error": error.to_string() })
        }
    }
}

/// Flattens a ground-truth value into (path, leaf) pairs; an empty list or
/// map is one leaf (netswim must then report nothing there).
fn leaves(value: &Value, path: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(Seg::Key(key.clone()));
                leaves(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (index, child) in items.iter().enumerate() {
                path.push(Seg::Index(index));
                leaves(child, path, out);
                path.pop();
            }
        }
        leaf => out.push((path.clone(), leaf.clone())),
    }
}

/// Text form of a scalar for comparison; `None` for "nothing".
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => {
            let text = text.trim();
            (!text.is_empty()).then(|| text.to_string())
        }
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Array(items) if items.is_empty() => None,
        Value::Object(map) if map.is_empty() => None,
        other => Some(other.to_string()),
    }
}

fn same(truth: &Value, ours: Option<&Value>) -> bool {
    scalar_text(truth) == ours.and_then(scalar_text)
}

fn path_text(path: &[Seg]) -> String {
    path.iter()
        .map(|seg| match seg {
            Seg::Key(key) => format!(".{key}"),
            Seg::Index(index) => format!("[{index}]"),
        })
        .collect()
}

#[test]
fn parsers_reproduce_at_least_97_percent_of_corpus_fields() {
    let only = std::env::var("CORPUS_ONLY").ok();
    let verbose = std::env::var("CORPUS_VERBOSE").is_ok();
    let (mut all_matched, mut all_total) = (0usize, 0usize);
    let mut report = Vec::new();
    for suite in suites() {
        if only
            .as_deref()
            .is_some_and(|only| !suite.dir.contains(only))
        {
            continue;
        }
        let dir = corpus_root().join(suite.dir);
        let mut raws: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "raw"))
            .collect();
        raws.sort();
        assert!(!raws.is_empty(), "no cases in {}", dir.display());
        let (mut matched, mut total) = (0usize, 0usize);
        for raw_path in raws {
            let raw = std::fs::read_to_string(&raw_path).expect("raw case is UTF-8");
            let truth_path = raw_path.with_extension("json");
            let truth: Value = serde_json::from_str(
                &std::fs::read_to_string(&truth_path).expect("ground truth beside the raw case"),
            )
            .expect("ground truth is JSON");
            let ours = run_parser(suite.os, suite.command, &raw);
            let mut pairs = Vec::new();
            leaves(&truth, &mut Vec::new(), &mut pairs);
            for (path, leaf) in pairs {
                total += 1;
                let found = (suite.mapper)(&path, &ours);
                if same(&leaf, found.as_ref()) {
                    matched += 1;
                } else if verbose {
                    println!(
                        "MISS {}/{} {}: truth={} ours={}{}",
                        suite.dir,
                        raw_path
                            .file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default(),
                        path_text(&path),
                        leaf,
                        found.map(|v| v.to_string()).unwrap_or_else(|| "-".into()),
                        ours.get("error")
                            .map(|e| format!(" (error: {e})"))
                            .unwrap_or_default(),
                    );
                }
            }
        }
        report.push(format!(
            "{:>6.1}% {:>5}/{:<5} {}",
            percent(matched, total),
            matched,
            total,
            suite.dir
        ));
        all_matched += matched;
        all_total += total;
    }
    println!("{}", report.join("\n"));
    let overall = percent(all_matched, all_total);
    println!("corpus: {all_matched}/{all_total} fields reproduced ({overall:.2}%)");
    if only.is_none() {
        assert!(
            overall >= REQUIRED_PERCENT,
            "parsers reproduce {overall:.2}% of corpus fields, below {REQUIRED_PERCENT}%"
        );
    }
}

fn percent(matched: usize, total: usize) -> f64 {
    if total == 0 {
        100.0
    } else {
        matched as f64 * 100.0 / total as f64
    }
}
