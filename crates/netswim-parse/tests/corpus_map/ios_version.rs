//! Corpus mappers (see `mod.rs`).

use serde_json::Value;

use super::Seg;

pub fn ntc_show_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_show_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}
