//! Netmiko (`cisco_ios`) against lab devices, with the TextFSM templates of
//! ntc-templates (installed with Netmiko) parsing what the lab prints; the
//! parsed fields must equal the lab's ground truth. A missing peer fails.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use serde_json::Value;
use tokio::process::Command;

const SCRIPT: &str = r#"
import json, sys
from netmiko import ConnectHandler
host, port, user, password, secret = sys.argv[1:6]
connection = ConnectHandler(device_type="cisco_ios", host=host, port=int(port),
                            username=user, password=password, secret=secret)
connection.enable()
result = {"prompt": connection.find_prompt()}
for command in ["show version", "dir", "show switch detail", "show boot"]:
    result[command] = connection.send_command(command, use_textfsm=True)
connection.disconnect()
print(json.dumps(result))
"#;

/// Runs a Netmiko script with host, port, user, password, secret as arguments
/// (and `extra` after them); returns the JSON it prints.
async fn run_python(script: &str, address: std::net::SocketAddr, extra: &[&str]) -> Value {
    require_peer("python3", "python3");
    let has_netmiko = Command::new("python3")
        .args(["-c", "import netmiko, ntc_templates"])
        .status()
        .await
        .map(|status| status.success())
        .unwrap_or(false);
    assert!(
        has_netmiko,
        "interop peer Netmiko is missing: install it with `python3 -m pip install netmiko==4.8.0` \
         (a missing peer is a failure, never a skip)"
    );
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(address.ip().to_string())
        .arg(address.port().to_string())
        .args([USERNAME, PASSWORD, ENABLE_SECRET])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(90), output)
        .await
        .expect("netmiko finished in time")
        .unwrap();
    assert!(
        output.status.success(),
        "netmiko failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn netmiko_reads_a_stack_and_textfsm_fields_match_ground_truth() {
    let lab = start_lab("127.25.1.1", "ios-stack:1", 1).await;
    let truth = &lab.status()[0];
    let result = run_python(SCRIPT, lab.devices[0].handle.ssh_address(), &[]).await;
    assert_eq!(result["prompt"], "lab-sw-001#");

    let version = &result["show version"][0];
    assert_eq!(
        version["version"],
        truth.running_version.clone().unwrap().as_str()
    );
    assert_eq!(version["hostname"], "lab-sw-001");
    let image = truth.running_image.clone().unwrap();
    assert_eq!(version["running_image"], image.trim_start_matches("flash:"));
    let hardware: Vec<&str> = version["hardware"]
        .as_array()
        .unwrap()
        .iter()
        .map(|model| model.as_str().unwrap())
        .collect();
    let members: Vec<&str> = truth
        .members
        .iter()
        .map(|member| member.model.as_str())
        .collect();
    assert_eq!(hardware, members);

    let listing = result["dir"].as_array().unwrap();
    let master_flash = &truth.file_systems[0];
    assert_eq!(listing.len(), master_flash.files.len());
    for (row, file) in listing.iter().zip(&master_flash.files) {
        assert_eq!(row["name"], file.path.as_str());
        assert_eq!(row["size"], file.size.to_string().as_str());
        assert_eq!(row["total_free"], master_flash.free.to_string().as_str());
    }

    let switches = result["show switch detail"].as_array().unwrap();
    assert_eq!(switches.len(), truth.members.len());
    for (row, member) in switches.iter().zip(&truth.members) {
        assert_eq!(row["switch"], member.number.to_string().as_str());
        assert_eq!(row["state"], member.state.as_str());
    }

    // The template keeps one record (the last block) for a stack.
    let boot = &result["show boot"][0];
    let last = truth.members.last().unwrap();
    assert_eq!(boot["boot_path"], last.boot_path.join(";").as_str());
}

const FILE_TRANSFER: &str = r#"
import json, sys
from netmiko import ConnectHandler, file_transfer
host, port, user, password, secret, source = sys.argv[1:7]
connection = ConnectHandler(device_type="cisco_ios", host=host, port=int(port),
                            username=user, password=password, secret=secret)
connection.enable()
connection.send_config_set(["ip scp server enable"])
result = file_transfer(connection, source_file=source, dest_file="pushed.bin",
                       file_system="flash:", direction="put", overwrite_file=True)
connection.disconnect()
print(json.dumps(result))
"#;

#[tokio::test(flavor = "multi_thread")]
async fn netmiko_file_transfer_pushes_by_scp_and_verifies_the_md5() {
    let lab = start_lab("127.25.2.1", "ios:1", 1).await;
    let directory = tempfile::tempdir().unwrap();
    let source = directory.path().join("source.bin");
    let content: Vec<u8> = (0..200_000u32)
        .map(|index| (index * 13 % 251) as u8)
        .collect();
    std::fs::write(&source, &content).unwrap();
    let source_text = source.display().to_string();
    let result = run_python(
        FILE_TRANSFER,
        lab.devices[0].handle.ssh_address(),
        &[&source_text],
    )
    .await;
    assert_eq!(result["file_transferred"], true, "{result}");
    assert_eq!(result["file_verified"], true, "{result}");
    let md5 = {
        use md5::{Digest, Md5};
        hex::encode(Md5::digest(&content))
    };
    let status = &lab.status()[0];
    let pushed = status.file_systems[0]
        .files
        .iter()
        .find(|entry| entry.path == "pushed.bin")
        .unwrap();
    assert_eq!(pushed.md5, md5);
}
