//! The Cisco IOS command line of one session: modes, prompts, abbreviations,
//! error markers, confirmations. Pure: it reads and changes a `Device` and asks
//! the I/O layer for the slow actions (transfers, reload, disconnect).

use std::fmt::Write as _;
use std::time::Instant;

use crate::archive::ArchiveFailure;
use crate::device::{BootScope, Device};
use crate::files::FileRecord;
use crate::ios_archive::{
    COPY_OPTIONS, DOWNLOAD_OPTIONS, DownloadOptions, copy_sw, install_archive, parse_download_args,
};
use crate::platform::PlatformState;
use crate::render;
use crate::transfer::{TransferUrl, parse_url};

/// The CLI mode, which decides the prompt and the commands available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    User,
    Privileged,
    Config,
}

/// A question the session waits to have answered by the next line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending {
    EnablePassword,
    ReloadSave,
    ReloadConfirm,
    DeleteFilename {
        file_system: String,
        path: String,
    },
    DeleteConfirm {
        file_system: String,
        path: String,
    },
    CopyDestination {
        source: String,
        file_system: String,
        default_name: String,
    },
    CopyOverwrite {
        source: String,
        file_system: String,
        path: String,
    },
    CopyRunningStartup,
    /// `copy flash:X tftp://host/path`: the server's address, then the name.
    UploadHost {
        source: String,
        url: TransferUrl,
    },
    UploadDestination {
        source: String,
        url: TransferUrl,
    },
    /// The SCP server's password, then `action` runs with it.
    ScpPassword {
        action: Box<Action>,
    },
    /// `reload slot N`.
    ReloadSlotConfirm {
        member: u32,
    },
}

/// A slow or connection-level action the I/O layer carries out after printing
/// the reply's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Reload,
    Disconnect,
    /// Pull `source` (a URL or `flashN:path`) into `file_system` at `path`.
    Copy {
        source: String,
        file_system: String,
        path: String,
    },
    /// `archive download-sw` from a server URL.
    DownloadSw {
        source: String,
        options: DownloadOptions,
    },
    /// `reload slot N`: one stack member reloads.
    ReloadMember(u32),
    /// Push `file_system`/`path` to `url` (a device-side upload).
    Upload {
        file_system: String,
        path: String,
        url: TransferUrl,
    },
    /// IOS-XR `install add source <URL>`: download `source` into
    /// `harddisk:` at `path` in the background, then end operation `id`.
    XrInstallAdd {
        id: u32,
        source: String,
        path: String,
    },
}

/// What one input line produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// Text with `\n` line endings (the SSH layer sends CR LF and pages it).
    pub output: String,
    pub action: Option<Action>,
}

impl Reply {
    fn text(output: impl Into<String>) -> Self {
        Self {
            output: output.into(),
            action: None,
        }
    }

    fn action(output: impl Into<String>, action: Action) -> Self {
        Self {
            output: output.into(),
            action: Some(action),
        }
    }
}

/// One token of a command pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Keyword(&'static str),
    /// Any one word.
    Word,
    /// Everything to the end of the line (at least one word).
    Rest,
}

use Token::{Keyword as K, Rest, Word};

/// The commands this CLI understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    Enable,
    Disable,
    Exit,
    TerminalLength,
    TerminalWidth,
    ShowVersion,
    ShowSwitch,
    ShowSwitchDetail,
    ShowFlash,
    ShowFileSystems,
    ShowBoot,
    ShowRunning,
    ShowStartup,
    ShowClock,
    Dir,
    DirPath,
    ConfigureTerminal,
    WriteMemory,
    CopyRunningStartup,
    Copy,
    Reload,
    Delete,
    DeleteForce,
    VerifyMd5,
    VerifyMd5Hash,
    DeleteRecursive,
    ArchiveExtract,
    ArchiveTable,
    ArchiveDownload,
    ArchiveCopy,
    ReloadSlot,
    BootSystem,
    BootSystemAll,
    BootSystemMember,
    NoBootSystem,
    Hostname,
    ScpServer,
    NoScpServer,
    End,
    ConfigExit,
    Do,
}

struct Pattern {
    tokens: &'static [Token],
    command: Command,
    modes: &'static [Mode],
}

const EXEC: &[Mode] = &[Mode::User, Mode::Privileged];
const PRIVILEGED: &[Mode] = &[Mode::Privileged];
const CONFIG: &[Mode] = &[Mode::Config];

const PATTERNS: &[Pattern] = &[
    Pattern {
        tokens: &[K("enable")],
        command: Command::Enable,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("disable")],
        command: Command::Disable,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("exit")],
        command: Command::Exit,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("logout")],
        command: Command::Exit,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("quit")],
        command: Command::Exit,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("terminal"), K("length"), Word],
        command: Command::TerminalLength,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("terminal"), K("width"), Word],
        command: Command::TerminalWidth,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("show"), K("version")],
        command: Command::ShowVersion,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("show"), K("switch")],
        command: Command::ShowSwitch,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("show"), K("switch"), K("detail")],
        command: Command::ShowSwitchDetail,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("show"), K("flash:")],
        command: Command::ShowFlash,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("show"), K("file"), K("systems")],
        command: Command::ShowFileSystems,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("show"), K("boot")],
        command: Command::ShowBoot,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("show"), K("running-config")],
        command: Command::ShowRunning,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("show"), K("startup-config")],
        command: Command::ShowStartup,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("show"), K("clock")],
        command: Command::ShowClock,
        modes: EXEC,
    },
    Pattern {
        tokens: &[K("dir")],
        command: Command::Dir,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("dir"), Word],
        command: Command::DirPath,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("configure"), K("terminal")],
        command: Command::ConfigureTerminal,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("write")],
        command: Command::WriteMemory,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("write"), K("memory")],
        command: Command::WriteMemory,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("copy"), K("running-config"), K("startup-config")],
        command: Command::CopyRunningStartup,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("copy"), Word, Word],
        command: Command::Copy,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("reload")],
        command: Command::Reload,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("delete"), Word],
        command: Command::Delete,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("delete"), K("/force"), Word],
        command: Command::DeleteForce,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("delete"), K("/force"), K("/recursive"), Word],
        command: Command::DeleteRecursive,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("delete"), K("/recursive"), K("/force"), Word],
        command: Command::DeleteRecursive,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("archive"), K("tar"), K("/xtract"), Word, Word],
        command: Command::ArchiveExtract,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("archive"), K("tar"), K("/table"), Word],
        command: Command::ArchiveTable,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("archive"), K("download-sw"), Rest],
        command: Command::ArchiveDownload,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("archive"), K("copy-sw"), Rest],
        command: Command::ArchiveCopy,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("reload"), K("slot"), Word],
        command: Command::ReloadSlot,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("verify"), K("/md5"), Word],
        command: Command::VerifyMd5,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("verify"), K("/md5"), Word, Word],
        command: Command::VerifyMd5Hash,
        modes: PRIVILEGED,
    },
    Pattern {
        tokens: &[K("boot"), K("system"), Word],
        command: Command::BootSystem,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("boot"), K("system"), K("switch"), K("all"), Word],
        command: Command::BootSystemAll,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("boot"), K("system"), K("switch"), Word, Word],
        command: Command::BootSystemMember,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("no"), K("boot"), K("system")],
        command: Command::NoBootSystem,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("no"), K("boot"), K("system"), Rest],
        command: Command::NoBootSystem,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("ip"), K("scp"), K("server"), K("enable")],
        command: Command::ScpServer,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("no"), K("ip"), K("scp"), K("server"), K("enable")],
        command: Command::NoScpServer,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("hostname"), Word],
        command: Command::Hostname,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("end")],
        command: Command::End,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("exit")],
        command: Command::ConfigExit,
        modes: CONFIG,
    },
    Pattern {
        tokens: &[K("do"), Rest],
        command: Command::Do,
        modes: CONFIG,
    },
];

/// How a line failed to match the grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
enum MatchError {
    /// Byte offset in the line of the word that matched nothing.
    Invalid {
        offset: usize,
    },
    /// The words up to and including the ambiguous one.
    Ambiguous {
        typed: String,
    },
    Incomplete,
}

/// Splits a line into words with their byte offsets.
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut result = Vec::new();
    let mut start = None;
    for (index, character) in line.char_indices() {
        match (character.is_whitespace(), start) {
            (true, Some(begin)) => {
                result.push((begin, &line[begin..index]));
                start = None;
            }
            (false, None) => start = Some(index),
            _ => {}
        }
    }
    if let Some(begin) = start {
        result.push((begin, &line[begin..]));
    }
    result
}

/// Matches a command line against the patterns of a mode, IOS style: any
/// unambiguous keyword prefix works, keywords win over free arguments.
fn match_command(line: &str, mode: Mode) -> Result<(Command, Vec<String>), MatchError> {
    let typed = words(line);
    let mut candidates: Vec<&Pattern> = PATTERNS
        .iter()
        .filter(|pattern| pattern.modes.contains(&mode))
        .collect();
    for (position, (offset, word)) in typed.iter().enumerate() {
        let lower = word.to_ascii_lowercase();
        let token_at = |pattern: &Pattern| -> Option<Token> {
            match pattern.tokens.get(position) {
                Some(token) => Some(*token),
                // A Rest token swallows everything after it.
                None if pattern.tokens.last() == Some(&Rest) => Some(Rest),
                None => None,
            }
        };
        let keyword_hits: Vec<&Pattern> = candidates
            .iter()
            .copied()
            .filter(|pattern| matches!(token_at(pattern), Some(K(keyword)) if keyword.starts_with(&lower)))
            .collect();
        if !keyword_hits.is_empty() {
            let exact: Vec<&Pattern> = keyword_hits
                .iter()
                .copied()
                .filter(|pattern| matches!(token_at(pattern), Some(K(keyword)) if keyword == lower))
                .collect();
            let mut distinct: Vec<&str> = keyword_hits
                .iter()
                .filter_map(|pattern| match token_at(pattern) {
                    Some(K(keyword)) => Some(keyword),
                    _ => None,
                })
                .collect();
            distinct.sort_unstable();
            distinct.dedup();
            if exact.is_empty() && distinct.len() > 1 {
                let end = offset + word.len();
                return Err(MatchError::Ambiguous {
                    typed: line[..end].trim_start().to_string(),
                });
            }
            candidates = if exact.is_empty() {
                keyword_hits
            } else {
                exact
            };
            continue;
        }
        candidates.retain(|pattern| matches!(token_at(pattern), Some(Word | Rest)));
        if candidates.is_empty() {
            return Err(MatchError::Invalid { offset: *offset });
        }
    }
    let complete = candidates.iter().find(|pattern| {
        pattern.tokens.len() == typed.len()
            || (pattern.tokens.last() == Some(&Rest) && typed.len() >= pattern.tokens.len())
    });
    let Some(pattern) = complete else {
        return Err(MatchError::Incomplete);
    };
    let mut arguments = Vec::new();
    for (position, token) in pattern.tokens.iter().enumerate() {
        match token {
            Word => arguments.push(typed[position].1.to_string()),
            Rest => {
                let start = typed[position].0;
                arguments.push(line[start..].trim_end().to_string());
            }
            K(_) => {}
        }
    }
    Ok((pattern.command, arguments))
}

/// An output filter after `|`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    Include(String),
    Exclude(String),
    Begin(String),
}

fn apply_filter(text: &str, filter: &Filter) -> String {
    let mut out = String::new();
    let mut begun = false;
    for line in text.lines() {
        let keep = match filter {
            Filter::Include(pattern) => line.contains(pattern.as_str()),
            Filter::Exclude(pattern) => !line.contains(pattern.as_str()),
            Filter::Begin(pattern) => {
                begun |= line.contains(pattern.as_str());
                begun
            }
        };
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Splits `a:b/c` into (`a:`, `b/c`); a bare path is on `flash:`.
pub fn split_file_path(text: &str) -> (String, String) {
    match text.split_once(':') {
        Some((file_system, path)) => (
            format!("{}:", file_system.to_ascii_lowercase()),
            path.trim_start_matches('/').to_string(),
        ),
        None => (
            "flash:".to_string(),
            text.trim_start_matches('/').to_string(),
        ),
    }
}

/// A yes/no question a platform command (IOS-XE `install`) asked; the
/// platform's command line resumes `resume` with the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformQuestion {
    pub prompt: String,
    pub resume: String,
    /// What a yes goes on with.
    pub on_yes: PlatformStep,
}

/// The step a platform question holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformStep {
    /// IOS-XE `install add file … activate commit`: activate `resume`.
    ActivateBundle,
    /// IOS-XE `install remove inactive`: delete the files it listed.
    RemoveInactive,
}

/// The state of one CLI session.
#[derive(Debug, Clone)]
pub struct CliSession {
    pub mode: Mode,
    pub platform_question: Option<PlatformQuestion>,
    /// Lines per page; 0 turns paging off.
    pub terminal_length: u32,
    pub terminal_width: u32,
    pub pending: Option<Pending>,
}

impl Default for CliSession {
    fn default() -> Self {
        Self::new()
    }
}

impl CliSession {
    pub fn new() -> Self {
        Self {
            mode: Mode::User,
            platform_question: None,
            terminal_length: 24,
            terminal_width: 80,
            pending: None,
        }
    }

    /// Whether the next line should be echoed (not while asking a password).
    pub fn echo(&self) -> bool {
        !matches!(
            self.pending,
            Some(Pending::EnablePassword | Pending::ScpPassword { .. })
        )
    }

    /// The prompt (or the pending question) to print before the next line.
    pub fn prompt(&self, device: &Device) -> String {
        if let Some(question) = &self.platform_question {
            return question.prompt.clone();
        }
        match &self.pending {
            Some(Pending::EnablePassword) => "Password: ".to_string(),
            Some(Pending::ReloadSave) => {
                "System configuration has been modified. Save? [yes/no]: ".to_string()
            }
            Some(Pending::ReloadConfirm) => "Proceed with reload? [confirm]".to_string(),
            Some(Pending::DeleteFilename { path, .. }) => format!("Delete filename [{path}]? "),
            Some(Pending::DeleteConfirm { file_system, path }) => {
                format!("Delete {file_system}/{path}? [confirm]")
            }
            Some(Pending::CopyDestination { default_name, .. }) => {
                format!("Destination filename [{default_name}]? ")
            }
            Some(Pending::CopyOverwrite { .. }) => {
                "%Warning:There is a file already existing with this name \nDo you want to over write? [confirm]".to_string()
            }
            Some(Pending::CopyRunningStartup) => "Destination filename [startup-config]? ".to_string(),
            Some(Pending::ReloadSlotConfirm { .. }) => "Proceed with reload? [confirm]".to_string(),
            Some(Pending::ScpPassword { .. }) => "Password: ".to_string(),
            Some(Pending::UploadHost { url, .. }) => {
                format!("Address or name of remote host [{}]? ", url.host)
            }
            Some(Pending::UploadDestination { url, .. }) => {
                format!("Destination filename [{}]? ", url.path)
            }
            None if matches!(device.platform, PlatformState::IosXr(_)) => {
                crate::xr_cli::prompt(self, device)
            }
            None => match self.mode {
                Mode::User => format!("{}>", device.hostname),
                Mode::Privileged => format!("{}#", device.hostname),
                Mode::Config => format!("{}(config)#", device.hostname),
            },
        }
    }

    /// Handles one line of input typed at the prompt.
    pub fn handle_line(&mut self, device: &mut Device, line: &str, now: Instant) -> Reply {
        let line = line.trim_end_matches(['\r', '\n']);
        match device.platform {
            PlatformState::IosXr(_) => return crate::xr_cli::handle_line(self, device, line, now),
            PlatformState::IosXe(_) => {
                if let Some(reply) = crate::xe_cli::handle_line(self, device, line, now) {
                    return reply;
                }
            }
            PlatformState::Ios => {}
        }
        if let Some(pending) = self.pending.take() {
            return self.answer(device, pending, line.trim());
        }
        if line.trim() == "\u{1a}" && self.mode == Mode::Config {
            self.mode = Mode::Privileged;
            return Reply::default();
        }
        let prompt_length = self.prompt(device).len();
        self.run(device, line, prompt_length, now)
    }

    fn run(
        &mut self,
        device: &mut Device,
        line: &str,
        prompt_length: usize,
        now: Instant,
    ) -> Reply {
        if line.trim().is_empty() || line.trim_start().starts_with('!') {
            return Reply::default();
        }
        let (command_text, filter) = match line.split_once('|') {
            Some((command_text, filter_text)) => match parse_filter(filter_text) {
                Some(filter) => (command_text, Some(filter)),
                None => {
                    let offset = command_text.len()
                        + 1
                        + (filter_text.len() - filter_text.trim_start().len());
                    return invalid_marker(prompt_length + offset);
                }
            },
            None => (line, None),
        };
        let (command, arguments) = match match_command(command_text, self.mode) {
            Ok(matched) => matched,
            Err(MatchError::Invalid { offset }) => return invalid_marker(prompt_length + offset),
            Err(MatchError::Ambiguous { typed }) => {
                return Reply::text(format!("% Ambiguous command:  \"{typed}\"\n"));
            }
            Err(MatchError::Incomplete) => return Reply::text("% Incomplete command.\n\n"),
        };
        let mut reply = self.execute(device, command, &arguments, prompt_length, now);
        if let Some(filter) = filter {
            reply.output = apply_filter(&reply.output, &filter);
        }
        reply
    }

    fn execute(
        &mut self,
        device: &mut Device,
        command: Command,
        arguments: &[String],
        prompt_length: usize,
        now: Instant,
    ) -> Reply {
        let argument = |index: usize| arguments.get(index).cloned().unwrap_or_default();
        match command {
            Command::Enable => {
                if self.mode == Mode::User {
                    self.pending = Some(Pending::EnablePassword);
                }
                Reply::default()
            }
            Command::Disable => {
                self.mode = Mode::User;
                Reply::default()
            }
            Command::Exit => Reply::action("", Action::Disconnect),
            Command::TerminalLength | Command::TerminalWidth => {
                let Ok(value) = argument(0).parse::<u32>() else {
                    return invalid_marker(prompt_length + "terminal length ".len());
                };
                if command == Command::TerminalLength {
                    self.terminal_length = value.min(512);
                } else {
                    self.terminal_width = value.min(512);
                }
                Reply::default()
            }
            Command::ShowVersion => Reply::text(render::show_version(device, now)),
            Command::ShowSwitch => Reply::text(render::show_switch(device, false)),
            Command::ShowSwitchDetail => Reply::text(render::show_switch(device, true)),
            Command::ShowFlash => self.dir(device, "flash:"),
            Command::ShowFileSystems => Reply::text(render::show_file_systems(device)),
            Command::ShowBoot => Reply::text(render::show_boot(device)),
            Command::ShowRunning => Reply::text(render::running_config(device, false)),
            Command::ShowStartup => Reply::text(render::running_config(device, true)),
            Command::ShowClock => {
                let stamp = crate::files::format_timestamp(device.clock_seconds(now));
                // `Mar 1 1993 00:10:12` → `*00:10:12.000 UTC Mon Mar 1 1993`.
                let mut parts = stamp.split(' ');
                let (month, day, year, time) = (
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                    parts.next().unwrap_or_default(),
                );
                Reply::text(format!("*{time}.000 UTC Mon {month} {day} {year}\n"))
            }
            Command::Dir => self.dir(device, "flash:"),
            Command::DirPath => self.dir(device, &argument(0)),
            Command::ConfigureTerminal => {
                self.mode = Mode::Config;
                Reply::text("Enter configuration commands, one per line.  End with CNTL/Z.\n")
            }
            Command::WriteMemory => {
                device.save_config();
                Reply::text("Building configuration...\n[OK]\n")
            }
            Command::CopyRunningStartup => {
                self.pending = Some(Pending::CopyRunningStartup);
                Reply::default()
            }
            Command::Copy => self.copy(device, &argument(0), &argument(1)),
            Command::Reload => {
                self.pending = Some(if device.config_saved {
                    Pending::ReloadConfirm
                } else {
                    Pending::ReloadSave
                });
                Reply::default()
            }
            Command::Delete | Command::DeleteForce => {
                let (file_system, path) = split_file_path(&argument(0));
                if device.file_system(&file_system).is_none() {
                    return Reply::text(format!(
                        "%Error deleting {}/{path} (No such device)\n",
                        file_system
                    ));
                }
                if command == Command::DeleteForce {
                    return delete_file(device, &file_system, &path);
                }
                self.pending = Some(Pending::DeleteFilename { file_system, path });
                Reply::default()
            }
            Command::DeleteRecursive => {
                let (file_system, path) = split_file_path(&argument(0));
                let removed = device.file_system_mut(&file_system).and_then(|fs| {
                    fs.remove_directory(&path)
                        .or_else(|| fs.remove(&path).map(|_| 1))
                });
                match removed {
                    Some(_) => Reply::default(),
                    None => Reply::text(format!(
                        "%Error deleting {file_system}/{path} (No such file or directory)\n"
                    )),
                }
            }
            Command::ArchiveExtract => archive_extract(device, &argument(0), &argument(1), now),
            Command::ArchiveTable => archive_table(device, &argument(0)),
            Command::ArchiveDownload | Command::ArchiveCopy => {
                let rest = argument(0);
                let offsets = words(&rest);
                let typed: Vec<&str> = offsets.iter().map(|(_, word)| *word).collect();
                let allowed = if command == Command::ArchiveDownload {
                    DOWNLOAD_OPTIONS
                } else {
                    COPY_OPTIONS
                };
                // The caret counts from the canonical command words (the
                // typed abbreviation is not kept past matching).
                let lead = if command == Command::ArchiveDownload {
                    "archive download-sw ".len()
                } else {
                    "archive copy-sw ".len()
                };
                let (options, source) = match parse_download_args(&typed, allowed) {
                    Ok(parsed) => parsed,
                    Err(index) => {
                        let offset = offsets
                            .get(index)
                            .map_or(rest.len() + 1, |(offset, _)| *offset);
                        return invalid_marker(prompt_length + lead + offset);
                    }
                };
                if command == Command::ArchiveCopy {
                    let Ok(member) = source.parse::<u32>() else {
                        let offset = offsets.last().map_or(0, |(offset, _)| *offset);
                        return invalid_marker(prompt_length + lead + offset);
                    };
                    let outcome = copy_sw(device, member, &options, now);
                    return Reply::text(outcome.output);
                }
                if source.contains("://") {
                    return Reply::action("", Action::DownloadSw { source, options });
                }
                let (file_system, path) = split_file_path(&source);
                let summary = device
                    .file_system(&file_system)
                    .and_then(|fs| fs.file(&path))
                    .map(|record| record.archive.clone().unwrap_or_default());
                let Some(summary) = summary else {
                    return Reply::text(format!(
                        "%Error opening {file_system}{path} (No such file or directory)\n"
                    ));
                };
                let summary = if summary.entries.is_empty() {
                    crate::archive::ArchiveSummary {
                        failure: Some(ArchiveFailure::Checksum),
                        ..summary
                    }
                } else {
                    summary
                };
                let outcome = install_archive(device, &summary, &options, now);
                if outcome.reload {
                    Reply::action(outcome.output, Action::Reload)
                } else {
                    Reply::text(outcome.output)
                }
            }
            Command::ReloadSlot => {
                let number = argument(0).parse::<u32>().ok();
                match number.filter(|number| device.member(*number).is_some()) {
                    Some(member) => {
                        self.pending = Some(Pending::ReloadSlotConfirm { member });
                        Reply::default()
                    }
                    None => Reply::text(format!(
                        "Switch {} is not present in the stack\n",
                        argument(0)
                    )),
                }
            }
            Command::VerifyMd5 | Command::VerifyMd5Hash => {
                let expected = (command == Command::VerifyMd5Hash).then(|| argument(1));
                verify_md5(device, &argument(0), expected.as_deref())
            }
            Command::BootSystem | Command::BootSystemAll | Command::BootSystemMember => {
                let (scope, paths) = match command {
                    Command::BootSystem => (BootScope::Plain, argument(0)),
                    Command::BootSystemAll => (BootScope::All, argument(0)),
                    _ => {
                        let Ok(number) = argument(0).parse::<u32>() else {
                            return invalid_marker(prompt_length + "boot system switch ".len());
                        };
                        if device.member(number).is_none() {
                            return Reply::text(format!(
                                "Switch {number} is not present in the stack\n"
                            ));
                        }
                        (BootScope::Member(number), argument(1))
                    }
                };
                let paths = paths
                    .split(';')
                    .filter(|path| !path.is_empty())
                    .map(str::to_string)
                    .collect();
                device.set_boot(scope, paths);
                Reply::default()
            }
            Command::NoBootSystem => {
                device.clear_boot();
                Reply::default()
            }
            Command::Hostname => {
                device.set_hostname(&argument(0));
                Reply::default()
            }
            Command::ScpServer | Command::NoScpServer => {
                device.set_scp_server(command == Command::ScpServer);
                Reply::default()
            }
            Command::End | Command::ConfigExit => {
                self.mode = Mode::Privileged;
                Reply::default()
            }
            Command::Do => {
                let inner = argument(0);
                self.mode = Mode::Privileged;
                let reply = self.run(device, &inner, prompt_length + 3, now);
                if self.mode == Mode::Privileged {
                    self.mode = Mode::Config;
                }
                reply
            }
        }
    }

    fn dir(&self, device: &Device, target: &str) -> Reply {
        let (file_system_name, path) = split_file_path(target);
        let Some(file_system) = device.file_system(&file_system_name) else {
            return Reply::text(format!("%Error opening {target} (No such device)\n"));
        };
        match render::dir(file_system, &file_system_name, &path) {
            Some(text) => Reply::text(text),
            None => Reply::text(format!(
                "%Error opening {}/{} (No such file or directory)\n",
                file_system_name, path
            )),
        }
    }

    fn copy(&mut self, device: &Device, source: &str, destination: &str) -> Reply {
        if let Some(url) = parse_url(destination) {
            let (file_system, path) = split_file_path(source);
            if device
                .file_system(&file_system)
                .and_then(|fs| fs.file(&path))
                .is_none()
            {
                return Reply::text(format!(
                    "%Error opening {file_system}{path} (No such file or directory)\n"
                ));
            }
            self.pending = Some(Pending::UploadHost {
                source: source.to_string(),
                url,
            });
            return Reply::default();
        }
        let (file_system, destination_path) = split_file_path(destination);
        if device.file_system(&file_system).is_none() {
            return Reply::text(format!("%Error opening {destination} (Invalid argument)\n"));
        }
        let source_name = source.rsplit('/').next().unwrap_or(source);
        let source_name = source_name.rsplit(':').next().unwrap_or(source_name);
        let default_name = if destination_path.is_empty() {
            source_name.to_string()
        } else {
            destination_path
        };
        self.pending = Some(Pending::CopyDestination {
            source: source.to_string(),
            file_system,
            default_name,
        });
        Reply::default()
    }

    fn answer(&mut self, device: &mut Device, pending: Pending, answer: &str) -> Reply {
        let confirmed = answer.is_empty() || "yes".starts_with(&answer.to_ascii_lowercase());
        match pending {
            Pending::EnablePassword => {
                if answer == device.enable_secret {
                    self.mode = Mode::Privileged;
                    Reply::default()
                } else {
                    Reply::text("% Bad secrets\n\n")
                }
            }
            Pending::ReloadSave => {
                let lower = answer.to_ascii_lowercase();
                if !lower.is_empty() && "yes".starts_with(&lower) {
                    device.save_config();
                    self.pending = Some(Pending::ReloadConfirm);
                    Reply::text("Building configuration...\n[OK]\n")
                } else if !lower.is_empty() && "no".starts_with(&lower) {
                    self.pending = Some(Pending::ReloadConfirm);
                    Reply::default()
                } else {
                    self.pending = Some(Pending::ReloadSave);
                    Reply::text("% Please answer 'yes' or 'no'.\n")
                }
            }
            Pending::ReloadConfirm => {
                if confirmed {
                    Reply::action("\n", Action::Reload)
                } else {
                    Reply::default()
                }
            }
            Pending::DeleteFilename { file_system, path } => {
                let path = if answer.is_empty() {
                    path
                } else {
                    answer.trim_start_matches('/').to_string()
                };
                self.pending = Some(Pending::DeleteConfirm { file_system, path });
                Reply::default()
            }
            Pending::DeleteConfirm { file_system, path } => {
                if confirmed {
                    delete_file(device, &file_system, &path)
                } else {
                    Reply::default()
                }
            }
            Pending::CopyDestination {
                source,
                file_system,
                default_name,
            } => {
                let path = if answer.is_empty() {
                    default_name
                } else {
                    answer.trim_start_matches('/').to_string()
                };
                let exists = device
                    .file_system(&file_system)
                    .is_some_and(|fs| fs.file(&path).is_some());
                if exists {
                    self.pending = Some(Pending::CopyOverwrite {
                        source,
                        file_system,
                        path,
                    });
                    return Reply::default();
                }
                self.copy_action(source, file_system, path)
            }
            Pending::CopyOverwrite {
                source,
                file_system,
                path,
            } => {
                if confirmed {
                    self.copy_action(source, file_system, path)
                } else {
                    Reply::default()
                }
            }
            Pending::CopyRunningStartup => {
                device.save_config();
                Reply::text("Building configuration...\n[OK]\n")
            }
            Pending::UploadHost { source, mut url } => {
                if !answer.is_empty() {
                    url.host = answer.to_string();
                }
                self.pending = Some(Pending::UploadDestination { source, url });
                Reply::default()
            }
            Pending::UploadDestination { source, mut url } => {
                if !answer.is_empty() {
                    url.path = answer.trim_start_matches('/').to_string();
                }
                let (file_system, path) = split_file_path(&source);
                let needs_password = url.scheme == "scp" && url.password.is_none();
                let action = Action::Upload {
                    file_system,
                    path,
                    url,
                };
                if needs_password {
                    self.pending = Some(Pending::ScpPassword {
                        action: Box::new(action),
                    });
                    return Reply::default();
                }
                Reply::action("", action)
            }
            Pending::ScpPassword { action } => {
                let action = match *action {
                    Action::Upload {
                        file_system,
                        path,
                        mut url,
                    } => {
                        url.password = Some(answer.to_string());
                        Action::Upload {
                            file_system,
                            path,
                            url,
                        }
                    }
                    Action::Copy {
                        source,
                        file_system,
                        path,
                    } => Action::Copy {
                        source: with_password(&source, answer),
                        file_system,
                        path,
                    },
                    other => other,
                };
                Reply::action("", action)
            }
            Pending::ReloadSlotConfirm { member } => {
                if confirmed {
                    Reply::action("\n", Action::ReloadMember(member))
                } else {
                    Reply::default()
                }
            }
        }
    }
}

impl CliSession {
    /// Starts a pull, first asking the password an `scp://` URL lacks.
    fn copy_action(&mut self, source: String, file_system: String, path: String) -> Reply {
        let action = Action::Copy {
            source,
            file_system,
            path,
        };
        let Action::Copy { source, .. } = &action else {
            return Reply::action("", action);
        };
        if parse_url(source).is_some_and(|url| url.scheme == "scp" && url.password.is_none()) {
            self.pending = Some(Pending::ScpPassword {
                action: Box::new(action),
            });
            return Reply::default();
        }
        Reply::action("", action)
    }
}

/// `scp://user@host/x` with the password typed at the prompt added.
fn with_password(source: &str, password: &str) -> String {
    match source.split_once("://") {
        Some((scheme, rest)) => match rest.split_once('@') {
            Some((user, host)) if !user.contains('/') => {
                format!("{scheme}://{user}:{password}@{host}")
            }
            _ => source.to_string(),
        },
        None => source.to_string(),
    }
}

fn parse_filter(text: &str) -> Option<Filter> {
    let text = text.trim_start();
    let (keyword, pattern) = text.split_once(char::is_whitespace)?;
    let keyword = keyword.to_ascii_lowercase();
    let pattern = pattern.trim().to_string();
    if pattern.is_empty() || keyword.is_empty() {
        return None;
    }
    if "include".starts_with(&keyword) {
        Some(Filter::Include(pattern))
    } else if "exclude".starts_with(&keyword) {
        Some(Filter::Exclude(pattern))
    } else if "begin".starts_with(&keyword) {
        Some(Filter::Begin(pattern))
    } else {
        None
    }
}

fn invalid_marker(column: usize) -> Reply {
    Reply::text(format!(
        "{}^\n% Invalid input detected at '^' marker.\n\n",
        " ".repeat(column)
    ))
}

fn delete_file(device: &mut Device, file_system: &str, path: &str) -> Reply {
    let removed = device
        .file_system_mut(file_system)
        .and_then(|fs| fs.remove(path));
    match removed {
        Some(_) => Reply::default(),
        None => Reply::text(format!(
            "%Error deleting {file_system}/{path} (No such file or directory)\n"
        )),
    }
}

/// Finds a tar file on a device and its scanned entries, or the IOS error.
fn archive_of<'a>(device: &'a Device, source: &str) -> Result<&'a FileRecord, String> {
    if source.contains("://") {
        return Err(format!(
            "%Error opening {source} (archive from a server is not supported by this lab device; copy it to flash first)\n"
        ));
    }
    let (file_system, path) = split_file_path(source);
    device
        .file_system(&file_system)
        .and_then(|fs| fs.file(&path))
        .ok_or_else(|| format!("%Error opening {file_system}{path} (No such file or directory)\n"))
}

fn archive_failure_text(failure: ArchiveFailure) -> &'static str {
    match failure {
        ArchiveFailure::Checksum => "%Tar checksum error\n",
        ArchiveFailure::Truncated => "%Error reading archive (premature end of tar file)\n",
    }
}

/// `archive tar /table`: the entries of a tar file.
fn archive_table(device: &Device, source: &str) -> Reply {
    let record = match archive_of(device, source) {
        Ok(record) => record,
        Err(error) => return Reply::text(error),
    };
    let Some(summary) = &record.archive else {
        return Reply::text(archive_failure_text(ArchiveFailure::Checksum));
    };
    let mut out = String::new();
    for entry in &summary.entries {
        match &entry.record {
            None => {
                let _ = writeln!(out, "{} (directory)", entry.path);
            }
            Some(file) => {
                let _ = writeln!(out, "{} ({} bytes)", entry.path, file.size);
            }
        }
    }
    if let Some(failure) = summary.failure {
        out.push_str(archive_failure_text(failure));
    }
    Reply::text(out)
}

/// `archive tar /xtract SOURCE DESTINATION`: writes every entry into the
/// destination file system from the summaries kept on arrival.
fn archive_extract(device: &mut Device, source: &str, destination: &str, now: Instant) -> Reply {
    let summary = match archive_of(device, source) {
        Ok(record) => record.archive.clone(),
        Err(error) => return Reply::text(error),
    };
    let Some(summary) = summary else {
        return Reply::text(archive_failure_text(ArchiveFailure::Checksum));
    };
    let (file_system, base) = split_file_path(destination);
    let modified = device.clock_seconds(now);
    let Some(target) = device.file_system_mut(&file_system) else {
        return Reply::text(format!("%Error opening {destination} (No such device)\n"));
    };
    let prefix = if base.is_empty() {
        String::new()
    } else {
        format!("{}/", base.trim_end_matches('/'))
    };
    let mut out = String::new();
    for entry in &summary.entries {
        let path = format!("{prefix}{}", entry.path);
        match &entry.record {
            None => {
                let _ = writeln!(out, "{} (directory)", entry.path);
                if !target.create_directory(&path) {
                    let _ = writeln!(
                        out,
                        "%Error writing {file_system}/{path} (No space left on device)"
                    );
                    return Reply::text(out);
                }
            }
            Some(file) => {
                let bangs = "!".repeat((file.size / (512 * 1024)) as usize);
                let _ = writeln!(
                    out,
                    "extracting {} ({} bytes){bangs}",
                    entry.path, file.size
                );
                let record = FileRecord {
                    path: path.clone(),
                    modified,
                    ..file.clone()
                };
                if !target.store(record) {
                    let _ = writeln!(
                        out,
                        "%Error writing {file_system}/{path} (No space left on device)"
                    );
                    return Reply::text(out);
                }
            }
        }
    }
    if let Some(failure) = summary.failure {
        out.push_str(archive_failure_text(failure));
    }
    Reply::text(out)
}

fn verify_md5(device: &Device, target: &str, expected: Option<&str>) -> Reply {
    let (file_system, path) = split_file_path(target);
    // IOS echoes the path as typed (`flash:/x.bin` stays with its slash).
    let shown = if target.contains(':') {
        target.to_string()
    } else {
        format!("{file_system}{target}")
    };
    let Some(file) = device
        .file_system(&file_system)
        .and_then(|fs| fs.file(&path))
    else {
        return Reply::text(format!(
            "%Error opening {shown} (No such file or directory)\n"
        ));
    };
    let mut out = progress_dots(file);
    out.push_str("Done!\n");
    match expected {
        None => {
            let _ = writeln!(out, "verify /md5 ({shown}) = {}", file.md5);
        }
        Some(expected) if expected.eq_ignore_ascii_case(&file.md5) => {
            let _ = writeln!(out, "Verified ({shown}) = {}", file.md5);
        }
        Some(expected) => {
            let _ = writeln!(
                out,
                "%Error verifying {shown}\nComputed signature = {}\nSubmitted signature = {expected}",
                file.md5
            );
        }
    }
    Reply::text(out)
}

/// One dot per 128 KiB read, 64 to a line, as IOS prints while hashing.
fn progress_dots(file: &FileRecord) -> String {
    let dots = (file.size / (128 * 1024)).max(1) as usize;
    let mut out = String::new();
    for index in 0..dots {
        out.push('.');
        if (index + 1) % 64 == 0 && index + 1 < dots {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::device::DeviceSpec;
    use crate::files::record_from_bytes;
    use crate::image::{ImageFormat, ImageSpec, image_file_name, make_bin, model_facts};

    fn device(members: u32) -> Device {
        let spec = ImageSpec {
            model: "WS-C2960X-48FPD-L".into(),
            version: "15.2(2)E7".into(),
            feature: "universalk9".into(),
            min_dram_mb: 512,
            size: 8192,
        };
        let name = image_file_name(&spec, ImageFormat::Bin).unwrap();
        Device::new(
            &DeviceSpec {
                name: "Switch".into(),
                facts: model_facts("WS-C2960X-48FPD-L").unwrap(),
                members,
                username: "admin".into(),
                password: "pw".into(),
                enable_secret: "en".into(),
                reload_delay: Duration::from_secs(1),
                image: record_from_bytes(&name, &make_bin(&spec).unwrap(), 0),
                identity_seed: 1,
            },
            Instant::now(),
        )
    }

    /// Runs lines in order and returns each reply.
    fn run(session: &mut CliSession, device: &mut Device, lines: &[&str]) -> Vec<Reply> {
        lines
            .iter()
            .map(|line| session.handle_line(device, line, Instant::now()))
            .collect()
    }

    fn privileged(device: &mut Device) -> CliSession {
        let mut session = CliSession::new();
        run(&mut session, device, &["enable", "en"]);
        assert_eq!(session.mode, Mode::Privileged);
        session
    }

    #[test]
    fn prompts_follow_the_mode_and_hostname() {
        let mut device = device(1);
        let mut session = CliSession::new();
        assert_eq!(session.prompt(&device), "Switch>");
        run(&mut session, &mut device, &["enable"]);
        assert_eq!(session.prompt(&device), "Password: ");
        assert!(!session.echo());
        run(&mut session, &mut device, &["en"]);
        assert_eq!(session.prompt(&device), "Switch#");
        run(&mut session, &mut device, &["conf t", "hostname core1"]);
        assert_eq!(session.prompt(&device), "core1(config)#");
        run(&mut session, &mut device, &["end"]);
        assert_eq!(session.prompt(&device), "core1#");
    }

    #[test]
    fn wrong_enable_secret_stays_in_user_mode() {
        let mut device = device(1);
        let mut session = CliSession::new();
        let replies = run(&mut session, &mut device, &["enable", "nope"]);
        assert_eq!(replies[1].output, "% Bad secrets\n\n");
        assert_eq!(session.mode, Mode::User);
    }

    #[test]
    fn abbreviations_errors_and_markers() {
        let mut device = device(1);
        let mut session = privileged(&mut device);
        let check = |session: &mut CliSession, device: &mut Device, line: &str, expected: &str| {
            let reply = session.handle_line(device, line, Instant::now());
            assert!(
                reply.output.starts_with(expected),
                "{line}: {:?}",
                reply.output
            );
        };
        check(
            &mut session,
            &mut device,
            "sh ver",
            "Cisco IOS Software, C2960X",
        );
        check(
            &mut session,
            &mut device,
            "sh sw det",
            "Switch/Stack Mac Address",
        );
        check(
            &mut session,
            &mut device,
            "sh s",
            "% Ambiguous command:  \"sh s\"\n",
        );
        check(&mut session, &mut device, "show", "% Incomplete command.");
        // Caret under the bad word, counted from the start of the prompt `Switch#`.
        check(
            &mut session,
            &mut device,
            "sh vresion",
            "          ^\n% Invalid input detected at '^' marker.\n",
        );
        check(
            &mut session,
            &mut device,
            "show running-config | include boot",
            "boot-start-marker\nboot system flash:",
        );
    }

    #[test]
    fn user_mode_cannot_run_privileged_commands() {
        let mut device = device(1);
        let mut session = CliSession::new();
        let reply = session.handle_line(&mut device, "reload", Instant::now());
        assert!(
            reply.output.contains("% Invalid input detected"),
            "{:?}",
            reply.output
        );
    }

    #[test]
    fn boot_system_and_write_memory_change_config_state() {
        let mut device = device(2);
        let mut session = privileged(&mut device);
        run(
            &mut session,
            &mut device,
            &[
                "configure terminal",
                "boot system switch all flash:new.bin",
                "end",
            ],
        );
        assert!(!device.config_saved);
        assert_eq!(device.member(2).unwrap().boot_path, ["flash:new.bin"]);
        let replies = run(&mut session, &mut device, &["wr mem"]);
        assert_eq!(replies[0].output, "Building configuration...\n[OK]\n");
        assert!(device.config_saved);
    }

    #[test]
    fn reload_asks_to_save_then_to_confirm() {
        let mut device = device(1);
        let mut session = privileged(&mut device);
        run(
            &mut session,
            &mut device,
            &["conf t", "hostname other", "end", "reload"],
        );
        assert_eq!(
            session.prompt(&device),
            "System configuration has been modified. Save? [yes/no]: "
        );
        run(&mut session, &mut device, &["no"]);
        assert_eq!(session.prompt(&device), "Proceed with reload? [confirm]");
        let replies = run(&mut session, &mut device, &[""]);
        assert_eq!(replies[0].action, Some(Action::Reload));
    }

    #[test]
    fn delete_asks_for_name_and_confirmation() {
        let mut device = device(1);
        let mut session = privileged(&mut device);
        run(&mut session, &mut device, &["delete flash:vlan.dat"]);
        assert_eq!(session.prompt(&device), "Delete filename [vlan.dat]? ");
        run(&mut session, &mut device, &[""]);
        assert_eq!(session.prompt(&device), "Delete flash:/vlan.dat? [confirm]");
        run(&mut session, &mut device, &[""]);
        assert!(
            device
                .file_system("flash:")
                .unwrap()
                .file("vlan.dat")
                .is_none()
        );
        let replies = run(&mut session, &mut device, &["delete /force flash:vlan.dat"]);
        assert_eq!(
            replies[0].output,
            "%Error deleting flash:/vlan.dat (No such file or directory)\n"
        );
    }

    #[test]
    fn verify_md5_prints_the_digest_and_checks_a_given_one() {
        let mut device = device(1);
        let mut session = privileged(&mut device);
        let md5 = device
            .file_system("flash:")
            .unwrap()
            .file("vlan.dat")
            .unwrap()
            .md5
            .clone();
        let replies = run(
            &mut session,
            &mut device,
            &[
                "verify /md5 flash:vlan.dat",
                &format!("verify /md5 flash:vlan.dat {md5}"),
                "verify /md5 flash:vlan.dat 0123",
            ],
        );
        assert_eq!(
            replies[0].output,
            format!(".Done!\nverify /md5 (flash:vlan.dat) = {md5}\n")
        );
        assert_eq!(
            replies[1].output,
            format!(".Done!\nVerified (flash:vlan.dat) = {md5}\n")
        );
        assert!(
            replies[2]
                .output
                .contains("%Error verifying flash:vlan.dat\n")
        );
    }

    #[test]
    fn copy_asks_for_destination_then_requests_the_transfer() {
        let mut device = device(2);
        let mut session = privileged(&mut device);
        run(
            &mut session,
            &mut device,
            &["copy tftp://127.0.0.1/new.bin flash2:"],
        );
        assert_eq!(session.prompt(&device), "Destination filename [new.bin]? ");
        let replies = run(&mut session, &mut device, &[""]);
        assert_eq!(
            replies[0].action,
            Some(Action::Copy {
                source: "tftp://127.0.0.1/new.bin".into(),
                file_system: "flash2:".into(),
                path: "new.bin".into(),
            })
        );
    }

    fn put_tar(device: &mut Device, bytes: &[u8]) -> String {
        let name = "c2960x-universalk9-tar.152-7.E8.tar".to_string();
        let record = record_from_bytes(&name, bytes, 0);
        assert!(device.file_system_mut("flash:").unwrap().store(record));
        name
    }

    fn tar_image() -> Vec<u8> {
        crate::image::make_tar(&ImageSpec {
            model: "WS-C2960X-48FPD-L".into(),
            version: "15.2(7)E8".into(),
            feature: "universalk9".into(),
            min_dram_mb: 512,
            size: 64 * 1024,
        })
        .unwrap()
    }

    #[test]
    fn archive_xtract_writes_the_image_directory_which_then_boots() {
        let mut device = device(1);
        let mut session = privileged(&mut device);
        let name = put_tar(&mut device, &tar_image());
        let replies = run(
            &mut session,
            &mut device,
            &[
                &format!("archive tar /table flash:{name}"),
                &format!("archive tar /xtract flash:{name} flash:"),
            ],
        );
        assert!(
            replies[0].output.starts_with("info ("),
            "{}",
            replies[0].output
        );
        let text = &replies[1].output;
        assert!(
            text.contains("c2960x-universalk9-mz.152-7.E8/ (directory)\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "extracting c2960x-universalk9-mz.152-7.E8/c2960x-universalk9-mz.152-7.E8.bin ("
            ),
            "{text}"
        );
        let dir = "c2960x-universalk9-mz.152-7.E8";
        run(
            &mut session,
            &mut device,
            &[
                "conf t",
                &format!("boot system flash:/{dir}/{dir}.bin"),
                "end",
                "write memory",
            ],
        );
        let now = Instant::now();
        device.reload(now);
        device.tick(now + Duration::from_secs(2));
        assert_eq!(device.running().unwrap().version, "15.2(7)E8");
        assert_eq!(
            device.running().unwrap().path,
            format!("flash:{dir}/{dir}.bin")
        );
        // The old image directory can then go.
        let replies = run(
            &mut session,
            &mut device,
            &[&format!("delete /force /recursive flash:{dir}")],
        );
        assert_eq!(replies[0].output, "");
        assert!(device.file_system("flash:").unwrap().list(dir).is_none());
    }

    #[test]
    fn archive_xtract_of_a_corrupt_or_foreign_file_reports_the_tar_error() {
        let mut device = device(1);
        let mut session = privileged(&mut device);
        let bad_header = {
            let mut copy = tar_image();
            copy[20] ^= 0x01;
            copy
        };
        let check =
            |session: &mut CliSession, device: &mut Device, bytes: &[u8], expected: &str| {
                let name = put_tar(device, bytes);
                let reply = session.handle_line(
                    device,
                    &format!("archive tar /xtract flash:{name} flash:"),
                    Instant::now(),
                );
                assert!(reply.output.ends_with(expected), "{:?}", reply.output);
            };
        check(
            &mut session,
            &mut device,
            &bad_header,
            "%Tar checksum error\n",
        );
        check(
            &mut session,
            &mut device,
            &vec![1u8; 4096],
            "%Tar checksum error\n",
        );
        let truncated = tar_image()[..10_000].to_vec();
        check(
            &mut session,
            &mut device,
            &truncated,
            "(premature end of tar file)\n",
        );
    }

    #[test]
    fn terminal_length_sets_paging() {
        let mut device = device(1);
        let mut session = CliSession::new();
        run(
            &mut session,
            &mut device,
            &["terminal length 0", "term width 0"],
        );
        assert_eq!(session.terminal_length, 0);
        assert_eq!(session.terminal_width, 0);
    }
}
