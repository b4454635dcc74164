//! Printing results: JSON for machines, aligned `key: value` lines for people.

use std::io::{ErrorKind, Write};

use anyhow::Result;
use serde_json::Value;

/// Prints `value` as pretty JSON, or as one `path: value` line per leaf.
pub fn print(value: &Value, json: bool) -> Result<()> {
    if json {
        return print_text(&serde_json::to_string_pretty(value)?);
    }
    let mut lines = Vec::new();
    flatten(value, String::new(), &mut lines);
    let width = lines.iter().map(|(key, _)| key.len()).max().unwrap_or(0);
    let text: Vec<String> = lines
        .into_iter()
        .map(|(key, text)| format!("{key:<width$}  {text}"))
        .collect();
    print_text(&text.join("\n"))
}

/// Writes `text` and a newline to standard output; a reader that went away
/// (`netswim ... | head`) is not an error.
pub fn print_text(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

fn flatten(value: &Value, path: String, lines: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten(child, child_path, lines);
            }
        }
        Value::Array(items)
            if items
                .iter()
                .all(|item| !item.is_object() && !item.is_array()) =>
        {
            let texts: Vec<String> = items.iter().map(scalar).collect();
            lines.push((path, texts.join(", ")));
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                flatten(child, format!("{path}[{index}]"), lines);
            }
        }
        Value::Null => {}
        scalar_value => lines.push((path, scalar(scalar_value))),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}
