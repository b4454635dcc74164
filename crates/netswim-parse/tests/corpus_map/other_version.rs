//! Corpus mappers (see `mod.rs`) for `show version` of IOS-XR, NX-OS and
//! Junos, Huawei VRP `display version|startup|patch-information`, and the
//! genie "generic" show version with OS detection.

use serde_json::Value;

use super::{Seg, get, keys};

/// The single `Key` segment at `at`, if any.
fn key_at(path: &[Seg], at: usize) -> Option<&str> {
    match path.get(at) {
        Some(Seg::Key(key)) => Some(key.as_str()),
        _ => None,
    }
}

fn detail(ours: &Value, key: &str) -> Option<Value> {
    get(ours, &format!("data.details.{key}"))
}

/// ntc-templates rows are `[ {...} ]`: the first segment is the row index.
fn ntc_key(path: &[Seg]) -> Option<&str> {
    match path {
        [Seg::Index(0), Seg::Key(key)] => Some(key.as_str()),
        _ => None,
    }
}

pub fn ntc_xr_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    match ntc_key(path)? {
        "hardware" => get(ours, "data.model"),
        "version" => detail(ours, "version_text"),
        "uptime" => detail(ours, "uptime"),
        key => detail(ours, key),
    }
}

pub fn genie_xr_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    match key_at(path, 0)? {
        "software_version" => get(ours, "data.version"),
        "config_register" => get(ours, "data.config_register"),
        "image" => get(ours, "data.running_image"),
        // genie spells it `built_host`; netswim keeps one name for both spellings.
        "built_host" => detail(ours, "build_host"),
        key => detail(ours, key),
    }
}

pub fn ntc_nxos_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    match ntc_key(path)? {
        "bios" => get(ours, "data.rommon"),
        // ntc reports the kickstart image where there is one, else the system image.
        "boot_image" => {
            detail(ours, "kickstart_image_file").or_else(|| get(ours, "data.running_image"))
        }
        "hostname" => get(ours, "data.hostname"),
        "last_reboot_reason" => detail(ours, "reason"),
        "os" => detail(ours, "version_text"),
        "platform" => get(ours, "data.model"),
        "serial" => get(ours, "data.serial"),
        "uptime" => detail(ours, "uptime"),
        _ => None,
    }
}

pub fn genie_nxos_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    match keys(path).as_slice() {
        ["platform", "hardware", key] => {
            let found = detail(ours, key);
            // genie writes the text `None` for a chassis line without these parts.
            if found.is_none() && matches!(*key, "rp" | "slots") {
                return Some(Value::String("None".into()));
            }
            found
        }
        ["platform", "kernel_uptime", unit] => detail(ours, &format!("kernel_uptime.{unit}")),
        ["platform", "software", key] => detail(ours, key),
        // At this level genie's `system_version` is the last reset's one.
        ["platform", "system_version"] => detail(ours, "last_reset_system_version"),
        ["platform", key] => detail(ours, key),
        _ => None,
    }
}

/// ntc-templates' named Junos package fields and the package each names
/// (the package line's text without the leading `JUNOS`).
const NTC_JUNOS_PACKAGES: &[(&str, &str)] = &[
    ("appid_services", "AppId Services"),
    ("base_os_boot", "Base OS boot"),
    ("base_os_software_suite", "Base OS Software Suite"),
    (
        "border_gateway_function_package",
        "Border Gateway Function package",
    ),
    ("crypto_software_suite", "Crypto Software Suite"),
    ("fips_mode_utilities", "FIPS mode utilities"),
    ("idp_services", "IDP Services"),
    ("kernel_software_suite", "Kernel Software Suite"),
    ("lab_package", "labpkg"),
    ("online_documentation", "Online Documentation"),
    (
        "packet_forwarding_engine_support_m_t_ex_common",
        "Packet Forwarding Engine Support (M/T/EX Common)",
    ),
    (
        "packet_forwarding_engine_support_mx_common",
        "Packet Forwarding Engine Support (MX Common)",
    ),
    ("platform_software_suite", "platform Software Suite"),
    ("py_base_i386", "py-base-i386"),
    ("redis_version", "Redis"),
    ("routing_software_suite", "Routing Software Suite"),
    ("runtime_software_suite", "Runtime Software Suite"),
    (
        "services_aacl_container_package",
        "Services AACL Container package",
    ),
    (
        "services_application_level_gateways",
        "Services Application Level Gateways",
    ),
    (
        "services_captive_portal_content_delivery_package",
        "Services Captive Portal and Content Delivery Container package",
    ),
    ("services_crypto", "Services Crypto"),
    (
        "services_http_content_management_package",
        "Services HTTP Content Management package",
    ),
    ("services_ipsec", "Services IPSec"),
    (
        "services_jflow_container_package",
        "Services Jflow Container package",
    ),
    (
        "services_ll_pdf_container_package",
        "Services LL-PDF Container package",
    ),
    (
        "services_mobile_subscriber_service_package",
        "Services Mobile Subscriber Service Container package",
    ),
    (
        "services_mobilenext_software_package",
        "Services MobileNext Software package",
    ),
    ("services_nat", "Services NAT"),
    (
        "services_ptsp_container_package",
        "Services PTSP Container package",
    ),
    ("services_rpm", "Services RPM"),
    ("services_ssl", "Services SSL"),
    ("services_stateful_firewall", "Services Stateful Firewall"),
    (
        "voice_services_container_package",
        "Voice Services Container package",
    ),
];

/// Every package line, member after member (ntc lists a cluster's nodes in one row).
fn junos_packages(ours: &Value) -> Vec<Value> {
    let members = get(ours, "data.stack")
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    if members.is_empty() {
        return get(ours, "data.details.packages")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
    }
    members
        .iter()
        .filter_map(|member| get(member, "details.packages"))
        .filter_map(|packages| packages.as_array().cloned())
        .flatten()
        .collect()
}

fn package_text<'a>(package: &'a Value, field: &str) -> Option<&'a str> {
    package.get(field).and_then(Value::as_str)
}

pub fn ntc_junos_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    let packages = junos_packages(ours);
    // ntc lists the `JUNOS ...` packages it has no field for, in order.
    let others = || {
        packages.iter().filter(|package| {
            package_text(package, "suite").is_some()
                && !NTC_JUNOS_PACKAGES.iter().any(|(_, description)| {
                    package_text(package, "description") == Some(*description)
                })
        })
    };
    match path {
        [Seg::Index(0), Seg::Key(key), Seg::Index(index)] => {
            let package = others().nth(*index)?;
            match key.as_str() {
                "other_device_properties" => package.get("description").cloned(),
                "other_properties_versions" => package.get("version").cloned(),
                _ => None,
            }
        }
        [Seg::Index(0), Seg::Key(key)] => match key.as_str() {
            "hostname" => get(ours, "data.hostname"),
            "model" => get(ours, "data.model"),
            "junos_version" => get(ours, "data.version"),
            "serial_number" => get(ours, "data.serial"),
            "qfabric_system_id" => detail(ours, "qfabric_system_id"),
            key => {
                let (_, description) = NTC_JUNOS_PACKAGES.iter().find(|(k, _)| *k == key)?;
                packages
                    .iter()
                    .find(|p| package_text(p, "description") == Some(*description))
                    .and_then(|p| p.get("version").cloned())
            }
        },
        _ => None,
    }
}

pub fn genie_junos_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    match path {
        [Seg::Key(_), Seg::Key(key)] => match key.as_str() {
            "host-name" => get(ours, "data.hostname"),
            "junos-version" => get(ours, "data.version"),
            "product-model" | "product-name" => get(ours, "data.model"),
            _ => None,
        },
        [
            Seg::Key(_),
            Seg::Key(list),
            Seg::Index(index),
            Seg::Key(field),
        ] if list == "package-information" => {
            get(ours, &format!("data.details.packages[{index}].{field}"))
        }
        _ => None,
    }
}

pub fn ntc_vrp_display_version(path: &[Seg], ours: &Value) -> Option<Value> {
    match ntc_key(path)? {
        "model" => get(ours, "data.model"),
        "patch_version" => get(ours, "data.patch"),
        "vrp_version" => get(ours, "data.vrp_version"),
        key => detail(ours, key),
    }
}

pub fn ntc_vrp_display_startup(path: &[Seg], ours: &Value) -> Option<Value> {
    match ntc_key(path)? {
        "startup_system_software" => get(ours, "data.current.software"),
        "next_startup_system_software" => get(ours, "data.next.software"),
        "startup_saved_configuration_file" => get(ours, "data.current.config"),
        "next_startup_saved_configuration_file" => get(ours, "data.next.config"),
        "startup_patch_package" => get(ours, "data.current.patch"),
        "next_startup_patch_package" => get(ours, "data.next.patch"),
        // Files the typed sets do not carry keep the device's text (`null`).
        key => detail(ours, key),
    }
}

pub fn ntc_vrp_display_patch_information(path: &[Seg], ours: &Value) -> Option<Value> {
    match ntc_key(path)? {
        "name" => get(ours, "data.package_name"),
        "version" => get(ours, "data.package_version"),
        "state" => get(ours, "data.state"),
        key => detail(ours, key),
    }
}

pub fn genie_generic_show_version(path: &[Seg], ours: &Value) -> Option<Value> {
    match key_at(path, 0)? {
        "os" => get(ours, "os"),
        "version" => get(ours, "data.version"),
        "pid" => {
            let model = get(ours, "data.model")?;
            // genie lowercases the ASA and Junos model ids.
            let os = get(ours, "os");
            let lowercase = os
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|os| os == "asa" || os == "junos");
            match (lowercase, model.as_str()) {
                (true, Some(text)) => Some(Value::String(text.to_lowercase())),
                _ => Some(model),
            }
        }
        // genie's short platform family (`c3750e`, `cat9k`, `asr9k`, `n3k`, `ap`).
        "platform" => detail(ours, "platform_family").or_else(|| detail(ours, "platform")),
        "operating_mode" => {
            detail(ours, "operating_mode").or_else(|| detail(ours, "router_operating_mode"))
        }
        key => detail(ours, key),
    }
}
