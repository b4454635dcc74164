//! Vendor software versions: parsing, canonical display and partial ordering.
//!
//! Every OS has its own version grammar. A parsed [`Version`] keeps a
//! normalised representation (numbers as numbers, letters in the vendor's usual
//! case), so that two spellings of one release (`16.12.04` and `16.12.4`) are
//! equal, hash the same and display the same.
//!
//! Ordering is partial: every scheme splits a version into a *family* (the
//! product train: IOS `SE`, NX-OS platform train `I`, Junos `X49`, ...) and an
//! ordered *key*. Versions of different families are
//! [`VersionOrdering::Incomparable`]; within a family the keys are totally
//! ordered, so comparison is antisymmetric and transitive by construction.
//! Versions of different [`Os`] values are always incomparable.
//!
//! Canonical display forms (what `Display` prints, and what parses back to the
//! same value):
//!
//! | OS | examples of canonical form | normalisation |
//! |---|---|---|
//! | ios (and AP releases) | `12.2(25)SEE2`, `12.4(5b)`, `12.2(1.5)T`, `15.2(4)M6a`, `12.2(58)SE2$` | leading zeros dropped, train upper case, rebuild letters lower case |
//! | iosxe | `16.12.4`, `17.9.4a`, `3.7.3E`, `3.4.6SG`, `3.16.4bS`, `16.3.20170410:103306`, `17.7.1prd16` | leading zeros dropped, the dot before a 3.x train dropped, a `[FC2]` label dropped; IOS-style `15.4(3)S4` as for ios |
//! | iosxr | `6.5.3`, `6.2.1.23I` | leading zeros dropped, the `[Default]` build label and the `LNT` packaging word dropped |
//! | nxos | `9.3(8)`, `7.0(3)I7(9)`, `8.4(2a)`, `10.2(3)F` | leading zeros dropped, a `[Feature Release]` label dropped |
//! | vrp | `V200R024C00SPC500`, `V200R011SPH016`, `SPH001`, `5.170` | upper case, fields zero-padded to Huawei's widths |
//! | junos | `18.4R3-S1`, `21.4R3-S3.4`, `12.3X48-D10.4`, `19.4I20200331`, `21.4R3-S3.4-EVO` | upper case letters |
//! | aireos, cheetah | `8.10.185.0`, `17.12.0.78` (cheetah also takes `15.3(3)JA1`) | leading zeros dropped |
//! | junose | `10.3.2 patch-0.2`, `16.1.0 release-0.25` | `p0-1` spelled `patch-0.1`, a `[BuildId ...]` label dropped |
//! | asa | `9.8(4)32` | leading zeros dropped |
//! | gaia | `R81.20`, `R81.10 Take 95` | |
//!
//! Deliberately incomparable (a wrong "upgrade" is worse than no answer):
//! IOS-XE 3.x names and their IOS twins (`03.07.03E` and `15.2(3)E3`), IOS
//! trains and their successor trains (`15.0(2)SE11` and `15.2(2)E7`), NX-OS
//! platform trains and trainless releases (`7.0(3)I7(9)` and `9.3(8)`).

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{DomainError, Os};

/// The result of comparing two versions: versions of unrelated trains are
/// neither older nor newer than each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionOrdering {
    Less,
    Equal,
    Greater,
    Incomparable,
}

impl VersionOrdering {
    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionOrdering::Less => "less",
            VersionOrdering::Equal => "equal",
            VersionOrdering::Greater => "greater",
            VersionOrdering::Incomparable => "incomparable",
        }
    }

    /// The ordering seen from the other side.
    pub fn reverse(self) -> Self {
        match self {
            VersionOrdering::Less => VersionOrdering::Greater,
            VersionOrdering::Greater => VersionOrdering::Less,
            other => other,
        }
    }
}

impl From<Ordering> for VersionOrdering {
    fn from(ordering: Ordering) -> Self {
        match ordering {
            Ordering::Less => VersionOrdering::Less,
            Ordering::Equal => VersionOrdering::Equal,
            Ordering::Greater => VersionOrdering::Greater,
        }
    }
}

impl fmt::Display for VersionOrdering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed software version of one OS, stored normalised: equality, hashing
/// and [`Version::compare`] returning `Equal` all agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    os: Os,
    scheme: Scheme,
}

/// Parses `a` and `b` as versions of `os` and compares them.
pub fn compare_versions(os: Os, a: &str, b: &str) -> Result<VersionOrdering, DomainError> {
    let a = Version::parse(os, a)?;
    let b = Version::parse(os, b)?;
    Ok(a.compare(&b))
}

impl Version {
    /// Parses `input` (surrounding white space ignored) as a version of `os`.
    /// Letters are accepted in either case.
    pub fn parse(os: Os, input: &str) -> Result<Version, DomainError> {
        let invalid = |problem: String| DomainError::InvalidVersion {
            os: os.to_string(),
            input: input.to_string(),
            reason: format!("{problem}; {}", expectation(os)),
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(invalid("the version is empty".into()));
        }
        if let Some(bad) = text.chars().find(|c| !c.is_ascii() || c.is_ascii_control()) {
            return Err(invalid(format!("unexpected character {bad:?}")));
        }
        let scheme = parse_scheme(os, text).map_err(invalid)?;
        Ok(Version { os, scheme })
    }

    /// The OS this version belongs to.
    pub fn os(&self) -> Os {
        self.os
    }

    /// Compares two versions: `Incomparable` for different OSes, different
    /// version schemes of one OS, or different product trains.
    pub fn compare(&self, other: &Version) -> VersionOrdering {
        if self.os != other.os {
            return VersionOrdering::Incomparable;
        }
        match (&self.scheme, &other.scheme) {
            (Scheme::Ios(a), Scheme::Ios(b)) => a.compare(b),
            (Scheme::Xe(a), Scheme::Xe(b)) => a.compare(b),
            (Scheme::Xr(a), Scheme::Xr(b)) => a.compare(b),
            (Scheme::Nxos(a), Scheme::Nxos(b)) => a.compare(b),
            (Scheme::Vrp(a), Scheme::Vrp(b)) => a.compare(b),
            (Scheme::VrpPatch(a), Scheme::VrpPatch(b)) => a.cmp(b).into(),
            (Scheme::Junos(a), Scheme::Junos(b)) => a.compare(b),
            (Scheme::Junose(a), Scheme::Junose(b)) => a.compare(b),
            (Scheme::Dotted(a), Scheme::Dotted(b)) => a.cmp(b).into(),
            (Scheme::Asa(a), Scheme::Asa(b)) => a.compare(b),
            (Scheme::Gaia(a), Scheme::Gaia(b)) => a.compare(b),
            _ => VersionOrdering::Incomparable,
        }
    }

    /// The product train, where the scheme has one: IOS `SEE`, IOS-XE 3.x `E`,
    /// NX-OS platform train `I7`, Junos special train `X49`.
    pub fn train(&self) -> Option<String> {
        let train = match &self.scheme {
            Scheme::Ios(v) => v.train.clone(),
            Scheme::Xe(v) => v.train.clone(),
            Scheme::Nxos(v) => match v.train_number {
                Some(number) => format!("{}{number}", v.train),
                None => v.train.clone(),
            },
            Scheme::Junos(v) if v.release_type == 'X' => format!("X{}", v.release_number),
            _ => String::new(),
        };
        (!train.is_empty()).then_some(train)
    }

    /// True for interim, engineering and special builds rather than released
    /// software: IOS `12.2(1.5)T` and `12.2(58)SE2$`, IOS-XE
    /// `16.3.20170410:103306` and `17.7.1prd16`, IOS-XR `6.2.1.23I`, Junos
    /// `19.4I20200331`.
    pub fn is_interim(&self) -> bool {
        match &self.scheme {
            Scheme::Ios(v) => !v.interim.is_empty() || v.special,
            Scheme::Xe(v) => v.build != XeBuild::Release,
            Scheme::Xr(v) => v.interim,
            Scheme::Junos(v) => v.release_type == 'I',
            _ => false,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scheme {
            Scheme::Ios(v) => v.fmt(f),
            Scheme::Xe(v) => v.fmt(f),
            Scheme::Xr(v) => v.fmt(f),
            Scheme::Nxos(v) => v.fmt(f),
            Scheme::Vrp(v) => v.fmt(f),
            Scheme::VrpPatch(number) => write!(f, "SPH{number:03}"),
            Scheme::Junos(v) => v.fmt(f),
            Scheme::Junose(v) => v.fmt(f),
            Scheme::Dotted(numbers) => write_dotted(f, numbers),
            Scheme::Asa(v) => v.fmt(f),
            Scheme::Gaia(v) => v.fmt(f),
        }
    }
}

/// The example given in error messages for each OS.
fn expectation(os: Os) -> &'static str {
    match os {
        Os::Ios => "a Cisco IOS version looks like 15.2(7)E8, 12.2(55)SE10 or 15.3(3)JA1",
        Os::Iosxe => "a Cisco IOS-XE version looks like 17.9.4a, 16.12.04 or 03.07.03E",
        Os::Iosxr => "a Cisco IOS-XR version looks like 7.3.2 or 6.2.1.23I",
        Os::Nxos => "a Cisco NX-OS version looks like 9.3(8) or 7.0(3)I7(9)",
        Os::Vrp => "a Huawei VRP version looks like V200R024C00SPC500, SPH001 (hot patch) or 5.170",
        Os::Junos => "a Junos version looks like 18.4R3-S1, 21.4R3-S3.4 or 12.3X48-D10.4",
        Os::Aireos => "a Cisco AireOS version looks like 8.10.185.0",
        Os::Junose => "a JUNOSe version looks like 10.3.2 patch-0.2 or 16.1.0 release-0.25",
        Os::Asa => "a Cisco ASA version looks like 9.8(4)32",
        Os::Gaia => "a Check Point Gaia version looks like R81.20",
        Os::Cheetah => "a Cisco AP version looks like 17.12.0.78, 8.10.185.0 or 15.3(3)JA1",
    }
}

/// The normalised form of one version, per grammar.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Scheme {
    Ios(IosVersion),
    Xe(XeVersion),
    Xr(XrVersion),
    Nxos(NxosVersion),
    Vrp(VrpVersion),
    /// A VRP hot patch named on its own (`SPH001`).
    VrpPatch(u32),
    Junos(JunosVersion),
    Junose(JunoseVersion),
    /// Plain dotted numbers: AireOS, AP-COS, VRP `5.170`.
    Dotted(Vec<u32>),
    Asa(AsaVersion),
    Gaia(GaiaVersion),
}

fn parse_scheme(os: Os, text: &str) -> Result<Scheme, String> {
    let has_parenthesis = text.contains('(');
    match os {
        Os::Ios => IosVersion::parse(text).map(Scheme::Ios),
        // XE 3.x on routers reports the IOS-style version (`15.4(3)S4`).
        Os::Iosxe if has_parenthesis => IosVersion::parse(text).map(Scheme::Ios),
        Os::Iosxe => XeVersion::parse(text).map(Scheme::Xe),
        Os::Iosxr => XrVersion::parse(text).map(Scheme::Xr),
        Os::Nxos => NxosVersion::parse(text).map(Scheme::Nxos),
        Os::Vrp => {
            let upper = text.to_ascii_uppercase();
            if upper.starts_with('V') {
                VrpVersion::parse(text).map(Scheme::Vrp)
            } else if let Some(number) = upper.strip_prefix("SPH") {
                let mut scanner = Scanner::new(number);
                let number = scanner.number("hot patch number after SPH")?;
                scanner.finish()?;
                Ok(Scheme::VrpPatch(number))
            } else {
                parse_dotted(text).map(Scheme::Dotted)
            }
        }
        Os::Junos => JunosVersion::parse(text).map(Scheme::Junos),
        Os::Junose => JunoseVersion::parse(text).map(Scheme::Junose),
        Os::Aireos => parse_dotted(text).map(Scheme::Dotted),
        Os::Cheetah if has_parenthesis => IosVersion::parse(text).map(Scheme::Ios),
        Os::Cheetah => parse_dotted(text).map(Scheme::Dotted),
        Os::Asa => AsaVersion::parse(text).map(Scheme::Asa),
        Os::Gaia => GaiaVersion::parse(text).map(Scheme::Gaia),
    }
}

/// Compares within a family: different families are incomparable, equal
/// families compare by their totally ordered keys.
fn rank<F: PartialEq, K: Ord>(family: (F, F), key: (K, K)) -> VersionOrdering {
    if family.0 != family.1 {
        return VersionOrdering::Incomparable;
    }
    key.0.cmp(&key.1).into()
}

fn write_dotted(f: &mut fmt::Formatter<'_>, numbers: &[u32]) -> fmt::Result {
    for (index, number) in numbers.iter().enumerate() {
        if index > 0 {
            f.write_str(".")?;
        }
        write!(f, "{number}")?;
    }
    Ok(())
}

/// A cursor over an ASCII version string. Errors are problem descriptions;
/// [`Version::parse`] adds the input and the expected form.
#[derive(Debug)]
struct Scanner<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Scanner { text, position: 0 }
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.position..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn at_end(&self) -> bool {
        self.rest().is_empty()
    }

    /// Consumes `expected` (ASCII, compared case-insensitively) if it is next.
    fn eat(&mut self, expected: char) -> bool {
        match self.peek() {
            Some(c) if c.eq_ignore_ascii_case(&expected) => {
                self.position += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    /// Consumes `word` (case-insensitively) if it is next.
    fn eat_word(&mut self, word: &str) -> bool {
        let rest = self.rest();
        match rest.get(..word.len()) {
            Some(head) if head.eq_ignore_ascii_case(word) => {
                self.position += word.len();
                true
            }
            _ => false,
        }
    }

    fn expect(&mut self, expected: char, what: &str) -> Result<(), String> {
        if self.eat(expected) {
            Ok(())
        } else {
            Err(format!(
                "expected '{expected}' {what}, found {}",
                self.describe_next()
            ))
        }
    }

    fn describe_next(&self) -> String {
        match self.peek() {
            Some(c) => format!("'{c}'"),
            None => "the end".into(),
        }
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let rest = self.rest();
        let length = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        self.position += length;
        rest.get(..length).unwrap_or("")
    }

    fn letters(&mut self) -> &'a str {
        self.take_while(|c| c.is_ascii_alphabetic())
    }

    fn optional_number(&mut self, what: &str) -> Result<Option<u32>, String> {
        let digits = self.take_while(|c| c.is_ascii_digit());
        if digits.is_empty() {
            return Ok(None);
        }
        digits
            .parse::<u32>()
            .map(Some)
            .map_err(|_| format!("the {what} '{digits}' is too large"))
    }

    fn number(&mut self, what: &str) -> Result<u32, String> {
        match self.optional_number(what)? {
            Some(number) => Ok(number),
            None => Err(format!(
                "expected the {what}, found {}",
                self.describe_next()
            )),
        }
    }

    /// Numbers separated by dots: `first.second[.third...]`, at least
    /// `minimum` of them. Stops before a dot that is not followed by a digit.
    fn dotted_numbers(&mut self, minimum: usize, what: &str) -> Result<Vec<u32>, String> {
        let mut numbers = vec![self.number(what)?];
        while self.peek() == Some('.') && self.peek_second().is_some_and(|c| c.is_ascii_digit()) {
            self.position += 1;
            numbers.push(self.number(what)?);
        }
        if numbers.len() < minimum {
            return Err(format!(
                "expected at least {minimum} dot-separated numbers, found {}",
                numbers.len()
            ));
        }
        Ok(numbers)
    }

    fn finish(&self) -> Result<(), String> {
        if self.at_end() {
            Ok(())
        } else {
            Err(format!("unexpected '{}' at the end", self.rest()))
        }
    }
}

/// Dotted numbers only (`8.10.185.0`, `17.12.0.78`, `5.170`).
fn parse_dotted(text: &str) -> Result<Vec<u32>, String> {
    let mut scanner = Scanner::new(text);
    let numbers = scanner.dotted_numbers(2, "version number")?;
    scanner.finish()?;
    Ok(numbers)
}

/// Removes a trailing bracketed build label (`5.3.4[Default]`,
/// `10.3.2 patch-0.2 [BuildId 12917]`): it names the build, not the release.
fn strip_build_label(text: &str) -> &str {
    match text.strip_suffix(']').and_then(|inner| inner.rfind('[')) {
        Some(open) => text.get(..open).unwrap_or(text).trim_end(),
        None => text,
    }
}

/// Cisco IOS: `major.minor(release[.interim...][letters])[TRAIN[rebuild[letters]]][$]`.
///
/// The train splits into a base train (the family) and variant letters:
/// trains starting with `J` (AP releases) have base `J` (`JA`, `JG`, `JAB`);
/// other trains of three or more letters have a two-letter base (`SEE` is
/// `SE` + `E`, `SXJ` is `SX` + `J`); one- and two-letter trains are their own
/// base (`E`, `SE`, `SX`, `EW`, `T`, `M`; mainline has the empty train).
/// Within a base train versions order by major, minor, release, interim
/// (`12.2(1)` < `12.2(1.5)` < `12.2(2)`; interims may have several levels,
/// `15.2(4.0.55)E`), release letter (also ROMMON's `15.0(1r)M16`), variant letters
/// (`SE` < `SEA` < ... < `SEE`, dominating the rebuild number), rebuild number
/// and rebuild letters. A trailing `$` marks a special build, sorting just
/// after the same version without it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct IosVersion {
    major: u32,
    minor: u32,
    release: u32,
    interim: Vec<u32>,
    release_letters: String,
    train: String,
    rebuild: Option<u32>,
    rebuild_letters: String,
    special: bool,
}

impl IosVersion {
    fn parse(text: &str) -> Result<Self, String> {
        let mut scanner = Scanner::new(text);
        let major = scanner.number("major release number")?;
        scanner.expect('.', "after the major release number")?;
        let minor = scanner.number("minor release number")?;
        scanner.expect('(', "after the minor release number")?;
        let release = scanner.number("release number inside the parentheses")?;
        let mut interim = Vec::new();
        while scanner.eat('.') {
            interim.push(scanner.number("interim build number")?);
        }
        let release_letters = scanner.letters().to_ascii_lowercase();
        scanner.expect(')', "after the release number")?;
        let train = scanner.letters().to_ascii_uppercase();
        let rebuild = scanner.optional_number("rebuild number")?;
        if rebuild.is_some() && train.is_empty() {
            return Err("a rebuild number needs a train before it (like E8)".into());
        }
        let rebuild_letters = if rebuild.is_some() {
            scanner.letters().to_ascii_lowercase()
        } else {
            String::new()
        };
        let special = scanner.eat('$');
        scanner.finish()?;
        Ok(IosVersion {
            major,
            minor,
            release,
            interim,
            release_letters,
            train,
            rebuild,
            rebuild_letters,
            special,
        })
    }

    /// Base train and variant letters.
    fn train_parts(&self) -> (&str, &str) {
        let train = self.train.as_str();
        if train.starts_with('J') {
            train.split_at(1)
        } else if train.len() >= 3 {
            train.split_at(2)
        } else {
            (train, "")
        }
    }

    fn compare(&self, other: &Self) -> VersionOrdering {
        let (base, variant) = self.train_parts();
        let (other_base, other_variant) = other.train_parts();
        let key = |v: &Self, variant| {
            (
                (v.major, v.minor, v.release, v.interim.clone()),
                v.release_letters.clone(),
                variant,
                v.rebuild,
                v.rebuild_letters.clone(),
                v.special,
            )
        };
        rank(
            (base, other_base),
            (key(self, variant), key(other, other_variant)),
        )
    }
}

impl fmt::Display for IosVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}({}", self.major, self.minor, self.release)?;
        for interim in &self.interim {
            write!(f, ".{interim}")?;
        }
        write!(f, "{}){}", self.release_letters, self.train)?;
        if let Some(rebuild) = self.rebuild {
            write!(f, "{rebuild}{}", self.rebuild_letters)?;
        }
        if self.special {
            f.write_str("$")?;
        }
        Ok(())
    }
}

/// Cisco IOS-XE dotted versions: `16.12.04`, `17.9.4a` (letters after the
/// last number are a rebuild: `17.9.4` < `17.9.4a` < `17.9.5`), 2.x/3.x
/// releases with a train suffix (`03.07.03E`, `03.04.06.SG`, `03.16.04b.S`:
/// the family; lower-case letters before the train are a rebuild), engineering
/// builds `16.3.20170410:103306` and pre-release builds `17.7.1prd16`. Each
/// kind of build is a family of its own, ordered by release then build. A
/// bracketed label (`17.3.1r[FC2]`, `17.6.20210302:012459 [S2C-build...]`) is
/// dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct XeVersion {
    numbers: Vec<u32>,
    rebuild: String,
    train: String,
    build: XeBuild,
}

/// What kind of IOS-XE build a version names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum XeBuild {
    Release,
    /// `16.3.20170410:103306`: the last number is the date, this the time.
    Engineering {
        time: u32,
    },
    /// `17.7.1prd16`: a tagged pre-release build.
    Prerelease {
        tag: String,
        number: u32,
    },
}

impl XeVersion {
    fn parse(text: &str) -> Result<Self, String> {
        let mut scanner = Scanner::new(strip_build_label(text));
        let numbers = scanner.dotted_numbers(2, "release number")?;
        let major = numbers.first().copied().unwrap_or(0);
        if scanner.eat(':') {
            let time = scanner.number("engineering build time (HHMMSS) after ':'")?;
            scanner.finish()?;
            return Ok(XeVersion {
                numbers,
                rebuild: String::new(),
                train: String::new(),
                build: XeBuild::Engineering { time },
            });
        }
        let letters = scanner.letters();
        if let Some(number) = scanner.optional_number("pre-release build number")? {
            scanner.finish()?;
            return Ok(XeVersion {
                numbers,
                rebuild: String::new(),
                train: String::new(),
                build: XeBuild::Prerelease {
                    tag: letters.to_ascii_lowercase(),
                    number,
                },
            });
        }
        let (rebuild, train) = if scanner.eat('.') {
            let train = scanner.letters();
            if train.is_empty() {
                return Err(format!(
                    "expected train letters after '.', found {}",
                    scanner.describe_next()
                ));
            }
            (letters, train)
        } else if major >= 16 {
            (letters, "")
        } else {
            // 3.x: `3.16.4bS` is rebuild `b` of train `S`; `3.7.3E` is train `E`.
            let lower = letters
                .find(|c: char| !c.is_ascii_lowercase())
                .unwrap_or(letters.len());
            if lower > 0 && lower < letters.len() {
                letters.split_at(lower)
            } else {
                ("", letters)
            }
        };
        scanner.finish()?;
        if major >= 16 && !train.is_empty() {
            return Err(format!(
                "IOS-XE {major}.x releases have no train suffix, found '{train}'"
            ));
        }
        Ok(XeVersion {
            numbers,
            rebuild: rebuild.to_ascii_lowercase(),
            train: train.to_ascii_uppercase(),
            build: XeBuild::Release,
        })
    }

    fn compare(&self, other: &Self) -> VersionOrdering {
        let family = |v: &Self| {
            let build = match &v.build {
                XeBuild::Release => "",
                XeBuild::Engineering { .. } => ":",
                XeBuild::Prerelease { tag, .. } => tag.as_str(),
            };
            (v.train.clone(), build.to_string())
        };
        let key = |v: &Self| {
            let build = match v.build {
                XeBuild::Release => 0,
                XeBuild::Engineering { time } => time,
                XeBuild::Prerelease { number, .. } => number,
            };
            (v.numbers.clone(), v.rebuild.clone(), build)
        };
        rank((family(self), family(other)), (key(self), key(other)))
    }
}

impl fmt::Display for XeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_dotted(f, &self.numbers)?;
        match &self.build {
            XeBuild::Release => write!(f, "{}{}", self.rebuild, self.train),
            XeBuild::Engineering { time } => write!(f, ":{time:06}"),
            XeBuild::Prerelease { tag, number } => write!(f, "{tag}{number}"),
        }
    }
}

/// Cisco IOS-XR: dotted numbers (`6.5.3`, `24.1.1`); a trailing `I` marks an
/// interim (engineering) build `6.2.1.23I`. Interim builds compare only with
/// each other: they are not on the release line. A bracketed build label
/// (`5.3.4[Default]`) and the XR7 packaging word (`7.9.2 LNT`) are accepted
/// and dropped: they do not change the release.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct XrVersion {
    numbers: Vec<u32>,
    interim: bool,
}

impl XrVersion {
    fn parse(text: &str) -> Result<Self, String> {
        let text = strip_build_label(text);
        let text = match text
            .len()
            .checked_sub(4)
            .and_then(|at| text.split_at_checked(at))
        {
            Some((release, packaging)) if packaging.eq_ignore_ascii_case(" LNT") => release,
            _ => text,
        };
        let mut scanner = Scanner::new(text);
        let numbers = scanner.dotted_numbers(2, "release number")?;
        let interim = scanner.eat('I');
        scanner.finish()?;
        Ok(XrVersion { numbers, interim })
    }

    fn compare(&self, other: &Self) -> VersionOrdering {
        rank(
            (self.interim, other.interim),
            (&self.numbers, &other.numbers),
        )
    }
}

impl fmt::Display for XrVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_dotted(f, &self.numbers)?;
        if self.interim {
            f.write_str("I")?;
        }
        Ok(())
    }
}

/// Cisco NX-OS: `major.minor(maintenance[letters])` optionally followed by a
/// platform train with its number and rebuild (`7.0(3)I7(9)`, `6.0(2)U6(10)`,
/// `5.2(1)SV3(1.10)`). Platform trains are families: `I` and `U` and trainless
/// releases are incomparable. A bare letter without number (`10.2(3)F`,
/// `10.2(5)M`) is a release label, not a train: it does not change the family.
/// A bracketed description (`10.2(3) [Feature Release]`) is dropped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct NxosVersion {
    major: u32,
    minor: u32,
    maintenance: u32,
    maintenance_letters: String,
    train: String,
    train_number: Option<u32>,
    rebuild: Option<(u32, Option<u32>, String)>,
}

impl NxosVersion {
    fn parse(text: &str) -> Result<Self, String> {
        let mut scanner = Scanner::new(strip_build_label(text));
        let major = scanner.number("major release number")?;
        scanner.expect('.', "after the major release number")?;
        let minor = scanner.number("minor release number")?;
        scanner.expect('(', "after the minor release number")?;
        let maintenance = scanner.number("maintenance release number inside the parentheses")?;
        let maintenance_letters = scanner.letters().to_ascii_lowercase();
        scanner.expect(')', "after the maintenance release number")?;
        let train = scanner.letters().to_ascii_uppercase();
        let train_number = scanner.optional_number("train number")?;
        let rebuild = if scanner.eat('(') {
            if train.is_empty() {
                return Err("a rebuild in parentheses needs a platform train (like I7(9))".into());
            }
            let number = scanner.number("rebuild number inside the parentheses")?;
            let sub = if scanner.eat('.') {
                Some(scanner.number("rebuild sub-number")?)
            } else {
                None
            };
            let letters = scanner.letters().to_ascii_lowercase();
            scanner.expect(')', "after the rebuild number")?;
            Some((number, sub, letters))
        } else {
            None
        };
        if train_number.is_some() && train.is_empty() {
            return Err("unexpected number after ')'".into());
        }
        scanner.finish()?;
        Ok(NxosVersion {
            major,
            minor,
            maintenance,
            maintenance_letters,
            train,
            train_number,
            rebuild,
        })
    }

    fn platform_train(&self) -> &str {
        if self.train_number.is_none() && self.rebuild.is_none() {
            ""
        } else {
            &self.train
        }
    }

    fn compare(&self, other: &Self) -> VersionOrdering {
        let key = |v: &Self| {
            (
                (v.major, v.minor, v.maintenance),
                v.maintenance_letters.clone(),
                v.train_number,
                v.rebuild.clone(),
                v.train.clone(),
            )
        };
        rank(
            (self.platform_train(), other.platform_train()),
            (key(self), key(other)),
        )
    }
}

impl fmt::Display for NxosVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}({}{}){}",
            self.major, self.minor, self.maintenance, self.maintenance_letters, self.train
        )?;
        if let Some(number) = self.train_number {
            write!(f, "{number}")?;
        }
        if let Some((number, sub, letters)) = &self.rebuild {
            write!(f, "({number}")?;
            if let Some(sub) = sub {
                write!(f, ".{sub}")?;
            }
            write!(f, "{letters})")?;
        }
        Ok(())
    }
}

/// Huawei VRP: `V<version>R<release>[C<customisation>][SPC<service pack>]`
/// `[SPH<hot patch>][B<build>]`, fields compared as numbers in that order, an
/// absent field before any present one (`V200R024C00` < `V200R024C00SPC100`).
/// Names without `C` (`V200R011SPH016`, how patch files are named) form their
/// own family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct VrpVersion {
    version: u32,
    release: u32,
    customisation: Option<u32>,
    service_pack: Option<u32>,
    hot_patch: Option<u32>,
    build: Option<u32>,
}

impl VrpVersion {
    fn parse(text: &str) -> Result<Self, String> {
        let mut scanner = Scanner::new(text);
        scanner.expect('V', "at the start")?;
        let version = scanner.number("version number after V")?;
        scanner.expect('R', "after the version number")?;
        let release = scanner.number("release number after R")?;
        let field = |scanner: &mut Scanner<'_>, tag: &str| -> Result<Option<u32>, String> {
            if scanner.eat_word(tag) {
                scanner.number(&format!("number after {tag}")).map(Some)
            } else {
                Ok(None)
            }
        };
        let customisation = field(&mut scanner, "C")?;
        let service_pack = field(&mut scanner, "SPC")?;
        let hot_patch = field(&mut scanner, "SPH")?;
        let build = field(&mut scanner, "B")?;
        scanner.finish()?;
        Ok(VrpVersion {
            version,
            release,
            customisation,
            service_pack,
            hot_patch,
            build,
        })
    }

    fn compare(&self, other: &Self) -> VersionOrdering {
        let key = |v: &Self| {
            (
                v.version,
                v.release,
                v.customisation,
                v.service_pack,
                v.hot_patch,
                v.build,
            )
        };
        rank(
            (self.customisation.is_some(), other.customisation.is_some()),
            (key(self), key(other)),
        )
    }
}

impl fmt::Display for VrpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "V{:03}R{:03}", self.version, self.release)?;
        if let Some(customisation) = self.customisation {
            write!(f, "C{customisation:02}")?;
        }
        if let Some(service_pack) = self.service_pack {
            write!(f, "SPC{service_pack:03}")?;
        }
        if let Some(hot_patch) = self.hot_patch {
            write!(f, "SPH{hot_patch:03}")?;
        }
        if let Some(build) = self.build {
            write!(f, "B{build:03}")?;
        }
        Ok(())
    }
}

/// Juniper Junos: `major.minor<type><number>[-<S|D><number>][.<build>][-EVO]`.
/// The family is the release type (`R`, `F`, alpha `A`, beta `B`, internal
/// `I`), an `X` release with its
/// train number (`X48`, `X49`, `X53`: only the same X train compares), and
/// Junos Evolved. Within a family: major, minor, number, then the service
/// release (`18.4R3` < `18.4R3-S1` < `18.4R4`), then the build/respin (an
/// absent build sorts before any build: `20.4R1` < `20.4R1.12`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct JunosVersion {
    major: u32,
    minor: u32,
    release_type: char,
    release_number: u32,
    service: Option<(char, u32)>,
    build: Option<u32>,
    evolved: bool,
}

impl JunosVersion {
    fn parse(text: &str) -> Result<Self, String> {
        let mut scanner = Scanner::new(text);
        let major = scanner.number("major release number")?;
        scanner.expect('.', "after the major release number")?;
        let minor = scanner.number("minor release number")?;
        let release_type = match scanner.peek().map(|c| c.to_ascii_uppercase()) {
            Some(c @ ('R' | 'F' | 'A' | 'B' | 'I' | 'X')) => {
                scanner.eat(c);
                c
            }
            _ => {
                return Err(format!(
                    "expected a release type R, X, F, A, B or I after the minor release number, found {}",
                    scanner.describe_next()
                ));
            }
        };
        let release_number = scanner.number("release number")?;
        let mut service = None;
        let mut evolved = false;
        if scanner.eat('-') {
            if scanner.eat_word("EVO") {
                evolved = true;
            } else {
                let letter = match scanner.peek().map(|c| c.to_ascii_uppercase()) {
                    Some(c @ ('S' | 'D')) => {
                        scanner.eat(c);
                        c
                    }
                    _ => {
                        return Err(format!(
                            "expected S (service release), D or EVO after '-', found {}",
                            scanner.describe_next()
                        ));
                    }
                };
                service = Some((letter, scanner.number("service release number")?));
            }
        }
        let build = if !evolved && scanner.eat('.') {
            Some(scanner.number("build number")?)
        } else {
            None
        };
        if !evolved && scanner.eat('-') {
            if !scanner.eat_word("EVO") {
                return Err(format!(
                    "expected EVO after '-', found {}",
                    scanner.describe_next()
                ));
            }
            evolved = true;
        }
        scanner.finish()?;
        Ok(JunosVersion {
            major,
            minor,
            release_type,
            release_number,
            service,
            build,
            evolved,
        })
    }

    fn compare(&self, other: &Self) -> VersionOrdering {
        let family = |v: &Self| {
            let x_train = (v.release_type == 'X').then_some(v.release_number);
            (v.release_type, x_train, v.evolved)
        };
        let key = |v: &Self| (v.major, v.minor, v.release_number, v.service, v.build);
        rank((family(self), family(other)), (key(self), key(other)))
    }
}

impl fmt::Display for JunosVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}{}{}",
            self.major, self.minor, self.release_type, self.release_number
        )?;
        if let Some((letter, number)) = self.service {
            write!(f, "-{letter}{number}")?;
        }
        if let Some(build) = self.build {
            write!(f, ".{build}")?;
        }
        if self.evolved {
            f.write_str("-EVO")?;
        }
        Ok(())
    }
}

/// The tail of a JUNOSe version: a release build or a patch on a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum JunoseTailKind {
    Release,
    Patch,
}

/// Juniper JUNOSe: dotted (or dashed) numbers with an optional tail
/// `release-a.b` or `patch-a.b` (`p0-1` is `patch-0.1`). Order: numbers,
/// then no tail < release < patch, then the tail numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct JunoseVersion {
    numbers: Vec<u32>,
    tail: Option<(JunoseTailKind, Vec<u32>)>,
}

impl JunoseVersion {
    fn parse(text: &str) -> Result<Self, String> {
        let mut scanner = Scanner::new(strip_build_label(text));
        let numbers = dashed_or_dotted(&mut scanner, "release number")?;
        if numbers.len() < 2 {
            return Err("expected at least 2 dot-separated release numbers".into());
        }
        scanner.take_while(|c| c == ' ' || c == '\t');
        let kind = if scanner.eat_word("patch") || scanner.eat_word("p") {
            Some(JunoseTailKind::Patch)
        } else if scanner.eat_word("release") || scanner.eat_word("rel") || scanner.eat_word("r") {
            Some(JunoseTailKind::Release)
        } else {
            None
        };
        let tail = match kind {
            Some(kind) => {
                scanner.eat('-');
                Some((kind, dashed_or_dotted(&mut scanner, "patch number")?))
            }
            None => None,
        };
        scanner.finish()?;
        Ok(JunoseVersion { numbers, tail })
    }

    fn compare(&self, other: &Self) -> VersionOrdering {
        rank(
            ((), ()),
            ((&self.numbers, &self.tail), (&other.numbers, &other.tail)),
        )
    }
}

/// Numbers separated by `.` or `-` (JUNOSe file names use dashes).
fn dashed_or_dotted(scanner: &mut Scanner<'_>, what: &str) -> Result<Vec<u32>, String> {
    let mut numbers = vec![scanner.number(what)?];
    while matches!(scanner.peek(), Some('.' | '-'))
        && scanner.peek_second().is_some_and(|c| c.is_ascii_digit())
    {
        scanner.position += 1;
        numbers.push(scanner.number(what)?);
    }
    Ok(numbers)
}

impl fmt::Display for JunoseVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_dotted(f, &self.numbers)?;
        if let Some((kind, numbers)) = &self.tail {
            f.write_str(match kind {
                JunoseTailKind::Release => " release-",
                JunoseTailKind::Patch => " patch-",
            })?;
            write_dotted(f, numbers)?;
        }
        Ok(())
    }
}

/// Cisco ASA: `major.minor(maintenance)[interim]`, e.g. `9.8(4)32`; the
/// interim release sorts after its maintenance release.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AsaVersion {
    major: u32,
    minor: u32,
    maintenance: u32,
    interim: Option<u32>,
}

impl AsaVersion {
    fn parse(text: &str) -> Result<Self, String> {
        let mut scanner = Scanner::new(text);
        let major = scanner.number("major release number")?;
        scanner.expect('.', "after the major release number")?;
        let minor = scanner.number("minor release number")?;
        scanner.expect('(', "after the minor release number")?;
        let maintenance = scanner.number("maintenance release number")?;
        scanner.expect(')', "after the maintenance release number")?;
        let interim = scanner.optional_number("interim release number")?;
        scanner.finish()?;
        Ok(AsaVersion {
            major,
            minor,
            maintenance,
            interim,
        })
    }

    fn compare(&self, other: &Self) -> VersionOrdering {
        let key = |v: &Self| (v.major, v.minor, v.maintenance, v.interim);
        rank(((), ()), (key(self), key(other)))
    }
}

impl fmt::Display for AsaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}({})", self.major, self.minor, self.maintenance)?;
        if let Some(interim) = self.interim {
            write!(f, "{interim}")?;
        }
        Ok(())
    }
}

/// Check Point Gaia: `R81.20`, optionally with a Jumbo Hotfix take
/// (`R81.10 Take 95`, `R81.10 JHF Take 95`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct GaiaVersion {
    numbers: Vec<u32>,
    take: Option<u32>,
}

impl GaiaVersion {
    fn parse(text: &str) -> Result<Self, String> {
        let mut scanner = Scanner::new(text);
        scanner.expect('R', "at the start")?;
        let numbers = scanner.dotted_numbers(1, "release number")?;
        scanner.take_while(|c| c == ' ');
        let take = if scanner.eat_word("JHF") || scanner.eat_word("Take") {
            scanner.take_while(|c| c == ' ');
            scanner.eat_word("Take");
            scanner.take_while(|c| c == ' ');
            Some(scanner.number("Jumbo Hotfix take number")?)
        } else {
            None
        };
        scanner.finish()?;
        Ok(GaiaVersion { numbers, take })
    }

    fn compare(&self, other: &Self) -> VersionOrdering {
        rank(
            ((), ()),
            ((&self.numbers, self.take), (&other.numbers, other.take)),
        )
    }
}

impl fmt::Display for GaiaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("R")?;
        write_dotted(f, &self.numbers)?;
        if let Some(take) = self.take {
            write!(f, " Take {take}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn display(os: Os, input: &str) -> String {
        Version::parse(os, input)
            .unwrap_or_else(|error| panic!("{input}: {error}"))
            .to_string()
    }

    #[test]
    fn canonical_display_drops_leading_zeros_and_normalises_case() {
        for (os, input, expected) in [
            (Os::Iosxe, "16.12.04", "16.12.4"),
            (Os::Iosxe, "17.09.04a", "17.9.4a"),
            (Os::Iosxe, "17.9.4A", "17.9.4a"),
            (Os::Iosxe, "03.07.03E", "3.7.3E"),
            (Os::Iosxe, "03.04.06.SG", "3.4.6SG"),
            (Os::Iosxe, "03.13.00.S", "3.13.0S"),
            (Os::Iosxe, "03.16.04b.S", "3.16.4bS"),
            (Os::Iosxe, "3.16.4bS", "3.16.4bS"),
            (Os::Iosxe, "16.3.20170410:103306", "16.3.20170410:103306"),
            (Os::Iosxe, "17.14.20230924:023456", "17.14.20230924:023456"),
            (Os::Iosxe, "15.4(3)S4", "15.4(3)S4"),
            (Os::Ios, "12.2(25)see2", "12.2(25)SEE2"),
            (Os::Ios, "12.4(5B)", "12.4(5b)"),
            (Os::Ios, "15.2(4)M6A", "15.2(4)M6a"),
            (Os::Ios, " 12.2(58)SE2$ ", "12.2(58)SE2$"),
            (Os::Ios, "012.02(01.5)T", "12.2(1.5)T"),
            (Os::Iosxr, "5.3.4[Default]", "5.3.4"),
            (Os::Iosxr, "6.2.1.23i", "6.2.1.23I"),
            (Os::Nxos, "7.0(3)i7(09)", "7.0(3)I7(9)"),
            (Os::Nxos, "5.2(1)SV3(1.10)", "5.2(1)SV3(1.10)"),
            (Os::Vrp, "v200r24c0spc500", "V200R024C00SPC500"),
            (Os::Vrp, "sph1", "SPH001"),
            (Os::Vrp, "V200R011SPH016", "V200R011SPH016"),
            (Os::Junos, "21.4r3-s3.4", "21.4R3-S3.4"),
            (Os::Junos, "21.4R3-S3.4-evo", "21.4R3-S3.4-EVO"),
            (Os::Junose, "15.1.0p0-1", "15.1.0 patch-0.1"),
            (Os::Junose, "10-3-2p0-2", "10.3.2 patch-0.2"),
            (
                Os::Junose,
                "10.3.2 patch-0.2 [BuildId 12917]",
                "10.3.2 patch-0.2",
            ),
            (Os::Gaia, "R81.10 JHF Take 95", "R81.10 Take 95"),
            (Os::Cheetah, "15.3(3)ja1", "15.3(3)JA1"),
        ] {
            assert_eq!(display(os, input), expected, "{os} {input}");
        }
    }

    #[test]
    fn train_and_interim_are_reported() {
        let train = |os, input| Version::parse(os, input).ok().and_then(|v| v.train());
        assert_eq!(train(Os::Ios, "12.2(25)SEE2").as_deref(), Some("SEE"));
        assert_eq!(train(Os::Ios, "12.4(5b)"), None);
        assert_eq!(train(Os::Nxos, "7.0(3)I7(9)").as_deref(), Some("I7"));
        assert_eq!(train(Os::Junos, "15.1X49-D100.6").as_deref(), Some("X49"));
        assert_eq!(train(Os::Iosxe, "03.07.03E").as_deref(), Some("E"));
        let interim = |os, input| Version::parse(os, input).is_ok_and(|v| v.is_interim());
        assert!(interim(Os::Ios, "12.2(1.5)T"));
        assert!(interim(Os::Iosxr, "6.2.1.23I"));
        assert!(interim(Os::Iosxe, "16.3.20170410:103306"));
        assert!(!interim(Os::Ios, "12.2(2)T"));
    }

    #[test]
    fn versions_of_different_os_are_incomparable() {
        let ios = Version::parse(Os::Ios, "15.3(3)JA1").unwrap();
        let ap = Version::parse(Os::Cheetah, "15.3(3)JA1").unwrap();
        assert_eq!(ios.compare(&ap), VersionOrdering::Incomparable);
        assert_ne!(ios, ap);
    }
}
