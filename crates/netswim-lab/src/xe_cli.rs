//! The Cisco IOS-XE commands that differ from IOS (Catalyst 9300/3850):
//! `show version` with INSTALL/BUNDLE mode, `show boot[var]`, `show install
//! summary`, `install add file … [activate commit]`, `install remove
//! inactive`. Everything else (dir, copy, verify, delete, boot system, write,
//! reload) is the IOS command line, which this falls through to.

use std::fmt::Write as _;
use std::time::Instant;

use crate::device::{BootScope, Device};
use crate::files::format_timestamp;
use crate::ios_cli::{
    Action, CliSession, Mode, PlatformQuestion, PlatformStep, Reply, split_file_path,
};
use crate::platform::{PlatformState, XeState, packages_conf_entries, xe_unpack};
use crate::xr_cli::{Matched, Pattern, match_line};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    ShowVersion,
    ShowBoot,
    ShowInstallSummary,
    ShowFileSystems,
    InstallAddActivateCommitQuiet,
    InstallAddActivateCommit,
    InstallAdd,
    InstallRemoveInactive,
}

const PATTERNS: &[Pattern<Command>] = &[
    (&["show", "version"], Command::ShowVersion),
    (&["show", "bootvar"], Command::ShowBoot),
    (&["show", "boot"], Command::ShowBoot),
    (&["show", "install", "summary"], Command::ShowInstallSummary),
    (&["show", "file", "systems"], Command::ShowFileSystems),
    (
        &[
            "install",
            "add",
            "file",
            "W",
            "activate",
            "commit",
            "prompt-level",
            "none",
        ],
        Command::InstallAddActivateCommitQuiet,
    ),
    (
        &["install", "add", "file", "W", "activate", "commit"],
        Command::InstallAddActivateCommit,
    ),
    (&["install", "add", "file", "W"], Command::InstallAdd),
    (
        &["install", "remove", "inactive"],
        Command::InstallRemoveInactive,
    ),
];

/// Handles the IOS-XE-only commands; `None` lets the IOS command line take
/// the line (including answers to its pending questions).
pub fn handle_line(
    session: &mut CliSession,
    device: &mut Device,
    line: &str,
    now: Instant,
) -> Option<Reply> {
    if let Some(question) = session.platform_question.take() {
        return Some(match question.on_yes {
            PlatformStep::ActivateBundle => {
                answer_activation(device, &question.resume, line.trim(), now)
            }
            PlatformStep::RemoveInactive => answer_remove(device, line.trim(), now),
        });
    }
    if session.pending.is_some() || session.mode == Mode::Config {
        return None;
    }
    let (command_text, filter) = match line.split_once('|') {
        Some((command_text, filter)) => (command_text, Some(filter.trim())),
        None => (line, None),
    };
    let Matched::Command(command, arguments) = match_line(command_text, PATTERNS) else {
        return None;
    };
    let privileged = session.mode == Mode::Privileged;
    let output = match command {
        Command::ShowVersion => show_version(device, now),
        Command::ShowBoot if privileged => show_boot(device),
        Command::ShowInstallSummary if privileged => show_install_summary(device),
        Command::ShowFileSystems if privileged => show_file_systems(device),
        Command::InstallAddActivateCommit if privileged => {
            let (reply, ask) = install_add(device, &arguments[0], Stage::AskThenActivate, now);
            if ask {
                session.platform_question = Some(PlatformQuestion {
                    prompt: "This operation may require a reload of the system. Do you want to proceed? [y/n]".into(),
                    resume: arguments[0].clone(),
                    on_yes: PlatformStep::ActivateBundle,
                });
            }
            return Some(reply);
        }
        Command::InstallAddActivateCommitQuiet if privileged => {
            return Some(install_add(device, &arguments[0], Stage::Activate, now).0);
        }
        Command::InstallAdd if privileged => {
            return Some(install_add(device, &arguments[0], Stage::AddOnly, now).0);
        }
        Command::InstallRemoveInactive if privileged => {
            let (output, ask) = install_remove_inactive(device, now);
            if ask {
                session.platform_question = Some(PlatformQuestion {
                    prompt: "Do you want to remove the above files? [y/n]".into(),
                    resume: String::new(),
                    on_yes: PlatformStep::RemoveInactive,
                });
            }
            output
        }
        _ => return None,
    };
    let output = match filter {
        Some(filter) => apply_filter(&output, filter)?,
        None => output,
    };
    Some(Reply {
        output,
        action: None,
    })
}

/// `| include X`, `| exclude X`, `| begin X` (abbreviated as IOS allows);
/// `None` for any other filter, which the IOS command line then rejects.
fn apply_filter(text: &str, filter: &str) -> Option<String> {
    let (keyword, pattern) = filter.split_once(char::is_whitespace)?;
    let keyword = keyword.to_ascii_lowercase();
    let pattern = pattern.trim();
    let kind = ["include", "exclude", "begin"]
        .into_iter()
        .find(|candidate| candidate.starts_with(&keyword))?;
    let mut begun = false;
    let mut out = String::new();
    for line in text.lines() {
        let keep = match kind {
            "include" => line.contains(pattern),
            "exclude" => !line.contains(pattern),
            _ => {
                begun |= line.contains(pattern);
                begun
            }
        };
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    Some(out)
}

fn xe_state_mut(device: &mut Device) -> Option<&mut XeState> {
    match &mut device.platform {
        PlatformState::IosXe(state) => Some(state),
        _ => None,
    }
}

/// `17.09.04a` → `17.9.4a` as the IOS line of `show version` prints it.
fn short_version(version: &str) -> String {
    version
        .split('.')
        .map(|part| {
            let trimmed = part.trim_start_matches('0');
            if trimmed.is_empty() || trimmed.starts_with(|c: char| !c.is_ascii_digit()) {
                format!("0{trimmed}")
            } else {
                trimmed.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The release train name IOS-XE prints in brackets.
fn train(version: &str) -> &'static str {
    let mut parts = version.split('.');
    let major: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let minor: u32 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    match (major, minor) {
        (16, 0..=6) => "Everest",
        (16, 7..=9) => "Fuji",
        (16, _) => "Gibraltar",
        (17, 1..=3) => "Amsterdam",
        (17, 4..=6) => "Bengaluru",
        (17, 7..=9) => "Cupertino",
        (17, 10..=12) => "Dublin",
        _ => "IOSXE",
    }
}

fn clock_line(device: &Device, now: Instant) -> String {
    format!("{} UTC", format_timestamp(device.clock_seconds(now)))
}

/// `show version` of a Catalyst on IOS-XE 16.x/17.x.
pub fn show_version(device: &Device, now: Instant) -> String {
    let master = device.master_member();
    let facts = master.facts;
    let running = device.running();
    let version = running
        .map(|image| image.version.clone())
        .unwrap_or_default();
    let path = running.map(|image| image.path.clone()).unwrap_or_default();
    let mode = if path.ends_with(".conf") {
        "INSTALL"
    } else {
        "BUNDLE"
    };
    let uptime = device
        .uptime(now)
        .map(crate::render::format_uptime)
        .unwrap_or_default();
    let mut out = String::new();
    let _ = write!(
        out,
        "Cisco IOS XE Software, Version {version}\n\
         Cisco IOS Software [{train}], Catalyst L3 Switch Software ({image}), Version {short}, RELEASE SOFTWARE (fc3)\n\
         Technical Support: http://www.cisco.com/techsupport\n\
         Copyright (c) 1986-2023 by Cisco Systems, Inc.\n\
         Compiled Thu 10-Aug-23 16:35 by mcpre\n\
         \n\
         \n\
         Cisco IOS-XE software, Copyright (c) 2005-2023 by cisco Systems, Inc.\n\
         All rights reserved.  Certain components of Cisco IOS-XE software are\n\
         licensed under the GNU General Public License (\"GPL\") Version 2.0.\n\
         \n\
         \n\
         ROM: IOS-XE ROMMON\n\
         BOOTLDR: System Bootstrap, Version 17.9.1r, RELEASE SOFTWARE (P)\n\
         \n\
         {host} uptime is {uptime}\n\
         Uptime for this control processor is {uptime}\n\
         System returned to ROM by {reason}\n\
         System image file is \"{path}\"\n\
         Last reload reason: {reason}\n\
         \n\
         \n\
         cisco {model} ({cpu}) processor with 1333273K/6147K bytes of memory.\n\
         Processor board ID {serial}\n\
         1 Virtual Ethernet interface\n\
         {ports} Gigabit Ethernet interfaces\n\
         2048K bytes of non-volatile configuration memory.\n\
         {dram}K bytes of physical memory.\n\
         {flash_k}K bytes of Flash at flash:.\n\
         \n\
         Base Ethernet MAC Address          : {mac}\n\
         Model Number                       : {model}\n\
         System Serial Number               : {serial}\n\
         \n\
         \n\
         Switch Ports Model              SW Version        SW Image              Mode   \n\
         ------ ----- -----              ----------        ----------            ----   \n",
        train = train(&version),
        image = facts.family_upper,
        short = short_version(&version),
        host = device.hostname,
        reason = if device.reload_count == 0 {
            "power-on"
        } else {
            "Reload Command"
        },
        model = facts.model,
        cpu = facts.cpu,
        serial = master.serial,
        ports = facts.ports,
        dram = facts.dram_kib,
        flash_k = facts.flash_bytes / 1024,
        mac = master.mac_address,
    );
    for member in &device.members {
        let member_version = member
            .running
            .as_ref()
            .map(|image| image.version.clone())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{}{:>5} {:<5} {:<18} {:<17} {:<21} {mode:<7}",
            if member.number == device.master {
                '*'
            } else {
                ' '
            },
            member.number,
            facts.ports,
            facts.model,
            member_version,
            facts.family_upper,
        );
    }
    out.push_str("\n\nConfiguration register is 0x102\n\n");
    out
}

/// `show boot` / `show bootvar` of IOS-XE.
fn show_boot(device: &Device) -> String {
    let boot = device.master_member().boot_path.join(";");
    let boot = if boot.is_empty() {
        String::new()
    } else {
        format!("{boot};")
    };
    format!(
        "BOOT variable = {boot}\n\
         Configuration Register is 0x102\n\
         MANUAL_BOOT variable = no\n\
         BAUD variable = 9600\n\
         ENABLE_BREAK variable does not exist\n\
         BOOTMODE variable does not exist\n\
         IPXE_TIMEOUT variable does not exist\n\
         CONFIG_FILE variable = \n"
    )
}

/// `show file systems` of a Catalyst 9300: `bootflash:` with its alias `flash:`.
fn show_file_systems(device: &Device) -> String {
    let flash = &device.master_member().flash;
    let mut out =
        String::from("File Systems:\n\n       Size(b)       Free(b)      Type  Flags  Prefixes\n");
    let rows: [(&str, String, String, &str, &str, &str); 9] = [
        (" ", "-".into(), "-".into(), "opaque", "rw", "system:"),
        (" ", "-".into(), "-".into(), "opaque", "rw", "tmpsys:"),
        (
            "*",
            flash.capacity.to_string(),
            flash.free().to_string(),
            "disk",
            "rw",
            "bootflash: flash:",
        ),
        (
            " ",
            "1651314688".into(),
            "1634201600".into(),
            "disk",
            "rw",
            "crashinfo:",
        ),
        (
            " ",
            "2097152".into(),
            "2077566".into(),
            "nvram",
            "rw",
            "nvram:",
        ),
        (" ", "-".into(), "-".into(), "network", "rw", "tftp:"),
        (" ", "-".into(), "-".into(), "network", "rw", "http:"),
        (" ", "-".into(), "-".into(), "network", "rw", "ftp:"),
        (" ", "-".into(), "-".into(), "network", "rw", "scp:"),
    ];
    for (mark, size, free, kind, flags, prefixes) in rows {
        let _ = writeln!(
            out,
            "{mark}{size:>13} {free:>13} {kind:>9} {flags:>6}   {prefixes}"
        );
    }
    out
}

/// `show install summary`: the running image committed, added ones inactive.
fn show_install_summary(device: &Device) -> String {
    let mut out = format!(
        "[ Switch {} ] Installed Package(s) Information:\n\
         State (St): I - Inactive, U - Activated & Uncommitted,\n            C - Activated & Committed, D - Deactivated & Uncommitted\n\
         --------------------------------------------------------------------------------\n\
         Type  St   Filename/Version\n\
         --------------------------------------------------------------------------------\n",
        device.master
    );
    if let PlatformState::IosXe(state) = &device.platform {
        for version in &state.inactive_versions {
            let _ = writeln!(out, "IMG   I    {version}.0.6");
        }
    }
    if let Some(running) = device.running() {
        let _ = writeln!(out, "IMG   C    {}.0.6", running.version);
    }
    out.push_str(
        "\n--------------------------------------------------------------------------------\n\
         Auto abort timer: inactive\n\
         --------------------------------------------------------------------------------\n\n",
    );
    out
}

/// `install add file flash:X [activate commit]`: unpacks the bundle into
/// `.pkg` files and `packages.conf`; with activate, the boot variable becomes
/// `flash:packages.conf`, the configuration is saved and the switch reloads.
/// How far `install add` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    AddOnly,
    /// `activate commit` without `prompt-level none`: ask before activating.
    AskThenActivate,
    Activate,
}

const ADD_ACTIVATE: &str = "install_add_activate_commit";

/// The answer to "Do you want to proceed? [y/n]" after the add stage.
fn answer_activation(device: &mut Device, target: &str, answer: &str, now: Instant) -> Reply {
    let answer = answer.to_ascii_lowercase();
    if answer == "y" || answer == "yes" {
        return activate_bundle(device, target, String::new(), now);
    }
    Reply {
        output: format!(
            "\n{ADD_ACTIVATE}: Operation aborted by user\nFAILED: {ADD_ACTIVATE} exit(1) {}\n",
            clock_line(device, now)
        ),
        action: None,
    }
}

/// `install add file flash:X`, then (by `stage`) activation; the flag says
/// the caller must ask before activating.
fn install_add(device: &mut Device, target: &str, stage: Stage, now: Instant) -> (Reply, bool) {
    let activate = stage != Stage::AddOnly;
    let operation = if activate {
        "install_add_activate_commit"
    } else {
        "install_add"
    };
    let clock = clock_line(device, now);
    let started = format!("{operation}: START {clock}\n");
    let fail = |why: String| {
        let reply = Reply {
            output: format!("{started}{why}\nFAILED: {operation} exit(1) {clock}\n"),
            action: None,
        };
        (reply, false)
    };
    let (file_system, path) = split_file_path(target);
    let Some(bundle) = device
        .file_system(&file_system)
        .and_then(|fs| fs.file(&path))
        .cloned()
    else {
        return fail(format!(
            "FAILED: install_add : {file_system}{path} not found"
        ));
    };
    let modified = device.clock_seconds(now);
    let Some((packages, conf)) = xe_unpack(&bundle, &path, modified) else {
        return fail(format!(
            "FAILED: install_add : Unable to expand the package {file_system}{path}: Image is not a valid IOS-XE package or it is corrupt"
        ));
    };
    let family = device.master_member().facts.family;
    let Some(header) = bundle.valid_bin_header() else {
        return fail("FAILED: install_add : image checksum failed".into());
    };
    if header.family != family {
        return fail(format!(
            "FAILED: install_add : Package {path} is not supported on this platform ({family})"
        ));
    }
    let mut out = started.clone();
    let _ = write!(
        out,
        "{operation}: Adding PACKAGE\n{operation}: Checking whether new add is allowed ....\n\n\
         --- Starting Add ---\nPerforming Add on all members\n  [1] Add package(s) on switch 1\n"
    );
    let Some(flash) = device.file_system_mut("flash:") else {
        return fail("FAILED: install_add : flash: not found".into());
    };
    let mut stored_all = true;
    for package in &packages {
        stored_all &= flash.store(package.clone());
    }
    if !stored_all {
        return fail(
            "FAILED: install_add : Not enough space on flash: to expand the package".into(),
        );
    }
    let _ = write!(
        out,
        "  [1] Finished Add on switch 1\nChecking status of Add on [1]\nAdd: Passed on [1]\nFinished Add\n\nImage added. Version: {}\n",
        header.version
    );
    if !activate {
        // Packages are there; packages.conf names the new ones only once activated.
        let conf_name = format!("{}.conf", path.trim_end_matches(".bin"));
        if let Some(flash) = device.file_system_mut("flash:") {
            flash.store(crate::files::FileRecord {
                path: conf_name,
                ..conf
            });
        }
        if let Some(state) = xe_state_mut(device) {
            if !state.inactive_versions.contains(&header.version) {
                state.inactive_versions.push(header.version.clone());
            }
        }
        let _ = writeln!(out, "SUCCESS: {operation}  {}", clock_line(device, now));
        let reply = Reply {
            output: out,
            action: None,
        };
        return (reply, false);
    }
    if stage == Stage::AskThenActivate {
        // Added, not yet active: a "no" leaves the version inactive.
        if let Some(state) = xe_state_mut(device) {
            if !state.inactive_versions.contains(&header.version) {
                state.inactive_versions.push(header.version.clone());
            }
        }
        out.push_str(&activation_list(&conf));
        let reply = Reply {
            output: out,
            action: None,
        };
        return (reply, true);
    }
    (activate_bundle(device, target, out, now), false)
}

fn activation_list(conf: &crate::files::FileRecord) -> String {
    let mut out =
        format!("{ADD_ACTIVATE}: Activating PACKAGE\nFollowing packages shall be activated:\n");
    for entry in packages_conf_entries(conf).unwrap_or_default() {
        let _ = writeln!(out, "/flash/{entry}");
    }
    out
}

/// The activate and commit stages: `packages.conf` of the (already added)
/// bundle, boot variable, saved configuration, reload.
fn activate_bundle(device: &mut Device, target: &str, mut out: String, now: Instant) -> Reply {
    let operation = ADD_ACTIVATE;
    let clock = clock_line(device, now);
    let fail = |why: String| Reply {
        output: format!("{why}\nFAILED: {operation} exit(1) {clock}\n"),
        action: None,
    };
    let (file_system, path) = split_file_path(target);
    let modified = device.clock_seconds(now);
    let unpacked = device
        .file_system(&file_system)
        .and_then(|fs| fs.file(&path))
        .and_then(|bundle| {
            Some((
                bundle.valid_bin_header()?,
                xe_unpack(bundle, &path, modified)?.1,
            ))
        });
    let Some((header, conf)) = unpacked else {
        return fail(format!(
            "FAILED: install_activate : {file_system}{path} is gone or corrupt"
        ));
    };
    if out.is_empty() {
        out.push('\n');
    } else {
        out.push_str(&activation_list(&conf));
    }
    let stored = device
        .file_system_mut("flash:")
        .is_some_and(|flash| flash.store(conf));
    if !stored {
        return fail(
            "FAILED: install_activate : Not enough space on flash: for packages.conf".into(),
        );
    }
    device.set_boot(BootScope::Plain, vec!["flash:packages.conf".into()]);
    device.save_config();
    if let Some(state) = xe_state_mut(device) {
        state
            .inactive_versions
            .retain(|version| version != &header.version);
    }
    let _ = write!(
        out,
        "\n--- Starting Activate ---\nPerforming Activate on all members\n  [1] Activate package(s) on switch 1\n  [1] Finished Activate on switch 1\n\
         Checking status of Activate on [1]\nActivate: Passed on [1]\nFinished Activate\n\n\
         --- Starting Commit ---\nPerforming Commit on all members\n  [1] Commit package(s) on switch 1\n  [1] Finished Commit on switch 1\n\
         Checking status of Commit on [1]\nCommit: Passed on [1]\nFinished Commit\n\n\
         Send model notification for {operation} before reload\n[1]: Reloading\nSUCCESS: {operation}  {}\n",
        clock_line(device, now)
    );
    Reply {
        output: out,
        action: Some(Action::Reload),
    }
}

/// Package files and bundles the running software does not use, and the
/// packages it does use.
fn removal_plan(device: &Device) -> (Vec<String>, Vec<String>) {
    let running_path = device
        .running()
        .map(|image| image.path.trim_start_matches("flash:").to_string())
        .unwrap_or_default();
    let mut in_use: Vec<String> = vec![running_path.clone()];
    let Some(flash) = device.file_system("flash:") else {
        return (in_use, Vec::new());
    };
    if let Some(conf) = flash.file(&running_path) {
        in_use.extend(packages_conf_entries(conf).unwrap_or_default());
    }
    let doomed = flash
        .files
        .iter()
        .map(|file| file.path.clone())
        .filter(|path| {
            let removable = path.ends_with(".pkg")
                || path.ends_with(".bin")
                || (path.ends_with(".conf") && path != "packages.conf");
            removable && !in_use.contains(path)
        })
        .collect();
    (in_use, doomed)
}

/// `install remove inactive`: lists the package files and bundles the
/// running software does not use and, as a real Catalyst 9000 does, asks
/// `Do you want to remove the above files? [y/n]` before deleting them
/// (the flag says a question is pending).
fn install_remove_inactive(device: &mut Device, now: Instant) -> (String, bool) {
    let (in_use, doomed) = removal_plan(device);
    let mut out = format!(
        "install_remove: START {}\nCleaning up unnecessary package files\nScanning boot directory for packages ... done.\nPreparing packages list to delete ...\n",
        clock_line(device, now)
    );
    for path in &in_use {
        if path.ends_with(".pkg") {
            let _ = writeln!(out, "    {path}\n      File is in use, will not delete.");
        }
    }
    if doomed.is_empty() {
        out.push_str(
            "SUCCESS: No extra package or provisioning files found on media. Nothing to clean.\n",
        );
        if let Some(state) = xe_state_mut(device) {
            state.inactive_versions.clear();
        }
        let _ = writeln!(out, "SUCCESS: install_remove  {}", clock_line(device, now));
        return (out, false);
    }
    out.push_str("\nThe following files will be deleted:\n[1]:\n");
    for path in &doomed {
        let _ = writeln!(out, "/flash/{path}");
    }
    out.push('\n');
    (out, true)
}

/// The answer to "Do you want to remove the above files? [y/n]".
fn answer_remove(device: &mut Device, answer: &str, now: Instant) -> Reply {
    let answer = answer.to_ascii_lowercase();
    if answer != "y" && answer != "yes" {
        return Reply {
            output: format!(
                "\ninstall_remove: Operation aborted by user\nFAILED: install_remove exit(1) {}\n",
                clock_line(device, now)
            ),
            action: None,
        };
    }
    let (_, doomed) = removal_plan(device);
    let mut out = String::from("[1]:\n");
    if let Some(flash) = device.file_system_mut("flash:") {
        for path in &doomed {
            flash.remove(path);
            let _ = writeln!(out, "Deleting file flash:{path} ... done.");
        }
    }
    out.push_str("SUCCESS: Files deleted.\n");
    if let Some(state) = xe_state_mut(device) {
        state.inactive_versions.clear();
    }
    let _ = writeln!(out, "SUCCESS: install_remove  {}", clock_line(device, now));
    Reply {
        output: out,
        action: None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::device::{DeviceSpec, PowerState};
    use crate::files::record_from_bytes;
    use crate::platform::{PlatformImageSpec, make_platform_image, xe_xr_model};

    fn bundle(version: &str) -> (String, Vec<u8>) {
        let spec = PlatformImageSpec {
            model: "C9300-48P".into(),
            version: version.into(),
            size: 128 * 1024,
        };
        (
            crate::platform::platform_image_file_name(&spec).unwrap(),
            make_platform_image(&spec).unwrap(),
        )
    }

    fn device(now: Instant) -> Device {
        let (name, bytes) = bundle("17.09.04a");
        Device::new_with_platform(
            &DeviceSpec {
                name: "sw".into(),
                facts: xe_xr_model("C9300-48P").unwrap(),
                members: 1,
                username: "admin".into(),
                password: "pw".into(),
                enable_secret: "en".into(),
                reload_delay: Duration::from_secs(1),
                image: record_from_bytes(&name, &bytes, 0),
                identity_seed: 3,
            },
            PlatformState::IosXe(XeState::default()),
            now,
        )
    }

    fn reload(device: &mut Device, now: Instant) {
        device.reload(now);
        device.tick(now + Duration::from_secs(2));
    }

    #[test]
    fn versions_print_as_the_ios_line_and_train_name_them() {
        for (version, short, name) in [
            ("17.09.04a", "17.9.4a", "Cupertino"),
            ("17.12.01", "17.12.1", "Dublin"),
            ("16.12.10", "16.12.10", "Gibraltar"),
            ("17.03.05", "17.3.5", "Amsterdam"),
        ] {
            assert_eq!(short_version(version), short);
            assert_eq!(train(version), name);
        }
    }

    #[test]
    fn install_mode_boots_from_packages_conf_and_not_with_a_package_missing() {
        let now = Instant::now();
        let mut device = device(now);
        let (name, bytes) = bundle("17.12.01");
        device
            .file_system_mut("flash:")
            .unwrap()
            .store(record_from_bytes(&name, &bytes, 0));
        let mut session = CliSession::new();
        session.mode = Mode::Privileged;
        let reply = session.handle_line(
            &mut device,
            &format!("install add file bootflash:{name} activate commit prompt-level none"),
            now,
        );
        assert_eq!(reply.action, Some(Action::Reload), "{}", reply.output);
        reload(&mut device, now);
        let running = device.running().unwrap();
        assert_eq!(
            (running.version.as_str(), running.path.as_str()),
            ("17.12.01", "flash:packages.conf")
        );
        // The name says nothing: with one package gone the switch cannot boot.
        device
            .file_system_mut("flash:")
            .unwrap()
            .remove("cat9k-rpbase.17.12.01.SPA.pkg")
            .unwrap();
        reload(&mut device, now);
        assert_eq!(device.power, PowerState::Rommon);
    }

    #[test]
    fn install_without_prompt_level_none_asks_before_activating() {
        for (answer, reloads) in [("n", false), ("y", true)] {
            let now = Instant::now();
            let mut device = device(now);
            let (name, bytes) = bundle("17.12.01");
            device
                .file_system_mut("flash:")
                .unwrap()
                .store(record_from_bytes(&name, &bytes, 0));
            let mut session = CliSession::new();
            session.mode = Mode::Privileged;
            let line = format!("install add file flash:{name} activate commit");
            let asked = session.handle_line(&mut device, &line, now);
            assert!(asked.output.contains("Image added. Version: 17.12.01"));
            assert_eq!(
                session.prompt(&device),
                "This operation may require a reload of the system. Do you want to proceed? [y/n]"
            );
            let reply = session.handle_line(&mut device, answer, now);
            assert_eq!(reply.action.is_some(), reloads, "{}", reply.output);
            assert_eq!(session.prompt(&device), "sw#");
            let summary = session.handle_line(&mut device, "show install summary", now);
            assert_eq!(
                summary.output.contains("IMG   I    17.12.01.0.6"),
                !reloads,
                "{}",
                summary.output
            );
            if reloads {
                reload(&mut device, now);
                assert_eq!(device.running().unwrap().version, "17.12.01");
            } else {
                assert!(reply.output.contains("Operation aborted by user"));
                assert_eq!(
                    device.master_member().boot_path,
                    ["flash:cat9k_iosxe.17.09.04a.SPA.bin"]
                );
            }
        }
    }

    #[test]
    fn install_add_without_activate_leaves_the_version_inactive() {
        let now = Instant::now();
        let mut device = device(now);
        let (name, bytes) = bundle("17.12.01");
        device
            .file_system_mut("flash:")
            .unwrap()
            .store(record_from_bytes(&name, &bytes, 0));
        let mut session = CliSession::new();
        session.mode = Mode::Privileged;
        let reply =
            session.handle_line(&mut device, &format!("install add file flash:{name}"), now);
        assert_eq!(reply.action, None);
        let summary = session.handle_line(&mut device, "show install summary", now);
        assert!(
            summary.output.contains("IMG   I    17.12.01.0.6\n"),
            "{}",
            summary.output
        );
        assert!(summary.output.contains("IMG   C    17.09.04a.0.6\n"));
        let asked = session.handle_line(&mut device, "install remove inactive", now);
        assert!(
            asked
                .output
                .contains("The following files will be deleted:")
        );
        assert_eq!(
            session.prompt(&device),
            "Do you want to remove the above files? [y/n]"
        );
        let removed = session.handle_line(&mut device, "y", now);
        assert!(
            removed.output.contains("SUCCESS: Files deleted."),
            "{}",
            removed.output
        );
        let summary = session.handle_line(&mut device, "show install summary", now);
        assert!(!summary.output.contains("17.12.01"), "{}", summary.output);
        assert_eq!(device.running().unwrap().version, "17.09.04a");
    }
}
