//! Where netswim keeps each ground-truth field of the corpus: one mapper per
//! corpus folder. A mapper gets the ground-truth path of one leaf and the
//! parser's envelope `{os, command, data}` and returns netswim's value for
//! that fact (or `None` when netswim has no such fact).

pub mod boot_stack_install;
pub mod files;
pub mod ios_version;
pub mod other_version;

use netswim_domain::Os;
use serde_json::Value;

/// One step of a ground-truth path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

pub type Mapper = fn(&[Seg], &Value) -> Option<Value>;

/// One corpus folder: which OS printed it (`None`: detect), which command, how to map.
pub struct Suite {
    pub dir: &'static str,
    pub os: Option<Os>,
    pub command: &'static str,
    pub mapper: Mapper,
}

/// Looks up a dotted path (`data.stack[0].model`) in the envelope.
pub fn get(ours: &Value, path: &str) -> Option<Value> {
    let mut current = ours;
    for part in path.split('.') {
        let (key, indexes) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            current = current.get(key)?;
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let index: usize = index.trim_end_matches(']').parse().ok()?;
            current = current.get(index)?;
        }
    }
    Some(current.clone())
}

/// The element of the array at `array_path` whose `field` equals `value`.
pub fn find(ours: &Value, array_path: &str, field: &str, value: &str) -> Option<Value> {
    let array = get(ours, array_path)?;
    array
        .as_array()?
        .iter()
        .find(|item| item.get(field).and_then(Value::as_str) == Some(value))
        .cloned()
}

/// The path's key segments as `&str`, with indexes as `#`, for matching.
pub fn keys(path: &[Seg]) -> Vec<&str> {
    path.iter()
        .map(|seg| match seg {
            Seg::Key(key) => key.as_str(),
            Seg::Index(_) => "#",
        })
        .collect()
}

/// The index segments of a path, in order.
pub fn indexes(path: &[Seg]) -> Vec<usize> {
    path.iter()
        .filter_map(|seg| match seg {
            Seg::Index(index) => Some(*index),
            Seg::Key(_) => None,
        })
        .collect()
}

fn s(dir: &'static str, os: Option<Os>, command: &'static str, mapper: Mapper) -> Suite {
    Suite {
        dir,
        os,
        command,
        mapper,
    }
}

/// Every corpus folder and how it is measured.
pub fn suites() -> Vec<Suite> {
    use Os::*;
    vec![
        // show version, IOS / IOS-XE
        s(
            "ntc/cisco_ios/show_version",
            Some(Ios),
            "show version",
            ios_version::ntc_show_version,
        ),
        s(
            "genie/ios/ShowVersion",
            Some(Ios),
            "show version",
            ios_version::genie_show_version,
        ),
        s(
            "genie/ios/cat6k/ShowVersion",
            Some(Ios),
            "show version",
            ios_version::genie_cat6k_show_version,
        ),
        s(
            "genie/ios/cat7k/c7600/ShowVersion",
            Some(Ios),
            "show version",
            ios_version::genie_cat6k_show_version,
        ),
        s(
            "genie/iosxe/ShowVersion",
            Some(Iosxe),
            "show version",
            ios_version::genie_show_version,
        ),
        s(
            "genie/iosxe/cat9k/c9500/ShowVersion",
            Some(Iosxe),
            "show version",
            ios_version::genie_cat9k_show_version,
        ),
        // show version, other OSes, and OS detection
        s(
            "ntc/cisco_xr/show_version",
            Some(Iosxr),
            "show version",
            other_version::ntc_xr_show_version,
        ),
        s(
            "genie/iosxr/ShowVersion",
            Some(Iosxr),
            "show version",
            other_version::genie_xr_show_version,
        ),
        s(
            "ntc/cisco_nxos/show_version",
            Some(Nxos),
            "show version",
            other_version::ntc_nxos_show_version,
        ),
        s(
            "genie/nxos/ShowVersion",
            Some(Nxos),
            "show version",
            other_version::genie_nxos_show_version,
        ),
        s(
            "ntc/juniper_junos/show_version",
            Some(Junos),
            "show version",
            other_version::ntc_junos_show_version,
        ),
        s(
            "genie/junos/ShowVersion",
            Some(Junos),
            "show version",
            other_version::genie_junos_show_version,
        ),
        s(
            "ntc/huawei_vrp/display_version",
            Some(Vrp),
            "display version",
            other_version::ntc_vrp_display_version,
        ),
        s(
            "ntc/huawei_vrp/display_startup",
            Some(Vrp),
            "display startup",
            other_version::ntc_vrp_display_startup,
        ),
        s(
            "ntc/huawei_vrp/display_patch-information",
            Some(Vrp),
            "display patch-information",
            other_version::ntc_vrp_display_patch_information,
        ),
        s(
            "genie/generic/ShowVersion",
            None,
            "show version",
            other_version::genie_generic_show_version,
        ),
        s(
            "genie/generic/rv1/ShowVersion",
            None,
            "show version",
            other_version::genie_generic_show_version,
        ),
        // files
        s("ntc/cisco_ios/dir", Some(Ios), "dir", files::ntc_dir),
        s("ntc/cisco_nxos/dir", Some(Nxos), "dir", files::ntc_dir),
        s("ntc/cisco_xr/dir", Some(Iosxr), "dir", files::ntc_dir),
        s("ntc/huawei_vrp/dir", Some(Vrp), "dir", files::ntc_dir),
        s("genie/ios/Dir", Some(Ios), "dir", files::genie_dir),
        s("genie/ios/cat6k/Dir", Some(Ios), "dir", files::genie_dir),
        s(
            "genie/ios/cat7k/c7600/Dir",
            Some(Ios),
            "dir",
            files::genie_dir,
        ),
        s("genie/iosxe/Dir", Some(Iosxe), "dir", files::genie_dir),
        s("genie/iosxr/Dir", Some(Iosxr), "dir", files::genie_dir),
        s("genie/nxos/Dir", Some(Nxos), "dir", files::genie_dir),
        s(
            "genie/junos/FileList",
            Some(Junos),
            "file list",
            files::genie_junos_file_list,
        ),
        s(
            "ntc/cisco_ios/show_file_systems",
            Some(Ios),
            "show file systems",
            files::ntc_show_file_systems,
        ),
        s(
            "ntc/cisco_ios/show_inventory",
            Some(Ios),
            "show inventory",
            files::ntc_show_inventory,
        ),
        // boot, stacks, install, ISSU state, wireless
        s(
            "ntc/cisco_ios/show_boot",
            Some(Ios),
            "show boot",
            boot_stack_install::ntc_show_boot,
        ),
        s(
            "genie/ios/ShowBoot",
            Some(Ios),
            "show boot",
            boot_stack_install::genie_show_boot,
        ),
        s(
            "genie/ios/ShowBootvar",
            Some(Ios),
            "show bootvar",
            boot_stack_install::genie_show_bootvar,
        ),
        s(
            "genie/iosxe/ShowBoot",
            Some(Iosxe),
            "show boot",
            boot_stack_install::genie_show_boot,
        ),
        s(
            "genie/iosxe/cat9k/c9400/ShowBoot",
            Some(Iosxe),
            "show boot",
            boot_stack_install::genie_show_boot,
        ),
        s(
            "genie/iosxe/ShowBootvar",
            Some(Iosxe),
            "show bootvar",
            boot_stack_install::genie_show_bootvar,
        ),
        s(
            "genie/iosxe/ShowBootSystem",
            Some(Iosxe),
            "show boot system",
            boot_stack_install::genie_show_boot_system,
        ),
        s(
            "genie/nxos/ShowBoot",
            Some(Nxos),
            "show boot",
            boot_stack_install::genie_nxos_show_boot,
        ),
        s(
            "genie/aireos/ShowBoot",
            Some(Aireos),
            "show boot",
            boot_stack_install::genie_aireos_show_boot,
        ),
        s(
            "ntc/cisco_wlc_ssh/show_boot",
            Some(Aireos),
            "show boot",
            boot_stack_install::ntc_wlc_show_boot,
        ),
        s(
            "ntc/cisco_wlc_ssh/show_ap_image_all",
            Some(Aireos),
            "show ap image all",
            boot_stack_install::ntc_wlc_show_ap_image_all,
        ),
        s(
            "genie/iosxe/ShowApImage",
            Some(Iosxe),
            "show ap image",
            boot_stack_install::genie_show_ap_image,
        ),
        s(
            "ntc/cisco_ios/show_switch_detail",
            Some(Ios),
            "show switch detail",
            boot_stack_install::ntc_show_switch_detail,
        ),
        s(
            "genie/ios/ShowSwitch",
            Some(Ios),
            "show switch",
            boot_stack_install::genie_show_switch,
        ),
        s(
            "genie/ios/ShowSwitchDetail",
            Some(Ios),
            "show switch detail",
            boot_stack_install::genie_show_switch_detail,
        ),
        s(
            "genie/iosxe/ShowSwitch",
            Some(Iosxe),
            "show switch",
            boot_stack_install::genie_show_switch,
        ),
        s(
            "genie/iosxe/cat9kv/ShowSwitch",
            Some(Iosxe),
            "show switch",
            boot_stack_install::genie_show_switch,
        ),
        s(
            "genie/iosxe/ShowSwitchDetail",
            Some(Iosxe),
            "show switch detail",
            boot_stack_install::genie_show_switch_detail,
        ),
        s(
            "genie/iosxe/ShowInstallSummary",
            Some(Iosxe),
            "show install summary",
            boot_stack_install::genie_iosxe_show_install_summary,
        ),
        s(
            "genie/iosxe/ShowInstallState",
            Some(Iosxe),
            "show install state",
            boot_stack_install::genie_iosxe_show_install_state,
        ),
        s(
            "ntc/cisco_xr/show_install_active",
            Some(Iosxr),
            "show install active",
            boot_stack_install::ntc_xr_show_install_active,
        ),
        s(
            "genie/iosxr/ShowInstallActiveSummary",
            Some(Iosxr),
            "show install active summary",
            boot_stack_install::genie_xr_show_install_active_summary,
        ),
        s(
            "genie/nxos/ShowInstallActive",
            Some(Nxos),
            "show install active",
            boot_stack_install::genie_nxos_show_install_active,
        ),
        s(
            "genie/nxos/ShowInstallAllStatus",
            Some(Nxos),
            "show install all status",
            boot_stack_install::genie_nxos_show_install_all_status,
        ),
        s(
            "genie/ios/ShowIssuStateDetail",
            Some(Ios),
            "show issu state detail",
            boot_stack_install::genie_show_issu_state_detail,
        ),
        s(
            "genie/iosxe/ShowIssuStateDetail",
            Some(Iosxe),
            "show issu state detail",
            boot_stack_install::genie_show_issu_state_detail,
        ),
        s(
            "genie/iosxe/cat9k/c9500/ShowIssuStateDetail",
            Some(Iosxe),
            "show issu state detail",
            boot_stack_install::genie_show_issu_state_detail,
        ),
        s(
            "genie/iosxe/rv1/ShowIssuStateDetail",
            Some(Iosxe),
            "show issu state detail",
            boot_stack_install::genie_show_issu_state_detail,
        ),
    ]
}
