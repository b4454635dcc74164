//! Corpus mappers (see `mod.rs`) for IOS / IOS-XE `show version`.
//!
//! netswim keeps genie's key names in `details`, so most genie paths map
//! one to one; the mappers below only translate where ntc or one of genie's
//! three `show version` schemas (ios/iosxe, cat6k/c7600, cat9k) names or
//! nests a fact differently.

use serde_json::Value;

use super::{Seg, get};

/// Walks `data.details` along key segments (keys may contain dots).
fn detail(ours: &Value, keys: &[&str]) -> Option<Value> {
    let mut current = ours.get("data")?.get("details")?;
    for key in keys {
        current = current.get(*key)?;
    }
    Some(current.clone())
}

fn typed(ours: &Value, field: &str) -> Option<Value> {
    get(ours, &format!("data.{field}"))
}

fn first_some(options: [Option<Value>; 2]) -> Option<Value> {
    let [a, b] = options;
    a.or(b)
}

/// Key segments of a path (indexes dropped), as owned strings.
fn key_list(path: &[Seg]) -> Vec<String> {
    path.iter()
        .filter_map(|seg| match seg {
            Seg::Key(key) => Some(key.clone()),
            Seg::Index(_) => None,
        })
        .collect()
}

fn stack(ours: &Value) -> Vec<Value> {
    typed(ours, "stack")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

/// The stack member with this number.
fn member(ours: &Value, number: &str) -> Option<Value> {
    stack(ours)
        .into_iter()
        .find(|m| m.get("member").map(|n| n.to_string()) == Some(number.to_string()))
}

/// The member the first hardware block describes: the active one, else the only one.
fn local_member(ours: &Value) -> Option<Value> {
    let members = stack(ours);
    members
        .iter()
        .find(|m| m.pointer("/details/active").and_then(Value::as_str) == Some("true"))
        .or(members.first())
        .cloned()
}

/// A field of one member: typed where netswim types it, else its details.
fn member_field(member: &Value, key: &str) -> Option<Value> {
    match key {
        "model" => member.get("model").cloned(),
        "sw_ver" => member.get("version").cloned(),
        "sw_image" => member.get("image").cloned(),
        other => member.get("details")?.get(other).cloned(),
    }
}

/// The interface count whose kind, written genie's older way, is `key`.
fn interface_count(ours: &Value, key: &str, suffix: &str) -> Option<Value> {
    let counts = detail(ours, &["number_of_intfs"])?;
    counts
        .as_object()?
        .iter()
        .find(|(kind, _)| {
            let snake = kind.to_lowercase().replace([' ', '-', '/'], "_");
            format!("{snake}{suffix}") == key || snake.replace('_', "") == key
        })
        .map(|(_, count)| count.clone())
}

/// The last element of a details list (genie keeps the last of repeated lines).
fn last_of(ours: &Value, list: &str, field: Option<&str>) -> Option<Value> {
    let last = detail(ours, &[list])?.as_array()?.last()?.clone();
    match field {
        Some(field) => last.get(field).cloned(),
        None => Some(last),
    }
}

/// Facts all genie schemas name alike.
fn genie_common(keys: &[&str], ours: &Value) -> Option<Value> {
    match keys {
        ["version", "version"] => typed(ours, "version"),
        ["version", "hostname"] => typed(ours, "hostname"),
        ["version", "chassis" | "rtr_type"] => typed(ours, "model"),
        ["version", "chassis_sn" | "processor_board_id"] => typed(ours, "serial"),
        ["version", "system_image"] => typed(ours, "running_image"),
        ["version", "curr_config_register"] => typed(ours, "config_register"),
        ["version", "bootldr_version"] => detail(ours, &["bootldr"]),
        _ => None,
    }
}

pub fn ntc_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    let keys = key_list(path);
    // Paths are `[0].field` or `[0].field[i]`.
    let item = match path.get(2) {
        Some(Seg::Index(i)) => Some(*i),
        _ => None,
    };
    let field = keys.first()?.as_str();
    let members = stack(ours);
    match (field, item) {
        ("version" | "hostname" | "config_register" | "rommon", _) => typed(ours, field),
        ("hardware", Some(i)) => match members.get(i) {
            Some(m) => first_some([member_field(m, "model_num"), member_field(m, "model")]),
            None if i == 0 => typed(ours, "model"),
            None => None,
        },
        ("serial", Some(i)) => match members.get(i) {
            Some(m) => member_field(m, "system_sn")
                .or_else(|| (i == 0).then(|| typed(ours, "serial")).flatten()),
            None if i == 0 => typed(ours, "serial"),
            None => None,
        },
        ("mac_address", Some(i)) => members.get(i).and_then(|m| member_field(m, "mac_address")),
        ("hardware" | "serial" | "mac_address", None) => None,
        ("release", _) => detail(ours, &["release"]),
        ("reload_reason", _) => first_some([
            detail(ours, &["last_reload_reason"]),
            detail(ours, &["returned_to_rom_by"]),
        ]),
        ("restarted", _) => detail(ours, &["system_restarted_at"]),
        ("running_image", _) => detail(ours, &["running_image_file"]),
        ("software_image", _) => detail(ours, &["image_id"]),
        ("uptime", _) => detail(ours, &["uptime"]),
        (other, _) if other.starts_with("uptime_") => detail(ours, &[other]),
        _ => None,
    }
}

/// genie's ios / iosxe `ShowVersion` schema.
pub fn genie_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    let owned = key_list(path);
    let keys: Vec<&str> = owned.iter().map(String::as_str).collect();
    if let Some(value) = genie_common(&keys, ours) {
        return Some(value);
    }
    match keys.as_slice() {
        // genie reports whichever of `Last reload reason:` and the later
        // `Last reset from` line comes last.
        ["version", "last_reload_reason"] => first_some([
            detail(ours, &["last_reset"]),
            detail(ours, &["last_reload_reason"]),
        ]),
        // genie keeps the last ROM line and the last flash device line.
        ["version", "rom"] => last_of(ours, "rom_lines", None),
        ["version", "processor_board_flash"] => last_of(ours, "flash_devices", Some("size")),
        ["version", "number_of_intfs", kind] => first_some([
            detail(ours, &["number_of_intfs", kind]),
            detail(ours, &["number_of_lines", kind]),
        ]),
        ["version", "interfaces", kind] => interface_count(ours, kind, ""),
        ["version", "disks", disk, field] => {
            detail(ours, &["disks", disk.trim_end_matches('.'), field])
        }
        ["version", "switch_num", number, field] => {
            member(ours, number).and_then(|m| member_field(&m, field))
        }
        ["version", "processor", field] => {
            let field = if *field == "cpu_type" { "name" } else { field };
            detail(ours, &["cpu", field])
        }
        ["version", rest @ ..] => detail(ours, rest),
        _ => None,
    }
}

/// genie's cat6k / c7600 `ShowVersion` schema.
pub fn genie_cat6k_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    let owned = key_list(path);
    let keys: Vec<&str> = owned.iter().map(String::as_str).collect();
    if let Some(value) = genie_common(&keys, ours) {
        return Some(value);
    }
    let index = path.iter().find_map(|seg| match seg {
        Seg::Index(i) => Some(*i),
        Seg::Key(_) => None,
    });
    match keys.as_slice() {
        ["version", "rom"] => detail(ours, &["rom_banner"]),
        ["version", "rom_version"] => detail(ours, &["rom_release"]),
        ["version", "returned_to_rom_by"] => detail(ours, &["returned_to_rom"]),
        ["version", "control_processor_uptime"] => detail(ours, &["uptime_this_cp"]),
        ["version", "last_reload", field] => detail(ours, &[&format!("last_reload_{field}")]),
        ["version", "controller", field] => {
            detail(ours, &["controllers"])?.get(0)?.get(*field).cloned()
        }
        ["version", "interfaces", kind] => interface_count(ours, kind, ""),
        ["version", "memory", "non_volatile_conf"] => {
            detail(ours, &["mem_size", "non-volatile configuration"])
        }
        ["version", "memory", "packet_buffer"] => detail(ours, &["mem_size", "packet buffer"]),
        ["version", "memory", kind] => detail(ours, &["flash_devices"])?
            .as_array()?
            .iter()
            .find(|device| {
                device
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_some_and(|k| k.replace(' ', "_").eq_ignore_ascii_case(kind))
            })?
            .get("size_kb")
            .cloned(),
        ["version", "softwares"] => detail(ours, &["softwares"])?.get(index?).cloned(),
        ["version", rest @ ..] => detail(ours, rest),
        _ => None,
    }
}

/// genie's cat9k (c9500) `ShowVersion` schema.
pub fn genie_cat9k_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    let owned = key_list(path);
    let keys: Vec<&str> = owned.iter().map(String::as_str).collect();
    if let Some(value) = genie_common(&keys, ours) {
        return Some(value);
    }
    match keys.as_slice() {
        ["version", "code_name"] => detail(ours, &["location"]),
        ["version", "license_level"] => detail(ours, &["air_license_level"]),
        ["version", "next_reload_license_level"] => {
            detail(ours, &["next_reload_air_license_level"])
        }
        ["version", "returned_to_rom_by"] => detail(ours, &["returned_to_rom"]),
        [
            "version",
            field @ ("mac_address" | "mb_assembly_num" | "mb_rev_num" | "mb_sn" | "model_num"
            | "model_rev_num" | "system_sn"),
        ] => local_member(ours).and_then(|m| member_field(&m, field)),
        ["version", "mem_size", "non_volatile_memory"] => {
            detail(ours, &["mem_size", "non-volatile configuration"])
        }
        ["version", "mem_size", "physical_memory"] => detail(ours, &["mem_size", "physical"]),
        ["version", "number_of_intfs", kind] => interface_count(ours, kind, "_interfaces"),
        ["version", "disks", disk, field] => {
            detail(ours, &["disks", disk.trim_end_matches('.'), field])
        }
        ["version", rest @ ..] => detail(ours, rest),
        _ => None,
    }
}
