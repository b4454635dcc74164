//! `archive download-sw` and `archive copy-sw` of Cisco IOS switches: check an
//! image archive against every target stack member (platform, feature set,
//! DRAM, flash space), install its image directory, remove the old image, set
//! the boot path, and say so in the device's words. Pure: the caller has
//! already pulled the archive (from a server or flash) into a summary.

use std::fmt::Write as _;
use std::time::Instant;

use crate::archive::{ArchiveFailure, ArchiveSummary};
use crate::device::{BootLine, BootScope, Device};
use crate::files::FileRecord;

/// The `/...` options of `archive download-sw`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownloadOptions {
    pub leave_old_sw: bool,
    pub overwrite: bool,
    pub reload: bool,
    pub force_reload: bool,
    pub safe: bool,
    pub imageonly: bool,
    pub no_set_boot: bool,
    pub no_version_check: bool,
    pub allow_feature_upgrade: bool,
    /// Members to install on; empty means every member.
    pub destinations: Vec<u32>,
}

const OPTION_NAMES: &[&str] = &[
    "/leave-old-sw",
    "/overwrite",
    "/reload",
    "/force-reload",
    "/safe",
    "/imageonly",
    "/no-set-boot",
    "/no-version-check",
    "/allow-feature-upgrade",
    "/destination-system",
];

/// Parses `[/option...] SOURCE` (options may be abbreviated as IOS allows);
/// `Err(word index)` points at the word that is wrong.
pub fn parse_download_args(
    words: &[&str],
    allowed: &[&str],
) -> Result<(DownloadOptions, String), usize> {
    let mut options = DownloadOptions::default();
    let mut source = None;
    let mut index = 0;
    while index < words.len() {
        let word = words[index].to_ascii_lowercase();
        if !word.starts_with('/') {
            if source.is_some() {
                return Err(index);
            }
            source = Some(words[index].to_string());
            index += 1;
            continue;
        }
        let hits: Vec<&str> = OPTION_NAMES
            .iter()
            .copied()
            .filter(|name| allowed.contains(name) && name.starts_with(&word))
            .collect();
        let name = match hits.as_slice() {
            [one] => *one,
            _ => match hits.iter().find(|name| **name == word) {
                Some(exact) => *exact,
                None => return Err(index),
            },
        };
        match name {
            "/leave-old-sw" => options.leave_old_sw = true,
            "/overwrite" => options.overwrite = true,
            "/reload" => options.reload = true,
            "/force-reload" => options.force_reload = true,
            "/safe" => options.safe = true,
            "/imageonly" => options.imageonly = true,
            "/no-set-boot" => options.no_set_boot = true,
            "/no-version-check" => options.no_version_check = true,
            "/allow-feature-upgrade" => options.allow_feature_upgrade = true,
            _ => {
                let number = words
                    .get(index + 1)
                    .and_then(|text| text.parse::<u32>().ok())
                    .filter(|number| (1..=9).contains(number))
                    .ok_or(index + 1)?;
                options.destinations.push(number);
                index += 1;
            }
        }
        index += 1;
    }
    match source {
        Some(source) => Ok((options, source)),
        None => Err(words.len()),
    }
}

/// The download-sw options `archive download-sw` accepts.
pub const DOWNLOAD_OPTIONS: &[&str] = OPTION_NAMES;
/// The options `archive copy-sw` accepts.
pub const COPY_OPTIONS: &[&str] = &["/overwrite", "/destination-system"];

/// What an install did: its text, and whether the device reloads now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstallOutcome {
    pub output: String,
    pub reload: bool,
    /// Members that received the new image.
    pub installed: Vec<u32>,
}

/// The `info` file's fields the device reads.
#[derive(Debug, Clone, Default)]
struct ArchiveInfo {
    directory: String,
    image_name: String,
    suffix: String,
    feature_line: String,
    family: String,
    ios_size: u64,
    total_size: u64,
}

fn read_info(record: &FileRecord) -> Option<ArchiveInfo> {
    let text = String::from_utf8_lossy(&record.head);
    let mut info = ArchiveInfo::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        match key.trim() {
            "version_directory" => info.directory = value,
            "image_name" => info.image_name = value,
            "version_suffix" => info.suffix = value,
            "image_feature" => info.feature_line = value,
            "image_family" => info.family = value,
            "ios_image_file_size" => info.ios_size = value.parse().ok()?,
            "total_image_file_size" => info.total_size = value.parse().ok()?,
            _ => {}
        }
    }
    (!info.directory.is_empty() && !info.image_name.is_empty()).then_some(info)
}

/// The old image of a member: a directory (`DIR` of `flash:DIR/DIR.bin`) or a
/// flat `.bin` file in the flash root.
fn old_image(device: &Device, number: u32) -> Option<(String, bool)> {
    let running = device.member(number)?.running.as_ref()?;
    let path = running.path.split_once(':')?.1.trim_start_matches('/');
    Some(match path.split_once('/') {
        Some((directory, _)) => (directory.to_string(), true),
        None => (path.to_string(), false),
    })
}

fn old_image_size(device: &Device, number: u32, old: &(String, bool)) -> u64 {
    let Some(member) = device.member(number) else {
        return 0;
    };
    if old.1 {
        let inside = format!("{}/", old.0);
        member
            .flash
            .files
            .iter()
            .filter(|file| file.path.starts_with(&inside))
            .map(|file| file.size)
            .sum()
    } else {
        member.flash.file(&old.0).map_or(0, |file| file.size)
    }
}

fn remove_image(device: &mut Device, number: u32, image: &(String, bool)) -> bool {
    let Some(member) = device.member_mut(number) else {
        return false;
    };
    if image.1 {
        member.flash.remove_directory(&image.0).is_some()
    } else {
        member.flash.remove(&image.0).is_some()
    }
}

fn flash_name(device: &Device, number: u32) -> String {
    device
        .member(number)
        .map_or_else(|| "flash:".to_string(), |member| member.flash.name.clone())
}

/// Installs the image of a received archive on the target members.
pub fn install_archive(
    device: &mut Device,
    summary: &ArchiveSummary,
    options: &DownloadOptions,
    now: Instant,
) -> InstallOutcome {
    let mut out = String::from("examining image...\n");
    let fail = |mut out: String, text: &str| {
        out.push_str(text);
        InstallOutcome {
            output: out,
            ..InstallOutcome::default()
        }
    };
    if summary.failure == Some(ArchiveFailure::Checksum) {
        return fail(out, "%Tar checksum error\n");
    }
    let entry = |path: &str| {
        summary
            .entries
            .iter()
            .find(|entry| entry.path == path)
            .and_then(|entry| entry.record.as_ref())
    };
    let Some(info) = entry("info").and_then(read_info) else {
        return fail(
            out,
            "%Error opening flash:update/info (No such file or directory)\nERROR: Image is not a valid IOS image archive.\n",
        );
    };
    let directory = info.directory.clone();
    let bin_path = format!("{directory}/{}", info.image_name);
    let _ = writeln!(
        out,
        "extracting info ({} bytes)",
        entry("info").map_or(0, |r| r.size)
    );
    if let Some(inner) = entry(&format!("{directory}/info")) {
        let _ = writeln!(out, "extracting {directory}/info ({} bytes)", inner.size);
    }
    let _ = writeln!(
        out,
        "extracting info ({} bytes)",
        entry("info").map_or(0, |r| r.size)
    );
    let Some(header) = entry(&bin_path).and_then(FileRecord::bin_header) else {
        if summary.failure == Some(ArchiveFailure::Truncated) {
            return fail(out, "%Error reading archive (premature end of tar file)\n");
        }
        return fail(out, "ERROR: Image is not a valid IOS image archive.\n");
    };
    let _ = write!(
        out,
        "\nStacking Version Number: 1.41\n\nSystem Type:             0x00000002\n  Ios Image File Size:   0x{:08X}\n  Total Image File Size: 0x{:08X}\n  Minimum Dram required: 0x{:08X}\n  Image Suffix:          {}\n  Image Directory:       {directory}\n  Image Name:            {}\n  Image Feature:         {}\n  Image Family:          {}\n\n",
        info.ios_size,
        info.total_size,
        u64::from(header.min_dram_mb) * 1024 * 1024,
        info.suffix,
        info.image_name,
        info.feature_line,
        info.family,
    );
    if summary.failure == Some(ArchiveFailure::Truncated) {
        return fail(out, "%Error reading archive (premature end of tar file)\n");
    }
    let targets: Vec<u32> = if options.destinations.is_empty() {
        device.members.iter().map(|member| member.number).collect()
    } else {
        options.destinations.clone()
    };
    // Check every target before touching any flash.
    let mut errors = String::new();
    let mut skipped = Vec::new();
    for number in &targets {
        let Some(member) = device.member(*number) else {
            let _ = writeln!(errors, "Error: Switch {number} is not present in the stack");
            continue;
        };
        if header.family != member.facts.family && !options.no_version_check {
            let _ = writeln!(
                errors,
                "Error: The image in the archive which would be used to upgrade\nError: system number {number} is not supported by that system ({}).",
                member.facts.model
            );
            continue;
        }
        let running_feature = member.running.as_ref().map(|image| image.feature.clone());
        if running_feature.is_some_and(|feature| feature != header.feature)
            && !options.allow_feature_upgrade
        {
            let _ = writeln!(
                errors,
                "Error: The image in the archive which would be used to upgrade\nError: system number {number} does not support the same feature set."
            );
            continue;
        }
        if u64::from(header.min_dram_mb) * 1024 > member.facts.dram_kib {
            let _ = writeln!(
                errors,
                "Error: The image in the archive which would be used to upgrade\nError: system number {number} requires more DRAM than is installed."
            );
            continue;
        }
        let same = member
            .running
            .as_ref()
            .is_some_and(|image| image.version == header.version)
            && member.flash.list(&directory).is_some();
        if same && !options.overwrite {
            let _ = writeln!(
                out,
                "New software image is the same as the one installed on switch {number}: not downloading it again (use /overwrite to replace it)."
            );
            skipped.push(*number);
        }
    }
    if !errors.is_empty() {
        out.push_str(&errors);
        out.push_str("Error: Aborting the software download; nothing was changed.\n");
        return InstallOutcome {
            output: out,
            ..InstallOutcome::default()
        };
    }
    let targets: Vec<u32> = targets
        .into_iter()
        .filter(|number| !skipped.contains(number))
        .collect();
    if targets.is_empty() {
        out.push_str("All software images installed.\n");
        return InstallOutcome {
            output: out,
            ..InstallOutcome::default()
        };
    }
    let wanted: Vec<&crate::archive::ArchiveEntry> = summary
        .entries
        .iter()
        .filter(|entry| entry.path.starts_with(&format!("{directory}/")))
        .filter(|entry| {
            !(options.imageonly && entry.path.starts_with(&format!("{directory}/html")))
        })
        .collect();
    let need: u64 = wanted
        .iter()
        .map(|entry| entry.record.as_ref().map_or(512, |record| record.size))
        .sum();
    // Space: the old image counts as free only when it goes before the new
    // one arrives (`/overwrite` without `/safe` or `/leave-old-sw`).
    let delete_before = options.overwrite && !options.safe && !options.leave_old_sw;
    for number in &targets {
        let old = old_image(device, *number);
        let flash = flash_name(device, *number);
        let Some(member) = device.member(*number) else {
            continue;
        };
        let replaced: u64 = member
            .flash
            .files
            .iter()
            .filter(|file| file.path.starts_with(&format!("{directory}/")))
            .map(|file| file.size)
            .sum();
        let mut available = member.flash.free() + replaced;
        if let Some(old) = &old {
            let _ = writeln!(out, "Old image for switch {number}: {flash}/{}", old.0);
            let _ = writeln!(
                out,
                "  Old image will be {}.",
                if options.leave_old_sw {
                    "left alone"
                } else if delete_before {
                    "deleted before download"
                } else {
                    "deleted after download"
                }
            );
            if delete_before && old.0 != directory {
                available += old_image_size(device, *number, old);
            }
        }
        if need > available {
            let _ = write!(
                out,
                "\nError: There is insufficient space in {flash} to install the required\nError: image.  Clean up some old images, and try again.\n(need {need} bytes, {available} available)\n"
            );
            return InstallOutcome {
                output: out,
                ..InstallOutcome::default()
            };
        }
    }
    out.push('\n');
    let modified = device.clock_seconds(now);
    let mut installed = Vec::new();
    for number in &targets {
        let old = old_image(device, *number);
        let flash = flash_name(device, *number);
        if delete_before && let Some(old) = &old {
            remove_image(device, *number, old);
        }
        let Some(member) = device.member_mut(*number) else {
            continue;
        };
        member.flash.remove_directory(&directory);
        let _ = writeln!(out, "Extracting images from archive into {flash}...");
        for entry in &wanted {
            match &entry.record {
                None => {
                    let _ = writeln!(out, "{} (directory)", entry.path);
                    member.flash.create_directory(&entry.path);
                }
                Some(record) => {
                    let _ = writeln!(out, "extracting {} ({} bytes)", entry.path, record.size);
                    member.flash.store(FileRecord {
                        path: entry.path.clone(),
                        modified,
                        ..record.clone()
                    });
                }
            }
        }
        let _ = write!(
            out,
            "\nInstalling (renaming): `{flash}update/{directory}' ->\n                                       `{flash}{directory}'\nNew software image installed in {flash}{directory}\n\n"
        );
        if !options.leave_old_sw
            && !delete_before
            && let Some(old) = &old
            && old.0 != directory
        {
            let _ = writeln!(out, "Removing old image: {flash}{}", old.0);
            remove_image(device, *number, old);
        }
        installed.push(*number);
    }
    if !options.no_set_boot {
        let path = format!("flash:{directory}/{}", info.image_name);
        set_boot_everywhere(device, &installed, &path);
        out.push_str("Configuring system to use new image...done.\n");
    }
    out.push_str("All software images installed.\n");
    let reload = if options.force_reload {
        true
    } else if options.reload {
        if device.config_saved {
            true
        } else {
            out.push_str("Warning: the system configuration has been modified and not saved; not reloading.\nUse /force-reload to reload anyway, or save the configuration first.\n");
            false
        }
    } else {
        false
    };
    if reload {
        out.push_str("Requested system reload in progress...\n");
    }
    InstallOutcome {
        output: out,
        reload,
        installed,
    }
}

/// Points the boot path (running and saved, as the installer writes both) of
/// the installed members at the new image.
fn set_boot_everywhere(device: &mut Device, members: &[u32], path: &str) {
    let saved = device.config_saved;
    let everyone = members.len() == device.members.len();
    let scopes: Vec<BootScope> = if !device.is_stack() {
        vec![BootScope::Plain]
    } else if everyone {
        vec![BootScope::All]
    } else {
        members
            .iter()
            .map(|number| BootScope::Member(*number))
            .collect()
    };
    for scope in scopes {
        if scope == BootScope::All {
            // A `switch all` line replaces the member-specific ones.
            device
                .boot_lines
                .retain(|line| matches!(line.scope, BootScope::Plain));
            device
                .saved_boot_lines
                .retain(|line| matches!(line.scope, BootScope::Plain));
        }
        device.set_boot(scope, vec![path.to_string()]);
        device.saved_boot_lines.retain(|line| line.scope != scope);
        device.saved_boot_lines.push(BootLine {
            scope,
            paths: vec![path.to_string()],
        });
    }
    device.config_saved = saved;
}

/// `archive copy-sw [/overwrite] [/destination-system N]... SOURCE`: copies
/// the running image of member `source` to the members that run another
/// version (or to the given ones), as a stack repairs a version mismatch.
pub fn copy_sw(
    device: &mut Device,
    source: u32,
    options: &DownloadOptions,
    now: Instant,
) -> InstallOutcome {
    let text = |output: String| InstallOutcome {
        output,
        ..InstallOutcome::default()
    };
    let Some(member) = device.member(source) else {
        return text(format!(
            "Error: Switch {source} is not present in the stack\n"
        ));
    };
    let Some(running) = member.running.clone() else {
        return text(format!("Error: Switch {source} is not running an image\n"));
    };
    let Some((directory, true)) = old_image(device, source) else {
        return text(format!(
            "Error: The image running on switch {source} ({}) was not installed from an archive;\nError: copy it with `copy` and `boot system switch N` instead.\n",
            running.path
        ));
    };
    let targets: Vec<u32> = if options.destinations.is_empty() {
        device
            .members
            .iter()
            .filter(|member| member.number != source)
            .filter(|member| {
                member
                    .running
                    .as_ref()
                    .is_none_or(|image| image.version != running.version)
            })
            .map(|member| member.number)
            .collect()
    } else {
        options.destinations.clone()
    };
    if targets.is_empty() {
        return text(format!(
            "Error: No switch in the stack needs the image of switch {source}: every member runs {}.\n",
            running.version
        ));
    }
    let files: Vec<FileRecord> = member
        .flash
        .files
        .iter()
        .filter(|file| file.path.starts_with(&format!("{directory}/")))
        .cloned()
        .collect();
    let mut out =
        String::from("\nSystem software to be uploaded:\nSystem Type:             0x00000002\n");
    let _ = writeln!(out, "  archiving {directory} (directory)");
    for file in &files {
        let _ = writeln!(out, "  archiving {} ({} bytes)", file.path, file.size);
    }
    // The stack sends the directory as an archive; rebuild its summary.
    let mut entries = vec![crate::archive::ArchiveEntry {
        path: format!("{directory}/"),
        record: None,
    }];
    let mut subdirectories: Vec<String> = Vec::new();
    for file in &files {
        if let Some((parent, _)) = file.path.rsplit_once('/')
            && parent != directory
            && !subdirectories.contains(&parent.to_string())
        {
            subdirectories.push(parent.to_string());
            entries.push(crate::archive::ArchiveEntry {
                path: format!("{parent}/"),
                record: None,
            });
        }
        entries.push(crate::archive::ArchiveEntry {
            path: file.path.clone(),
            record: Some(file.clone()),
        });
    }
    let info = files
        .iter()
        .find(|file| file.path == format!("{directory}/info"))
        .cloned();
    if let Some(info) = info {
        entries.insert(
            0,
            crate::archive::ArchiveEntry {
                path: "info".into(),
                record: Some(FileRecord {
                    path: "info".into(),
                    ..info
                }),
            },
        );
    }
    let summary = ArchiveSummary {
        entries,
        failure: None,
    };
    let install = DownloadOptions {
        overwrite: options.overwrite,
        destinations: targets,
        // Members of one stack share the master's feature set and platform.
        allow_feature_upgrade: true,
        ..DownloadOptions::default()
    };
    let outcome = install_archive(device, &summary, &install, now);
    out.push_str(&outcome.output);
    InstallOutcome {
        output: out,
        ..outcome
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::device::DeviceSpec;
    use crate::files::record_from_bytes;
    use crate::image::{ImageFormat, ImageSpec, image_file_name, make_bin, make_tar, model_facts};

    const MODEL: &str = "WS-C2960X-48FPD-L";

    fn spec(model: &str, version: &str, feature: &str, size: u64) -> ImageSpec {
        ImageSpec {
            model: model.into(),
            version: version.into(),
            feature: feature.into(),
            min_dram_mb: 256,
            size,
        }
    }

    fn device(members: u32, flash: u64) -> Device {
        let image = spec(MODEL, "15.2(2)E7", "universalk9", 200 * 1024);
        let mut facts = model_facts(MODEL).unwrap();
        facts.flash_bytes = flash;
        Device::new(
            &DeviceSpec {
                name: "sw".into(),
                facts,
                members,
                username: "u".into(),
                password: "p".into(),
                enable_secret: "e".into(),
                reload_delay: Duration::from_secs(1),
                image: record_from_bytes(
                    &image_file_name(&image, ImageFormat::Bin).unwrap(),
                    &make_bin(&image).unwrap(),
                    0,
                ),
                identity_seed: 3,
            },
            Instant::now(),
        )
    }

    fn summary(spec: &ImageSpec) -> ArchiveSummary {
        record_from_bytes("x.tar", &make_tar(spec).unwrap(), 0)
            .archive
            .unwrap()
    }

    fn options(words: &str) -> DownloadOptions {
        let mut words: Vec<&str> = words.split_whitespace().collect();
        words.push("flash:x.tar");
        parse_download_args(&words, DOWNLOAD_OPTIONS).unwrap().0
    }

    fn reboot(device: &mut Device) {
        let now = Instant::now();
        device.reload(now);
        device.tick(now + Duration::from_secs(2));
    }

    const NEW_DIR: &str = "c2960x-universalk9-mz.152-7.E8";

    #[test]
    fn options_parse_abbreviated_and_point_at_mistakes() {
        let parsed = parse_download_args(
            &["/over", "/leave", "/dest", "2", "/no-set", "tftp://h/x.tar"],
            DOWNLOAD_OPTIONS,
        )
        .unwrap();
        assert_eq!(
            parsed,
            (
                DownloadOptions {
                    overwrite: true,
                    leave_old_sw: true,
                    no_set_boot: true,
                    destinations: vec![2],
                    ..DownloadOptions::default()
                },
                "tftp://h/x.tar".to_string()
            )
        );
        for (words, bad) in [
            (vec!["/bogus", "x"], 0),
            (vec!["/destination-system", "x", "y"], 1),
            (vec!["/overwrite"], 1),
            (vec!["a", "b"], 1),
            (vec!["/no", "x"], 0),
            (vec!["/safe", "x"], 0),
        ] {
            let allowed = if words[0] == "/safe" {
                COPY_OPTIONS
            } else {
                DOWNLOAD_OPTIONS
            };
            assert_eq!(
                parse_download_args(&words, allowed).map(|_| ()),
                Err(bad),
                "{words:?}"
            );
        }
    }

    #[test]
    fn download_installs_on_every_member_sets_boot_and_removes_the_old_image() {
        let mut device = device(2, 8 * 1024 * 1024);
        let new = spec(MODEL, "15.2(7)E8", "universalk9", 300 * 1024);
        let outcome = install_archive(&mut device, &summary(&new), &options(""), Instant::now());
        assert_eq!(outcome.installed, [1, 2], "{}", outcome.output);
        for fragment in [
            "Image Directory:       c2960x-universalk9-mz.152-7.E8\n",
            "Old image for switch 2: flash2:/c2960x-universalk9-mz.152-2.E7.bin\n  Old image will be deleted after download.\n",
            "Extracting images from archive into flash2:...\n",
            "New software image installed in flash1:c2960x-universalk9-mz.152-7.E8\n",
            "Removing old image: flash2:c2960x-universalk9-mz.152-2.E7.bin\n",
            "Configuring system to use new image...done.\nAll software images installed.\n",
        ] {
            assert!(
                outcome.output.contains(fragment),
                "{fragment:?} in\n{}",
                outcome.output
            );
        }
        assert!(!outcome.reload);
        for member in &device.members {
            assert!(
                member
                    .flash
                    .file("c2960x-universalk9-mz.152-2.E7.bin")
                    .is_none()
            );
            assert_eq!(member.boot_path, [format!("flash:{NEW_DIR}/{NEW_DIR}.bin")]);
        }
        assert_eq!(device.saved_boot_lines, device.boot_lines);
        reboot(&mut device);
        for member in &device.members {
            assert_eq!(member.running.as_ref().unwrap().version, "15.2(7)E8");
        }
    }

    #[test]
    fn flags_change_what_is_kept_booted_and_reloaded() {
        // (flags, old image kept, boot path changed, reload requested)
        for (flags, kept, boot_changed, reload) in [
            ("/leave-old-sw", true, true, false),
            ("/no-set-boot", false, false, false),
            ("/overwrite /reload", false, true, true),
            ("/safe /overwrite /force-reload", false, true, true),
            ("/imageonly /leave-old-sw /no-set-boot", true, false, false),
        ] {
            let mut device = device(1, 8 * 1024 * 1024);
            let new = spec(MODEL, "15.2(7)E8", "universalk9", 300 * 1024);
            let outcome =
                install_archive(&mut device, &summary(&new), &options(flags), Instant::now());
            let flash = &device.members[0].flash;
            assert_eq!(
                flash.file("c2960x-universalk9-mz.152-2.E7.bin").is_some(),
                kept,
                "{flags}"
            );
            assert_eq!(
                device.members[0].boot_path[0].contains(NEW_DIR),
                boot_changed,
                "{flags}"
            );
            assert_eq!(outcome.reload, reload, "{flags}");
            assert_eq!(
                flash.list(&format!("{NEW_DIR}/html")).is_some(),
                !flags.contains("/imageonly"),
                "{flags}"
            );
        }
    }

    #[test]
    fn reload_waits_for_saved_configuration_but_force_reload_does_not() {
        let new = spec(MODEL, "15.2(7)E8", "universalk9", 300 * 1024);
        for (flags, reload) in [("/reload", false), ("/force-reload", true)] {
            let mut device = device(1, 8 * 1024 * 1024);
            device.set_hostname("changed");
            let outcome =
                install_archive(&mut device, &summary(&new), &options(flags), Instant::now());
            assert_eq!(outcome.reload, reload, "{flags}: {}", outcome.output);
        }
    }

    #[test]
    fn short_flash_fails_unless_overwrite_frees_the_old_image_first() {
        let new = spec(MODEL, "15.2(7)E8", "universalk9", 300 * 1024);
        // Room for the old image, the small files and not quite the new image.
        let flash = 200 * 1024 + 4096 + 300 * 1024 - 20 * 1024;
        // (flags, installed)
        for (flags, installed) in [
            ("", false),
            ("/overwrite", true),
            ("/overwrite /safe", false),
        ] {
            let mut device = device(1, flash);
            let before = device.members[0].flash.clone();
            let outcome =
                install_archive(&mut device, &summary(&new), &options(flags), Instant::now());
            assert_eq!(
                !outcome.installed.is_empty(),
                installed,
                "{flags}: {}",
                outcome.output
            );
            if !installed {
                assert!(
                    outcome.output.contains(
                        "Error: There is insufficient space in flash: to install the required\nError: image.  Clean up some old images, and try again.\n"
                    ),
                    "{}",
                    outcome.output
                );
                assert_eq!(device.members[0].flash, before, "{flags}");
            }
        }
    }

    #[test]
    fn wrong_platform_or_feature_set_is_refused_unless_allowed() {
        // (archive spec, flags, installed, message)
        let cases = [
            (
                spec("WS-C3750X-24P", "15.2(4)E10", "universalk9", 300 * 1024),
                "",
                false,
                "is not supported by that system (WS-C2960X-48FPD-L)",
            ),
            (
                spec("WS-C3750X-24P", "15.2(4)E10", "universalk9", 300 * 1024),
                "/no-version-check",
                true,
                "All software images installed.",
            ),
            (
                spec(MODEL, "15.2(7)E8", "lanbasek9", 300 * 1024),
                "",
                false,
                "does not support the same feature set.",
            ),
            (
                spec(MODEL, "15.2(7)E8", "lanbasek9", 300 * 1024),
                "/allow-feature-upgrade",
                true,
                "All software images installed.",
            ),
        ];
        for (archive, flags, installed, message) in cases {
            let mut device = device(1, 8 * 1024 * 1024);
            let outcome = install_archive(
                &mut device,
                &summary(&archive),
                &options(flags),
                Instant::now(),
            );
            assert_eq!(
                !outcome.installed.is_empty(),
                installed,
                "{flags}: {}",
                outcome.output
            );
            assert!(
                outcome.output.contains(message),
                "{flags}: {}",
                outcome.output
            );
        }
    }

    #[test]
    fn same_version_is_not_downloaded_again_without_overwrite() {
        let mut device = device(1, 8 * 1024 * 1024);
        let new = spec(MODEL, "15.2(7)E8", "universalk9", 300 * 1024);
        install_archive(&mut device, &summary(&new), &options(""), Instant::now());
        reboot(&mut device);
        let again = install_archive(&mut device, &summary(&new), &options(""), Instant::now());
        assert!(again.installed.is_empty());
        assert!(
            again.output.contains("not downloading it again"),
            "{}",
            again.output
        );
        let forced = install_archive(
            &mut device,
            &summary(&new),
            &options("/overwrite"),
            Instant::now(),
        );
        assert_eq!(forced.installed, [1], "{}", forced.output);
        reboot(&mut device);
        assert_eq!(device.running().unwrap().version, "15.2(7)E8");
    }

    #[test]
    fn corrupt_or_truncated_archives_change_nothing() {
        let tar = make_tar(&spec(MODEL, "15.2(7)E8", "universalk9", 300 * 1024)).unwrap();
        let mut flipped = tar.clone();
        flipped[1024] ^= 0xff;
        for (bytes, message) in [
            (flipped, "%Tar checksum error\n"),
            (tar[..100 * 1024].to_vec(), "(premature end of tar file)\n"),
        ] {
            let mut device = device(1, 8 * 1024 * 1024);
            let before = device.members[0].flash.clone();
            let summary = record_from_bytes("x.tar", &bytes, 0).archive.unwrap();
            let outcome = install_archive(&mut device, &summary, &options(""), Instant::now());
            assert!(outcome.output.ends_with(message), "{}", outcome.output);
            assert_eq!(device.members[0].flash, before);
        }
    }

    #[test]
    fn copy_sw_repairs_a_version_mismatch_member() {
        let mut device = device(3, 8 * 1024 * 1024);
        let new = spec(MODEL, "15.2(7)E8", "universalk9", 300 * 1024);
        let outcome = install_archive(
            &mut device,
            &summary(&new),
            &options("/destination-system 1 /destination-system 3"),
            Instant::now(),
        );
        assert_eq!(outcome.installed, [1, 3], "{}", outcome.output);
        reboot(&mut device);
        let states: Vec<_> = device
            .members
            .iter()
            .map(|m| device.member_state(m))
            .collect();
        assert_eq!(states, ["Ready", "Version Mismatch", "Ready"]);
        let copied = copy_sw(&mut device, 1, &DownloadOptions::default(), Instant::now());
        assert_eq!(copied.installed, [2], "{}", copied.output);
        assert!(
            copied.output.contains("System software to be uploaded:"),
            "{}",
            copied.output
        );
        assert_eq!(
            device.member(2).unwrap().boot_path,
            [format!("flash:{NEW_DIR}/{NEW_DIR}.bin")]
        );
        device.reload_member(2);
        device.boot_member(2);
        let states: Vec<_> = device
            .members
            .iter()
            .map(|m| device.member_state(m))
            .collect();
        assert_eq!(states, ["Ready", "Ready", "Ready"]);
    }
}
