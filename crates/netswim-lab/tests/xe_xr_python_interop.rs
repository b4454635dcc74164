//! Netmiko (`cisco_xe`, `cisco_xr`) and Scrapli (`IOSXEDriver`, `IOSXRDriver`
//! over the system OpenSSH transport) against lab IOS-XE and IOS-XR devices;
//! ntc-templates TextFSM parses the XR `show version`, `show install active`
//! and `dir`, and the XE `show version` (with the `cisco_ios` template, as
//! for real Catalysts), into fields that must equal the lab's ground truth.
//! A missing peer fails.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use serde_json::Value;
use tokio::process::Command;

const XE_SCRIPT: &str = r#"
import json, sys
from netmiko import ConnectHandler
from scrapli.driver.core import IOSXEDriver
host, port, user, password, secret = sys.argv[1:6]
result = {}
connection = ConnectHandler(device_type="cisco_xe", host=host, port=int(port),
                            username=user, password=password, secret=secret)
connection.enable()
result["netmiko_prompt"] = connection.find_prompt()
result["show version"] = connection.send_command("show version")
result["dir"] = connection.send_command("dir bootflash:")
connection.disconnect()
# Catalysts on IOS-XE are parsed with the cisco_ios templates.
from ntc_templates.parse import parse_output
result["textfsm_version"] = parse_output(platform="cisco_ios", command="show version",
                                         data=result["show version"])
with IOSXEDriver(host=host, port=int(port), auth_username=user, auth_password=password,
                 auth_secondary=secret, auth_strict_key=False, transport="system",
                 ssh_config_file=False, timeout_socket=30, timeout_transport=60,
                 timeout_ops=60) as conn:
    result["scrapli_prompt"] = conn.get_prompt()
    result["scrapli_install"] = conn.send_command("show install summary").result
    result["scrapli_version"] = conn.send_command("show version").result
print(json.dumps(result))
"#;

const XR_SCRIPT: &str = r#"
import json, sys
from netmiko import ConnectHandler
from scrapli.driver.core import IOSXRDriver
host, port, user, password, secret = sys.argv[1:6]
result = {}
connection = ConnectHandler(device_type="cisco_xr", host=host, port=int(port),
                            username=user, password=password)
result["netmiko_prompt"] = connection.find_prompt()
for command in ["show version", "show install active", "dir"]:
    result[command] = connection.send_command(command, use_textfsm=True)
connection.disconnect()
with IOSXRDriver(host=host, port=int(port), auth_username=user, auth_password=password,
                 auth_strict_key=False, transport="system", ssh_config_file=False,
                 timeout_socket=30, timeout_transport=60, timeout_ops=60) as conn:
    result["scrapli_prompt"] = conn.get_prompt()
    result["scrapli_committed"] = conn.send_command("show install committed summary").result
    result["scrapli_version"] = conn.send_command("show version").result
print(json.dumps(result))
"#;

/// Runs a script with host, port, user, password, secret as arguments;
/// returns the JSON it prints.
async fn run_python(script: &str, address: std::net::SocketAddr) -> Value {
    require_peer("python3", "python3");
    require_peer("ssh", "openssh-client");
    let has_peers = Command::new("python3")
        .args([
            "-c",
            "import netmiko, ntc_templates; from scrapli.driver.core import IOSXEDriver, IOSXRDriver",
        ])
        .status()
        .await
        .map(|status| status.success())
        .unwrap_or(false);
    assert!(
        has_peers,
        "interop peers Netmiko/Scrapli are missing: install them with \
         `python3 -m pip install netmiko==4.8.0 scrapli==2025.1.30` \
         (a missing peer is a failure, never a skip)"
    );
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(address.ip().to_string())
        .arg(address.port().to_string())
        .args([USERNAME, PASSWORD, ENABLE_SECRET])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("python peers finished in time")
        .unwrap();
    assert!(
        output.status.success(),
        "python peers failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn netmiko_cisco_xe_and_scrapli_iosxe_driver_read_a_catalyst_9300() {
    let lab = start_lab("127.42.7.1", "iosxe:1", 1).await;
    let truth = lab.status().swap_remove(0);
    let version = truth.running_version.clone().unwrap();
    let result = run_python(XE_SCRIPT, lab.devices[0].handle.ssh_address()).await;
    assert_eq!(result["netmiko_prompt"], "lab-sw-001#");
    assert_eq!(result["scrapli_prompt"], "lab-sw-001#");
    for key in ["show version", "scrapli_version"] {
        let text = result[key].as_str().unwrap();
        assert!(
            text.contains(&format!("Cisco IOS XE Software, Version {version}\n")),
            "{key}: {text}"
        );
        let image = truth.running_image.clone().unwrap();
        assert!(
            text.contains(&format!("System image file is \"{image}\"")),
            "{key}: {text}"
        );
    }
    let listing = result["dir"].as_str().unwrap();
    for file in &truth.file_systems[0].files {
        assert!(
            listing.contains(&format!("{:>10}", file.size)) && listing.contains(&file.path),
            "{} missing in {listing}",
            file.path
        );
    }
    let parsed = &result["textfsm_version"][0];
    // The IOS line prints 17.09.04a as 17.9.4a.
    let short: Vec<&str> = version
        .split('.')
        .map(|part| part.trim_start_matches('0'))
        .collect();
    assert_eq!(parsed["version"], short.join(".").as_str(), "{result}");
    assert_eq!(parsed["software_image"], "CAT9K_IOSXE");
    assert_eq!(parsed["hostname"], truth.name.as_str());
    assert_eq!(
        parsed["running_image"],
        truth
            .running_image
            .clone()
            .unwrap()
            .trim_start_matches("flash:")
    );
    assert_eq!(parsed["hardware"][0], truth.model.as_str());
    let install = result["scrapli_install"].as_str().unwrap();
    assert!(
        install.contains(&format!("IMG   C    {version}")),
        "{install}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn netmiko_cisco_xr_textfsm_and_scrapli_iosxr_driver_match_ground_truth() {
    let lab = start_lab("127.42.8.1", "iosxr:1", 1).await;
    let truth = lab.status().swap_remove(0);
    let result = run_python(XR_SCRIPT, lab.devices[0].handle.ssh_address()).await;
    let prompt = "RP/0/RSP0/CPU0:lab-rtr-001#";
    assert_eq!(result["netmiko_prompt"], prompt);
    assert_eq!(result["scrapli_prompt"], prompt);

    let version = &result["show version"][0];
    assert_eq!(
        version["version"],
        truth.running_version.clone().unwrap().as_str(),
        "{result}"
    );
    assert_eq!(
        version["label"],
        truth.running_version.clone().unwrap().as_str()
    );
    assert_eq!(version["hardware"], "ASR9K");
    assert_eq!(version["location"], "/opt/cisco/XR/packages/");

    let nodes = result["show install active"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{result}");
    assert_eq!(nodes[0]["node"], "0/RSP0/CPU0");
    assert_eq!(nodes[0]["node_type"], "RP");
    let packages: Vec<&str> = nodes[0]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| package.as_str().unwrap())
        .collect();
    assert_eq!(packages, truth.xr_active_packages);

    let listing = result["dir"].as_array().unwrap();
    let disk = &truth.file_systems[0];
    assert_eq!(listing.len(), disk.files.len(), "{result}");
    for (row, file) in listing.iter().zip(&disk.files) {
        assert_eq!(row["file_system"], "harddisk:");
        assert_eq!(row["name"], file.path.as_str());
        assert_eq!(row["size"], file.size.to_string().as_str());
        assert_eq!(row["total_free"], (disk.free / 1024).to_string().as_str());
    }

    let committed = result["scrapli_committed"].as_str().unwrap();
    for package in &truth.xr_committed_packages {
        assert!(committed.contains(package.as_str()), "{committed}");
    }
    let scrapli_version = result["scrapli_version"].as_str().unwrap();
    assert!(
        scrapli_version.contains("Cisco IOS XR Software, Version 6.5.3"),
        "{scrapli_version}"
    );
}
