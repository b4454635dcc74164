//! Each driver's fact assembly from real device output (the parser corpus
//! under `crates/netswim-parse/tests/corpus`, see its ATTRIBUTION.md), played
//! back through a `Transcript`: the platforms the lab cannot run yet.

use netswim_domain::Os;
use netswim_domain::facts::InstallMode;
use netswim_drivers::{
    Driver, DriverError, IosDriver, IosXeDriver, IosXrDriver, Transcript, detect_and_collect,
};

macro_rules! corpus {
    ($path:literal) => {
        include_str!(concat!("../../netswim-parse/tests/corpus/", $path))
    };
}

fn iosxe_c3850() -> Transcript {
    Transcript::new()
        .with(
            "show version",
            corpus!("genie/iosxe/ShowVersion/golden_output_c3850.raw"),
        )
        .with(
            "show switch detail",
            corpus!("genie/iosxe/ShowSwitchDetail/golden_output1.raw"),
        )
        .with(
            "dir flash:",
            corpus!("genie/iosxe/Dir/golden_output_c3850.raw"),
        )
        .with(
            "show boot",
            corpus!("genie/iosxe/ShowBoot/golden_output_c3850.raw"),
        )
        .with(
            "show install summary",
            corpus!("genie/iosxe/ShowInstallSummary/golden_output.raw"),
        )
}

fn iosxr() -> Transcript {
    Transcript::new()
        .with(
            "show version",
            corpus!("genie/iosxr/ShowVersion/golden_output_1.raw"),
        )
        .with(
            "show install active summary",
            corpus!("genie/iosxr/ShowInstallActiveSummary/golden_output_1.raw"),
        )
        .with(
            "dir harddisk:",
            corpus!("genie/iosxr/Dir/golden_output_1.raw"),
        )
}

fn ios() -> Transcript {
    Transcript::new()
        .with(
            "show version",
            corpus!("ntc/cisco_ios/show_version/cisco_ios_show_version.raw"),
        )
        .with(
            "show file systems",
            corpus!("ntc/cisco_ios/show_file_systems/show_file_systems.raw"),
        )
        .with("dir flash:", corpus!("ntc/cisco_ios/dir/cisco_ios_dir.raw"))
        .with(
            "show boot",
            corpus!("ntc/cisco_ios/show_boot/cisco_ios_show_boot.raw"),
        )
}

#[tokio::test]
async fn the_iosxe_driver_assembles_a_bundle_mode_stack_with_its_packages() {
    let mut cli = iosxe_c3850();
    let facts = IosXeDriver.collect_facts(&mut cli).await.unwrap();
    assert_eq!(facts.os, Some(Os::Iosxe));
    assert_eq!(facts.model.as_deref(), Some("WS-C3850-24P"));
    assert_eq!(facts.serial.as_deref(), Some("FCW1932D0LB"));
    assert_eq!(facts.ram_bytes, Some(4 * 1024 * 1024 * 1024));
    // The master's (first) boot block: the current boot variable.
    assert_eq!(facts.boot_path, vec!["flash:ISSUCleanGolden".to_string()]);
    // No `show file systems` in the capture: totals from `dir flash:`.
    let flash = facts.file_system("flash:").unwrap();
    assert_eq!(
        (flash.total_bytes, flash.free_bytes),
        (1_598_627_840, 880_939_008)
    );
    assert_eq!(flash.listing.as_ref().unwrap().entries.len(), 18);
    // `show version`'s switch table: five members in BUNDLE mode.
    assert_eq!(facts.member_versions.len(), 5);
    assert_eq!(facts.install_mode, Some(InstallMode::Bundle));
    assert_eq!(facts.stack_members[0].state.as_deref(), Some("Ready"));
    let packages: Vec<(&str, Option<&str>)> = facts
        .packages
        .iter()
        .map(|package| (package.name.as_str(), package.state.as_deref()))
        .collect();
    assert_eq!(
        packages,
        vec![
            (
                "bootflash:utah.bm.smu.may15.bin",
                Some("activated_uncommitted")
            ),
            ("10.69.1.0.66982", Some("committed")),
        ]
    );
    assert_eq!(
        cli.commands,
        [
            "show version",
            "show switch detail",
            "show file systems",
            "dir flash:",
            "show boot",
            "show install summary"
        ]
    );
}

#[tokio::test]
async fn the_iosxe_driver_recognises_install_mode() {
    let mut cli = Transcript::new()
        .with(
            "show version",
            corpus!("genie/iosxe/ShowVersion/golden_output_3.raw"),
        )
        .with(
            "dir flash:",
            corpus!("genie/iosxe/Dir/golden_output_c3850.raw"),
        )
        .with(
            "show boot",
            corpus!("genie/iosxe/ShowBoot/golden_output_c3850.raw"),
        );
    let facts = IosXeDriver.collect_facts(&mut cli).await.unwrap();
    assert_eq!(facts.install_mode, Some(InstallMode::Install));
    // No `show install summary` on this capture: rejected, so no packages.
    assert!(facts.packages.is_empty());
}

#[tokio::test]
async fn the_iosxr_driver_assembles_packages_and_storage() {
    let mut cli = iosxr();
    let facts = IosXrDriver.collect_facts(&mut cli).await.unwrap();
    assert_eq!(facts.os, Some(Os::Iosxr));
    assert_eq!(facts.hostname.as_deref(), Some("PE1"));
    assert_eq!(facts.model.as_deref(), Some("ASR-9006"));
    assert_eq!(facts.version.as_deref(), Some("6.1.4.10I"));
    assert_eq!(facts.install_mode, Some(InstallMode::Install));
    assert_eq!(facts.packages.len(), 4);
    assert!(
        facts
            .packages
            .iter()
            .all(|package| package.state.as_deref() == Some("active"))
    );
    assert!(
        facts
            .packages
            .iter()
            .any(|package| package.name == "disk0:asr9k-mini-px-6.1.21.15I")
    );
    // `dir disk0:` is rejected on this router; harddisk: is its storage.
    assert_eq!(facts.file_systems.len(), 1);
    let harddisk = facts.file_system("harddisk:").unwrap();
    assert_eq!(harddisk.total_bytes, 1_012_660 * 1024);
    assert_eq!(harddisk.free_bytes, 939_092 * 1024);
}

#[tokio::test]
async fn the_ios_driver_reads_every_storage_file_system() {
    let mut cli = ios();
    let facts = IosDriver.collect_facts(&mut cli).await.unwrap();
    assert_eq!(facts.os, Some(Os::Ios));
    assert_eq!(facts.model.as_deref(), Some("WS-C4948E"));
    assert_eq!(facts.serial.as_deref(), Some("CAT1451S15C"));
    assert_eq!(facts.version.as_deref(), Some("12.2(54)SG1"));
    assert!(facts.stack_members.is_empty());
    let names: Vec<&str> = facts
        .file_systems
        .iter()
        .map(|fs| fs.name.as_str())
        .collect();
    assert_eq!(names, ["flash:", "webui:"]);
    let flash = facts.file_system("flash:").unwrap();
    assert_eq!(
        (flash.total_bytes, flash.free_bytes),
        (11_353_194_496, 9_936_510_976)
    );
    assert!(flash.listing.is_some());
    // `dir webui:` is not in the capture: the totals stand without a listing.
    assert!(facts.file_system("webui:").unwrap().listing.is_none());
    assert_eq!(facts.boot_path, ["flash:c3750e-ipbasek9-mz.150-2.SE11.bin"]);
    let device = facts.device_facts("router1").unwrap();
    assert_eq!(device.os, Os::Ios);
    assert_eq!(device.filesystems.len(), 2);
}

#[tokio::test]
async fn an_unknown_os_is_detected_from_show_version_which_runs_once() {
    let mut cli = iosxr();
    let facts = detect_and_collect(None, &mut cli).await.unwrap();
    assert_eq!(facts.os, Some(Os::Iosxr));
    assert_eq!(
        cli.commands.iter().filter(|c| *c == "show version").count(),
        1
    );
}

#[tokio::test]
async fn a_platform_without_a_driver_is_unsupported() {
    let mut cli = Transcript::new().with(
        "show version",
        corpus!("ntc/cisco_nxos/show_version/cisco_nxos_show_version.raw"),
    );
    let error = detect_and_collect(None, &mut cli).await.unwrap_err();
    assert!(matches!(error, DriverError::Unsupported { .. }), "{error}");
    assert!(error.to_string().contains("nxos"), "{error}");
}

#[tokio::test]
async fn a_missing_show_version_is_a_failure_not_empty_facts() {
    let mut cli = Transcript::new();
    let error = IosDriver.collect_facts(&mut cli).await.unwrap_err();
    assert!(
        matches!(error, DriverError::CommandRejected { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn the_iosxe_driver_reports_the_xe_release_as_images_name_it() {
    let mut cli = Transcript::new()
        .with(
            "show version",
            corpus!("genie/iosxe/ShowVersion/golden_output_c9800.raw"),
        )
        .with(
            "dir flash:",
            corpus!("genie/iosxe/Dir/golden_output_c3850.raw"),
        )
        .with(
            "show boot",
            corpus!("genie/iosxe/ShowBoot/golden_output_c3850.raw"),
        );
    let facts = IosXeDriver.collect_facts(&mut cli).await.unwrap();
    // `Cisco IOS XE Software, Version 17.07.01prd16`, not the IOS banner's
    // `Version 17.7.1prd16`: upgrade images carry the first form.
    assert_eq!(facts.version.as_deref(), Some("17.07.01prd16"));
}

#[tokio::test]
async fn the_iosxr_driver_takes_the_64_bit_chassis_model_and_serial_from_show_inventory() {
    // eXR's `show version` says only `cisco NCS-5500 () processor`.
    let mut cli = Transcript::new()
        .with(
            "show version",
            corpus!("ntc/cisco_xr/show_version/cisco_xr_show_version.raw"),
        )
        .with(
            "show inventory",
            "Wed Mar 14 12:31:30.118 UTC\n\
             NAME: \"Rack 0\", DESCR: \"NCS 5501 - 1RU Chassis\"\n\
             PID: NCS-5501, VID: V02, SN: FOC2217R0AB\n\
             \n\
             NAME: \"0/RP0/CPU0\", DESCR: \"NCS 5501 Route Processor\"\n\
             PID: NCS-5501-RP, VID: V01, SN: FOC2217R1CD\n",
        )
        .with(
            "show install active summary",
            corpus!("genie/iosxr/ShowInstallActiveSummary/golden_output_1.raw"),
        )
        .with(
            "dir harddisk:",
            corpus!("genie/iosxr/Dir/golden_output_1.raw"),
        );
    let facts = IosXrDriver.collect_facts(&mut cli).await.unwrap();
    assert_eq!(facts.version.as_deref(), Some("6.1.4"));
    assert_eq!(facts.model.as_deref(), Some("NCS-5501"));
    assert_eq!(facts.serial.as_deref(), Some("FOC2217R0AB"));
}
