//! The `netswim` command line as a user meets it: JSON shapes, human output,
//! exit statuses and error hints.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn netswim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netswim"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("netswim runs")
}

fn netswim_with_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_netswim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("netswim runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("netswim finishes")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "netswim failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}

fn corpus(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../netswim-parse/tests/corpus")
        .join(path)
}

#[test]
fn parse_json_prints_os_command_and_typed_data() {
    let file = corpus("ntc/cisco_ios/show_version/cisco_ios_show_version.raw");
    let out = json_of(&netswim(&[
        "parse",
        "--platform",
        "ios",
        "--command",
        "sh ver",
        file.to_str().expect("utf-8 path"),
        "--json",
    ]));
    assert_eq!(out["os"], "ios");
    assert_eq!(out["command"], "show version");
    assert_eq!(out["data"]["version"], "12.2(54)SG1");
    assert_eq!(out["data"]["hostname"], "router1");
    assert_eq!(out["data"]["config_register"], "0x2102");
    assert!(
        out["data"]["uptime_seconds"]
            .as_u64()
            .is_some_and(|s| s > 365 * 86_400)
    );
}

#[test]
fn parse_auto_detects_the_os_from_show_version() {
    let file = corpus("ntc/cisco_nxos/show_version/cisco_nxos_show_version.raw");
    let out = json_of(&netswim(&[
        "parse",
        "--command",
        "show version",
        file.to_str().expect("utf-8 path"),
        "--json",
    ]));
    assert_eq!(out["os"], "nxos");
}

#[test]
fn parse_reads_standard_input_when_no_file_is_given() {
    let output = "Directory of flash:/\n\n    2  -rwx     1048576   Mar 1 1993 00:10:11 +00:00  c2960x-universalk9-mz.152-2.E7.bin\n\n122185728 bytes total (91537408 bytes free)\n";
    let out = json_of(&netswim_with_stdin(
        &[
            "parse",
            "--platform",
            "ios",
            "--command",
            "dir flash:",
            "--json",
        ],
        output,
    ));
    assert_eq!(out["data"]["total_bytes"], 122_185_728);
    assert_eq!(out["data"]["free_bytes"], 91_537_408);
    assert_eq!(
        out["data"]["entries"][0]["name"],
        "c2960x-universalk9-mz.152-2.E7.bin"
    );
    assert_eq!(out["data"]["entries"][0]["size"], 1_048_576);
}

#[test]
fn parse_without_json_prints_key_value_lines() {
    let file = corpus("ntc/cisco_ios/show_version/cisco_ios_show_version.raw");
    let out = netswim(&[
        "parse",
        "--platform",
        "ios",
        "--command",
        "show version",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|line| line.starts_with("data.version") && line.ends_with("12.2(54)SG1")),
        "{text}"
    );
}

#[test]
fn device_error_output_is_reported_not_parsed() {
    let out = netswim_with_stdin(
        &["parse", "--platform", "ios", "--command", "show version"],
        "show verzion\n     ^\n% Invalid input detected at '^' marker.\n",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Invalid input"), "{err}");
}

#[test]
fn unknown_command_and_platform_fail_with_a_hint() {
    for (args, needle) in [
        (
            vec![
                "parse",
                "--platform",
                "ios",
                "--command",
                "show running-config",
            ],
            "hint",
        ),
        (
            vec![
                "parse",
                "--platform",
                "windows",
                "--command",
                "show version",
            ],
            "known:",
        ),
        (
            vec![
                "version",
                "compare",
                "--os",
                "ios",
                "not a version",
                "15.2(7)E8",
            ],
            "15.2",
        ),
        (vec!["image", "parse-name", "holiday-photo.jpg"], "expected"),
        (vec!["image", "inspect", "/nonexistent/image.bin"], "hint"),
    ] {
        let out = netswim_with_stdin(&args, "");
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn version_compare_json_answers_the_ordering() {
    for (os, a, b, expected) in [
        ("ios", "12.2(25)SEE2", "12.2(25)SEB4", "greater"),
        ("ios", "12.4(5a)", "12.4(5b)", "less"),
        ("iosxe", "16.12.04", "16.12.4", "equal"),
        ("ios", "12.2(55)SE8", "15.1(4)M8", "incomparable"),
        ("junos", "18.4R3-S1", "21.4R3-S3.4", "less"),
    ] {
        let out = json_of(&netswim(&[
            "version", "compare", "--os", os, a, b, "--json",
        ]));
        assert_eq!(out["result"], expected, "{os} {a} {b}");
    }
}

#[test]
fn image_parse_name_json_has_the_documented_fields() {
    let out = json_of(&netswim(&[
        "image",
        "parse-name",
        "c3750-ipbasek9-mz.122-25.SEE1.bin",
        "--json",
    ]));
    assert_eq!(out["platform"], "c3750");
    assert_eq!(out["feature_set"], "ipbasek9");
    assert_eq!(out["format"], "bin");
    assert_eq!(out["version"], "12.2(25)SEE1");
    assert_eq!(out["type"], "system");
}

#[test]
fn image_inspect_reports_checksums_of_the_file() {
    let dir = std::env::temp_dir().join(format!("netswim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("c2960x-universalk9-mz.152-7.E8.bin");
    std::fs::write(&file, b"abc").expect("write image");
    let out = json_of(&netswim(&[
        "image",
        "inspect",
        file.to_str().expect("utf-8 path"),
        "--json",
    ]));
    assert_eq!(out["checksums"]["md5"], "900150983cd24fb0d6963f7d28e17f72");
    assert_eq!(out["checksums"]["size_bytes"], 3);
    assert_eq!(out["name"]["platform"], "c2960x");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn image_inspect_of_a_bin_named_tar_reports_the_device_error() {
    let dir = std::env::temp_dir().join(format!("netswim-cli-tar-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("c3750e-universalk9-tar.152-4.E10.tar");
    std::fs::write(&file, vec![0x7f_u8; 4096]).expect("write image");
    let out = json_of(&netswim(&[
        "image",
        "inspect",
        file.to_str().expect("utf-8 path"),
        "--json",
    ]));
    let error = out["archive_error"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(error.contains("tar checksum error"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn relay_refuses_a_setup_it_cannot_receive_images_on() {
    let root = std::env::temp_dir();
    let root = root.to_str().expect("utf-8 temp dir");
    for (args, needle) in [
        (
            vec!["relay", "--root", root, "--http", "127.0.0.1:0"],
            "--sftp",
        ),
        (
            vec![
                "relay",
                "--root",
                root,
                "--sftp",
                "127.0.0.1:0",
                "--upload",
                "/elsewhere",
            ],
            "drop --upload",
        ),
    ] {
        let out = netswim(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
}
