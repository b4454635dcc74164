//! Corpus mappers (see `mod.rs`).

use serde_json::Value;

use super::Seg;

pub fn ntc_dir(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_dir(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_junos_file_list(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_show_file_systems(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_show_inventory(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}
