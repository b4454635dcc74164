//! The upgrade steps of `netswim_drivers::upgrade` against the device lab
//! over real SSH, with images pulled from a real file server
//! (`netswim-transfer`: TFTP, HTTP, FTP, SCP) on loopback: copies and their
//! failures, boot variable, reload and return, validation, stacks,
//! `archive download-sw`, IOS-XE install and bundle mode, IOS-XR
//! install/commit/rollback. Loopback range 127.61.0.0/16; reload delay 1 s.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use md5::{Digest, Md5};
use netswim_domain::Os;
use netswim_domain::facts::InstallMode;
use netswim_drivers::upgrade::{
    self, ArchiveOptions, CopyOutcome, CopyRequest, TransferFailure, validate,
};
use netswim_drivers::{CollectedFacts, DriverError, Session, SessionOptions, collect_facts_for};
use netswim_lab::device::Faults;
use netswim_lab::image::{ImageFormat, ImageSpec, image_file_name, make_bin, make_tar};
use netswim_lab::lab::{Lab, LabOptions, parse_mix};
use netswim_lab::platform::{PlatformImageSpec, make_platform_image, platform_image_file_name};
use netswim_transfer::{Fileserver, FileserverConfig};

const USERNAME: &str = "admin";
const PASSWORD: &str = "lab-password";
const ENABLE_SECRET: &str = "lab-enable";
const FTP_USER: &str = "images";
const FTP_PASSWORD: &str = "images-secret";
const OLD_IOS: &str = "15.2(2)E7";
const NEW_IOS: &str = "15.2(7)E8";
const RETURN_TIMEOUT: Duration = Duration::from_secs(20);

async fn start_lab(base: &str, mix: &str, devices: usize, seed: u64) -> Lab {
    let options = LabOptions {
        devices,
        mix: parse_mix(mix).unwrap(),
        address_base: base.parse::<Ipv4Addr>().unwrap(),
        ssh_port: 0,
        username: USERNAME.into(),
        password: PASSWORD.into(),
        enable_secret: ENABLE_SECRET.into(),
        reload_delay: Duration::from_secs(1),
        seed,
        image_version: OLD_IOS.into(),
        image_size: 64 * 1024,
        flash_size: None,
    };
    Lab::start(&options).await.unwrap()
}

async fn connect(lab: &Lab, index: usize) -> Session {
    let address = lab.devices[index].handle.ssh_address();
    let mut options = SessionOptions::new(
        &address.ip().to_string(),
        address.port(),
        USERNAME,
        PASSWORD,
    );
    options.enable_secret = Some(ENABLE_SECRET.into());
    options.connect_timeout = Duration::from_secs(10);
    options.command_timeout = Duration::from_secs(20);
    Session::connect(options).await.unwrap()
}

/// A real file server (TFTP, HTTP, FTP, SCP) over a temporary folder.
struct Images {
    root: tempfile::TempDir,
    tftp: SocketAddr,
    http: SocketAddr,
    ftp: SocketAddr,
    ssh: SocketAddr,
}

impl Images {
    async fn start(ip: &str) -> Self {
        let root = tempfile::tempdir().unwrap();
        let any: SocketAddr = format!("{ip}:0").parse().unwrap();
        let mut config = FileserverConfig::new(root.path());
        config.tftp = Some(any);
        config.http = Some(any);
        config.ftp = Some(any);
        config.sftp = Some(any);
        config.credentials.insert(FTP_USER, FTP_PASSWORD);
        let server = Fileserver::bind(config).await.unwrap();
        let addresses = server.addresses().clone();
        tokio::spawn(server.run(std::future::pending::<()>()));
        Images {
            root,
            tftp: addresses.tftp.unwrap(),
            http: addresses.http.unwrap(),
            ftp: addresses.ftp.unwrap(),
            ssh: addresses.sftp.unwrap(),
        }
    }

    /// Publishes a file; returns its MD5.
    fn put(&self, name: &str, bytes: &[u8]) -> String {
        std::fs::write(self.root.path().join(name), bytes).unwrap();
        hex::encode(Md5::digest(bytes))
    }

    fn url(&self, protocol: &str, name: &str) -> String {
        match protocol {
            "tftp" => format!("tftp://{}/{name}", self.tftp),
            "http" => format!("http://{}/{name}", self.http),
            "ftp" => format!("ftp://{FTP_USER}:{FTP_PASSWORD}@{}/{name}", self.ftp),
            "scp" => format!("scp://{FTP_USER}:{FTP_PASSWORD}@{}/{name}", self.ssh),
            other => panic!("no {other} server"),
        }
    }
}

fn ios_image(version: &str, format: ImageFormat) -> (String, Vec<u8>) {
    let spec = ImageSpec {
        model: "WS-C2960X-48FPD-L".into(),
        version: version.into(),
        feature: "universalk9".into(),
        min_dram_mb: 256,
        size: 64 * 1024,
    };
    let bytes = match format {
        ImageFormat::Bin => make_bin(&spec).unwrap(),
        ImageFormat::Tar => make_tar(&spec).unwrap(),
    };
    (image_file_name(&spec, format).unwrap(), bytes)
}

fn platform_image(model: &str, version: &str) -> (String, Vec<u8>) {
    let spec = PlatformImageSpec {
        model: model.into(),
        version: version.into(),
        size: 128 * 1024,
    };
    (
        platform_image_file_name(&spec).unwrap(),
        make_platform_image(&spec).unwrap(),
    )
}

fn transfer_kind(error: &DriverError) -> TransferFailure {
    match error {
        DriverError::Transfer { kind, .. } => *kind,
        other => panic!("not a transfer failure: {other}"),
    }
}

fn file_names(facts: &CollectedFacts, file_system: &str) -> Vec<String> {
    facts
        .file_system(file_system)
        .and_then(|fs| fs.listing.as_ref())
        .map(|listing| listing.entries.iter().map(|e| e.name.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn ios_copies_over_tftp_ftp_scp_and_http_and_skips_an_image_already_present() {
    let images = Images::start("127.61.1.250").await;
    let lab = start_lab("127.61.1.1", "ios:1", 1, 11).await;
    let (name, bytes) = ios_image(NEW_IOS, ImageFormat::Bin);
    let md5 = images.put(&name, &bytes);
    let mut session = connect(&lab, 0).await;
    for protocol in ["tftp", "ftp", "scp", "http"] {
        let destination = format!("flash:{protocol}-{name}");
        let request = CopyRequest::new(&images.url(protocol, &name), &destination, &md5);
        let outcome = upgrade::copy_image(&mut session, Os::Ios, &request)
            .await
            .unwrap_or_else(|error| panic!("{protocol}: {error}"));
        assert!(
            matches!(outcome, CopyOutcome::Copied { bytes: copied, .. } if copied == bytes.len() as u64),
            "{protocol}: {outcome:?}"
        );
        assert_eq!(
            upgrade::verify_md5(&mut session, Os::Ios, &destination)
                .await
                .unwrap(),
            md5
        );
        // Run again (a retry after a crash): nothing is copied.
        assert_eq!(
            upgrade::copy_image(&mut session, Os::Ios, &request)
                .await
                .unwrap(),
            CopyOutcome::AlreadyPresent,
            "{protocol}"
        );
    }
    // SCP with the password typed at the device's question, not in the URL.
    let mut typed = CopyRequest::new(
        &format!("scp://{FTP_USER}@{}/{name}", images.ssh),
        &format!("flash:typed-{name}"),
        &md5,
    );
    typed.password = Some(FTP_PASSWORD.into());
    assert!(matches!(
        upgrade::copy_image(&mut session, Os::Ios, &typed)
            .await
            .unwrap(),
        CopyOutcome::Copied { .. }
    ));
    // Without it, the login is refused at once (no wait for the timeout).
    let mut untyped = typed.to_destination(&format!("flash:untyped-{name}"));
    untyped.password = None;
    let error = upgrade::copy_image(&mut session, Os::Ios, &untyped)
        .await
        .unwrap_err();
    assert_eq!(transfer_kind(&error), TransferFailure::Refused, "{error}");
    let facts = collect_facts_for(Os::Ios, &mut session).await.unwrap();
    let names = file_names(&facts, "flash:");
    for protocol in ["tftp", "ftp", "scp", "http"] {
        assert!(names.contains(&format!("{protocol}-{name}")), "{names:?}");
    }
    // Deleting is idempotent too.
    let path = format!("flash:tftp-{name}");
    assert!(
        upgrade::delete_file(&mut session, Os::Ios, &path)
            .await
            .unwrap()
    );
    assert!(
        !upgrade::delete_file(&mut session, Os::Ios, &path)
            .await
            .unwrap()
    );
    assert_eq!(
        upgrade::file_md5_if_present(&mut session, Os::Ios, &path)
            .await
            .unwrap(),
        None
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_copies_are_classified_in_the_devices_words_and_leave_no_bad_file() {
    let images = Images::start("127.61.2.250").await;
    let lab = start_lab("127.61.2.1", "ios:2", 2, 11).await;
    let (name, bytes) = ios_image(NEW_IOS, ImageFormat::Bin);
    let md5 = images.put(&name, &bytes);
    let destination = format!("flash:{name}");

    // Corrupting transfer: checksum mismatch, and the bad copy is deleted.
    lab.devices[0].handle.set_faults(Faults {
        corrupt_transfers: true,
        ..Faults::default()
    });
    let mut session = connect(&lab, 0).await;
    let request = CopyRequest::new(&images.url("http", &name), &destination, &md5);
    let error = upgrade::copy_image(&mut session, Os::Ios, &request)
        .await
        .unwrap_err();
    assert_eq!(
        transfer_kind(&error),
        TransferFailure::ChecksumMismatch,
        "{error}"
    );
    assert!(error.to_string().contains("was deleted"), "{error}");
    assert_eq!(
        upgrade::file_md5_if_present(&mut session, Os::Ios, &destination)
            .await
            .unwrap(),
        None
    );

    // A file the server does not have, a server that is not there.
    lab.devices[0].handle.set_faults(Faults::default());
    let missing = CopyRequest::new(&images.url("tftp", "nope.bin"), "flash:nope.bin", &md5);
    let error = upgrade::copy_image(&mut session, Os::Ios, &missing)
        .await
        .unwrap_err();
    assert_eq!(transfer_kind(&error), TransferFailure::NotFound, "{error}");
    assert!(error.to_string().contains("%Error opening"), "{error}");
    let closed = std::net::TcpListener::bind("127.61.2.250:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nobody = CopyRequest::new(
        &format!("http://127.61.2.250:{port}/{name}"),
        &destination,
        &md5,
    );
    let error = upgrade::copy_image(&mut session, Os::Ios, &nobody)
        .await
        .unwrap_err();
    assert_eq!(
        transfer_kind(&error),
        TransferFailure::Unreachable,
        "{error}"
    );

    // A transfer that stops making progress: stalled after the copy's own
    // timeout, and the session is usable again (a fresh login).
    lab.devices[0].handle.set_faults(Faults {
        transfer_stall_after_bytes: Some(16 * 1024),
        ..Faults::default()
    });
    let mut stalling = CopyRequest::new(&images.url("tftp", &name), &destination, &md5);
    stalling.timeout = Duration::from_secs(3);
    let error = upgrade::copy_image(&mut session, Os::Ios, &stalling)
        .await
        .unwrap_err();
    assert_eq!(transfer_kind(&error), TransferFailure::Stalled, "{error}");
    assert!(
        session
            .run("show version")
            .await
            .unwrap()
            .contains("Cisco IOS")
    );
    assert_eq!(
        upgrade::file_md5_if_present(&mut session, Os::Ios, &destination)
            .await
            .unwrap(),
        None
    );

    // Full flash: no space, and another protocol would not help.
    lab.devices[1].handle.set_faults(Faults {
        full_flash: true,
        ..Faults::default()
    });
    let mut session = connect(&lab, 1).await;
    let error = upgrade::copy_image(&mut session, Os::Ios, &request)
        .await
        .unwrap_err();
    assert_eq!(transfer_kind(&error), TransferFailure::NoSpace, "{error}");
    assert!(!TransferFailure::NoSpace.worth_another_protocol());
    assert!(error.to_string().contains("Not enough space"), "{error}");
}

#[tokio::test(flavor = "multi_thread")]
async fn set_boot_reload_and_wait_run_the_new_version_and_restore_boot_goes_back() {
    let images = Images::start("127.61.3.250").await;
    let lab = start_lab("127.61.3.1", "ios:1", 1, 11).await;
    let (name, bytes) = ios_image(NEW_IOS, ImageFormat::Bin);
    let md5 = images.put(&name, &bytes);
    let mut session = connect(&lab, 0).await;
    let before = collect_facts_for(Os::Ios, &mut session).await.unwrap();
    let old = before.running_image.clone().unwrap();
    let new = format!("flash:{name}");
    let request = CopyRequest::new(&images.url("tftp", &name), &new, &md5);
    upgrade::copy_image(&mut session, Os::Ios, &request)
        .await
        .unwrap();
    let change = upgrade::set_boot(&mut session, Os::Ios, &[new.clone(), old.clone()])
        .await
        .unwrap();
    assert_eq!(change.previous, before.boot_path);
    assert_eq!(change.now, vec![new.clone(), old.clone()]);
    // Setting it again changes nothing and still succeeds.
    upgrade::set_boot(&mut session, Os::Ios, &[new.clone(), old.clone()])
        .await
        .unwrap();
    let facts = upgrade::reload_and_wait(&mut session, Os::Ios, RETURN_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(facts.version.as_deref(), Some(NEW_IOS));
    assert_eq!(validate(&facts, NEW_IOS, None), Ok(()));
    assert_eq!(lab.status()[0].reload_count, 1);

    // Roll back: the previous boot variable and the old release.
    upgrade::restore_boot(&mut session, Os::Ios, &change.previous)
        .await
        .unwrap();
    let facts = upgrade::reload_and_wait(&mut session, Os::Ios, RETURN_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(facts.boot_path, change.previous);
    assert_eq!(validate(&facts, OLD_IOS, None), Ok(()));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_image_that_fails_to_boot_leaves_the_old_one_running_and_validation_says_so() {
    let images = Images::start("127.61.4.250").await;
    let lab = start_lab("127.61.4.1", "ios:2", 2, 11).await;
    // The repository's copy itself is damaged: its MD5 matches, its payload
    // checksum does not, so the switch refuses to boot it and falls back to
    // the next boot entry.
    let (name, mut bytes) = ios_image(NEW_IOS, ImageFormat::Bin);
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    let md5 = images.put(&name, &bytes);
    let mut session = connect(&lab, 0).await;
    let old = collect_facts_for(Os::Ios, &mut session)
        .await
        .unwrap()
        .running_image
        .unwrap();
    let new = format!("flash:{name}");
    let request = CopyRequest::new(&images.url("tftp", &name), &new, &md5);
    upgrade::copy_image(&mut session, Os::Ios, &request)
        .await
        .unwrap();
    upgrade::set_boot(&mut session, Os::Ios, &[new, old])
        .await
        .unwrap();
    let facts = upgrade::reload_and_wait(&mut session, Os::Ios, RETURN_TIMEOUT)
        .await
        .unwrap();
    let failure = validate(&facts, NEW_IOS, None).unwrap_err();
    assert_eq!(
        failure.problems,
        vec![format!(
            "runs {OLD_IOS}, expected {NEW_IOS} (image flash:c2960x-universalk9-mz.152-2.E7.bin)"
        )]
    );
    assert!(failure.to_string().contains("previous image"), "{failure}");

    // The boot failure fault: the device never comes back within the wait.
    lab.devices[1].handle.set_faults(Faults {
        boot_failure: true,
        ..Faults::default()
    });
    let mut session = connect(&lab, 1).await;
    let started = std::time::Instant::now();
    upgrade::reload(&mut session, Os::Ios).await.unwrap();
    let error = upgrade::wait_for_return(&mut session, Os::Ios, Duration::from_secs(4))
        .await
        .unwrap_err();
    assert!(
        matches!(error, DriverError::DeviceDidNotReturn { .. }),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(lab.status()[1].state, "rommon");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_three_member_stack_gets_one_pull_copies_to_each_member_and_boots_the_new_version() {
    let images = Images::start("127.61.5.250").await;
    // Seed 2 makes device 0 a stack of three WS-C2960X members.
    let lab = start_lab("127.61.5.1", "ios-stack:1", 1, 2).await;
    assert_eq!(lab.status()[0].members.len(), 3);
    let (name, bytes) = ios_image(NEW_IOS, ImageFormat::Bin);
    let md5 = images.put(&name, &bytes);
    let mut session = connect(&lab, 0).await;
    let before = collect_facts_for(Os::Ios, &mut session).await.unwrap();
    let mut file_systems: Vec<String> = before
        .file_systems
        .iter()
        .filter(|fs| fs.member.is_some())
        .map(|fs| fs.name.clone())
        .collect();
    file_systems.sort();
    assert_eq!(file_systems, ["flash1:", "flash2:", "flash3:"]);
    let request = CopyRequest::new(&images.url("http", &name), &format!("flash:{name}"), &md5);
    let outcomes = upgrade::copy_image_to_members(&mut session, Os::Ios, &request, &file_systems)
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    for (file_system, outcome) in &outcomes {
        assert!(
            matches!(outcome, CopyOutcome::Copied { .. }),
            "{file_system}: {outcome:?}"
        );
        assert_eq!(
            upgrade::verify_md5(&mut session, Os::Ios, &format!("{file_system}{name}"))
                .await
                .unwrap(),
            md5
        );
    }
    // Again: every member already has it.
    let again = upgrade::copy_image_to_members(&mut session, Os::Ios, &request, &file_systems)
        .await
        .unwrap();
    assert!(
        again
            .iter()
            .all(|(_, outcome)| *outcome == CopyOutcome::AlreadyPresent)
    );
    let change = upgrade::set_boot(&mut session, Os::Ios, &[format!("flash:{name}")])
        .await
        .unwrap();
    assert_eq!(change.now, vec![format!("flash:{name}")]);
    let truth = lab.status().swap_remove(0);
    assert!(
        truth
            .members
            .iter()
            .all(|member| member.boot_path == [format!("flash:{name}")]),
        "{:?}",
        truth.members
    );
    let facts = upgrade::reload_and_wait(&mut session, Os::Ios, RETURN_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(facts.member_versions.len(), 3);
    assert_eq!(validate(&facts, NEW_IOS, None), Ok(()));
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_download_sw_installs_a_tar_and_the_stack_repair_fixes_mismatched_members() {
    let images = Images::start("127.61.6.250").await;
    let lab = start_lab("127.61.6.1", "ios-stack:1", 1, 2).await;
    let (name, bytes) = ios_image(NEW_IOS, ImageFormat::Tar);
    images.put(&name, &bytes);
    let mut session = connect(&lab, 0).await;

    // A tar that is not one: the device's own error line.
    images.put("broken.tar", &bytes[..bytes.len() / 3]);
    let error = upgrade::archive_download_sw(
        &mut session,
        &images.url("tftp", "broken.tar"),
        &ArchiveOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, DriverError::StepFailed { ref message, .. } if message.contains("premature end of tar file")),
        "{error}"
    );

    // Install on the master only and reload: the others are left behind.
    let mut options = ArchiveOptions::default();
    options.reload = true;
    options.overwrite = true;
    options.destination_system = vec![1];
    let outcome = upgrade::archive_download_sw(&mut session, &images.url("tftp", &name), &options)
        .await
        .unwrap();
    assert!(outcome.reloading, "{}", outcome.output);
    assert_eq!(
        outcome.installed,
        ["flash1:c2960x-universalk9-mz.152-7.E8"],
        "{}",
        outcome.output
    );
    let facts = upgrade::wait_for_return(&mut session, Os::Ios, RETURN_TIMEOUT)
        .await
        .unwrap();
    let failure = validate(&facts, NEW_IOS, None).unwrap_err();
    assert!(
        failure
            .problems
            .contains(&"switch 2 is in state Version Mismatch, not Ready".to_string()),
        "{failure}"
    );

    let repaired = upgrade::repair_stack_members(&mut session).await.unwrap();
    assert_eq!(repaired, [2, 3]);
    let facts = collect_facts_for(Os::Ios, &mut session).await.unwrap();
    assert_eq!(validate(&facts, NEW_IOS, None), Ok(()));
    // Nothing left to repair.
    assert!(
        upgrade::repair_stack_members(&mut session)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ios_xe_upgrades_in_install_mode_and_in_bundle_mode() {
    const NEW_XE: &str = "17.12.01";
    let images = Images::start("127.61.7.250").await;
    let lab = start_lab("127.61.7.1", "iosxe:2", 2, 11).await;
    let (name, bytes) = platform_image("C9300-48P", NEW_XE);
    let md5 = images.put(&name, &bytes);
    let path = format!("flash:{name}");
    let request = CopyRequest::new(&images.url("http", &name), &path, &md5);

    // Install mode: add, activate, commit; the switch reloads itself.
    let mut session = connect(&lab, 0).await;
    let old_bundle = collect_facts_for(Os::Iosxe, &mut session)
        .await
        .unwrap()
        .running_image
        .unwrap();
    upgrade::copy_image(&mut session, Os::Iosxe, &request)
        .await
        .unwrap();
    let outcome =
        upgrade::xe_install_add_activate_commit(&mut session, &path, Duration::from_secs(60))
            .await
            .unwrap();
    assert!(outcome.reloading, "{}", outcome.output);
    assert_eq!(outcome.version_added.as_deref(), Some(NEW_XE));
    let facts = upgrade::wait_for_return(&mut session, Os::Iosxe, RETURN_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(validate(&facts, NEW_XE, Some(InstallMode::Install)), Ok(()));
    let removed = upgrade::xe_install_remove_inactive(&mut session)
        .await
        .unwrap();
    assert!(removed.deleted.contains(&old_bundle), "{}", removed.output);
    // The packages in use stay.
    let facts = collect_facts_for(Os::Iosxe, &mut session).await.unwrap();
    assert_eq!(validate(&facts, NEW_XE, Some(InstallMode::Install)), Ok(()));

    // A failing add reports the device's FAILED line.
    let error = upgrade::xe_install_add_activate_commit(
        &mut session,
        "flash:none.bin",
        Duration::from_secs(30),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(error, DriverError::StepFailed { ref message, .. } if message.contains("FAILED")),
        "{error}"
    );

    // Bundle mode: boot the .bin itself.
    let mut session = connect(&lab, 1).await;
    upgrade::copy_image(&mut session, Os::Iosxe, &request)
        .await
        .unwrap();
    upgrade::set_boot(&mut session, Os::Iosxe, std::slice::from_ref(&path))
        .await
        .unwrap();
    let facts = upgrade::reload_and_wait(&mut session, Os::Iosxe, RETURN_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(validate(&facts, NEW_XE, Some(InstallMode::Bundle)), Ok(()));
    assert!(validate(&facts, NEW_XE, Some(InstallMode::Install)).is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn ios_xr_adds_activates_commits_and_rolls_back_to_the_committed_release() {
    const NEW_XR: &str = "7.3.2";
    let images = Images::start("127.61.8.250").await;
    let lab = start_lab("127.61.8.1", "iosxr:1", 1, 11).await;
    let (name, bytes) = platform_image("ASR-9006", NEW_XR);
    images.put(&name, &bytes);
    let source = format!("tftp://{}", images.tftp);
    let mut session = connect(&lab, 0).await;
    let start = upgrade::xr_install_state(&mut session).await.unwrap();
    assert!(start.is_committed(), "{start:?}");

    let id = upgrade::xr_install_add(&mut session, &source, &name, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(
        upgrade::xr_install_activate(&mut session, id)
            .await
            .unwrap()
    );
    let facts = upgrade::wait_for_return(&mut session, Os::Iosxr, RETURN_TIMEOUT)
        .await
        .unwrap();
    assert_eq!(validate(&facts, NEW_XR, None), Ok(()));
    let state = upgrade::xr_install_state(&mut session).await.unwrap();
    assert!(!state.is_committed(), "{state:?}");
    assert_eq!(state.committed, start.active);

    // Not committed: rollback goes back to the committed release.
    assert!(
        upgrade::xr_install_rollback_to_committed(&mut session)
            .await
            .unwrap()
    );
    let facts = upgrade::wait_for_return(&mut session, Os::Iosxr, RETURN_TIMEOUT)
        .await
        .unwrap();
    assert!(validate(&facts, NEW_XR, None).is_err());
    let back = upgrade::xr_install_state(&mut session).await.unwrap();
    assert_eq!(back.active, start.active);
    assert!(back.is_committed(), "{back:?}");

    // Activate again and commit: now the new release is what stays.
    assert!(
        upgrade::xr_install_activate(&mut session, id)
            .await
            .unwrap()
    );
    upgrade::wait_for_return(&mut session, Os::Iosxr, RETURN_TIMEOUT)
        .await
        .unwrap();
    upgrade::xr_install_commit(&mut session).await.unwrap();
    let committed = upgrade::xr_install_state(&mut session).await.unwrap();
    assert!(committed.is_committed(), "{committed:?}");
    assert_ne!(committed.active, start.active);
    assert!(
        !upgrade::xr_install_rollback_to_committed(&mut session)
            .await
            .unwrap()
    );
    // Activating what is active is a no-op, not a reload.
    assert!(
        !upgrade::xr_install_activate(&mut session, id)
            .await
            .unwrap()
    );
}

/// The lab's eXR runs `install add` in the background: the driver polls
/// `show install request` and reads the outcome from `show install log N`,
/// typed from the device's error words.
#[tokio::test(flavor = "multi_thread")]
async fn ios_xr_install_add_failures_are_typed_from_the_install_log() {
    let images = Images::start("127.61.19.250").await;
    let lab = start_lab("127.61.19.1", "iosxr:1", 1, 11).await;
    let (name, bytes) = platform_image("ASR-9006", "7.3.2");
    images.put(&name, &bytes);
    let mut corrupt = bytes.clone();
    corrupt[20_000] ^= 0x40;
    let corrupt_name = name.replace("7.3.2", "7.3.3");
    images.put(&corrupt_name, &corrupt);
    let source = format!("tftp://{}", images.tftp);
    let device = lab.devices[0].handle.clone();
    let mut session = connect(&lab, 0).await;

    // Not on the server.
    let error = upgrade::xr_install_add(
        &mut session,
        &source,
        "missing.iso",
        Duration::from_secs(30),
    )
    .await
    .unwrap_err();
    assert_eq!(transfer_kind(&error), TransferFailure::NotFound, "{error}");

    // Corrupt in transfer (the image's own checksum fails).
    let error = upgrade::xr_install_add(
        &mut session,
        &source,
        &corrupt_name,
        Duration::from_secs(30),
    )
    .await
    .unwrap_err();
    assert_eq!(
        transfer_kind(&error),
        TransferFailure::ChecksumMismatch,
        "{error}"
    );
    assert!(
        error.to_string().contains("failed checksum verification"),
        "{error}"
    );

    // The device stops getting bytes: it gives up on the download itself.
    device.set_faults(Faults {
        transfer_stall_after_bytes: Some(32 * 1024),
        ..Faults::default()
    });
    let error = upgrade::xr_install_add(&mut session, &source, &name, Duration::from_secs(30))
        .await
        .unwrap_err();
    assert_eq!(transfer_kind(&error), TransferFailure::Stalled, "{error}");
    assert!(error.to_string().contains("Timed out"), "{error}");

    // Progress that does not move for the stall timeout is a stall too,
    // before the device gives up; the next add waits for that operation to
    // end (the device refuses a second one meanwhile).
    let started = std::time::Instant::now();
    let error = upgrade::xr_install_add_within(
        &mut session,
        &source,
        &name,
        Duration::from_secs(30),
        Duration::from_secs(1),
    )
    .await
    .unwrap_err();
    assert_eq!(transfer_kind(&error), TransferFailure::Stalled, "{error}");
    assert!(error.to_string().contains("made no progress"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let error = upgrade::xr_install_add_within(
        &mut session,
        &source,
        &name,
        Duration::from_millis(1500),
        Duration::from_secs(30),
    )
    .await
    .unwrap_err();
    assert_eq!(transfer_kind(&error), TransferFailure::Stalled, "{error}");
    assert!(error.to_string().contains("still running"), "{error}");
    device.set_faults(Faults::default());
    let id = upgrade::xr_install_add(&mut session, &source, &name, Duration::from_secs(30))
        .await
        .unwrap();
    let state = upgrade::xr_install_state(&mut session).await.unwrap();
    assert_eq!(state.inactive, ["asr9k-xr-7.3.2"], "{id}");

    // No room on harddisk: (for another release).
    let (other, other_bytes) = platform_image("ASR-9006", "7.4.1");
    images.put(&other, &other_bytes);
    {
        let mut model = device.lock();
        let disk = model.file_system_mut("harddisk:").unwrap();
        disk.capacity = disk.capacity - disk.free() + 16 * 1024;
    }
    let error = upgrade::xr_install_add(&mut session, &source, &other, Duration::from_secs(30))
        .await
        .unwrap_err();
    assert_eq!(transfer_kind(&error), TransferFailure::NoSpace, "{error}");
    let state = upgrade::xr_install_state(&mut session).await.unwrap();
    assert_eq!(state.inactive, ["asr9k-xr-7.3.2"]);
}
