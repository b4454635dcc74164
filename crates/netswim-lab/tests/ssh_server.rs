//! The lab's SSH server driven by russh's client: authentication, exec and
//! shell channels, prompts, paging, errors, reload dropping sessions.

mod common;

use std::time::Duration;

use common::*;
use russh::keys::PrivateKey;

#[tokio::test]
async fn exec_channel_runs_show_version_with_crlf_line_endings() {
    let lab = start_lab("127.20.1.1", "ios:1", 1).await;
    let address = lab.devices[0].handle.ssh_address();
    let handle = connect_with_password(address).await;
    let (output, status) = exec(&handle, "show version").await;
    assert_eq!(status, Some(0));
    assert!(
        output.starts_with("Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(2)E7, RELEASE SOFTWARE (fc1)\r\n"),
        "{output}"
    );
    assert!(
        output.contains("System image file is \"flash:c2960x-universalk9-mz.152-2.E7.bin\"\r\n")
    );
    assert!(
        !output.replace("\r\n", "").contains('\n'),
        "bare LF in output"
    );
}

#[tokio::test]
async fn wrong_password_is_rejected_and_right_one_accepted() {
    let lab = start_lab("127.20.2.1", "ios:1", 1).await;
    let address = lab.devices[0].handle.ssh_address();
    let mut handle = connect(address).await;
    let wrong = handle
        .authenticate_password(USERNAME, "nope")
        .await
        .unwrap();
    assert!(!wrong.success());
    let wrong_user = handle
        .authenticate_password("root", PASSWORD)
        .await
        .unwrap();
    assert!(!wrong_user.success());
    let right = handle
        .authenticate_password(USERNAME, PASSWORD)
        .await
        .unwrap();
    assert!(right.success());
}

#[tokio::test]
async fn keyboard_interactive_asks_for_the_password() {
    use russh::client::KeyboardInteractiveAuthResponse as Response;
    let lab = start_lab("127.20.3.1", "ios:1", 1).await;
    let mut handle = connect(lab.devices[0].handle.ssh_address()).await;
    let reply = handle
        .authenticate_keyboard_interactive_start(USERNAME, None)
        .await
        .unwrap();
    let Response::InfoRequest { prompts, .. } = reply else {
        panic!("expected a prompt, got {reply:?}");
    };
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0].prompt, "Password: ");
    assert!(!prompts[0].echo);
    let done = handle
        .authenticate_keyboard_interactive_respond(vec![PASSWORD.into()])
        .await
        .unwrap();
    assert!(matches!(done, Response::Success), "{done:?}");
}

#[tokio::test]
async fn shell_prompts_enable_and_config_mode() {
    let lab = start_lab("127.20.4.1", "ios:1", 1).await;
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send("enable\r").await;
    shell.read_until("Password: ").await;
    shell.send(&format!("{ENABLE_SECRET}\r")).await;
    let after = shell.read_until("lab-sw-001#").await;
    assert!(
        !after.contains(ENABLE_SECRET),
        "the secret must not be echoed"
    );
    shell.send("conf t\r").await;
    let text = shell.read_until("lab-sw-001(config)#").await;
    assert!(text.contains("Enter configuration commands, one per line.  End with CNTL/Z.\r\n"));
    shell.send("hostname core-1\r").await;
    shell.read_until("core-1(config)#").await;
    shell.send("end\r").await;
    shell.read_until("core-1#").await;
    let status = lab.status();
    assert!(!status[0].config_saved, "hostname change is unsaved");
}

#[tokio::test]
async fn shell_marks_invalid_input_and_ambiguous_commands() {
    let lab = start_lab("127.20.5.1", "ios:1", 1).await;
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send("sh vresion\r").await;
    let text = shell.read_until("lab-sw-001>").await;
    // The prompt is 11 characters and `vresion` starts 3 further on.
    assert_eq!(
        text,
        "sh vresion\r\n              ^\r\n% Invalid input detected at '^' marker.\r\n\r\nlab-sw-001>"
    );
    shell.send(&format!("enable\r{ENABLE_SECRET}\r")).await;
    shell.read_until("lab-sw-001#").await;
    shell.send("sh s\r").await;
    let text = shell.read_until("lab-sw-001#").await;
    assert_eq!(
        text,
        "sh s\r\n% Ambiguous command:  \"sh s\"\r\nlab-sw-001#"
    );
}

#[tokio::test]
async fn long_output_pages_with_more_until_terminal_length_zero() {
    let lab = start_lab("127.20.6.1", "ios:1", 1).await;
    let handle = connect_with_password(lab.devices[0].handle.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell.send("show version\r").await;
    let first_page = shell.read_until(" --More-- ").await;
    assert_eq!(first_page.matches("\r\n").count(), 24, "{first_page}");
    shell.send(" ").await;
    shell.read_until(" --More-- ").await;
    shell.send("q").await;
    shell.read_until("lab-sw-001>").await;
    shell.send("terminal length 0\r").await;
    shell.read_until("lab-sw-001>").await;
    shell.send("show version\r").await;
    let whole = shell.read_until("lab-sw-001>").await;
    assert!(!whole.contains("--More--"));
    assert!(whole.contains("Configuration register is 0xF\r\n"));
}

#[tokio::test]
async fn reload_drops_sessions_and_the_device_returns_after_the_delay() {
    let lab = start_lab("127.20.7.1", "ios:1", 1).await;
    let device = &lab.devices[0].handle;
    let handle = connect_with_password(device.ssh_address()).await;
    let mut shell = Shell::open(&handle).await;
    shell.read_until("lab-sw-001>").await;
    shell
        .send(&format!("enable\r{ENABLE_SECRET}\rreload\r"))
        .await;
    shell.read_until("Proceed with reload? [confirm]").await;
    assert_eq!(lab.status()[0].active_sessions, 1);
    shell.send("\r").await;
    shell.read_to_close().await;
    assert_eq!(lab.status()[0].state, "reloading");
    assert!(
        tokio::net::TcpStream::connect(device.ssh_address())
            .await
            .is_err(),
        "unreachable while reloading"
    );
    tokio::time::timeout(Duration::from_secs(5), device.wait_listening(2))
        .await
        .expect("device came back");
    let status = &lab.status()[0];
    assert_eq!(status.state, "up");
    assert_eq!(status.reload_count, 1);
    assert_eq!(status.running_version.as_deref(), Some("15.2(2)E7"));
    let handle = connect_with_password(device.ssh_address()).await;
    let (output, _) = exec(&handle, "show version").await;
    assert!(output.contains("uptime is 0 minutes"));
}

#[tokio::test]
async fn legacy_device_offers_only_old_ios_algorithms() {
    use russh::keys::Algorithm;
    let lab = start_lab("127.20.8.1", "ios+legacy:1", 1).await;
    let address = lab.devices[0].handle.ssh_address();
    // A modern-only client cannot agree with it...
    let modern_only = russh::client::Config {
        preferred: russh::Preferred {
            kex: std::borrow::Cow::Borrowed(&[russh::kex::CURVE25519]),
            ..Default::default()
        },
        ..Default::default()
    };
    let refused =
        russh::client::connect(std::sync::Arc::new(modern_only), address, TrustingClient).await;
    assert!(
        refused.is_err(),
        "curve25519-only client must fail key exchange"
    );
    // ...a client offering the legacy set connects.
    let legacy = russh::client::Config {
        preferred: russh::Preferred {
            kex: std::borrow::Cow::Borrowed(&[russh::kex::DH_G14_SHA1]),
            key: std::borrow::Cow::Borrowed(&[Algorithm::Rsa { hash: None }]),
            cipher: std::borrow::Cow::Borrowed(&[russh::cipher::AES_128_CBC]),
            mac: std::borrow::Cow::Borrowed(&[russh::mac::HMAC_SHA1]),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut handle = russh::client::connect(std::sync::Arc::new(legacy), address, TrustingClient)
        .await
        .unwrap();
    assert!(
        handle
            .authenticate_password(USERNAME, PASSWORD)
            .await
            .unwrap()
            .success()
    );
    let (output, _) = exec(&handle, "show version").await;
    assert!(output.starts_with("Cisco IOS Software"));
    let _unused: Option<PrivateKey> = None;
}
