//! Invariants of upgrade analysis over generated flash contents: it never
//! panics, never offers a protected file for deletion, and its verdicts nest.

use netswim_domain::Os;
use netswim_domain::analysis::{AnalysisSummary, Method, analyse_many};
use netswim_domain::facts::{DeviceFacts, DirEntry, DirListing, FileSystemSpace};
use netswim_domain::image::describe_image;
use proptest::prelude::*;

const RUNNING: &str = "flash:/c2960x-universalk9-mz.152-4.E10/c2960x-universalk9-mz.152-4.E10.bin";
const BOOT_BACKUP: &str = "flash:c2960x-universalk9-mz.152-2.E9.bin";

/// Names that may sit on a 2960X flash; the first ones are protected.
const NAMES: &[(&str, bool)] = &[
    ("c2960x-universalk9-mz.152-4.E10", true),
    (
        "c2960x-universalk9-mz.152-4.E10/c2960x-universalk9-mz.152-4.E10.bin",
        false,
    ),
    ("c2960x-universalk9-mz.152-2.E9.bin", false),
    ("c2960x-universalk9-mz.152-7.E8.bin", false),
    ("config.text", false),
    ("private-config.text", false),
    ("vlan.dat", false),
    ("multiple-fs", false),
    ("nvram_backup", false),
    ("env_vars", false),
    ("c2960x-lanbasek9-mz.150-2.EX.bin", false),
    ("c2960x-universalk9-mz.150-2.SE5", true),
    (
        "c2960x-universalk9-mz.150-2.SE5/c2960x-universalk9-mz.150-2.SE5.bin",
        false,
    ),
    ("c2960x-universalk9-tar.152-2.E.tar", false),
    ("crashinfo", true),
];
const PROTECTED: usize = 10;

fn entries() -> impl Strategy<Value = Vec<DirEntry>> {
    prop::collection::vec((0..NAMES.len(), prop::option::of(0u64..40_000_000)), 0..12).prop_map(
        |picks| {
            picks
                .into_iter()
                .map(|(index, size)| DirEntry {
                    name: NAMES[index].0.into(),
                    size,
                    is_dir: NAMES[index].1,
                    ..DirEntry::default()
                })
                .collect()
        },
    )
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Copy),
        Just(Method::ArchiveDownloadSw { overwrite: false }),
        Just(Method::ArchiveDownloadSw { overwrite: true }),
        Just(Method::ArchiveTarExtract),
        Just(Method::InstallMode),
        Just(Method::XrInstall),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn verdicts_nest_and_protected_files_are_never_deletable(
        members in prop::collection::vec((entries(), 0u64..60_000_000, any::<bool>()), 1..4),
        image_size in 0u64..u64::MAX / 2,
        ram in prop::option::of(0u64..1_000_000_000),
        method in method(),
        tar in any::<bool>(),
    ) {
        let file_name = if tar { "c2960x-universalk9-tar.152-7.E8.tar" } else { "c2960x-universalk9-mz.152-7.E8.bin" };
        let image = describe_image(file_name, image_size, None);
        let stacked = members.len() > 1;
        let device = DeviceFacts {
            name: "switch".into(),
            os: Os::Ios,
            model: Some("WS-C2960X-48FPD-L".into()),
            version: Some("15.2(4)E10".into()),
            running_image: Some(RUNNING.into()),
            boot_path: vec![RUNNING.into(), BOOT_BACKUP.into()],
            ram_bytes: ram,
            filesystems: members
                .iter()
                .enumerate()
                .map(|(index, (entries, free, listed))| FileSystemSpace {
                    name: if stacked { format!("flash{}:", index + 1) } else { "flash:".into() },
                    member: None,
                    total_bytes: 128_000_000,
                    free_bytes: *free,
                    listing: listed.then(|| DirListing { entries: entries.clone(), ..DirListing::default() }),
                })
                .collect(),
            stack_members: vec![],
            install_mode: None,
            feature_set: None,
            ap_platform_code: None,
        };
        let results = analyse_many(std::slice::from_ref(&device), &image, method);
        let readiness = &results[0];
        prop_assert_eq!(readiness.flash.len(), members.len());
        prop_assert!(!readiness.ready || readiness.ready_after_cleanup);
        prop_assert!(!readiness.ready_after_cleanup || readiness.applicable);
        for check in &readiness.flash {
            prop_assert!(!check.ok || check.ok_after_cleanup);
        }
        for file in &readiness.deletable {
            let protected = NAMES[..PROTECTED].iter().any(|(name, _)| *name == file.name)
                || file.name.starts_with("c2960x-universalk9-mz.152-7.E8");
            prop_assert!(!protected, "{} offered for deletion", file.name);
            prop_assert!(!file.name.contains('/'));
        }
        let summary = AnalysisSummary::of(&results);
        prop_assert_eq!(summary.ready + summary.not_ready + summary.not_applicable, 1);
    }
}
