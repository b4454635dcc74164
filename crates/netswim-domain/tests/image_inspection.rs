//! Cross-module checks of image names and archives: decoded versions are
//! readable by the version schemes, and no input panics either decoder.

use netswim_domain::Os;
use netswim_domain::archive::inspect_ios_tar;
use netswim_domain::image::{describe_image, parse_image_name};
use netswim_domain::version::Version;
use proptest::prelude::*;

/// One name per grammar and OS; their decoded versions must parse.
const NAMES: &[&str] = &[
    "c3750-ipbasek9-mz.122-25.SEE1.bin",
    "c3750-i5-tar.122-20.SE.tar",
    "c2800nm-adventerprisek9-mz.151-4.M12a.bin",
    "ap3g2-k9w7-tar.153-3.JD17.tar",
    "cat3k_caa-universalk9.SPA.03.07.03.E.152-3.E3.bin",
    "asr1000rp1-adventerprisek9.03.13.00.S.154-3.S-std.bin",
    "cat9k_iosxe.17.09.04a.SPA.bin",
    "cat3k_caa-universalk9.16.12.04.SPA.bin",
    "cat9k-rpbase.17.09.04a.SPA.pkg",
    "cat9k_iosxe.17.09.04a.CSCxx12345.SPA.smu.bin",
    "asr9k-mini-px.iso-6.5.3",
    "ASR9K-iosxr-px-k9-6.5.3.tar",
    "ncs5500-goldenk9-x-7.3.2.iso",
    "nxos.9.3.8.bin",
    "nxos64-cs.10.2.3.F.bin",
    "n9000-dk9.7.0.3.I7.9.bin",
    "AIR-CT5520-K9-8-10-185-0.aes",
    "S5735-S-V200R022C00SPC500.cc",
    "S5735-S-V200R022C00SPH001.pat",
    "jinstall-ex-4200-18.4R3-S1-domestic-signed.tgz",
    "junos-srxsme-15.1X49-D100.6-domestic.tgz",
    "c2960x-universalk9-mz.152-2.E7.bin",
    "c2960-lanbasek9-mz.150-2.SE11.bin",
    "c3750e-universalk9-tar.152-4.E10.tar",
    "c1841-advipservicesk9-mz.124-24.T8.bin",
    "c2600-i-mz.122-46a.bin",
    "c3750-ipbasek9-mz.122-1.5.T.bin",
    "c2900-universalk9-mz.SPA.157-3.M8.bin",
    "ap1g4-k9w8-tar.153-3.JPI.tar",
    "cat4500e-universalk9.SPA.03.11.03a.E.152-7.E3a.bin",
    "isr4400-universalk9.03.16.08.S.155-3.S8-ext.SPA.bin",
    "isr4300-universalk9.16.09.05.SPA.bin",
    "c8000v-universalk9.17.06.03a.SPA.bin",
    "cat9k-srdriver.17.09.04a.SPA.pkg",
    "cat9k-cc_srdriver.17.09.04a.SPA.pkg",
    "cat3k_caa-base.SPA.03.07.03E.pkg",
    "xrv9k-fullk9-x-7.3.2.iso",
    "asr9k-px-6.5.3.CSCvx12345.pie",
    "asr9k-mgbl-px.pie-6.5.3",
    "ncs5500-mgbl-3.0.0.0-r732.x86_64.rpm",
    "ncs5500-mgbl-3.0.0.1-r7101.CSCvx12345.x86_64.rpm",
    "n3000-uk9.6.0.2.U6.10.bin",
    "n3000-uk9-kickstart.6.0.2.U6.10.bin",
    "n7000-s2-dk9.8.4.1.bin",
    "m9100-s6ek9-mz.8.4.2c.bin",
    "AIR-CT2504-K9-8-5-182-0.aes",
    "AS_5520_8_10_185_0.aes",
    "S5700-V200R019C10SPC500.cc",
    "CE6800-V200R005C10SPC607B607.cc",
    "junos-install-mx-x86-64-21.4R3-S3.4.tgz",
    "junos-arm-32-20.4R3.8.tgz",
    "jinstall-host-qfx-5-x86-64-20.4R3.8-secure-signed.tgz",
];

#[test]
fn decoded_versions_are_readable_by_the_version_schemes() {
    for name in NAMES {
        let image = parse_image_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (Some(os), Some(version)) = (image.os, image.version.as_deref()) else {
            panic!("{name}: no os or version decoded");
        };
        if let Err(error) = Version::parse(os, version) {
            panic!("{name}: decoded version '{version}' does not parse: {error}");
        }
        if let Some(paired) = image.paired_version.as_deref()
            && let Err(error) = Version::parse(Os::Ios, paired)
        {
            panic!("{name}: paired IOS version '{paired}' does not parse: {error}");
        }
    }
}

#[test]
fn metadata_of_every_decoded_name_lists_its_platform() {
    for name in NAMES {
        let metadata = describe_image(name, 1, None);
        let platform = metadata.name.platform.clone().unwrap_or_default();
        assert_eq!(metadata.supported_platforms, vec![platform], "{name}");
    }
}

/// A small archive laid out like Cisco's, for the mutation tests.
fn small_ios_tar() -> Vec<u8> {
    let info = "version_suffix: lanbasek9-150-2.SE11\n\
                version_directory: c2960-lanbasek9-mz.150-2.SE11\n\
                image_name: c2960-lanbasek9-mz.150-2.SE11.bin\n\
                ios_image_file_size: 1024\n\
                total_image_file_size: 2048\n\
                image_feature: LAYER_2|MIN_DRAM_MEG=64\n\
                info_end:\n";
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in [
        ("info", info.as_bytes()),
        (
            "c2960-lanbasek9-mz.150-2.SE11/c2960-lanbasek9-mz.150-2.SE11.bin",
            &[7u8; 1024][..],
        ),
        ("c2960-lanbasek9-mz.150-2.SE11/info", info.as_bytes()),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder.append_data(&mut header, path, data).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn the_small_archive_is_valid() {
    let archive = inspect_ios_tar(&small_ios_tar()[..]).unwrap();
    assert_eq!(archive.min_dram_mb, Some(64));
    assert!(archive.warnings.is_empty());
}

proptest! {
    #[test]
    fn damaged_archives_never_panic(
        cut in 0usize..5000,
        flips in proptest::collection::vec((0usize..5000, any::<u8>()), 0..8),
    ) {
        let mut bytes = small_ios_tar();
        for (at, value) in flips {
            if let Some(byte) = bytes.get_mut(at) {
                *byte ^= value;
            }
        }
        bytes.truncate(cut);
        let _ = inspect_ios_tar(&bytes[..]);
    }

    #[test]
    fn no_name_panics_the_decoder(name in "\\PC{0,80}") {
        let _ = parse_image_name(&name);
    }

    #[test]
    fn name_shaped_input_never_panics(name in "[a-zA-Z0-9_]{0,8}(-[a-zA-Z0-9_.]{0,8}){0,5}(\\.[a-zA-Z0-9_-]{0,6}){0,6}") {
        let _ = parse_image_name(&name);
    }

    #[test]
    fn no_bytes_panic_the_archive_inspector(bytes in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let _ = inspect_ios_tar(&bytes[..]);
    }
}

/// A small archive made by GNU tar (GNU format, a long-name member), laid out
/// like a Catalyst 2960-X image tar; the image itself is filler.
const GNU_TAR: &[u8] = include_bytes!("data/c2960x-universalk9-tar.152-7.E4.tar");

#[test]
fn gnu_tar_archive_is_inspected_and_described() {
    let archive = inspect_ios_tar(GNU_TAR).unwrap();
    assert_eq!(archive.info_file.as_deref(), Some("info"));
    assert_eq!(
        archive.image_directory.as_deref(),
        Some("c2960x-universalk9-mz.152-7.E4")
    );
    assert_eq!(
        archive.image_name.as_deref(),
        Some("c2960x-universalk9-mz.152-7.E4.bin")
    );
    assert_eq!(archive.min_dram_mb, Some(512));
    assert_eq!(archive.stacking_version.as_deref(), Some("1.40"));
    assert_eq!(
        archive.board_ids,
        ["0x00000025", "0x00000026", "0x00000027"]
    );
    assert_eq!(archive.member_count, 6);
    assert!(archive.warnings.is_empty(), "{:?}", archive.warnings);
    let long_name = archive
        .members
        .iter()
        .find(|member| member.path.ends_with(".htm"))
        .unwrap();
    assert_eq!(
        long_name.path.len(),
        "c2960x-universalk9-mz.152-7.E4/html/".len() + 124
    );

    let metadata = describe_image(
        "flash:c2960x-universalk9-tar.152-7.E4.tar",
        GNU_TAR.len() as u64,
        Some(archive),
    );
    assert_eq!(metadata.name.version.as_deref(), Some("15.2(7)E4"));
    assert_eq!(metadata.min_ram_bytes, Some(512 * 1024 * 1024));
    assert_eq!(metadata.supported_platforms, ["c2960x"]);
}
