//! Corpus mappers (see `mod.rs`).

use serde_json::Value;

use super::Seg;

pub fn ntc_xr_show_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_xr_show_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_nxos_show_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_nxos_show_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_junos_show_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_junos_show_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_vrp_display_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_vrp_display_startup(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_vrp_display_patch_information(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_generic_show_version(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}
