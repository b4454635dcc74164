//! Corpus mappers (see `mod.rs`): `dir`, Junos `file list`, `show file
//! systems` and `show inventory`.

use serde_json::Value;

use super::{Seg, get, indexes, keys};

/// The OS netswim parsed the output as (`ios`, `iosxr`, ...).
fn os_of(ours: &Value) -> String {
    get(ours, "os")
        .and_then(|os| os.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The `n`-th listing entry.
fn entry_at(ours: &Value, n: usize) -> Option<Value> {
    get(ours, &format!("data.entries[{n}]"))
}

/// The entry printed as `name`: genie keys files by the name as listed
/// (`.patch/`, `config -> /misc/config`, `.cshrc@`), netswim keeps that as
/// `details.listed_name` when it differs from the clean name.
fn entry_named(ours: &Value, name: &str) -> Option<Value> {
    let entries = get(ours, "data.entries")?;
    let entries = entries.as_array()?;
    entries
        .iter()
        .find(|entry| {
            entry
                .pointer("/details/listed_name")
                .and_then(Value::as_str)
                == Some(name)
        })
        .or_else(|| {
            entries
                .iter()
                .find(|entry| entry.get("name").and_then(Value::as_str) == Some(name))
        })
        .cloned()
}

fn detail(value: &Value, key: &str) -> Option<Value> {
    value.get("details")?.get(key).cloned()
}

/// A listing-level detail of the block listing `directory` (multi-block
/// output keeps one summary per block), else of the whole listing.
fn block_detail(ours: &Value, directory: &str, key: &str) -> Option<Value> {
    if let Some(blocks) = get(ours, "data.details.directories").and_then(|b| b.as_array().cloned())
        && let Some(block) = blocks
            .iter()
            .find(|b| b.get("directory").and_then(Value::as_str) == Some(directory))
    {
        return block.get(key).cloned();
    }
    match key {
        "total_bytes" | "free_bytes" => get(ours, &format!("data.{key}")),
        _ => get(ours, &format!("data.details.{key}")),
    }
}

/// The size as the device printed it (`14,940`, `-`), else the number.
fn printed_size(entry: &Value) -> Option<Value> {
    detail(entry, "size_as_printed").or_else(|| entry.get("size").cloned())
}

pub fn ntc_dir(path: &[Seg], ours: &Value) -> Option<Value> {
    let n = *indexes(path).first()?;
    let field = *keys(path).last()?;
    let entry = entry_at(ours, n)?;
    let xr = os_of(ours) == "iosxr";
    match field {
        "name" | "file_name" | "item_name" => detail(&entry, "listed_name")
            .filter(|_| !xr)
            .or_else(|| entry.get("name").cloned()),
        "size" => printed_size(&entry),
        "id" | "idx" => detail(&entry, "index"),
        "permissions" if xr => {
            // ntc's IOS-XR template captures the inode column together with the permissions.
            let index = detail(&entry, "index")?;
            let permissions = detail(&entry, "permissions")?;
            Some(Value::String(format!(
                "{} {}",
                index.as_str()?,
                permissions.as_str()?
            )))
        }
        "permissions" | "attr" => detail(&entry, "permissions"),
        "date_time" if xr => detail(&entry, "time"),
        "date_time" => detail(&entry, "date_time"),
        "date_day" => detail(&entry, "day"),
        "date_month" => detail(&entry, "month"),
        "date_year" => detail(&entry, "year"),
        "file_system" => detail(&entry, "directory").or_else(|| get(ours, "data.filesystem")),
        "total_size" => get(ours, "data.details.total_size"),
        "total_free" => get(ours, "data.details.total_free"),
        "total_used" => get(ours, "data.details.total_used"),
        _ => None,
    }
}

pub fn genie_dir(path: &[Seg], ours: &Value) -> Option<Value> {
    let names: Vec<&str> = keys(path);
    match names.as_slice() {
        // NX-OS: flat structure.
        ["dir"] => get(ours, "data.filesystem"),
        ["disk_free_space"] => get(ours, "data.free_bytes"),
        ["disk_total_space"] => get(ours, "data.total_bytes"),
        ["disk_used_space"] => get(ours, "data.details.used_bytes"),
        ["files", name, field] => {
            let entry = entry_named(ours, name)?;
            match *field {
                "size" => printed_size(&entry),
                other => detail(&entry, other),
            }
        }
        // IOS-XR.
        ["dir", "dir_name"] => get(ours, "data.filesystem"),
        ["dir", "total_bytes"] => get(ours, "data.details.total_text"),
        ["dir", "total_free_bytes"] => get(ours, "data.details.free_text"),
        ["dir", "files", name, field] => {
            let entry = entry_named(ours, name)?;
            match *field {
                "size" => printed_size(&entry),
                "permission" => detail(&entry, "permissions"),
                // genie's XR `date` is the `ls` date column as printed.
                "date" => detail(&entry, "date_time"),
                other => detail(&entry, other),
            }
        }
        // IOS / IOS-XE: `dir.dir` and one map per listed directory.
        ["dir", "dir"] => get(ours, "data.filesystem"),
        ["dir", directory, "bytes_total"] => block_detail(ours, directory, "total_bytes"),
        ["dir", directory, "bytes_free"] => block_detail(ours, directory, "free_bytes"),
        ["dir", _directory, "files", name, field] => {
            let entry = entry_named(ours, name)?;
            match *field {
                "size" => printed_size(&entry),
                "last_modified_date" => detail(&entry, "date_time"),
                other => detail(&entry, other),
            }
        }
        _ => None,
    }
}

pub fn genie_junos_file_list(path: &[Seg], ours: &Value) -> Option<Value> {
    match keys(path).as_slice() {
        // A listed directory with nothing in it.
        ["dir", _directory] => get(ours, "data.entries"),
        ["dir", _directory, "files", name] => detail(&entry_named(ours, name)?, "link_target"),
        ["dir", _directory, "files", name, "path"] => {
            detail(&entry_named(ours, name)?, "link_target")
        }
        _ => None,
    }
}

pub fn ntc_show_file_systems(path: &[Seg], ours: &Value) -> Option<Value> {
    let n = *indexes(path).first()?;
    let field = *keys(path).last()?;
    // ntc's template skips the row of the default file system (marked `*`),
    // so its n-th row is netswim's n-th row without that marker.
    let rows = get(ours, "data.filesystems")?;
    let row = rows
        .as_array()?
        .iter()
        .filter(|row| row.get("is_default").and_then(Value::as_bool) != Some(true))
        .nth(n)?
        .clone();
    match field {
        "flags" => row.get("flags").cloned(),
        "type" => row.get("fs_type").cloned(),
        "size" => detail(&row, "size"),
        "free" => detail(&row, "free"),
        "prefixes" => {
            let prefixes: Vec<String> = row
                .get("prefixes")?
                .as_array()?
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect();
            Some(Value::String(prefixes.join(" ")))
        }
        _ => None,
    }
}

pub fn ntc_show_inventory(path: &[Seg], ours: &Value) -> Option<Value> {
    let n = *indexes(path).first()?;
    let field = *keys(path).last()?;
    let item = get(ours, &format!("data.items[{n}]"))?;
    match field {
        "name" => item.get("name").cloned(),
        "descr" => item.get("description").cloned(),
        "pid" => item.get("pid").cloned(),
        "vid" => item.get("vid").cloned(),
        "sn" => item.get("serial").cloned(),
        other => detail(&item, other),
    }
}
