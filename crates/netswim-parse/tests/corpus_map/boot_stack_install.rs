//! Corpus mappers (see `mod.rs`).

use serde_json::Value;

use super::Seg;

pub fn ntc_show_boot(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_show_boot(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_show_bootvar(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_show_boot_system(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_nxos_show_boot(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_aireos_show_boot(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_wlc_show_boot(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_wlc_show_ap_image_all(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_show_ap_image(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_show_switch_detail(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_show_switch(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_show_switch_detail(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_iosxe_show_install_summary(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_iosxe_show_install_state(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn ntc_xr_show_install_active(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_xr_show_install_active_summary(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_nxos_show_install_active(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_nxos_show_install_all_status(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}

pub fn genie_show_issu_state_detail(_path: &[Seg], _ours: &Value) -> Option<Value> {
    None
}
