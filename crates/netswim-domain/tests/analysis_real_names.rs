//! Upgrade analysis fed by the image-name decoder (`describe_image`), as the
//! repository will feed it: real Cisco file names, archive facts, devices.

use netswim_domain::Os;
use netswim_domain::analysis::{Direction, Method, Warning, analyse};
use netswim_domain::archive::IosArchive;
use netswim_domain::facts::{
    DeviceFacts, DirEntry, DirListing, FileSystemSpace, InstallMode, SwitchMember,
};
use netswim_domain::image::describe_image;

const MIB: u64 = 1024 * 1024;

fn flash(name: &str, member: Option<u32>, free: u64) -> FileSystemSpace {
    FileSystemSpace {
        name: name.into(),
        member,
        total_bytes: 120 * MIB,
        free_bytes: free,
        listing: Some(DirListing {
            entries: vec![DirEntry {
                name: "config.text".into(),
                size: Some(4096),
                ..DirEntry::default()
            }],
            ..DirListing::default()
        }),
    }
}

fn device(
    os: Os,
    model: &str,
    version: &str,
    running: &str,
    filesystems: Vec<FileSystemSpace>,
) -> DeviceFacts {
    DeviceFacts {
        name: "device-1".into(),
        os,
        model: Some(model.into()),
        version: Some(version.into()),
        running_image: Some(running.into()),
        boot_path: vec![running.into()],
        ram_bytes: Some(256 * MIB),
        filesystems,
        stack_members: vec![],
        install_mode: None,
        feature_set: None,
        ap_platform_code: None,
    }
}

fn c3750e_archive() -> IosArchive {
    IosArchive {
        image_directory: Some("c3750e-universalk9-mz.150-2.SE11".into()),
        image_name: Some("c3750e-universalk9-mz.150-2.SE11.bin".into()),
        ios_image_file_size: Some(20 * MIB),
        total_image_file_size: Some(30 * MIB),
        min_dram_mb: Some(256),
        image_family: Some("C3750E".into()),
        ..IosArchive::default()
    }
}

/// (device, image file, image size, archive) → (applicable, ready, direction, default method).
fn check(
    device: &DeviceFacts,
    file_name: &str,
    archive: Option<IosArchive>,
    expected: (bool, bool, Direction, Method),
) -> netswim_domain::analysis::Readiness {
    let image = describe_image(file_name, 28 * MIB, archive);
    let method = Method::default_for_device(device, &image);
    let readiness = analyse(device, &image, method);
    assert_eq!(
        (
            readiness.applicable,
            readiness.ready,
            readiness.direction,
            method
        ),
        expected,
        "{file_name}: {:?}",
        readiness.blockers
    );
    readiness
}

#[test]
fn c3750x_stack_takes_a_c3750e_archive_on_every_member() {
    let mut stack = device(
        Os::Ios,
        "WS-C3750X-24P",
        "15.0(2)SE10",
        "flash:/c3750e-universalk9-mz.150-2.SE10/c3750e-universalk9-mz.150-2.SE10.bin",
        vec![
            flash("flash1:", Some(1), 40 * MIB),
            flash("flash2:", Some(2), 40 * MIB),
        ],
    );
    stack.stack_members = (1..=2)
        .map(|member| SwitchMember {
            member,
            state: Some("Ready".into()),
            ..SwitchMember::default()
        })
        .collect();
    let readiness = check(
        &stack,
        "c3750e-universalk9-tar.150-2.SE11.tar",
        Some(c3750e_archive()),
        (
            true,
            true,
            Direction::Upgrade,
            Method::ArchiveDownloadSw { overwrite: false },
        ),
    );
    assert_eq!(readiness.flash.len(), 2);
    assert!(
        readiness
            .flash
            .iter()
            .all(|check| check.required_bytes == 30 * MIB)
    );
    assert_eq!(readiness.ram.required_bytes, Some(256 * MIB));
    assert!(
        !readiness
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::FeatureSetChange { .. }))
    );
}

#[test]
fn c2960x_archive_is_not_for_a_c3750x() {
    let switch = device(
        Os::Ios,
        "WS-C3750X-24P",
        "15.0(2)SE10",
        "flash:c3750e-universalk9-mz.150-2.SE10.bin",
        vec![flash("flash:", None, 100 * MIB)],
    );
    check(
        &switch,
        "c2960x-lanbasek9-tar.152-7.E8.tar",
        None,
        (
            false,
            false,
            Direction::Incomparable,
            Method::ArchiveDownloadSw { overwrite: false },
        ),
    );
}

#[test]
fn catalyst_9300_in_install_mode_takes_the_bundle_with_install_add() {
    let mut switch = device(
        Os::Iosxe,
        "C9300-48P",
        "17.06.05",
        "bootflash:packages.conf",
        vec![flash("bootflash:", None, 100 * MIB)],
    );
    switch.ram_bytes = Some(8 * 1024 * MIB);
    switch.install_mode = Some(InstallMode::Install);
    let readiness = check(
        &switch,
        "cat9k_iosxe.17.09.04a.SPA.bin",
        None,
        (true, true, Direction::Upgrade, Method::InstallMode),
    );
    assert_eq!(readiness.flash[0].required_bytes, 70 * MIB);
}

#[test]
fn access_point_moving_from_ap3g2_to_c3700_is_warned() {
    let ap = device(
        Os::Ios,
        "AIR-CAP3702I-E-K9",
        "15.3(3)JA1",
        "flash:/ap3g2-k9w7-mx.153-3.JA1/ap3g2-k9w7-mx.153-3.JA1",
        vec![flash("flash:", None, 60 * MIB)],
    );
    let readiness = check(
        &ap,
        "c3700-k9w7-tar.153-3.JF12.tar",
        None,
        (
            true,
            true,
            Direction::Upgrade,
            Method::ArchiveDownloadSw { overwrite: false },
        ),
    );
    assert!(readiness.warnings.contains(&Warning::ApPlatformCodeChange {
        from: "ap3g2".into(),
        to: "c3700".into()
    }));
}

/// A real-format IOS archive (GNU tar with an `info` file, MIN_DRAM_MEG=512).
const C2960X_TAR: &[u8] = include_bytes!("data/c2960x-universalk9-tar.152-7.E4.tar");

#[test]
fn inspected_archive_drives_ram_and_flash_needs() {
    let archive = netswim_domain::archive::inspect_ios_tar(C2960X_TAR).unwrap();
    let extracted = archive.total_image_file_size.unwrap();
    let image = describe_image(
        "c2960x-universalk9-tar.152-7.E4.tar",
        C2960X_TAR.len() as u64,
        Some(archive),
    );
    for (ram, free, ready, ram_ok) in [
        (512 * MIB, extracted, true, true),
        (256 * MIB, extracted, false, false),
        (512 * MIB, extracted - 1, false, true),
    ] {
        let mut switch = device(
            Os::Ios,
            "WS-C2960X-48FPD-L",
            "15.2(4)E10",
            "flash:/c2960x-universalk9-mz.152-4.E10/c2960x-universalk9-mz.152-4.E10.bin",
            vec![flash("flash:", None, free)],
        );
        switch.ram_bytes = Some(ram);
        let method = Method::default_for_device(&switch, &image);
        let readiness = analyse(&switch, &image, method);
        assert_eq!(readiness.direction, Direction::Upgrade);
        assert_eq!(readiness.flash[0].required_bytes, extracted);
        assert_eq!(readiness.ram.required_bytes, Some(512 * MIB));
        assert_eq!(readiness.ram.ok, Some(ram_ok), "ram {ram}");
        assert_eq!(readiness.ready, ready, "ram {ram}, free {free}");
    }
}
