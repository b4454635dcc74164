//! Version direction in upgrade analysis, with real vendor version ordering.

use netswim_domain::Os;
use netswim_domain::analysis::{Direction, Method, Warning, analyse};
use netswim_domain::facts::DeviceFacts;
use netswim_domain::image::{ImageFormat, ImageMetadata, ImageName, ImageType};

fn device(os: Os, version: &str) -> DeviceFacts {
    DeviceFacts {
        name: "device-1".into(),
        os,
        model: None,
        version: Some(version.into()),
        running_image: None,
        boot_path: vec![],
        ram_bytes: None,
        filesystems: vec![],
        stack_members: vec![],
        install_mode: None,
        feature_set: None,
        ap_platform_code: None,
    }
}

fn image(os: Os, version: &str) -> ImageMetadata {
    ImageMetadata {
        name: ImageName {
            file_name: "image.bin".into(),
            os: Some(os),
            platform: None,
            feature_set: None,
            format: ImageFormat::Bin,
            version: Some(version.into()),
            image_type: ImageType::System,
            ..ImageName::default()
        },
        size_bytes: 1,
        min_ram_bytes: None,
        min_flash_bytes: None,
        supported_platforms: vec![],
        archive: None,
    }
}

fn check(os: Os, running: &str, target: &str, expected: Direction) {
    let readiness = analyse(&device(os, running), &image(os, target), Method::Copy);
    assert_eq!(readiness.direction, expected, "{running} → {target}");
    assert_eq!(
        readiness
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::Downgrade { .. })),
        expected == Direction::Downgrade,
        "{running} → {target}"
    );
}

#[test]
fn direction_follows_vendor_version_ordering() {
    for (os, running, target, expected) in [
        (Os::Ios, "15.2(4)E10", "15.2(7)E8", Direction::Upgrade),
        (Os::Ios, "15.2(7)E8", "15.2(4)E10", Direction::Downgrade),
        (Os::Ios, "12.2(55)SE5", "12.2(55)SE12", Direction::Upgrade),
        (Os::Ios, "15.0(2)SE11", "15.0(2)SE11", Direction::Same),
        (Os::Iosxe, "17.9.4a", "17.9.4a", Direction::Same),
        (Os::Iosxe, "16.12.4", "17.9.4a", Direction::Upgrade),
        (Os::Iosxe, "17.9.4a", "17.6.5", Direction::Downgrade),
        (Os::Iosxr, "6.5.3", "7.3.2", Direction::Upgrade),
    ] {
        check(os, running, target, expected);
    }
}
