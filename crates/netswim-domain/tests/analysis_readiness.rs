//! Upgrade analysis end to end: device facts + image → readiness, per behaviour.

use netswim_domain::Os;
use netswim_domain::analysis::{
    AnalysisSummary, Blocker, DeletableFile, Direction, INSTALL_MODE_FACTOR_TENTHS, Method,
    Readiness, Warning, analyse, analyse_many,
};
use netswim_domain::archive::IosArchive;
use netswim_domain::facts::{
    Detail, DeviceFacts, DirEntry, DirListing, FileSystemSpace, InstallMode, SwitchMember,
};
use netswim_domain::image::{ImageFormat, ImageMetadata, ImageName, ImageType};

const MIB: u64 = 1024 * 1024;

// --- builders -------------------------------------------------------------

fn file(name: &str, size: u64) -> DirEntry {
    DirEntry {
        name: name.into(),
        size: Some(size),
        is_dir: false,
        ..DirEntry::default()
    }
}

fn directory(name: &str) -> DirEntry {
    DirEntry {
        name: name.into(),
        size: Some(512),
        is_dir: true,
        ..DirEntry::default()
    }
}

fn dated(mut entry: DirEntry, date: &str) -> DirEntry {
    entry.details.insert("date".into(), Detail::from(date));
    entry
}

fn flash(
    name: &str,
    member: Option<u32>,
    total: u64,
    free: u64,
    entries: Vec<DirEntry>,
) -> FileSystemSpace {
    FileSystemSpace {
        name: name.into(),
        member,
        total_bytes: total,
        free_bytes: free,
        listing: Some(DirListing {
            filesystem: Some(name.into()),
            entries,
            ..DirListing::default()
        }),
    }
}

const RUNNING_2960X: &str =
    "flash:/c2960x-universalk9-mz.152-4.E10/c2960x-universalk9-mz.152-4.E10.bin";

/// The files of a 2960X that runs 15.2(4)E10 from its extracted directory.
fn running_2960x_files() -> Vec<DirEntry> {
    vec![
        dated(
            directory("c2960x-universalk9-mz.152-4.E10"),
            "Mar 1 2019 00:07:21 +00:00",
        ),
        file(
            "c2960x-universalk9-mz.152-4.E10/c2960x-universalk9-mz.152-4.E10.bin",
            20 * MIB,
        ),
        directory("c2960x-universalk9-mz.152-4.E10/html"),
        file("c2960x-universalk9-mz.152-4.E10/html/index.htm", 2 * MIB),
        file("c2960x-universalk9-mz.152-4.E10/info", 1024),
        file("config.text", 4096),
        file("private-config.text", 1024),
        file("vlan.dat", 3000),
        file("multiple-fs", 2048),
        file("nvram_config", 100),
    ]
}

fn c2960x(free: u64, files: Vec<DirEntry>) -> DeviceFacts {
    DeviceFacts {
        name: "access-1".into(),
        os: Os::Ios,
        model: Some("WS-C2960X-48FPD-L".into()),
        version: Some("15.2(4)E10".into()),
        running_image: Some(RUNNING_2960X.into()),
        boot_path: vec![RUNNING_2960X.into()],
        ram_bytes: Some(512 * MIB),
        filesystems: vec![flash("flash:", None, 122 * MIB, free, files)],
        stack_members: vec![],
        install_mode: None,
        feature_set: None,
        ap_platform_code: None,
    }
}

fn image(
    file_name: &str,
    os: Os,
    platform: &str,
    feature: Option<&str>,
    version: &str,
    format: ImageFormat,
    size: u64,
) -> ImageMetadata {
    ImageMetadata {
        name: ImageName {
            file_name: file_name.into(),
            os: Some(os),
            platform: Some(platform.into()),
            feature_set: feature.map(Into::into),
            format,
            version: Some(version.into()),
            image_type: ImageType::System,
            ..ImageName::default()
        },
        size_bytes: size,
        min_ram_bytes: None,
        min_flash_bytes: None,
        supported_platforms: vec![],
        archive: None,
    }
}

fn bin_2960x(size: u64) -> ImageMetadata {
    image(
        "c2960x-universalk9-mz.152-7.E8.bin",
        Os::Ios,
        "c2960x",
        Some("universalk9"),
        "15.2(7)E8",
        ImageFormat::Bin,
        size,
    )
}

fn tar_2960x(tar_size: u64, extracted: Option<u64>) -> ImageMetadata {
    let mut image = image(
        "c2960x-universalk9-tar.152-7.E8.tar",
        Os::Ios,
        "c2960x",
        Some("universalk9"),
        "15.2(7)E8",
        ImageFormat::Tar,
        tar_size,
    );
    image.archive = Some(IosArchive {
        image_directory: Some("c2960x-universalk9-mz.152-7.E8".into()),
        image_name: Some("c2960x-universalk9-mz.152-7.E8.bin".into()),
        ios_image_file_size: extracted.map(|size| size - 2 * MIB),
        total_image_file_size: extracted,
        min_dram_mb: Some(128),
        ..IosArchive::default()
    });
    image
}

fn has_warning(readiness: &Readiness, wanted: impl Fn(&Warning) -> bool) -> bool {
    readiness.warnings.iter().any(wanted)
}

fn deletable_names(readiness: &Readiness) -> Vec<(Option<u32>, &str)> {
    readiness
        .deletable
        .iter()
        .map(|file| (file.member, file.name.as_str()))
        .collect()
}

// --- methods --------------------------------------------------------------

#[test]
fn each_method_needs_its_multiple_of_the_image() {
    let bin = bin_2960x(100 * MIB);
    let tar_with_info = tar_2960x(40 * MIB, Some(45 * MIB));
    let tar_without_info = tar_2960x(40 * MIB, None);
    for (method, image, expected) in [
        (Method::Copy, &bin, 100 * MIB),
        (
            Method::ArchiveDownloadSw { overwrite: false },
            &tar_with_info,
            45 * MIB,
        ),
        (
            Method::ArchiveDownloadSw { overwrite: true },
            &tar_with_info,
            45 * MIB,
        ),
        (
            Method::ArchiveDownloadSw { overwrite: false },
            &tar_without_info,
            40 * MIB,
        ),
        (Method::ArchiveTarExtract, &tar_with_info, 80 * MIB),
        (Method::InstallMode, &bin, 250 * MIB),
        (Method::XrInstall, &bin, 200 * MIB),
    ] {
        assert_eq!(method.required_bytes(image), expected, "{method}");
    }
    assert_eq!(INSTALL_MODE_FACTOR_TENTHS, 25);
}

#[test]
fn default_method_follows_os_and_format() {
    let tar = tar_2960x(40 * MIB, None);
    let bin = bin_2960x(20 * MIB);
    let xe = image(
        "cat9k_iosxe.17.09.04a.SPA.bin",
        Os::Iosxe,
        "cat9k",
        None,
        "17.9.4a",
        ImageFormat::Bin,
        900 * MIB,
    );
    let xr = image(
        "asr9k-mini-x64-6.5.3.iso",
        Os::Iosxr,
        "asr9k",
        None,
        "6.5.3",
        ImageFormat::Iso,
        1000 * MIB,
    );
    for (os, image, expected) in [
        (
            Os::Ios,
            &tar,
            Method::ArchiveDownloadSw { overwrite: false },
        ),
        (Os::Ios, &bin, Method::Copy),
        (Os::Iosxe, &xe, Method::InstallMode),
        (Os::Iosxr, &xr, Method::XrInstall),
    ] {
        assert_eq!(
            Method::default_for(os, image),
            expected,
            "{}",
            image.name.file_name
        );
    }
}

#[test]
fn method_serialises_with_a_stable_tag() {
    for (method, json) in [
        (Method::Copy, r#"{"method":"copy"}"#),
        (
            Method::ArchiveDownloadSw { overwrite: true },
            r#"{"method":"archive_download_sw","overwrite":true}"#,
        ),
        (Method::InstallMode, r#"{"method":"install_mode"}"#),
    ] {
        assert_eq!(serde_json::to_string(&method).unwrap(), json);
        assert_eq!(serde_json::from_str::<Method>(json).unwrap(), method);
    }
}

// --- flash ----------------------------------------------------------------

#[test]
fn standalone_copy_fits_only_with_enough_free_flash() {
    let image = bin_2960x(26 * MIB);
    for (free, ok, ok_after_cleanup) in [
        (30 * MIB, true, true),
        (26 * MIB, true, true),
        (26 * MIB - 1, false, false),
        (10 * MIB, false, false),
    ] {
        let readiness = analyse(&c2960x(free, running_2960x_files()), &image, Method::Copy);
        assert!(readiness.applicable);
        assert_eq!(readiness.flash.len(), 1);
        let check = &readiness.flash[0];
        assert_eq!((check.filesystem.as_str(), check.member), ("flash:", None));
        assert_eq!(check.required_bytes, 26 * MIB);
        assert_eq!(
            (check.ok, check.ok_after_cleanup),
            (ok, ok_after_cleanup),
            "free {free}"
        );
        assert_eq!(readiness.ready, ok, "free {free}");
        assert_eq!(
            readiness
                .blockers
                .iter()
                .any(|b| matches!(b, Blocker::InsufficientFlash { .. })),
            !ok
        );
        // Nothing but the running image and config: nothing to delete.
        assert!(readiness.deletable.is_empty(), "{:?}", readiness.deletable);
    }
}

#[test]
fn stack_member_short_of_flash_fails_only_there_and_offers_its_inactive_image() {
    let old_image = |member_files: &mut Vec<DirEntry>| {
        member_files.push(dated(
            directory("c2960x-universalk9-mz.150-2.EX5"),
            "Mar 1 2015 00:01:00 +00:00",
        ));
        member_files.push(file(
            "c2960x-universalk9-mz.150-2.EX5/c2960x-universalk9-mz.150-2.EX5.bin",
            18 * MIB,
        ));
        member_files.push(file("c2960x-universalk9-mz.150-2.EX5/info", 1024));
        member_files.push(dated(
            file("c2960x-lanbasek9-mz.150-2.EX.bin", 12 * MIB),
            "Jan 5 2014 10:00:00 +00:00",
        ));
        member_files.push(file("c2960x-universalk9-tar.152-2.E.tar", 30 * MIB));
    };
    let mut member2 = running_2960x_files();
    old_image(&mut member2);

    let mut device = c2960x(0, vec![]);
    device.name = "stack-1".into();
    device.filesystems = vec![
        flash(
            "flash1:",
            Some(1),
            122 * MIB,
            60 * MIB,
            running_2960x_files(),
        ),
        flash("flash2:", Some(2), 122 * MIB, 5 * MIB, member2),
        flash(
            "flash3:",
            Some(3),
            122 * MIB,
            60 * MIB,
            running_2960x_files(),
        ),
        // `nvram:` and the unnumbered alias of the active member's flash are no targets.
        flash("flash:", None, 122 * MIB, 60 * MIB, running_2960x_files()),
        flash("nvram:", None, 512 * 1024, 400 * 1024, vec![]),
    ];
    device.stack_members = (1..=3)
        .map(|member| SwitchMember {
            member,
            role: Some(if member == 1 { "active" } else { "member" }.into()),
            state: Some("Ready".into()),
            ..SwitchMember::default()
        })
        .collect();

    let readiness = analyse(&device, &bin_2960x(26 * MIB), Method::Copy);
    let checks: Vec<(&str, Option<u32>, bool)> = readiness
        .flash
        .iter()
        .map(|check| (check.filesystem.as_str(), check.member, check.ok))
        .collect();
    assert_eq!(
        checks,
        [
            ("flash1:", Some(1), true),
            ("flash2:", Some(2), false),
            ("flash3:", Some(3), true)
        ]
    );
    assert!(!readiness.ready);
    assert!(readiness.ready_after_cleanup);
    assert_eq!(
        readiness.blockers,
        [Blocker::InsufficientFlash {
            filesystem: "flash2:".into(),
            member: Some(2),
            required_bytes: 26 * MIB,
            free_bytes: 5 * MIB,
            ok_after_cleanup: true,
        }]
    );

    // Oldest first; never the running/boot image, its directory or the config.
    assert_eq!(
        readiness.deletable,
        [
            DeletableFile {
                filesystem: "flash2:".into(),
                member: Some(2),
                name: "c2960x-lanbasek9-mz.150-2.EX.bin".into(),
                is_dir: false,
                size_bytes: Some(12 * MIB),
            },
            DeletableFile {
                filesystem: "flash2:".into(),
                member: Some(2),
                name: "c2960x-universalk9-mz.150-2.EX5".into(),
                is_dir: true,
                size_bytes: Some(18 * MIB + 1024),
            },
            DeletableFile {
                filesystem: "flash2:".into(),
                member: Some(2),
                name: "c2960x-universalk9-tar.152-2.E.tar".into(),
                is_dir: false,
                size_bytes: Some(30 * MIB),
            },
        ]
    );
    assert_eq!(readiness.flash[1].reclaimable_bytes, 60 * MIB + 1024);
    let blocker = readiness.blockers[0].to_string();
    assert!(
        blocker.contains("flash2:") && blocker.contains("member 2"),
        "{blocker}"
    );
}

#[test]
fn stack_member_without_flash_facts_blocks() {
    let mut device = c2960x(60 * MIB, vec![]);
    device.filesystems = vec![flash(
        "flash1:",
        Some(1),
        122 * MIB,
        60 * MIB,
        running_2960x_files(),
    )];
    device.stack_members = (1..=2)
        .map(|member| SwitchMember {
            member,
            state: Some("Ready".into()),
            ..SwitchMember::default()
        })
        .collect();
    let readiness = analyse(&device, &bin_2960x(26 * MIB), Method::Copy);
    assert!(!readiness.ready);
    assert_eq!(
        readiness.blockers,
        [Blocker::FlashUnknown { member: Some(2) }]
    );
}

#[test]
fn nothing_protected_is_ever_deletable() {
    // Every config/system file, the boot images, the image being installed
    // and its future directory sit next to one genuinely inactive image.
    let mut files = running_2960x_files();
    files.extend([
        file("c2960x-universalk9-mz.152-7.E8.bin", 26 * MIB),
        directory("c2960x-universalk9-mz.152-7.E8"),
        file("c2960x-universalk9-mz.152-2.E.bin", 19 * MIB),
        file("backup-boot.bin", 19 * MIB),
        file("startup-config", 10),
        file("env_vars", 10),
        file("packages.conf", 10),
        file("switch.cfg", 10),
        file("cat9k_iosxe.17.06.01.SPA.pkg", 10),
        directory("crashinfo"),
        directory("html"),
    ]);
    let mut device = c2960x(0, files);
    device.boot_path = vec![format!("{RUNNING_2960X};flash:backup-boot.bin")];
    let readiness = analyse(&device, &bin_2960x(26 * MIB), Method::Copy);
    assert_eq!(
        deletable_names(&readiness),
        [(None, "c2960x-universalk9-mz.152-2.E.bin")]
    );
}

#[test]
fn archive_download_sw_needs_the_extracted_size_and_overwrite_credits_the_old_image() {
    // Old image directory: 20 MiB + 2 MiB + 1 KiB. New: 30 MiB extracted from a 28 MiB tar.
    let old_image = 22 * MIB + 1024;
    let image = tar_2960x(28 * MIB, Some(30 * MIB));
    for (overwrite, free, required, released, ok) in [
        (false, 31 * MIB, 30 * MIB, 0, true),
        (false, 20 * MIB, 30 * MIB, 0, false),
        (true, 20 * MIB, 30 * MIB, old_image, true),
        (true, 7 * MIB, 30 * MIB, old_image, false),
    ] {
        let device = c2960x(free, running_2960x_files());
        let readiness = analyse(&device, &image, Method::ArchiveDownloadSw { overwrite });
        let check = &readiness.flash[0];
        assert_eq!(
            (
                check.required_bytes,
                check.released_by_method_bytes,
                check.ok
            ),
            (required, released, ok),
            "overwrite {overwrite}, free {free}"
        );
        assert_eq!(readiness.ready, ok);
    }
}

#[test]
fn archive_download_sw_without_info_file_uses_the_tar_size() {
    let image = tar_2960x(28 * MIB, None);
    let readiness = analyse(
        &c2960x(29 * MIB, running_2960x_files()),
        &image,
        Method::ArchiveDownloadSw { overwrite: false },
    );
    assert_eq!(readiness.flash[0].required_bytes, 28 * MIB);
    assert!(readiness.flash[0].ok);
}

#[test]
fn archive_tar_extract_needs_twice_the_tar() {
    let image = tar_2960x(28 * MIB, Some(30 * MIB));
    for (free, ok) in [(56 * MIB, true), (55 * MIB, false)] {
        let readiness = analyse(
            &c2960x(free, running_2960x_files()),
            &image,
            Method::ArchiveTarExtract,
        );
        assert_eq!(readiness.flash[0].required_bytes, 56 * MIB);
        assert_eq!(readiness.flash[0].ok, ok, "free {free}");
    }
}

fn c9300(install_mode: InstallMode, free: u64) -> DeviceFacts {
    let running = match install_mode {
        InstallMode::Install => "bootflash:packages.conf",
        InstallMode::Bundle => "bootflash:cat9k_iosxe.17.06.05.SPA.bin",
    };
    DeviceFacts {
        name: "core-1".into(),
        os: Os::Iosxe,
        model: Some("C9300-48P".into()),
        version: Some("17.6.5".into()),
        running_image: Some(running.into()),
        boot_path: vec![running.into()],
        ram_bytes: Some(8192 * MIB),
        filesystems: vec![flash(
            "bootflash:",
            None,
            11_000 * MIB,
            free,
            vec![
                file("packages.conf", 8000),
                file("cat9k_iosxe.17.06.05.SPA.conf", 8000),
                file("cat9k-rpbase.17.06.05.SPA.pkg", 400 * MIB),
                file("cat9k-srdriver.17.06.05.SPA.pkg", 300 * MIB),
                file("cat9k_iosxe.17.03.04.SPA.bin", 850 * MIB),
            ],
        )],
        stack_members: vec![],
        install_mode: Some(install_mode),
        feature_set: None,
        ap_platform_code: None,
    }
}

#[test]
fn install_mode_needs_two_and_a_half_times_the_bundle() {
    let image = image(
        "cat9k_iosxe.17.09.04a.SPA.bin",
        Os::Iosxe,
        "cat9k",
        None,
        "17.9.4a",
        ImageFormat::Bin,
        1000 * MIB,
    );
    for (free, ok) in [(2500 * MIB, true), (2499 * MIB, false)] {
        let readiness = analyse(
            &c9300(InstallMode::Install, free),
            &image,
            Method::InstallMode,
        );
        assert!(readiness.applicable);
        assert_eq!(readiness.flash[0].required_bytes, 2500 * MIB);
        assert_eq!(readiness.flash[0].ok, ok, "free {free}");
        // In install mode the `.pkg` files are in use; the old bundle is not.
        assert_eq!(
            deletable_names(&readiness),
            [(None, "cat9k_iosxe.17.03.04.SPA.bin")]
        );
        assert!(!has_warning(&readiness, |w| matches!(
            w,
            Warning::InstallModeConversion { .. }
        )));
    }
}

#[test]
fn install_and_bundle_mode_mismatch_warns_of_a_conversion() {
    let image = image(
        "cat9k_iosxe.17.09.04a.SPA.bin",
        Os::Iosxe,
        "cat9k",
        None,
        "17.9.4a",
        ImageFormat::Bin,
        1000 * MIB,
    );
    for (mode, method, expected) in [
        (
            InstallMode::Bundle,
            Method::InstallMode,
            Some((InstallMode::Bundle, InstallMode::Install)),
        ),
        (
            InstallMode::Install,
            Method::Copy,
            Some((InstallMode::Install, InstallMode::Bundle)),
        ),
        (InstallMode::Bundle, Method::Copy, None),
        (InstallMode::Install, Method::InstallMode, None),
    ] {
        let readiness = analyse(&c9300(mode, 5000 * MIB), &image, method);
        let found = readiness.warnings.iter().find_map(|warning| match warning {
            Warning::InstallModeConversion { from, to } => Some((*from, *to)),
            _ => None,
        });
        assert_eq!(found, expected, "{mode:?} with {method}");
    }
    // In bundle mode, leftover `.pkg` files are deletable too.
    let readiness = analyse(
        &c9300(InstallMode::Bundle, 5000 * MIB),
        &image,
        Method::Copy,
    );
    assert_eq!(readiness.deletable.len(), 3, "{:?}", readiness.deletable);
    assert_eq!(
        Method::default_for_device(&c9300(InstallMode::Bundle, 0), &image),
        Method::Copy
    );
}

#[test]
fn image_already_present_needs_no_space() {
    let mut files = running_2960x_files();
    files.push(file("c2960x-universalk9-mz.152-7.E8.bin", 26 * MIB));
    let readiness = analyse(
        &c2960x(1024, files.clone()),
        &bin_2960x(26 * MIB),
        Method::Copy,
    );
    assert_eq!(readiness.flash[0].required_bytes, 0);
    assert!(readiness.flash[0].image_present && readiness.ready);
    assert!(has_warning(&readiness, |w| matches!(
        w,
        Warning::ImageAlreadyPresent { .. }
    )));

    // A partial copy of the same name does not count.
    let readiness = analyse(&c2960x(1024, files), &bin_2960x(27 * MIB), Method::Copy);
    assert_eq!(readiness.flash[0].required_bytes, 27 * MIB);
    assert!(has_warning(&readiness, |w| matches!(
        w,
        Warning::ImageSizeMismatchOnFlash { .. }
    )));

    // The archive's directory already extracted: `archive download-sw` has nothing to do.
    let mut files = running_2960x_files();
    files.push(directory("c2960x-universalk9-mz.152-7.E8"));
    let readiness = analyse(
        &c2960x(1024, files),
        &tar_2960x(28 * MIB, Some(30 * MIB)),
        Method::ArchiveDownloadSw { overwrite: false },
    );
    assert_eq!(readiness.flash[0].required_bytes, 0);
}

// --- RAM --------------------------------------------------------------------

#[test]
fn ram_check_uses_the_archive_minimum_dram() {
    let image = tar_2960x(28 * MIB, Some(30 * MIB)); // MIN_DRAM_MEG=128
    for (ram, ok) in [
        (Some(128 * MIB), Some(true)),
        (Some(64 * MIB), Some(false)),
        (None, None),
    ] {
        let mut device = c2960x(100 * MIB, running_2960x_files());
        device.ram_bytes = ram;
        let readiness = analyse(
            &device,
            &image,
            Method::ArchiveDownloadSw { overwrite: false },
        );
        assert_eq!(readiness.ram.required_bytes, Some(128 * MIB));
        assert_eq!(readiness.ram.ok, ok, "{ram:?}");
        assert_eq!(readiness.ready, ok != Some(false), "{ram:?}");
        assert_eq!(
            readiness.blockers.contains(&Blocker::RamTooSmall {
                required_bytes: 128 * MIB,
                available_bytes: 64 * MIB
            }),
            ok == Some(false)
        );
        assert_eq!(
            has_warning(&readiness, |w| *w == Warning::DeviceRamUnknown),
            ram.is_none()
        );
    }
}

// --- applicability --------------------------------------------------------

#[test]
fn platform_decides_applicability() {
    let check = |model: &str, platform: &str, os: Os, applicable: bool, cannot_confirm: bool| {
        let mut device = c2960x(500 * MIB, running_2960x_files());
        device.model = Some(model.into());
        let image = image(
            "some-image.bin",
            os,
            platform,
            None,
            "15.2(7)E8",
            ImageFormat::Bin,
            MIB,
        );
        let readiness = analyse(&device, &image, Method::Copy);
        assert_eq!(readiness.applicable, applicable, "{platform} on {model}");
        assert_eq!(
            has_warning(&readiness, |w| matches!(
                w,
                Warning::CannotConfirmPlatform { .. }
            )),
            cannot_confirm,
            "{platform} on {model}"
        );
        if !applicable {
            assert!(!readiness.ready);
        }
    };
    check("WS-C2960X-48FPD-L", "c2960x", Os::Ios, true, false);
    check("WS-C3750X-24P", "c3750e", Os::Ios, true, false);
    check("WS-C2960X-48FPD-L", "c3750e", Os::Ios, false, false);
    check("WS-C2960X-48FPD-L", "c2960", Os::Ios, false, false);
    check("WS-C2960X-48FPD-L", "c2960zz", Os::Ios, true, true);
    check("WS-C2960X-48FPD-L", "asr9k", Os::Iosxr, false, false);
}

#[test]
fn os_mismatch_is_not_applicable() {
    let image = image(
        "asr9k-mini-x64-6.5.3.iso",
        Os::Iosxr,
        "asr9k",
        None,
        "6.5.3",
        ImageFormat::Iso,
        MIB,
    );
    let readiness = analyse(
        &c2960x(500 * MIB, running_2960x_files()),
        &image,
        Method::XrInstall,
    );
    assert!(!readiness.applicable && !readiness.ready);
    assert_eq!(
        readiness.blockers,
        [Blocker::OsMismatch {
            device_os: Os::Ios,
            image_os: Os::Iosxr
        }]
    );
    assert_eq!(AnalysisSummary::of(&[readiness]).not_applicable, 1);
}

#[test]
fn supported_platforms_from_the_archive_confirm_the_model() {
    let mut image = tar_2960x(28 * MIB, Some(30 * MIB));
    image.name.platform = None;
    image.supported_platforms = vec!["C2960X".into()];
    let readiness = analyse(
        &c2960x(100 * MIB, running_2960x_files()),
        &image,
        Method::ArchiveDownloadSw { overwrite: false },
    );
    assert!(readiness.applicable);
    assert!(!has_warning(&readiness, |w| matches!(
        w,
        Warning::CannotConfirmPlatform { .. }
    )));
}

// --- warnings ---------------------------------------------------------------

#[test]
fn feature_set_change_is_derived_from_the_running_image() {
    let lanbase = image(
        "c2960x-lanbasek9-mz.152-7.E8.bin",
        Os::Ios,
        "c2960x",
        None, // not decoded: the name says it
        "15.2(7)E8",
        ImageFormat::Bin,
        20 * MIB,
    );
    let readiness = analyse(
        &c2960x(100 * MIB, running_2960x_files()),
        &lanbase,
        Method::Copy,
    );
    let change = Warning::FeatureSetChange {
        from: "universalk9".into(),
        to: "lanbasek9".into(),
    };
    assert!(
        readiness.warnings.contains(&change),
        "{:?}",
        readiness.warnings
    );
    assert!(change.to_string().contains("universalk9 to lanbasek9"));
    assert!(readiness.ready, "a warning does not block");

    let readiness = analyse(
        &c2960x(100 * MIB, running_2960x_files()),
        &bin_2960x(20 * MIB),
        Method::Copy,
    );
    assert!(!has_warning(&readiness, |w| matches!(
        w,
        Warning::FeatureSetChange { .. }
    )));
}

#[test]
fn ap_platform_code_change_warns() {
    let ap = DeviceFacts {
        name: "ap-lobby".into(),
        os: Os::Ios,
        model: Some("AIR-CAP3702I-E-K9".into()),
        version: Some("15.3(3)JA1".into()),
        running_image: Some("flash:/ap3g2-k9w7-mx.153-3.JA1/ap3g2-k9w7-mx.153-3.JA1".into()),
        boot_path: vec![],
        ram_bytes: Some(512 * MIB),
        filesystems: vec![flash("flash:", None, 64 * MIB, 40 * MIB, vec![])],
        stack_members: vec![],
        install_mode: None,
        feature_set: None,
        ap_platform_code: None,
    };
    let mut bundle = image(
        "c3700-k9w7-tar.153-3.JF12.tar",
        Os::Ios,
        "c3700",
        Some("k9w7"),
        "15.3(3)JF12",
        ImageFormat::Tar,
        30 * MIB,
    );
    bundle.name.image_type = ImageType::ApImage;
    let readiness = analyse(&ap, &bundle, Method::ArchiveDownloadSw { overwrite: true });
    assert!(readiness.applicable);
    assert!(readiness.warnings.contains(&Warning::ApPlatformCodeChange {
        from: "ap3g2".into(),
        to: "c3700".into()
    }));

    let mut same_code = bundle.clone();
    same_code.name.file_name = "ap3g2-k9w7-tar.153-3.JF12.tar".into();
    same_code.name.platform = Some("ap3g2".into());
    let readiness = analyse(
        &ap,
        &same_code,
        Method::ArchiveDownloadSw { overwrite: true },
    );
    assert!(!has_warning(&readiness, |w| matches!(
        w,
        Warning::ApPlatformCodeChange { .. }
    )));
}

#[test]
fn version_mismatch_members_are_reported() {
    let mut device = c2960x(100 * MIB, running_2960x_files());
    device.stack_members = [
        (1, "Ready"),
        (2, "Version Mismatch"),
        (3, "V-Mismatch"),
        (4, "Lic-Mismatch"),
    ]
    .into_iter()
    .map(|(member, state)| SwitchMember {
        member,
        state: Some(state.into()),
        ..SwitchMember::default()
    })
    .collect();
    let readiness = analyse(&device, &bin_2960x(20 * MIB), Method::Copy);
    let members: Vec<u32> = readiness
        .warnings
        .iter()
        .filter_map(|w| match w {
            Warning::StackMemberVersionMismatch { member } => Some(*member),
            _ => None,
        })
        .collect();
    assert_eq!(members, [2, 3]);
}

#[test]
fn same_version_is_reported() {
    let mut image = bin_2960x(20 * MIB);
    image.name.version = Some("15.2(4)E10".into());
    let readiness = analyse(
        &c2960x(100 * MIB, running_2960x_files()),
        &image,
        Method::Copy,
    );
    assert_eq!(readiness.direction, Direction::Same);
    assert!(readiness.warnings.contains(&Warning::SameVersion {
        version: "15.2(4)E10".into()
    }));
}

#[test]
fn missing_versions_give_an_unknown_direction() {
    let mut device = c2960x(100 * MIB, running_2960x_files());
    device.version = None;
    let readiness = analyse(&device, &bin_2960x(20 * MIB), Method::Copy);
    assert_eq!(readiness.direction, Direction::Unknown);
    assert_eq!(
        serde_json::to_value(readiness.direction).unwrap(),
        "unknown"
    );
}

// --- many devices -----------------------------------------------------------

#[test]
fn analyse_many_keeps_order_and_summary_counts_each_outcome() {
    let mut wrong_model = c2960x(100 * MIB, running_2960x_files());
    wrong_model.name = "dist-1".into();
    wrong_model.model = Some("WS-C3750X-24P".into());
    let devices = [
        c2960x(100 * MIB, running_2960x_files()),
        c2960x(MIB, running_2960x_files()),
        wrong_model,
    ];
    let results = analyse_many(&devices, &bin_2960x(20 * MIB), Method::Copy);
    assert_eq!(results.len(), 3);
    assert_eq!(
        AnalysisSummary::of(&results),
        AnalysisSummary {
            ready: 1,
            not_ready: 1,
            not_applicable: 1
        }
    );
    let statuses: Vec<&str> = results.iter().map(Readiness::status).collect();
    assert_eq!(statuses, ["ready", "not_ready", "not_applicable"]);
    assert_eq!(results[1].reasons().len(), 1);
    let json = serde_json::to_value(&results[0]).unwrap();
    assert_eq!(json["method"]["method"], "copy");
    assert!(json["warnings"].is_array());
}
