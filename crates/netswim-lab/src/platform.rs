//! IOS-XE and IOS-XR in the lab model: their hardware models, image files
//! (`cat9k_iosxe.17.09.04a.SPA.bin`, `asr9k-mini-x64-6.5.3.iso`), the install
//! state each keeps, and how each boots from the bytes on its disk.

use sha2::{Digest, Sha256};

use crate::device::{Member, RunningImage};
use crate::error::LabError;
use crate::files::{FileRecord, record_from_bytes};
use crate::image::{BIN_HEADER_LENGTH, BIN_MAGIC, ImageHeader, ModelFacts};

/// Which software a device runs, with the state only that software keeps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PlatformState {
    /// Classic IOS (everything in `device.rs`).
    #[default]
    Ios,
    IosXe(XeState),
    IosXr(XrState),
}

impl PlatformState {
    /// The platform name of the inventory and the control endpoint.
    pub fn name(&self) -> &'static str {
        match self {
            PlatformState::Ios => "ios",
            PlatformState::IosXe(_) => "iosxe",
            PlatformState::IosXr(_) => "iosxr",
        }
    }
}

/// IOS-XE install bookkeeping: versions added by `install add` but not active.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XeState {
    pub inactive_versions: Vec<String>,
}

/// One IOS-XR release added to the install repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XrPackage {
    /// The `install add` operation that added it (`install activate id N`).
    pub add_id: u32,
    /// `asr9k-xr-6.5.3`, as `show install` prints it.
    pub name: String,
    pub version: String,
    /// The `.iso` it came from, on `harddisk:`.
    pub file: String,
}

/// IOS-XR install state: repository, active and committed release.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XrState {
    pub packages: Vec<XrPackage>,
    /// Name of the active release.
    pub active: String,
    /// Name of the committed release (what a reload falls back to).
    pub committed: String,
    /// Activated, takes effect at the next boot.
    pub activate_on_boot: Option<String>,
    pub last_operation: u32,
    /// The install operation running in the background (eXR runs one at a
    /// time), shown by `show install request`.
    pub running: Option<Box<XrRunningOperation>>,
    /// Finished operations' log lines, oldest first (`show install log [N]`).
    pub logs: Vec<XrOperationLog>,
}

/// An install operation still running in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XrRunningOperation {
    pub id: u32,
    pub user: String,
    /// The command as typed (`install add source tftp://h/d x.iso`).
    pub command: String,
    /// Bytes of the image downloaded so far.
    pub received: u64,
    /// The image's size once its header has arrived.
    pub expected: Option<u64>,
    /// Log lines so far (the start), moved to `XrState::logs` at the end.
    pub lines: Vec<String>,
}

impl XrRunningOperation {
    /// How far the operation is, as `show install request` puts it: the
    /// download is most of an `install add`; the last percent is the
    /// registration after it.
    pub fn percent(&self) -> u64 {
        match self.expected {
            Some(expected) if expected > 0 => (self.received.saturating_mul(99) / expected).min(99),
            _ => 0,
        }
    }
}

/// What `show install log N` prints for one finished operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XrOperationLog {
    pub id: u32,
    /// Lines with their `Mon DD HH:MM:SS ` stamps, without line ends.
    pub lines: Vec<String>,
}

impl XrState {
    pub fn package(&self, name: &str) -> Option<&XrPackage> {
        self.packages.iter().find(|package| package.name == name)
    }

    pub fn next_operation(&mut self) -> u32 {
        self.last_operation += 1;
        self.last_operation
    }

    /// The log of operation `id`.
    pub fn log(&self, id: u32) -> Option<&XrOperationLog> {
        self.logs.iter().find(|log| log.id == id)
    }
}

/// `17.09.04a`: two-digit minor and rebuild, optional letter.
fn check_xe_version(version: &str) -> Result<(), LabError> {
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_digit());
    let ok = parts.len() == 3
        && numeric(parts[0])
        && numeric(parts[1])
        && parts[2]
            .trim_end_matches(|c: char| c.is_ascii_lowercase())
            .chars()
            .all(|c| c.is_ascii_digit())
        && !parts[2].is_empty();
    ok.then_some(()).ok_or_else(|| LabError::BadVersion {
        version: version.to_string(),
    })
}

/// `6.5.3` or `7.3.2`.
fn check_xr_version(version: &str) -> Result<(), LabError> {
    let parts: Vec<&str> = version.split('.').collect();
    let ok = (2..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
    ok.then_some(()).ok_or_else(|| LabError::BadVersion {
        version: version.to_string(),
    })
}

/// IOS-XE and IOS-XR models the lab can play.
pub const MODELS: &[ModelFacts] = &[
    ModelFacts {
        model: "C9300-48P",
        family: "cat9k",
        family_upper: "CAT9K_IOSXE",
        flash_bytes: 11_353_194_496,
        dram_kib: 8_388_608,
        ports: 52,
        cpu: "X86",
    },
    ModelFacts {
        model: "WS-C3850-48P",
        family: "cat3k_caa",
        family_upper: "CAT3K_CAA-UNIVERSALK9",
        flash_bytes: 1_609_568_256,
        dram_kib: 4_194_304,
        ports: 52,
        cpu: "MIPS",
    },
    ModelFacts {
        model: "ASR-9006",
        family: "asr9k",
        family_upper: "ASR9K",
        flash_bytes: 6_575_000_000,
        dram_kib: 6_291_456,
        ports: 20,
        cpu: "Intel 686 F6M14S4",
    },
    ModelFacts {
        model: "NCS-5501",
        family: "ncs5500",
        family_upper: "NCS5500",
        flash_bytes: 3_519_000_000,
        dram_kib: 8_388_608,
        ports: 48,
        cpu: "Intel(R) Xeon(R) CPU D-1528 @ 1.90GHz",
    },
];

/// The platform a model belongs to (`iosxe` or `iosxr`), if it is one of ours.
pub fn model_platform(model: &str) -> Option<&'static str> {
    let facts = xe_xr_model(model)?;
    Some(if is_xr_family(facts.family) {
        "iosxr"
    } else {
        "iosxe"
    })
}

fn is_xr_family(family: &str) -> bool {
    matches!(family, "asr9k" | "ncs5500")
}

/// Looks an IOS-XE or IOS-XR model up (case-insensitive).
pub fn xe_xr_model(model: &str) -> Option<ModelFacts> {
    MODELS
        .iter()
        .find(|facts| facts.model.eq_ignore_ascii_case(model))
        .copied()
}

/// What an IOS-XE or IOS-XR image is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformImageSpec {
    pub model: String,
    pub version: String,
    pub size: u64,
}

fn facts_for(spec: &PlatformImageSpec) -> Result<ModelFacts, LabError> {
    xe_xr_model(&spec.model).ok_or_else(|| LabError::UnknownModel {
        model: spec.model.clone(),
    })
}

/// The real file name: `cat9k_iosxe.17.09.04a.SPA.bin`,
/// `cat3k_caa-universalk9.16.12.10.SPA.bin`, `asr9k-mini-x64-6.5.3.iso`,
/// `ncs5500-mini-x-7.3.2.iso`.
pub fn platform_image_file_name(spec: &PlatformImageSpec) -> Result<String, LabError> {
    let facts = facts_for(spec)?;
    let version = &spec.version;
    Ok(match facts.family {
        "cat9k" => {
            check_xe_version(version)?;
            format!("cat9k_iosxe.{version}.SPA.bin")
        }
        "cat3k_caa" => {
            check_xe_version(version)?;
            format!("cat3k_caa-universalk9.{version}.SPA.bin")
        }
        "asr9k" => {
            check_xr_version(version)?;
            format!("asr9k-mini-x64-{version}.iso")
        }
        _ => {
            check_xr_version(version)?;
            format!("ncs5500-mini-x-{version}.iso")
        }
    })
}

/// The feature field of the header: what `show version` calls the image.
fn feature_of(family: &str) -> &'static str {
    match family {
        "cat9k" => "iosxe",
        "cat3k_caa" => "universalk9",
        "asr9k" => "mini-x64",
        _ => "mini-x",
    }
}

/// Deterministic bytes (splitmix64 seeded by a label).
fn payload(label: &str, length: usize) -> Vec<u8> {
    let seed = Sha256::digest(label.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&seed[..8]);
    let mut state = u64::from_le_bytes(first);
    let mut bytes = Vec::with_capacity(length + 8);
    while bytes.len() < length {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        bytes.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    bytes.truncate(length);
    bytes
}

/// A file in the lab header format (the one `read_bin_header` reads), so a
/// device tells version and integrity from the bytes alone.
pub(crate) fn headed_file(
    family: &str,
    model: &str,
    version: &str,
    feature: &str,
    size: u64,
) -> Result<Vec<u8>, LabError> {
    let minimum = BIN_HEADER_LENGTH as u64 + 1024;
    if size < minimum {
        return Err(LabError::ImageTooSmall { size, minimum });
    }
    let payload_length = size - BIN_HEADER_LENGTH as u64;
    let body = payload(
        &format!("{family}|{model}|{version}|{feature}"),
        payload_length as usize,
    );
    let payload_sha256 = hex::encode(Sha256::digest(&body));
    let mut bytes = format!(
        "{BIN_MAGIC}\nfamily: {family}\nmodel: {model}\nversion: {version}\nfeature: {feature}\nmin_dram_mb: 4096\npayload_length: {payload_length}\npayload_sha256: {payload_sha256}\nheader_end:\n"
    )
    .into_bytes();
    bytes.resize(BIN_HEADER_LENGTH, 0);
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Builds an IOS-XE `.bin` bundle or an IOS-XR `.iso` of exactly `spec.size` bytes.
pub fn make_platform_image(spec: &PlatformImageSpec) -> Result<Vec<u8>, LabError> {
    let facts = facts_for(spec)?;
    platform_image_file_name(spec)?;
    headed_file(
        facts.family,
        facts.model,
        &spec.version,
        feature_of(facts.family),
        spec.size,
    )
}

/// The packages an IOS-XE bundle unpacks into (role, file-name stem).
const XE_PACKAGES: &[(&str, &str)] = &[
    ("rp_boot", "rpboot"),
    ("rp_base", "rpbase"),
    ("rp_daemons", "rpbase"),
    ("rp_iosd", "rpbase"),
    ("rp_security", "rpbase"),
    ("rp_webui", "webui"),
    ("cc_srdriver", "cc_srdriver"),
    ("cc", "espbase"),
    ("srdriver", "srdriver"),
    ("guestshell", "guestshell"),
];

/// Unpacks a valid IOS-XE bundle: its `.pkg` files and the `packages.conf`
/// naming them. The device keeps only digests, so the packages are rebuilt
/// deterministically from the bundle's header after checking its checksum.
pub fn xe_unpack(
    bundle: &FileRecord,
    bundle_name: &str,
    modified: u64,
) -> Option<(Vec<FileRecord>, FileRecord)> {
    let header = bundle.valid_bin_header()?;
    let prefix = match header.family.as_str() {
        "cat9k" => "cat9k",
        "cat3k_caa" => "cat3k_caa",
        _ => return None,
    };
    let mut stems: Vec<&str> = XE_PACKAGES.iter().map(|(_, stem)| *stem).collect();
    stems.dedup();
    let share = (bundle.size / stems.len() as u64).max(BIN_HEADER_LENGTH as u64 + 1024);
    let mut packages = Vec::new();
    for stem in &stems {
        let name = format!("{prefix}-{stem}.{}.SPA.pkg", header.version);
        let bytes = headed_file(
            &header.family,
            &header.model,
            &header.version,
            stem,
            share.min(64 * 1024 * 1024),
        )
        .ok()?;
        packages.push(record_from_bytes(&name, &bytes, modified));
    }
    let mut conf =
        format!("#! /usr/binos/bin/packages_conf.sh\n\n# package.conf for {bundle_name}\n#\n");
    for (role, stem) in XE_PACKAGES {
        let name = format!("{prefix}-{stem}.{}.SPA.pkg", header.version);
        conf.push_str(&format!("pkg  rp 0 0   {role:<14} {name}\n"));
    }
    conf.push_str("\n#-end-\n");
    let conf_record = record_from_bytes("packages.conf", conf.as_bytes(), modified);
    Some((packages, conf_record))
}

/// The package files a `packages.conf` names, read from its bytes.
pub fn packages_conf_entries(conf: &FileRecord) -> Option<Vec<String>> {
    let text = std::str::from_utf8(&conf.head).ok()?;
    if !text.starts_with("#! /usr/binos/bin/packages_conf.sh") || !text.contains("#-end-") {
        return None;
    }
    let entries: Vec<String> = text
        .lines()
        .filter(|line| {
            line.starts_with("pkg ") || line.starts_with("boot ") || line.starts_with("iso ")
        })
        .filter_map(|line| line.split_whitespace().last().map(str::to_string))
        .collect();
    (!entries.is_empty()).then_some(entries)
}

/// Boots an IOS-XE member: the first entry of the boot variable that is a
/// valid bundle, or a `packages.conf` whose packages are all present and valid.
pub fn xe_boot(member: &Member) -> Option<RunningImage> {
    let family = member.facts.family;
    let from_file = |path: &str| -> Option<RunningImage> {
        let file = member.flash.file(path)?;
        if let Some(header) = file.valid_bin_header() {
            return (header.family == family).then(|| running(format!("flash:{path}"), header));
        }
        let entries = packages_conf_entries(file)?;
        let mut version: Option<ImageHeader> = None;
        for entry in entries {
            let header = member.flash.file(&entry)?.valid_bin_header()?;
            if header.family != family {
                return None;
            }
            match &version {
                Some(seen) if seen.version != header.version => return None,
                Some(_) => {}
                None => version = Some(header),
            }
        }
        let header = version?;
        Some(running(format!("flash:{path}"), header))
    };
    if member.boot_path.is_empty() {
        return member
            .flash
            .files
            .iter()
            .find_map(|file| from_file(&file.path));
    }
    member.boot_path.iter().find_map(|entry| {
        let (_, path) = entry.split_once(':')?;
        from_file(path.trim_start_matches('/'))
    })
}

fn running(path: String, header: ImageHeader) -> RunningImage {
    RunningImage {
        path,
        version: header.version,
        feature: header.feature,
        family: header.family,
    }
}

/// Boots an IOS-XR device: an activation waiting for this boot takes effect;
/// otherwise the committed release comes back (an uncommitted one reverts).
/// The release's `.iso` must still be valid on `harddisk:`.
pub fn xr_boot(state: &mut XrState, member: &Member) -> Option<RunningImage> {
    state.active = match state.activate_on_boot.take() {
        Some(next) => next,
        None => state.committed.clone(),
    };
    let package = state.package(&state.active)?;
    let header = member.flash.file(&package.file)?.valid_bin_header()?;
    (header.family == member.facts.family && header.version == package.version)
        .then(|| running(format!("harddisk:/{}", package.file), header))
}

/// The release name XR prints for an image header: `asr9k-xr-6.5.3`.
pub fn xr_release_name(header: &ImageHeader) -> String {
    format!("{}-xr-{}", header.family, header.version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::read_bin_header;

    fn spec(model: &str, version: &str) -> PlatformImageSpec {
        PlatformImageSpec {
            model: model.into(),
            version: version.into(),
            size: 64 * 1024,
        }
    }

    #[test]
    fn file_names_follow_cisco_conventions() {
        for (model, version, expected) in [
            ("C9300-48P", "17.09.04a", "cat9k_iosxe.17.09.04a.SPA.bin"),
            (
                "WS-C3850-48P",
                "16.12.10",
                "cat3k_caa-universalk9.16.12.10.SPA.bin",
            ),
            ("ASR-9006", "6.5.3", "asr9k-mini-x64-6.5.3.iso"),
            ("NCS-5501", "7.3.2", "ncs5500-mini-x-7.3.2.iso"),
        ] {
            assert_eq!(
                platform_image_file_name(&spec(model, version)).unwrap(),
                expected
            );
        }
        assert!(platform_image_file_name(&spec("C9300-48P", "15.2(7)E8")).is_err());
        assert!(platform_image_file_name(&spec("ASR-9006", "6.x")).is_err());
    }

    #[test]
    fn images_state_family_and_version_in_their_header() {
        let bytes = make_platform_image(&spec("ASR-9006", "6.5.3")).unwrap();
        assert_eq!(bytes.len(), 64 * 1024);
        let header = read_bin_header(&bytes).unwrap();
        assert_eq!(
            (header.family.as_str(), header.version.as_str()),
            ("asr9k", "6.5.3")
        );
        let record = record_from_bytes("x.iso", &bytes, 0);
        assert!(record.valid_bin_header().is_some());
    }

    #[test]
    fn xe_bundle_unpacks_into_packages_named_by_packages_conf() {
        let bytes = make_platform_image(&spec("C9300-48P", "17.12.01")).unwrap();
        let bundle = record_from_bytes("cat9k_iosxe.17.12.01.SPA.bin", &bytes, 0);
        let (packages, conf) = xe_unpack(&bundle, "cat9k_iosxe.17.12.01.SPA.bin", 0).unwrap();
        let entries = packages_conf_entries(&conf).unwrap();
        for entry in &entries {
            let package = packages
                .iter()
                .find(|package| &package.path == entry)
                .unwrap();
            assert_eq!(package.valid_bin_header().unwrap().version, "17.12.01");
        }
        assert!(entries.contains(&"cat9k-rpbase.17.12.01.SPA.pkg".to_string()));
        let mut damaged = bytes.clone();
        damaged[9000] ^= 1;
        let corrupt = record_from_bytes("c.bin", &damaged, 0);
        assert!(xe_unpack(&corrupt, "c.bin", 0).is_none());
    }
}
