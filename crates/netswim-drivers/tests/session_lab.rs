//! The session engine and the IOS driver against the device lab over real
//! SSH: prompt, enable, paging off, confirmations, rejected commands, legacy
//! algorithms, host key pinning. Loopback range 127.44.0.0/16.

use std::net::Ipv4Addr;
use std::time::Duration;

use netswim_drivers::{
    Algorithms, Answer, Driver, DriverError, IosDriver, Login, Mode, Session, SessionOptions,
    detect_and_collect, fingerprint,
};
use netswim_lab::lab::{Lab, LabOptions, parse_mix};

const USERNAME: &str = "admin";
const PASSWORD: &str = "lab-password";
const ENABLE_SECRET: &str = "lab-enable";

async fn start_lab(base: &str, mix: &str, devices: usize) -> Lab {
    let options = LabOptions {
        devices,
        mix: parse_mix(mix).unwrap(),
        address_base: base.parse::<Ipv4Addr>().unwrap(),
        ssh_port: 0,
        username: USERNAME.into(),
        password: PASSWORD.into(),
        enable_secret: ENABLE_SECRET.into(),
        reload_delay: Duration::from_secs(1),
        seed: 11,
        image_version: "15.2(2)E7".into(),
        image_size: 64 * 1024,
        flash_size: None,
    };
    Lab::start(&options).await.unwrap()
}

fn options_for(lab: &Lab, index: usize) -> SessionOptions {
    let address = lab.devices[index].handle.ssh_address();
    let mut options = SessionOptions::new(
        &address.ip().to_string(),
        address.port(),
        USERNAME,
        PASSWORD,
    );
    options.enable_secret = Some(ENABLE_SECRET.into());
    options.connect_timeout = Duration::from_secs(30);
    options.command_timeout = Duration::from_secs(30);
    options
}

#[tokio::test]
async fn login_learns_the_prompt_enters_enable_and_turns_paging_off() {
    let lab = start_lab("127.44.1.1", "ios:1", 1).await;
    let mut session = Session::connect(options_for(&lab, 0)).await.unwrap();
    assert_eq!(session.login(), Login::Password);
    assert_eq!(session.hostname(), lab.devices[0].name);
    assert_eq!(session.mode(), Mode::Privileged);
    // Longer than one 24-line page: arrives whole only with paging off.
    let config = session.run("show running-config").await.unwrap();
    assert!(!config.contains("--More--"), "{config}");
    assert!(config.trim_end().ends_with("end"), "{config}");
    assert!(config.lines().count() > 24, "{config}");
    // The echo and the prompt are not part of the output.
    let version = session.run("show version").await.unwrap();
    assert!(version.starts_with("Cisco IOS Software"), "{version:?}");
    assert!(!version.contains(&format!("{}#", lab.devices[0].name)));
    session.close().await;
}

#[tokio::test]
async fn without_an_enable_secret_the_session_stays_in_user_mode() {
    let lab = start_lab("127.44.2.1", "ios:1", 1).await;
    let mut options = options_for(&lab, 0);
    options.enable_secret = None;
    let mut session = Session::connect(options).await.unwrap();
    assert_eq!(session.mode(), Mode::User);
    assert!(
        session
            .run("show version")
            .await
            .unwrap()
            .contains("Cisco IOS")
    );
}

#[tokio::test]
async fn a_wrong_enable_secret_is_an_authentication_failure() {
    let lab = start_lab("127.44.3.1", "ios:1", 1).await;
    let mut options = options_for(&lab, 0);
    options.enable_secret = Some("not-the-secret".into());
    let error = Session::connect(options).await.unwrap_err();
    assert!(matches!(error, DriverError::AuthFailed { .. }), "{error}");
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_failure() {
    let lab = start_lab("127.44.4.1", "ios:1", 1).await;
    let mut options = options_for(&lab, 0);
    options.password = "wrong".into();
    let error = Session::connect(options).await.unwrap_err();
    assert!(matches!(error, DriverError::AuthFailed { .. }), "{error}");
    assert!(error.to_string().contains("admin"), "{error}");
}

#[tokio::test]
async fn keyboard_interactive_login_works_and_a_wrong_answer_is_refused() {
    let lab = start_lab("127.44.13.1", "ios:1", 1).await;
    let mut options = options_for(&lab, 0);
    options.keyboard_interactive_first = true;
    let mut session = Session::connect(options.clone()).await.unwrap();
    assert_eq!(session.login(), Login::KeyboardInteractive);
    assert_eq!(session.mode(), Mode::Privileged);
    assert!(session.run("show version").await.is_ok());
    options.password = "wrong".into();
    let error = Session::connect(options).await.unwrap_err();
    assert!(matches!(error, DriverError::AuthFailed { .. }), "{error}");
}

#[tokio::test]
async fn an_address_nobody_listens_on_is_unreachable() {
    // Nothing runs on 127.44.5.9; the connection is refused at once.
    let mut options = SessionOptions::new("127.44.5.9", 2222, USERNAME, PASSWORD);
    options.connect_timeout = Duration::from_secs(20);
    let error = Session::connect(options).await.unwrap_err();
    assert!(matches!(error, DriverError::Unreachable { .. }), "{error}");
}

#[tokio::test]
async fn a_port_that_never_speaks_ssh_is_unreachable_within_the_connect_timeout() {
    // Accepts TCP and stays silent, like a hung SSH daemon or a tarpit.
    let listener = tokio::net::TcpListener::bind("127.44.14.1:0")
        .await
        .unwrap();
    let address = listener.local_addr().unwrap();
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let mut options = SessionOptions::new(
        &address.ip().to_string(),
        address.port(),
        USERNAME,
        PASSWORD,
    );
    options.connect_timeout = Duration::from_secs(2);
    let started = std::time::Instant::now();
    let error = Session::connect(options).await.unwrap_err();
    assert!(matches!(error, DriverError::Unreachable { .. }), "{error}");
    assert!(error.to_string().contains("handshake"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn an_invalid_command_is_rejected_in_the_devices_words_and_the_session_goes_on() {
    let lab = start_lab("127.44.6.1", "ios:1", 1).await;
    let mut session = Session::connect(options_for(&lab, 0)).await.unwrap();
    let error = session.run("show frobnicator").await.unwrap_err();
    match &error {
        DriverError::CommandRejected {
            command, message, ..
        } => {
            assert_eq!(command, "show frobnicator");
            assert!(message.starts_with("% Invalid input"), "{message}");
        }
        other => panic!("expected a rejection, got {other}"),
    }
    assert!(session.run("show clock").await.is_ok());
}

#[tokio::test]
async fn confirmations_are_answered_and_unanswered_questions_time_out() {
    let lab = start_lab("127.44.7.1", "ios:1", 1).await;
    let mut session = Session::connect(options_for(&lab, 0)).await.unwrap();
    // `Destination filename [startup-config]?` accepted with Enter.
    let output = session
        .run_confirming("copy running-config startup-config")
        .await
        .unwrap();
    assert!(output.contains("[OK]"), "{output}");
    assert!(lab.status()[0].config_saved);
    // `Delete filename [x]?` then `Delete flash:/x? [confirm]`.
    let image = lab.status()[0].running_image.clone().unwrap();
    let file = image.trim_start_matches("flash:").trim_start_matches('/');
    session
        .run_confirming(&format!("copy flash:{file} flash:spare.bin"))
        .await
        .unwrap();
    assert!(has_file(&lab, "spare.bin"));
    session
        .run_answering(
            "delete flash:spare.bin",
            &[
                Answer::new("Delete filename", ""),
                Answer::new("[confirm]", ""),
            ],
        )
        .await
        .unwrap();
    assert!(!has_file(&lab, "spare.bin"));
    // A question nobody answers is a timeout, never a guess.
    let mut options = options_for(&lab, 0);
    options.command_timeout = Duration::from_secs(2);
    let mut short = Session::connect(options).await.unwrap();
    let error = short.run("delete flash:nothing.bin").await.unwrap_err();
    assert!(matches!(error, DriverError::Timeout { .. }), "{error}");
}

fn has_file(lab: &Lab, name: &str) -> bool {
    lab.status()[0]
        .file_systems
        .iter()
        .flat_map(|fs| &fs.files)
        .any(|file| file.path.trim_start_matches('/') == name)
}

#[tokio::test]
async fn a_legacy_only_device_needs_the_legacy_algorithms() {
    let lab = start_lab("127.44.8.1", "ios+legacy:1", 1).await;
    let mut options = options_for(&lab, 0);
    let error = Session::connect(options.clone()).await.unwrap_err();
    assert!(matches!(error, DriverError::Unreachable { .. }), "{error}");
    options.algorithms = Algorithms::Legacy;
    let mut session = Session::connect(options).await.unwrap();
    assert!(
        session.host_key().starts_with("ssh-rsa "),
        "{}",
        session.host_key()
    );
    assert!(session.run("show version").await.is_ok());
}

#[tokio::test]
async fn the_host_key_is_pinned_on_first_use_and_a_changed_key_is_refused() {
    let first = start_lab("127.44.9.1", "ios:1", 1).await;
    // A second lab has its own freshly generated host key.
    let second = start_lab("127.44.10.1", "ios:1", 1).await;
    let session = Session::connect(options_for(&first, 0)).await.unwrap();
    let pinned = session.host_key().to_string();
    session.close().await;
    // The pinned key is accepted again...
    let mut options = options_for(&first, 0);
    options.pinned_host_key = Some(pinned.clone());
    let again = Session::connect(options).await.unwrap();
    assert_eq!(again.host_key(), pinned);
    // ...and another key at a pinned device is refused, naming both.
    let mut options = options_for(&second, 0);
    options.pinned_host_key = Some(pinned.clone());
    let error = Session::connect(options).await.unwrap_err();
    let DriverError::HostKeyChanged {
        pinned: old,
        presented,
        ..
    } = &error
    else {
        panic!("expected a host key change, got {error}");
    };
    assert_eq!(old, &fingerprint(&pinned).unwrap());
    assert_ne!(old, presented);
    assert!(error.to_string().contains(old.as_str()), "{error}");
    assert!(error.to_string().contains(presented.as_str()), "{error}");
}

#[tokio::test]
async fn a_session_reconnects_after_the_device_reloads() {
    let lab = start_lab("127.44.11.1", "ios:1", 1).await;
    let mut session = Session::connect(options_for(&lab, 0)).await.unwrap();
    // The reload drops the session while the command runs...
    let error = session
        .run_answering(
            "reload",
            &[Answer::new("Save?", "no"), Answer::new("[confirm]", "")],
        )
        .await
        .unwrap_err();
    assert!(matches!(error, DriverError::Session { .. }), "{error}");
    // ...and a reconnect waits for the device to come back.
    session.reconnect().await.unwrap();
    assert!(session.run("show version").await.is_ok());
    assert_eq!(lab.status()[0].reload_count, 1);
}

#[tokio::test]
async fn the_ios_driver_collects_the_facts_of_a_stack_as_the_lab_knows_them() {
    let lab = start_lab("127.44.12.1", "ios-stack:1", 1).await;
    let truth = lab.status().swap_remove(0);
    let mut session = Session::connect(options_for(&lab, 0)).await.unwrap();
    let facts = IosDriver.collect_facts(&mut session).await.unwrap();
    assert_eq!(facts.version, truth.running_version);
    assert_eq!(facts.model.as_deref(), Some(truth.model.as_str()));
    assert_eq!(facts.boot_path.join(";"), truth.boot_variable);
    assert_eq!(facts.stack_members.len(), truth.members.len());
    for member in &truth.members {
        let seen = facts
            .stack_members
            .iter()
            .find(|seen| seen.member == member.number)
            .unwrap();
        assert_eq!(seen.state.as_deref(), Some(member.state.as_str()));
    }
    assert_eq!(facts.file_systems.len(), truth.file_systems.len());
    for fs in &truth.file_systems {
        let seen = facts.file_system(&fs.name).unwrap();
        assert_eq!(
            (seen.total_bytes, seen.free_bytes),
            (fs.capacity, fs.free),
            "{}",
            fs.name
        );
        assert!(seen.member.is_some());
        let listed = seen.listing.as_ref().unwrap().entries.len();
        assert_eq!(listed, fs.files.len(), "{}", fs.name);
    }
    let serial = lab.devices[0].handle.lock().master_member().serial.clone();
    assert_eq!(facts.serial, Some(serial));
    // Detection from `show version` picks the same driver.
    let detected = detect_and_collect(None, &mut session).await.unwrap();
    assert_eq!(detected.os, Some(netswim_domain::Os::Ios));
    assert_eq!(detected.version, facts.version);
}
