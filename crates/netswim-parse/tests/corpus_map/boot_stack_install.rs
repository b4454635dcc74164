//! Corpus mappers (see `mod.rs`).

use serde_json::{Value, json};

use super::{Seg, find, get, indexes, keys};

/// A `details` text of a value (entry, member, ...).
fn detail(item: &Value, key: &str) -> Option<Value> {
    item.get("details")?.get(key).cloned()
}

/// genieparser reports yes/no, enabled/disabled settings as booleans (and an
/// unset variable as false).
fn as_bool(value: Option<Value>) -> Option<Value> {
    let text = value?.as_str()?.trim().to_ascii_lowercase();
    match text.as_str() {
        "yes" | "enabled" | "true" => Some(json!(true)),
        "no" | "disabled" | "false" | "does not exist" => Some(json!(false)),
        _ => None,
    }
}

/// A printed boot variable without its trailing `;` (genieparser's standby form).
fn without_final_semicolon(value: Option<Value>) -> Option<Value> {
    Some(json!(value?.as_str()?.trim().trim_end_matches(';')))
}

/// The boot path list joined as the device prints it.
fn joined_paths(entry: &Value) -> Option<Value> {
    let paths: Vec<&str> = entry
        .get("boot_path")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!paths.is_empty()).then(|| json!(paths.join(";")))
}

fn entries(ours: &Value) -> Vec<Value> {
    get(ours, "data.entries")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
}

fn standby_entry(ours: &Value) -> Option<Value> {
    entries(ours).into_iter().find(|entry| {
        detail(entry, "role").and_then(|r| r.as_str().map(str::to_string)) == Some("standby".into())
    })
}

fn member_entry(ours: &Value, member: &str) -> Option<Value> {
    entries(ours)
        .into_iter()
        .find(|entry| entry.get("member").map(|m| m.to_string()) == Some(member.to_string()))
}

/// One setting of a genie `show boot`/`show bootvar` dictionary, read from `entry`.
fn genie_boot_setting(entry: &Value, key: &str) -> Option<Value> {
    match key {
        "allow_dev_key"
        | "boot_optimization"
        | "config_download_via_dhcp"
        | "enable_break"
        | "manual_boot"
        | "standby_manual_boot"
        | "is_manual_boot" => {
            let key = match key {
                "standby_manual_boot" | "is_manual_boot" => "manual_boot",
                other => other,
            };
            as_bool(detail(entry, key))
        }
        "next_boot" => as_bool(detail(entry, "config_download_via_dhcp_next_boot")),
        "auto_upgrade" => entry.get("auto_upgrade").cloned(),
        "config_file" => entry.get("config_file").cloned(),
        "boot_path_list" => detail(entry, "boot_path_list"),
        "next_reload_boot_variable" => detail(entry, "boot_variable"),
        "baud_variable" => detail(entry, "baud"),
        "bootmode" => detail(entry, "boot_mode"),
        other => detail(entry, other),
    }
}

pub fn ntc_show_boot(path: &[Seg], ours: &Value) -> Option<Value> {
    let index = *indexes(path).first()?;
    let entry = entries(ours).get(index)?.clone();
    match keys(path).get(1).copied()? {
        "boot_path" => joined_paths(&entry),
        "config_file" => entry.get("config_file").cloned(),
        "priv_config_file" => detail(&entry, "private_config_file"),
        "auto_upgrade" => entry
            .get("auto_upgrade")?
            .as_bool()
            .map(|on| json!(if on { "yes" } else { "no" })),
        "buffer_size" => detail(&entry, "nvram_buffer_size"),
        // ntc keeps the number of `0 seconds`; on IOS-XE it files the iPXE timeout here.
        "timeout_config_download" => detail(&entry, "timeout_config_download")
            .and_then(|v| v.as_str()?.split_whitespace().next().map(|n| json!(n)))
            .or_else(|| detail(&entry, "ipxe_timeout")),
        "config_download_dhcp" => detail(&entry, "config_download_via_dhcp"),
        "config_download_dhcp_next_boot" => detail(&entry, "config_download_via_dhcp_next_boot"),
        // ntc keeps the line of the current-boot section as printed.
        "current_boot_variables" => {
            let value = detail(&entry, "current_boot_variable")?;
            let value = value.as_str()?;
            Some(json!(if value == "does not exist" {
                "BOOT variable does not exist".to_string()
            } else {
                format!("BOOT variable = {value}")
            }))
        }
        "switch_number" => entry.get("member").cloned(),
        other => detail(&entry, other),
    }
}

pub fn genie_show_boot(path: &[Seg], ours: &Value) -> Option<Value> {
    let keys = keys(path);
    let first = entries(ours).into_iter().next()?;
    match keys.as_slice() {
        ["switches", member, key] => genie_boot_setting(&member_entry(ours, member)?, key),
        ["active", key] => genie_boot_setting(&first, key),
        ["standby", "boot_variable"] => {
            without_final_semicolon(detail(&standby_entry(ours)?, "boot_variable"))
        }
        ["standby", key] => genie_boot_setting(&standby_entry(ours)?, key),
        ["boot_mode"] if detail(&first, "boot_mode")?.as_str()? != "does not exist" => {
            // genieparser lowercases the mode of the 3850 section form.
            Some(json!(detail(&first, "boot_mode")?.as_str()?.to_lowercase()))
        }
        ["boot_variable"] => without_final_semicolon(detail(&first, "boot_variable")),
        [key] if key.starts_with("standby_") => {
            let key = key.trim_start_matches("standby_");
            let standby = standby_entry(ours)?;
            if key == "boot_variable" {
                without_final_semicolon(detail(&standby, "boot_variable"))
            } else {
                genie_boot_setting(&standby, key)
            }
        }
        [key] => genie_boot_setting(&first, key),
        _ => None,
    }
}

pub fn genie_show_bootvar(path: &[Seg], ours: &Value) -> Option<Value> {
    genie_show_boot(path, ours)
}

pub fn genie_show_boot_system(path: &[Seg], ours: &Value) -> Option<Value> {
    let first = entries(ours).into_iter().next()?;
    match keys(path).as_slice() {
        ["boot_variable"] => joined_paths(&first),
        [key] => genie_boot_setting(&first, key),
        _ => None,
    }
}

pub fn genie_nxos_show_boot(path: &[Seg], ours: &Value) -> Option<Value> {
    match keys(path).as_slice() {
        [section, "sup_number", sup, key] => get(ours, "data.details")?
            .get(*section)?
            .get(*sup)?
            .get(*key)
            .cloned(),
        _ => None,
    }
}

pub fn genie_aireos_show_boot(path: &[Seg], ours: &Value) -> Option<Value> {
    let keys = keys(path);
    let [image, key] = keys.as_slice() else {
        return None;
    };
    let image = get(ours, "data.details")?.get(*image)?.clone();
    let flag = |name: &str| image.get(name).and_then(Value::as_str) == Some("yes");
    match *key {
        "version_num" => image.get("version").cloned(),
        "default" => flag("default").then(|| json!("default")),
        "status" => flag("active").then(|| json!("active")),
        _ => None,
    }
}

pub fn ntc_wlc_show_boot(path: &[Seg], ours: &Value) -> Option<Value> {
    let index = *indexes(path).first()?;
    let name = if index == 0 {
        "primary_boot_image"
    } else {
        "backup_boot_image"
    };
    let image = get(ours, "data.details")?.get(name)?.clone();
    match keys(path).get(1).copied()? {
        "image_type" => image.get("label").cloned(),
        "image_version" => image.get("version").cloned(),
        "image_status" => image.get("status").cloned(),
        _ => None,
    }
}

pub fn ntc_wlc_show_ap_image_all(path: &[Seg], ours: &Value) -> Option<Value> {
    let index = *indexes(path).first()?;
    let ap = get(ours, &format!("data.aps[{index}]"))?;
    ap_field(&ap, keys(path).get(1).copied()?)
}

fn ap_field(ap: &Value, key: &str) -> Option<Value> {
    match key {
        "ap_name" => ap.get("name").cloned(),
        "primary_image" => ap.get("primary").cloned(),
        "backup_image" => ap.get("backup").cloned(),
        other => detail(ap, other),
    }
}

pub fn genie_show_ap_image(path: &[Seg], ours: &Value) -> Option<Value> {
    match keys(path).as_slice() {
        ["ap_name", name, key] => ap_field(&find(ours, "data.aps", "name", name)?, key),
        ["number_of_aps", key] => get(ours, "data.details.number_of_aps")?.get(*key).cloned(),
        [key] => get(ours, "data.details")?.get(*key).cloned(),
        _ => None,
    }
}

pub fn ntc_show_switch_detail(path: &[Seg], ours: &Value) -> Option<Value> {
    let index = *indexes(path).first()?;
    let member = get(ours, &format!("data.members[{index}]"))?;
    let port = |port: &str, key: &str| -> Option<Value> {
        member
            .get("details")?
            .get("ports")?
            .get(port)?
            .get(key)
            .cloned()
    };
    match keys(path).get(1).copied()? {
        "switch" => member.get("member").cloned(),
        "mac_address" => member.get("mac").cloned(),
        "status1" => port("1", "stack_port_status"),
        "status2" => port("2", "stack_port_status"),
        "neighbor1" => port("1", "neighbors_num"),
        "neighbor2" => port("2", "neighbors_num"),
        other => member.get(other).cloned(),
    }
}

pub fn genie_show_switch(path: &[Seg], ours: &Value) -> Option<Value> {
    let lower = |value: Option<Value>| Some(json!(value?.as_str()?.to_lowercase()));
    match keys(path).as_slice() {
        ["switch", "mac_address"] => get(ours, "data.details.mac_address"),
        // genieparser lowercases the wait time, roles, states and port statuses.
        ["switch", "mac_persistency_wait_time"] => {
            lower(get(ours, "data.details.mac_persistency_wait_time"))
        }
        ["switch", "stack", number, rest @ ..] => {
            let member = get(ours, "data.members")?
                .as_array()?
                .iter()
                .find(|m| m.get("member").map(|n| n.to_string()).as_deref() == Some(*number))?
                .clone();
            match rest {
                ["hw_ver"] => member.get("version").cloned(),
                ["mac_address"] => member.get("mac").cloned(),
                ["priority"] => member.get("priority").cloned(),
                ["role"] => lower(member.get("role").cloned()),
                ["state"] => lower(member.get("state").cloned()),
                ["ports", port, "stack_port_status"] => lower(
                    member
                        .get("details")?
                        .get("ports")?
                        .get(*port)?
                        .get("stack_port_status")
                        .cloned(),
                ),
                ["ports", port, key] => member
                    .get("details")?
                    .get("ports")?
                    .get(*port)?
                    .get(*key)
                    .cloned(),
                _ => None,
            }
        }
        _ => None,
    }
}

pub fn genie_show_switch_detail(path: &[Seg], ours: &Value) -> Option<Value> {
    genie_show_switch(path, ours)
}

pub fn genie_iosxe_show_install_summary(path: &[Seg], ours: &Value) -> Option<Value> {
    match keys(path).as_slice() {
        // genieparser numbers packages across all locations, from 1.
        ["location", _, "pkg_state", number, key] => {
            let index = number.parse::<usize>().ok()?.checked_sub(1)?;
            let package = get(ours, &format!("data.packages[{index}]"))?;
            match *key {
                "filename_version" => package.get("name").cloned(),
                "state" => detail(&package, "state_code"),
                other => detail(&package, other),
            }
        }
        ["location", _, key] => get(ours, "data.details")?.get(*key).cloned(),
        _ => None,
    }
}

pub fn genie_iosxe_show_install_state(path: &[Seg], ours: &Value) -> Option<Value> {
    genie_iosxe_show_install_summary(path, ours)
}

pub fn ntc_xr_show_install_active(path: &[Seg], ours: &Value) -> Option<Value> {
    let index = *indexes(path).first()?;
    let node = get(ours, &format!("data.details.nodes[{index}]"))?;
    match keys(path).as_slice() {
        [_, "packages", _] => node.get("packages")?.get(*indexes(path).get(1)?).cloned(),
        [_, key] => node.get(*key).cloned(),
        _ => None,
    }
}

pub fn genie_xr_show_install_active_summary(path: &[Seg], ours: &Value) -> Option<Value> {
    match keys(path).as_slice() {
        ["active_packages", "#"] => {
            let index = *indexes(path).first()?;
            get(ours, &format!("data.packages[{index}].name"))
        }
        ["active_packages", set] => get(ours, "data.details.active_package_counts")?
            .get(*set)
            .cloned(),
        ["sdr"] => get(ours, "data.details.sdrs[0]"),
        ["optional_packages" | "mandatory_packages", name] => {
            detail(&find(ours, "data.packages", "name", name)?, "version")
        }
        ["active_fixes", key] => get(ours, "data.details.active_fixes")?.get(*key).cloned(),
        [key] => get(ours, "data.details")?.get(*key).cloned(),
        _ => None,
    }
}

pub fn genie_nxos_show_install_active(path: &[Seg], ours: &Value) -> Option<Value> {
    match keys(path).as_slice() {
        ["boot_images", key] => get(ours, "data.details")?.get(*key).cloned(),
        // genieparser keeps one package per module (the last printed); module 0
        // stands for the chassis-wide list.
        ["active_packages", module, "active_package_name"] => {
            let module = module.strip_prefix("active_package_module_")?;
            get(ours, "data.packages")?
                .as_array()?
                .iter()
                .rev()
                .find(|package| {
                    let ours_module = detail(package, "module");
                    match ours_module.as_ref().and_then(Value::as_str) {
                        Some(number) => number == module,
                        None => module == "0",
                    }
                })?
                .get("name")
                .cloned()
        }
        _ => None,
    }
}

pub fn genie_nxos_show_install_all_status(path: &[Seg], ours: &Value) -> Option<Value> {
    let details = get(ours, "data.details")?;
    // genieparser names each step by the words that open its description.
    let step = |prefix: &str, exclude: Option<&str>| -> Option<Value> {
        details
            .get("steps")?
            .as_array()?
            .iter()
            .find(|step| {
                let description = step
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                description.starts_with(prefix)
                    && exclude.is_none_or(|excluded| !description.starts_with(excluded))
            })?
            .get("result")
            .cloned()
    };
    match keys(path).as_slice() {
        ["verifying_image_status"] => step("Verifying image ", Some("Verifying image type")),
        ["verifying_image_type"] => step("Verifying image type", None),
        ["preparing_nxos_version_info"] => step("Preparing \"nxos\" version info", None),
        ["preparing_bios_version_info"] => step("Preparing \"bios\" version info", None),
        ["module_support_check"] => step("Performing module support checks", None),
        ["notifying_services"] => step("Notifying services", None),
        ["pre_upgrade_check_failed_code"] => details.get("pre_upgrade_check_failed").cloned(),
        ["additional_info"] => details
            .get("messages")?
            .as_array()?
            .last()?
            .as_str()
            .map(|text| json!(text.trim_start_matches("Service "))),
        ["compatibility_check", module, key] => details
            .get("compatibility_check")?
            .get(*module)?
            .get(*key)
            .cloned(),
        [key] => details.get(*key).cloned(),
        _ => None,
    }
}

pub fn genie_show_issu_state_detail(path: &[Seg], ours: &Value) -> Option<Value> {
    let keys = keys(path);
    let ["slot", name, rest @ ..] = keys.as_slice() else {
        return None;
    };
    // An output that names no slot has one unnamed slot (genieparser calls it "1").
    let slots = get(ours, "data.slots")?.as_array()?.clone();
    let slot = slots
        .iter()
        .find(|slot| slot.get("slot").and_then(Value::as_str) == Some(*name))
        .or_else(|| {
            slots
                .iter()
                .find(|slot| slot.get("slot").and_then(Value::as_str) == Some(""))
        })?;
    match rest {
        ["issu_in_progress" | "runversion_executed" | "terminal_state_reached"] => {
            as_bool(detail(slot, rest.first()?))
        }
        ["current_status"] => detail(slot, "current_issu_status"),
        ["previous_operation"] => detail(slot, "previous_issu_operation"),
        // genieparser spells this key `opertional_mode`.
        ["system_check", "opertional_mode"] => detail(slot, "system_check")?
            .get("operational_mode")
            .cloned(),
        ["system_check", key] => detail(slot, "system_check")?.get(*key).cloned(),
        [key] => detail(slot, key),
        _ => None,
    }
}
