//! The Cisco IOS-XR command line (ASR9K/NCS, 64-bit eXR): no `enable`, the
//! `RP/0/RSP0/CPU0:host#` prompt, a timestamp before each `show`, and the
//! install cycle `install add` → `install activate id N` (reload) →
//! `install commit` or, without a commit, a revert at the next reload.

use std::fmt::Write as _;
use std::time::Instant;

use crate::device::Device;
use crate::files::{FileSystem, format_timestamp};
use crate::ios_cli::{Action, CliSession, Mode, Pending, Reply};
use crate::platform::{
    PlatformState, XrOperationLog, XrPackage, XrRunningOperation, XrState, xr_release_name,
};

/// A command of one platform's table: keywords, `W` for one word, `R` for
/// the rest of the line.
pub(crate) type Pattern<C> = (&'static [&'static str], C);

/// The outcome of matching a line against a pattern table.
pub(crate) enum Matched<C> {
    Command(C, Vec<String>),
    /// No pattern; the byte offset of the first word that fits none.
    Invalid(usize),
    Incomplete,
}

/// Matches IOS style: every keyword may be shortened to a prefix; the first
/// pattern in table order that fits wins (tables list longer forms first).
pub(crate) fn match_line<C: Copy>(line: &str, patterns: &[Pattern<C>]) -> Matched<C> {
    let mut typed: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for word in line.split_whitespace() {
        let start = line[offset..].find(word).map_or(offset, |at| offset + at);
        typed.push((start, word));
        offset = start + word.len();
    }
    let fits = |token: &str, word: &str| match token {
        "W" | "R" => true,
        keyword => keyword.starts_with(&word.to_ascii_lowercase()),
    };
    let mut deepest = 0;
    let mut incomplete = false;
    for (tokens, command) in patterns {
        let mut position = 0;
        let mut arguments = Vec::new();
        let mut all = true;
        let mut rest_taken = false;
        for (index, (start, word)) in typed.iter().enumerate() {
            match tokens.get(index) {
                Some(&"R") => {
                    arguments.push(line[*start..].trim_end().to_string());
                    position = typed.len();
                    rest_taken = true;
                    break;
                }
                Some(token) if fits(token, word) => {
                    if *token == "W" {
                        arguments.push(word.to_string());
                    }
                    position = index + 1;
                }
                _ => {
                    all = false;
                    break;
                }
            }
        }
        deepest = deepest.max(position);
        if all && position == typed.len() {
            if tokens.len() == typed.len() || rest_taken {
                return Matched::Command(*command, arguments);
            }
            incomplete = true;
        }
    }
    if incomplete {
        return Matched::Incomplete;
    }
    Matched::Invalid(typed.get(deepest).map_or(line.len(), |(start, _)| *start))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    TerminalLength,
    TerminalWidth,
    ShowVersion,
    ShowInstallActiveSummary,
    ShowInstallActive,
    ShowInstallInactiveSummary,
    ShowInstallInactive,
    ShowInstallCommittedSummary,
    ShowInstallCommitted,
    ShowInstallRequest,
    ShowInstallLogId,
    ShowInstallLog,
    ShowClock,
    ShowInventory,
    Dir,
    DirPath,
    InstallAddSource,
    InstallActivateId,
    InstallCommit,
    InstallRollbackCommitted,
    Reload,
    Configure,
    Hostname,
    Commit,
    End,
    Exit,
}

const EXEC: &[Pattern<Command>] = &[
    (&["terminal", "length", "W"], Command::TerminalLength),
    (&["terminal", "width", "W"], Command::TerminalWidth),
    (&["show", "version"], Command::ShowVersion),
    (
        &["show", "install", "active", "summary"],
        Command::ShowInstallActiveSummary,
    ),
    (&["show", "install", "active"], Command::ShowInstallActive),
    (
        &["show", "install", "inactive", "summary"],
        Command::ShowInstallInactiveSummary,
    ),
    (
        &["show", "install", "inactive"],
        Command::ShowInstallInactive,
    ),
    (
        &["show", "install", "committed", "summary"],
        Command::ShowInstallCommittedSummary,
    ),
    (
        &["show", "install", "committed"],
        Command::ShowInstallCommitted,
    ),
    (&["show", "install", "request"], Command::ShowInstallRequest),
    (&["show", "install", "log", "W"], Command::ShowInstallLogId),
    (&["show", "install", "log"], Command::ShowInstallLog),
    (&["show", "clock"], Command::ShowClock),
    (&["show", "inventory"], Command::ShowInventory),
    (&["dir", "W"], Command::DirPath),
    (&["dir"], Command::Dir),
    (
        &["install", "add", "source", "W", "R"],
        Command::InstallAddSource,
    ),
    (
        &["install", "activate", "id", "W"],
        Command::InstallActivateId,
    ),
    (&["install", "commit"], Command::InstallCommit),
    (
        &["install", "rollback", "to", "committed"],
        Command::InstallRollbackCommitted,
    ),
    (&["reload"], Command::Reload),
    (&["configure", "terminal"], Command::Configure),
    (&["configure"], Command::Configure),
    (&["exit"], Command::Exit),
    (&["quit"], Command::Exit),
];

const CONFIG: &[Pattern<Command>] = &[
    (&["hostname", "W"], Command::Hostname),
    (&["commit"], Command::Commit),
    (&["end"], Command::End),
    (&["exit"], Command::End),
];

/// Node name in prompts and `show install` (`0/RSP0/CPU0`, NCS `0/RP0/CPU0`).
fn node(device: &Device) -> &'static str {
    if device.master_member().facts.family == "asr9k" {
        "0/RSP0/CPU0"
    } else {
        "0/RP0/CPU0"
    }
}

/// The prompt of an IOS-XR session.
pub fn prompt(session: &CliSession, device: &Device) -> String {
    let base = format!("RP/{}:{}", node(device), device.hostname);
    match session.mode {
        Mode::Config => format!("{base}(config)#"),
        _ => format!("{base}#"),
    }
}

/// XR prints the time before each command's output.
fn timestamp(device: &Device, now: Instant) -> String {
    let seconds = device.clock_seconds(now);
    let stamp = format_timestamp(seconds);
    let parts: Vec<&str> = stamp.split(' ').collect();
    // The device clock starts on Monday 1 March 1993.
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let weekday = DAYS[(seconds / 86_400 % 7) as usize];
    match parts.as_slice() {
        [month, day, _, time] => format!("{weekday} {month} {day:>2} {time}.000 UTC\n"),
        _ => format!("{stamp}\n"),
    }
}

fn state_mut(device: &mut Device) -> Option<&mut XrState> {
    match &mut device.platform {
        PlatformState::IosXr(state) => Some(state),
        _ => None,
    }
}

fn state(device: &Device) -> Option<&XrState> {
    match &device.platform {
        PlatformState::IosXr(state) => Some(state),
        _ => None,
    }
}

/// Handles one line of an IOS-XR session.
pub fn handle_line(
    session: &mut CliSession,
    device: &mut Device,
    line: &str,
    now: Instant,
) -> Reply {
    let line = line.trim_end_matches(['\r', '\n']);
    if session.pending == Some(Pending::ReloadConfirm) {
        session.pending = None;
        let answer = line.trim().to_ascii_lowercase();
        return if answer.is_empty() || "yes".starts_with(&answer) || answer == "y" {
            reply("\n", Some(Action::Reload))
        } else {
            Reply::default()
        };
    }
    if line.trim().is_empty() {
        return Reply::default();
    }
    let config = session.mode == Mode::Config;
    let table = if config { CONFIG } else { EXEC };
    let prompt_length = prompt(session, device).len();
    let (command, arguments) = match match_line(line, table) {
        Matched::Command(command, arguments) => (command, arguments),
        Matched::Invalid(offset) => {
            return Reply {
                output: format!(
                    "{}\n{}^\n% Invalid input detected at '^' marker.\n",
                    timestamp(device, now).trim_end(),
                    " ".repeat(prompt_length + offset)
                ),
                action: None,
            };
        }
        Matched::Incomplete => return text("% Incomplete command.\n"),
    };
    let argument = |index: usize| arguments.get(index).cloned().unwrap_or_default();
    let stamp = timestamp(device, now);
    match command {
        Command::TerminalLength | Command::TerminalWidth => {
            let Ok(value) = argument(0).parse::<u32>() else {
                return text("% Invalid input detected at '^' marker.\n");
            };
            if command == Command::TerminalLength {
                session.terminal_length = value.min(512);
            } else {
                session.terminal_width = value.min(512);
            }
            Reply::default()
        }
        Command::ShowVersion => text(format!("{stamp}{}", show_version(device, now))),
        Command::ShowInstallActive | Command::ShowInstallActiveSummary => text(format!(
            "{stamp}{}",
            show_install(
                device,
                Which::Active,
                command == Command::ShowInstallActiveSummary
            )
        )),
        Command::ShowInstallInactive | Command::ShowInstallInactiveSummary => text(format!(
            "{stamp}{}",
            show_install(
                device,
                Which::Inactive,
                command == Command::ShowInstallInactiveSummary
            )
        )),
        Command::ShowInstallCommitted | Command::ShowInstallCommittedSummary => text(format!(
            "{stamp}{}",
            show_install(
                device,
                Which::Committed,
                command == Command::ShowInstallCommittedSummary
            )
        )),
        Command::ShowInstallRequest => text(format!("{stamp}{}", show_install_request(device))),
        Command::ShowInstallLogId | Command::ShowInstallLog => {
            let id = if command == Command::ShowInstallLogId {
                let Ok(id) = argument(0).parse::<u32>() else {
                    return text("% Invalid input detected at '^' marker.\n");
                };
                Some(id)
            } else {
                None
            };
            text(format!("{stamp}{}", show_install_log(device, id)))
        }
        Command::ShowClock => text(stamp),
        Command::ShowInventory => text(format!("{stamp}{}", show_inventory(device))),
        Command::Dir => text(format!("{stamp}{}", dir(device, "harddisk:"))),
        Command::DirPath => text(format!("{stamp}{}", dir(device, &argument(0)))),
        Command::InstallAddSource => install_add(device, &argument(0), &argument(1), &stamp, now),
        Command::InstallActivateId => {
            let command = format!("install activate id {}", argument(0));
            if let Some(refused) = refuse_while_running(device, &command, &stamp, now) {
                return refused;
            }
            install_activate(device, &argument(0), &stamp)
        }
        Command::InstallCommit => {
            if let Some(refused) = refuse_while_running(device, "install commit", &stamp, now) {
                return refused;
            }
            let user = device.username.clone();
            let at = log_stamp_at(device, now);
            let Some(state) = state_mut(device) else {
                return Reply::default();
            };
            let id = state.next_operation();
            state.committed = state.active.clone();
            let body = format!(
                "Install operation {id} started by {user}:\n  install commit\nInstall operation {id} finished successfully\n"
            );
            record_log(state, id, &body, &at);
            text(format!("{stamp}{body}"))
        }
        Command::InstallRollbackCommitted => {
            if let Some(refused) =
                refuse_while_running(device, "install rollback to committed", &stamp, now)
            {
                return refused;
            }
            let user = device.username.clone();
            let Some(state) = state_mut(device) else {
                return Reply::default();
            };
            let id = state.next_operation();
            if state.active == state.committed {
                return text(format!(
                    "{stamp}Install operation {id} started by {user}:\n  install rollback to committed\nInfo:     The committed software is already active.\nInstall operation {id} finished successfully\n"
                ));
            }
            state.activate_on_boot = Some(state.committed.clone());
            reply(
                format!(
                    "{stamp}Install operation {id} started by {user}:\n  install rollback to committed\nThis install operation will reload the system, continue?\n [yes/no]:[yes] yes\nInstall operation will continue in the background\nInfo:     The system will reload to complete the operation.\n"
                ),
                Some(Action::Reload),
            )
        }
        Command::Reload => {
            session.pending = Some(Pending::ReloadConfirm);
            text(stamp)
        }
        Command::Configure => {
            session.mode = Mode::Config;
            text(stamp)
        }
        Command::Hostname => {
            // XR keeps config changes in a target buffer until `commit`; the lab
            // applies at once (only the hostname is configurable here).
            device.set_hostname(&argument(0));
            Reply::default()
        }
        Command::Commit => {
            device.save_config();
            text(stamp)
        }
        Command::End => {
            session.mode = Mode::Privileged;
            Reply::default()
        }
        Command::Exit => reply("", Some(Action::Disconnect)),
    }
}

fn text(output: impl Into<String>) -> Reply {
    reply(output, None)
}

fn reply(output: impl Into<String>, action: Option<Action>) -> Reply {
    Reply {
        output: output.into(),
        action,
    }
}

/// `show version` of 64-bit IOS-XR (eXR).
pub fn show_version(device: &Device, now: Instant) -> String {
    let master = device.master_member();
    let version = device
        .running()
        .map(|running| running.version.clone())
        .unwrap_or_default();
    let family = master.facts.family;
    let platform = if family == "asr9k" {
        "asr9k-x64"
    } else {
        "ncs5500"
    };
    let uptime = device
        .uptime(now)
        .map(crate::render::format_uptime)
        .unwrap_or_default()
        .replace(',', "");
    format!(
        "Cisco IOS XR Software, Version {version}\n\
         Copyright (c) 2013-2019 by Cisco Systems, Inc.\n\
         \n\
         Build Information:\n \
         Built By     : ahoang\n \
         Built On     : Fri Mar  8 16:14:47 PST 2019\n \
         Built Host   : iox-ucs-029\n \
         Workspace    : /auto/srcarchive15/prod/{version}/{platform}/ws\n \
         Version      : {version}\n \
         Location     : /opt/cisco/XR/packages/\n \
         Label        : {version}\n\
         \n\
         cisco {} () processor\n\
         System uptime is {uptime}\n",
        // What real eXR prints: `cisco ASR9K () processor`,
        // `cisco NCS-5500 () processor`.
        match master.facts.family {
            "ncs5500" => "NCS-5500",
            _ => master.facts.family_upper,
        }
    )
}

/// `show inventory`: eXR's `show version` names only the family
/// (`cisco ASR9K () processor`), so the chassis PID and serial are here,
/// under `Rack 0`.
fn show_inventory(device: &Device) -> String {
    let master = device.master_member();
    let description = match master.facts.family {
        "asr9k" => "ASR 9006 4 Line Card Slot Chassis with V2 AC PEM",
        _ => "NCS 5501 - 1RU Chassis",
    };
    format!(
        "NAME: \"Rack 0\", DESCR: \"{description}\"\n\
         PID: {}, VID: V02, SN: {}\n\n",
        master.facts.model, master.serial
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Active,
    Inactive,
    Committed,
}

fn package_line(package: &XrPackage) -> String {
    format!(
        "        {} version={} [Boot image]\n",
        package.name, package.version
    )
}

/// `show install active|inactive|committed [summary]`.
fn show_install(device: &Device, which: Which, summary: bool) -> String {
    let Some(state) = state(device) else {
        return String::new();
    };
    let packages: Vec<&XrPackage> = match which {
        Which::Active => state
            .package(&state.active)
            .filter(|_| device.running().is_some())
            .into_iter()
            .collect(),
        Which::Committed => state.package(&state.committed).into_iter().collect(),
        Which::Inactive => state
            .packages
            .iter()
            .filter(|package| package.name != state.active)
            .collect(),
    };
    let title = match which {
        Which::Active => "Active",
        Which::Inactive => "Inactive",
        Which::Committed => "Committed",
    };
    let mut out = String::new();
    if summary {
        let label = state
            .package(&state.active)
            .map(|package| package.version.clone())
            .unwrap_or_default();
        if which != Which::Inactive {
            let _ = writeln!(out, "    Label : {label}\n");
        }
        let _ = writeln!(out, "    {title} Packages: {}", packages.len());
        for package in &packages {
            out.push_str(&package_line(package));
        }
        out.push('\n');
        return out;
    }
    let _ = writeln!(out, "Node {} [RP]", node(device));
    if which != Which::Inactive {
        out.push_str("  Boot Partition: xr_lv0\n");
    }
    let _ = writeln!(out, "  {title} Packages: {}", packages.len());
    for package in &packages {
        out.push_str(&package_line(package));
    }
    out.push('\n');
    out
}

/// `dir harddisk:` in eXR's Linux-style listing.
/// Size of the (empty) `disk0:` every lab XR router shows besides `harddisk:`.
pub const XR_DISK0_BYTES: u64 = 3_865_470_976;

fn dir(device: &Device, target: &str) -> String {
    let name = target.to_ascii_lowercase();
    let name = if name.ends_with(':') {
        name
    } else {
        format!("{name}:")
    };
    // disk0: exists on the router but the lab keeps nothing there.
    let empty;
    let file_system = match device.file_system(&name) {
        Some(file_system) => file_system,
        None if name == "disk0:" => {
            empty = FileSystem::new("disk0:", XR_DISK0_BYTES);
            &empty
        }
        None => return format!("%Error opening {target} (No such device)\n"),
    };
    let mut out = format!("\nDirectory of {name}\n");
    for (index, file) in file_system.files.iter().enumerate() {
        let stamp = format_timestamp(file.modified);
        let parts: Vec<&str> = stamp.split(' ').collect();
        let part = |index: usize| parts.get(index).copied().unwrap_or_default();
        let time = part(3).get(..5).unwrap_or_default();
        let _ = writeln!(
            out,
            "{:>5} -rw-r--r--. 1 {:>10} {} {:>2} {time} {}",
            index + 12,
            file.size,
            part(0),
            part(1),
            file.path
        );
    }
    let _ = writeln!(
        out,
        "\n{} kbytes total ({} kbytes free)",
        file_system.capacity / 1024,
        file_system.free() / 1024
    );
    out
}

/// The `Jun 09 15:49:15 ` stamp eXR puts before install operation lines
/// (as in `install activate id 25` / `show install log` transcripts quoted
/// by Cisco Software Manager's install plugin and a Cisco community post
/// on eXR 6.3.2 `install add source tftp://…`).
fn log_stamp_at(device: &Device, now: Instant) -> String {
    let stamp = format_timestamp(device.clock_seconds(now));
    let parts: Vec<&str> = stamp.split(' ').collect();
    match parts.as_slice() {
        [month, day, _, time] => format!("{month} {:0>2} {time} ", day),
        _ => format!("{stamp} "),
    }
}

/// Keeps an operation's output lines as its `show install log` entry.
fn record_log(state: &mut XrState, id: u32, body: &str, stamp: &str) {
    let lines = body
        .lines()
        .map(|line| {
            if line.starts_with("  ") {
                line.to_string()
            } else {
                format!("{stamp}{line}")
            }
        })
        .collect();
    state.logs.push(XrOperationLog { id, lines });
}

/// eXR runs one install operation at a time: another one is refused while
/// it runs. The wording is the lab's (the sources searched quote only
/// `show install request` answers, not this refusal); it keeps eXR's
/// started / error / aborted layout so a client reads it like any abort.
fn refuse_while_running(
    device: &mut Device,
    command: &str,
    stamp: &str,
    now: Instant,
) -> Option<Reply> {
    let user = device.username.clone();
    let at = log_stamp_at(device, now);
    let state = state_mut(device)?;
    let running = state.running.as_ref()?;
    let (running_id, running_command) = (running.id, running.command.clone());
    let id = state.next_operation();
    let body = format!(
        "Install operation {id} started by {user}:\n  {command}\nError:    Install operation {running_id} ({running_command}) is in progress; try again when it has finished\nInstall operation {id} aborted\n"
    );
    record_log(state, id, &body, &at);
    Some(text(format!("{stamp}{body}")))
}

/// `show install request`: the operation in the background and how far it
/// is, or that none runs. Wording from Cisco Software Manager's eXR install
/// plugin (`watch_operation`, `get_op_id`): `User admin, Op Id 8`, `The
/// install add operation 9 is 40% complete`, `No install operation in
/// progress`.
fn show_install_request(device: &Device) -> String {
    match state(device).and_then(|state| state.running.as_ref()) {
        Some(running) => format!(
            "User {}, Op Id {}\n{}\nThe install add operation {} is {}% complete\n",
            running.user,
            running.id,
            running.command,
            running.id,
            running.percent()
        ),
        None => "No install operation in progress\n".into(),
    }
}

/// `show install log [N]`: the lines of operation N (without N, of the
/// newest finished operation).
fn show_install_log(device: &Device, id: Option<u32>) -> String {
    let Some(state) = state(device) else {
        return String::new();
    };
    let log = match id {
        Some(id) => state.log(id),
        None => state.logs.iter().max_by_key(|log| log.id),
    };
    match log {
        Some(log) => {
            let mut out = String::new();
            for line in &log.lines {
                out.push_str(line);
                out.push('\n');
            }
            out
        }
        None => match id {
            Some(id) => format!("Error:    No log found for install operation {id}\n"),
            None => "No install operation has been performed\n".into(),
        },
    }
}

/// `install add source <tftp://host/dir | harddisk:> <file>`. A URL source
/// starts the download as a background operation and returns at once with
/// eXR's `Install operation will continue in the background` (a Cisco
/// community transcript of eXR 6.3.2 `install add source tftp://…`); the
/// SSH layer runs the transfer and calls `finish_install_add`. A file
/// already on `harddisk:` is registered inline.
fn install_add(device: &mut Device, source: &str, file: &str, stamp: &str, now: Instant) -> Reply {
    let user = device.username.clone();
    let file = file.trim().to_string();
    let command = format!("install add source {source} {file}");
    if let Some(refused) = refuse_while_running(device, &command, stamp, now) {
        return refused;
    }
    let at = log_stamp_at(device, now);
    let Some(state) = state_mut(device) else {
        return Reply::default();
    };
    let id = state.next_operation();
    if source.contains("://") {
        let lines = vec![
            format!("{at}Install operation {id} started by {user}:"),
            format!("  {command}"),
            format!("{at}Action 1: install add action started"),
            format!("{at}Install operation will continue in the background"),
        ];
        let mut out = stamp.to_string();
        for line in &lines {
            out.push_str(line);
            out.push('\n');
        }
        state.running = Some(Box::new(XrRunningOperation {
            id,
            user,
            command,
            received: 0,
            expected: None,
            lines,
        }));
        let url = format!("{}/{}", source.trim_end_matches('/'), file);
        return reply(
            out,
            Some(Action::XrInstallAdd {
                id,
                source: url,
                path: file,
            }),
        );
    }
    let outcome = match register(device, id, &file) {
        Ok(name) => format!(
            "Info:     Packages added:\nInfo:         {name}\nInstall operation {id} finished successfully\n"
        ),
        Err(why) => format!("Error:    {why}\nInstall operation {id} aborted\n"),
    };
    let body = format!("Install operation {id} started by {user}:\n  {command}\n{outcome}");
    if let Some(state) = state_mut(device) {
        record_log(state, id, &body, &at);
    }
    text(format!("{stamp}{body}"))
}

/// Adds a release from a file on `harddisk:` to the repository; the
/// package name, or why not in the device's words.
fn register(device: &mut Device, id: u32, file: &str) -> Result<String, String> {
    let family = device.master_member().facts.family;
    let header = device
        .file_system("harddisk:")
        .and_then(|fs| fs.file(file))
        .map(|record| (record.bin_header(), record.valid_bin_header()));
    let header = match header {
        None => return Err(format!("Cannot find {file} in harddisk:")),
        Some((None, _)) => return Err(format!("{file} is not a valid install image")),
        Some((Some(_), None)) => {
            return Err(format!("Image {file} failed checksum verification"));
        }
        Some((_, Some(header))) => header,
    };
    if header.family != family {
        return Err(format!(
            "{file} is for platform {} and cannot be installed on {family}",
            header.family
        ));
    }
    let name = xr_release_name(&header);
    let Some(state) = state_mut(device) else {
        return Err("not an IOS-XR device".into());
    };
    state
        .packages
        .retain(|package| package.name != name || package.name == state.active);
    if state.package(&name).is_none() {
        state.packages.push(XrPackage {
            add_id: id,
            name: name.clone(),
            version: header.version,
            file: file.to_string(),
        });
    }
    Ok(name)
}

/// Download progress of the background `install add` `id`.
pub fn install_add_progress(device: &mut Device, id: u32, received: u64, expected: Option<u64>) {
    if let Some(running) = state_mut(device)
        .and_then(|state| state.running.as_mut())
        .filter(|running| running.id == id)
    {
        running.received = received;
        running.expected = expected.or(running.expected);
    }
}

/// Ends the background `install add` `id`: `download` is `Ok` when the file
/// arrived on `harddisk:`, else the reason it did not. The release is
/// registered (the package appears in `show install inactive`) only on
/// success; the outcome goes to `show install log`. Log wording from eXR
/// transcripts: `Packages added:` with the names below it, `Install
/// operation N finished successfully`, `ERROR! …`, `Install operation N
/// aborted`, `Ending operation N`.
pub fn finish_install_add(
    device: &mut Device,
    id: u32,
    download: Result<(), String>,
    now: Instant,
) {
    let at = log_stamp_at(device, now);
    let file = match state(device).and_then(|state| state.running.as_ref()) {
        Some(running) if running.id == id => running
            .command
            .rsplit(' ')
            .next()
            .unwrap_or_default()
            .to_string(),
        _ => return,
    };
    let outcome = download.and_then(|()| register(device, id, &file));
    let Some(state) = state_mut(device) else {
        return;
    };
    let Some(running) = state.running.take() else {
        return;
    };
    let mut lines = running.lines;
    match outcome {
        Ok(name) => {
            lines.push(format!("{at}Packages added:"));
            lines.push(format!("{at}    {name}"));
            lines.push(format!("{at}Install operation {id} finished successfully"));
        }
        Err(why) => {
            lines.push(format!("{at}ERROR! {why}"));
            lines.push(format!("{at}Install operation {id} aborted"));
        }
    }
    lines.push(format!("{at}Ending operation {id}"));
    state.logs.push(XrOperationLog { id, lines });
}

/// `install activate id N`: the release added by operation N becomes active
/// at the reload this starts.
fn install_activate(device: &mut Device, id_text: &str, stamp: &str) -> Reply {
    let user = device.username.clone();
    let Some(state) = state_mut(device) else {
        return Reply::default();
    };
    let Ok(add_id) = id_text.parse::<u32>() else {
        return text("% Invalid input detected at '^' marker.\n");
    };
    let id = state.next_operation();
    let started = format!(
        "{stamp}Install operation {id} started by {user}:\n  install activate id {add_id}\n"
    );
    let Some(package) = state
        .packages
        .iter()
        .find(|package| package.add_id == add_id && add_id != 0)
        .cloned()
    else {
        return text(format!(
            "{started}Error:    Install operation id {add_id} does not exist or added no packages\nInstall operation {id} aborted\n"
        ));
    };
    if package.name == state.active {
        return text(format!(
            "{started}Info:     {} is already active\nInstall operation {id} finished successfully\n",
            package.name
        ));
    }
    state.activate_on_boot = Some(package.name.clone());
    reply(
        format!(
            "{started}This install operation will reload the system, continue?\n [yes/no]:[yes] yes\nInstall operation will continue in the background\nInfo:     Activating {}\nInfo:     The system will reload to complete the operation.\n",
            package.name
        ),
        Some(Action::Reload),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_match_abbreviated_keywords_words_and_rest() {
        let check = |line: &str, expected: Option<(Command, Vec<&str>)>| {
            let got = match match_line(line, EXEC) {
                Matched::Command(command, arguments) => Some((command, arguments)),
                _ => None,
            };
            let expected = expected.map(|(command, arguments)| {
                (
                    command,
                    arguments
                        .into_iter()
                        .map(str::to_string)
                        .collect::<Vec<_>>(),
                )
            });
            assert_eq!(got, expected, "{line}");
        };
        check("sh ver", Some((Command::ShowVersion, vec![])));
        check(
            "sh inst act summ",
            Some((Command::ShowInstallActiveSummary, vec![])),
        );
        check(
            "show install active",
            Some((Command::ShowInstallActive, vec![])),
        );
        check(
            "install add source tftp://h/d a.iso",
            Some((Command::InstallAddSource, vec!["tftp://h/d", "a.iso"])),
        );
        check(
            "inst act id 4",
            Some((Command::InstallActivateId, vec!["4"])),
        );
        check(
            "terminal length 0",
            Some((Command::TerminalLength, vec!["0"])),
        );
        check("enable", None);
        assert!(matches!(
            match_line("show install", EXEC),
            Matched::Incomplete
        ));
        assert!(matches!(
            match_line("show bogus", EXEC),
            Matched::Invalid(5)
        ));
    }
}
