//! Property tests of vendor versions over generated versions of every OS:
//! display round trips, antisymmetry, transitivity, and equality agreeing with
//! `compare` and hashing.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use netswim_domain::Os;
use netswim_domain::version::{Version, VersionOrdering};
use proptest::prelude::*;
use proptest::strategy::Union;

use VersionOrdering::{Equal, Incomparable, Less};

/// A number, sometimes written with leading zeros as vendors do (`03`, `04`).
fn number(range: std::ops::RangeInclusive<u32>) -> impl Strategy<Value = String> {
    (range, any::<bool>()).prop_map(|(n, padded)| {
        if padded {
            format!("{n:02}")
        } else {
            n.to_string()
        }
    })
}

/// Writes `text` in upper or lower case.
fn any_case(text: String) -> impl Strategy<Value = String> {
    any::<bool>().prop_map(move |lower| {
        if lower {
            text.to_ascii_lowercase()
        } else {
            text.clone()
        }
    })
}

fn optional<T: std::fmt::Debug + Clone + 'static>(
    strategy: impl Strategy<Value = T> + 'static,
) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(strategy)
}

fn ios_style(trains: &'static [&'static str]) -> BoxedStrategy<String> {
    (
        12u32..=15,
        number(0..=4),
        number(1..=5),
        prop::collection::vec(0u32..=3, 0..=2),
        optional(prop::sample::select(vec!["a", "b"])),
        prop::sample::select(trains),
        optional((0u32..=12, optional(prop::sample::select(vec!["a", "b"])))),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(major, minor, release, interim, letter, train, rebuild, special)| {
                let mut text = format!("{major}.{minor}({release}");
                for interim in interim {
                    text += &format!(".{interim}");
                }
                text += letter.unwrap_or("");
                text += ")";
                text += train;
                if let (false, Some((number, letter))) = (train.is_empty(), rebuild) {
                    text += &format!("{number}{}", letter.unwrap_or(""));
                }
                if special {
                    text += "$";
                }
                text
            },
        )
        .prop_flat_map(any_case)
        .boxed()
}

fn ios() -> BoxedStrategy<String> {
    ios_style(&[
        "", "T", "SE", "SEA", "SEE", "SX", "SXJ", "E", "M", "JA", "JG", "JAB",
    ])
}

fn iosxe() -> BoxedStrategy<String> {
    let modern = (16u32..=17, number(1..=12), number(0..=5), optional("[ab]")).prop_map(
        |(major, minor, patch, rebuild)| {
            format!("{major}.{minor}.{patch}{}", rebuild.unwrap_or_default())
        },
    );
    let three = (
        number(2..=16),
        number(0..=4),
        optional("[ab]"),
        prop::sample::select(vec!["E", "S", "SG"]),
        any::<bool>(),
    )
        .prop_map(|(minor, patch, rebuild, train, dotted)| {
            let rebuild = rebuild.unwrap_or_default();
            if dotted {
                format!("03.{minor}.{patch}{rebuild}.{train}")
            } else {
                format!("3.{minor}.{patch}{rebuild}{train}")
            }
        });
    let engineering = (16u32..=17, 1u32..=14, 20170101u32..=20170105, 0u32..=235959)
        .prop_map(|(major, minor, date, time)| format!("{major}.{minor}.{date}:{time:06}"));
    let prerelease = (16u32..=17, number(1..=12), number(0..=2), 1u32..=30)
        .prop_map(|(major, minor, patch, build)| format!("{major}.{minor}.{patch}prd{build}"));
    let ios = ios_style(&["S", "E"]);
    prop_oneof![modern, three, engineering, prerelease, ios].boxed()
}

fn iosxr() -> BoxedStrategy<String> {
    (
        5u32..=7,
        number(0..=5),
        number(1..=3),
        optional(1u32..=30),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(major, minor, patch, build, interim, label)| {
            let mut text = format!("{major}.{minor}.{patch}");
            if let Some(build) = build {
                text += &format!(".{build}");
            }
            if interim {
                text += "I";
            }
            if label {
                text += if patch == "1" { " LNT" } else { "[Default]" };
            }
            text
        })
        .boxed()
}

fn nxos() -> BoxedStrategy<String> {
    let rebuild =
        (1u32..=10, optional(1u32..=12), optional("[a-b]")).prop_map(|(number, sub, letter)| {
            let sub = sub.map(|s| format!(".{s}")).unwrap_or_default();
            format!("({number}{sub}{})", letter.unwrap_or_default())
        });
    let train = prop_oneof![
        Just(String::new()),
        prop::sample::select(vec!["F", "M"]).prop_map(String::from),
        (
            prop::sample::select(vec!["I", "U", "N"]),
            1u32..=7,
            optional(rebuild)
        )
            .prop_map(|(train, n, rebuild)| format!("{train}{n}{}", rebuild.unwrap_or_default())),
    ];
    (
        6u32..=10,
        number(0..=3),
        number(1..=5),
        optional("[ab]"),
        train,
        prop_oneof![Just(""), Just(" [Feature Release]")],
    )
        .prop_map(|(major, minor, maintenance, letter, train, label)| {
            let letter = letter.unwrap_or_default();
            format!("{major}.{minor}({maintenance}{letter}){train}{label}")
        })
        .prop_flat_map(any_case)
        .boxed()
}

fn vrp() -> BoxedStrategy<String> {
    let full = (
        prop::sample::select(vec![100u32, 200, 800]),
        1u32..=24,
        optional(0u32..=20),
        optional(1u32..=9),
        optional(1u32..=9),
        optional(1u32..=20),
    )
        .prop_map(|(v, r, c, spc, sph, build)| {
            let mut text = format!("V{v:03}R{r:03}");
            if let Some(c) = c {
                text += &format!("C{c:02}");
            }
            if let Some(spc) = spc {
                text += &format!("SPC{}00", spc);
            }
            if let Some(sph) = sph {
                text += &format!("SPH{sph:03}");
            }
            if let Some(build) = build {
                text += &format!("B{build:03}");
            }
            text
        });
    let patch = (1u32..=20).prop_map(|n| format!("SPH{n:03}"));
    let dotted = (5u32..=8, 100u32..=200).prop_map(|(a, b)| format!("{a}.{b}"));
    prop_oneof![full, patch, dotted]
        .prop_flat_map(any_case)
        .boxed()
}

fn junos() -> BoxedStrategy<String> {
    let release = (
        prop::sample::select(vec!["R", "F", "B"]),
        1u32..=4,
        optional((Just("S"), 1u32..=9)),
    );
    let special = (
        prop::sample::select(vec!["X48", "X49", "X53"]),
        optional((Just("D"), 10u32..=100)),
    );
    let kind = prop_oneof![
        release.prop_map(|(kind, n, service)| (format!("{kind}{n}"), service)),
        special.prop_map(|(train, service)| (train.to_string(), service)),
    ];
    (
        12u32..=22,
        1u32..=4,
        kind,
        optional(1u32..=12),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(major, minor, (kind, service), build, evolved)| {
            let mut text = format!("{major}.{minor}{kind}");
            if let Some((letter, number)) = service {
                text += &format!("-{letter}{number}");
            }
            if let Some(build) = build {
                text += &format!(".{build}");
            }
            if evolved {
                text += "-EVO";
            }
            text
        })
        .prop_flat_map(any_case)
        .boxed()
}

fn aireos() -> BoxedStrategy<String> {
    (7u32..=8, number(0..=10), number(100..=200), number(0..=3))
        .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"))
        .boxed()
}

fn junose() -> BoxedStrategy<String> {
    let tail = prop_oneof![
        Just(String::new()),
        (0u32..=1, 1u32..=30).prop_map(|(a, b)| format!(" release-{a}.{b}")),
        (0u32..=1, 1u32..=30).prop_map(|(a, b)| format!(" patch-{a}.{b}")),
        (0u32..=1, 1u32..=30).prop_map(|(a, b)| format!("p{a}-{b}")),
    ];
    (10u32..=16, 0u32..=3, 0u32..=3, tail)
        .prop_map(|(a, b, c, tail)| format!("{a}.{b}.{c}{tail}"))
        .boxed()
}

fn asa() -> BoxedStrategy<String> {
    (8u32..=9, number(1..=16), number(1..=4), optional(1u32..=40))
        .prop_map(|(major, minor, maintenance, interim)| {
            let interim = interim.map(|i| i.to_string()).unwrap_or_default();
            format!("{major}.{minor}({maintenance}){interim}")
        })
        .boxed()
}

fn gaia() -> BoxedStrategy<String> {
    (
        prop::sample::select(vec!["R80.40", "R81.10", "R81.20"]),
        optional(1u32..=100),
    )
        .prop_map(|(release, take)| match take {
            Some(take) => format!("{release} Take {take}"),
            None => release.to_string(),
        })
        .boxed()
}

fn cheetah() -> BoxedStrategy<String> {
    let dotted = (8u32..=17, number(0..=12), number(0..=3), number(0..=200))
        .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}"));
    prop_oneof![dotted, ios_style(&["JA", "JB", "JG"])].boxed()
}

/// Versions of one family per OS, so that triples are often comparable.
fn narrow_version_text(os: Os) -> BoxedStrategy<String> {
    match os {
        Os::Ios => ios_style(&["SE", "SEB", "SEE"]),
        Os::Iosxe => (16u32..=17, number(1..=3), number(0..=2), optional("[ab]"))
            .prop_map(|(major, minor, patch, rebuild)| {
                format!("{major}.{minor}.{patch}{}", rebuild.unwrap_or_default())
            })
            .boxed(),
        Os::Iosxr => (6u32..=7, number(0..=2), number(1..=3))
            .prop_map(|(a, b, c)| format!("{a}.{b}.{c}"))
            .boxed(),
        Os::Nxos => (
            7u32..=7,
            0u32..=0,
            number(3..=3),
            6u32..=7,
            1u32..=3,
            optional("[ab]"),
        )
            .prop_map(|(major, minor, maintenance, train, rebuild, letter)| {
                format!(
                    "{major}.{minor}({maintenance})I{train}({rebuild}{})",
                    letter.unwrap_or_default()
                )
            })
            .boxed(),
        Os::Vrp => (
            1u32..=2,
            19u32..=20,
            0u32..=1,
            optional(1u32..=3),
            optional(1u32..=2),
        )
            .prop_map(|(v, r, c, spc, sph)| {
                let mut text = format!("V{v}00R0{r}C{c}0");
                if let Some(spc) = spc {
                    text += &format!("SPC{spc}00");
                }
                if let Some(sph) = sph {
                    text += &format!("SPH{sph:03}");
                }
                text
            })
            .boxed(),
        Os::Junos => (
            18u32..=19,
            3u32..=4,
            1u32..=2,
            optional(1u32..=2),
            optional(1u32..=2),
        )
            .prop_map(|(major, minor, number, service, build)| {
                let mut text = format!("{major}.{minor}R{number}");
                if let Some(service) = service {
                    text += &format!("-S{service}");
                }
                if let Some(build) = build {
                    text += &format!(".{build}");
                }
                text
            })
            .boxed(),
        Os::Cheetah => ios_style(&["JA", "JB", "JG"]),
        other => version_text(other),
    }
}

fn version_text(os: Os) -> BoxedStrategy<String> {
    match os {
        Os::Ios => ios(),
        Os::Iosxe => iosxe(),
        Os::Iosxr => iosxr(),
        Os::Nxos => nxos(),
        Os::Vrp => vrp(),
        Os::Junos => junos(),
        Os::Aireos => aireos(),
        Os::Junose => junose(),
        Os::Asa => asa(),
        Os::Gaia => gaia(),
        Os::Cheetah => cheetah(),
    }
}

fn version(os: Os) -> impl Strategy<Value = Version> {
    parsed(os, version_text(os))
}

fn parsed(os: Os, text: BoxedStrategy<String>) -> impl Strategy<Value = Version> {
    text.prop_map(move |text| {
        Version::parse(os, &text).unwrap_or_else(|error| panic!("generated '{text}': {error}"))
    })
}

fn any_os() -> impl Strategy<Value = Os> {
    prop::sample::select(Os::ALL.to_vec())
}

/// Three versions of one OS: independent, of one family, or near each other.
fn triple() -> impl Strategy<Value = (Version, Version, Version)> {
    let any = any_os().prop_flat_map(|os| (version(os), version(os), version(os)));
    let narrow = any_os().prop_flat_map(|os| {
        let one = move || parsed(os, narrow_version_text(os));
        (one(), one(), one())
    });
    prop_oneof![any, narrow, neighbour_triple()]
}

/// A small edit of a version's text, to reach nearby (often equal or adjacent)
/// versions that independent generation rarely hits.
#[derive(Debug, Clone)]
enum Edit {
    Remove(usize),
    Duplicate(usize),
    InsertZero(usize),
    BumpDigit(usize),
    AppendLetter(char),
    Lower,
    Upper,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::Remove),
        any::<usize>().prop_map(Edit::Duplicate),
        any::<usize>().prop_map(Edit::InsertZero),
        any::<usize>().prop_map(Edit::BumpDigit),
        prop::sample::select(vec!['a', 'b', '$', 'I', 'E']).prop_map(Edit::AppendLetter),
        Just(Edit::Lower),
        Just(Edit::Upper),
    ]
}

/// Applies `edit` to the version's display form; keeps `version` when the
/// edited text is not a valid version.
fn edited(version: &Version, edit: &Edit) -> Version {
    let mut text: Vec<char> = version.to_string().chars().collect();
    let at = |index: usize| index % text.len().max(1);
    match *edit {
        Edit::Remove(index) => {
            let index = at(index);
            text.remove(index);
        }
        Edit::Duplicate(index) => {
            let index = at(index);
            text.insert(index, text[index]);
        }
        Edit::InsertZero(index) => {
            let index = at(index);
            text.insert(index, '0');
        }
        Edit::BumpDigit(index) => {
            let index = at(index);
            if let Some(digit) = text[index].to_digit(10) {
                text[index] = char::from_digit((digit + 1) % 10, 10).unwrap_or('0');
            }
        }
        Edit::AppendLetter(letter) => text.push(letter),
        Edit::Lower => text.iter_mut().for_each(|c| c.make_ascii_lowercase()),
        Edit::Upper => text.iter_mut().for_each(|c| c.make_ascii_uppercase()),
    }
    let text: String = text.into_iter().collect();
    Version::parse(version.os(), &text).unwrap_or_else(|_| version.clone())
}

/// A version and two successive small edits of it.
fn neighbour_triple() -> impl Strategy<Value = (Version, Version, Version)> {
    (any_os().prop_flat_map(version), edit(), edit()).prop_map(|(a, first, second)| {
        let b = edited(&a, &first);
        let c = edited(&b, &second);
        (a, b, c)
    })
}

fn hash_of(version: &Version) -> u64 {
    let mut hasher = DefaultHasher::new();
    version.hash(&mut hasher);
    hasher.finish()
}

fn at_most(ordering: VersionOrdering) -> bool {
    matches!(ordering, Less | Equal)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_versions_of_every_os_parse(
        _ in Union::new(Os::ALL.map(|os| version(os).boxed()))
    ) {}

    #[test]
    fn display_round_trips_and_is_idempotent((a, b, c) in triple()) {
        for version in [a, b, c] {
            let shown = version.to_string();
            let reparsed = Version::parse(version.os(), &shown);
            prop_assert_eq!(reparsed.as_ref(), Ok(&version), "{}", shown);
            if let Ok(reparsed) = reparsed {
                prop_assert_eq!(reparsed.to_string(), shown);
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics_and_accepted_text_round_trips(
        os in any_os(),
        text in "[0-9A-Za-z.()$:\\[\\] -]{0,20}|[0-9.()A-Z:-]{1,16}",
    ) {
        if let Ok(version) = Version::parse(os, &text) {
            let shown = version.to_string();
            let reparsed = Version::parse(os, &shown);
            prop_assert_eq!(reparsed.as_ref(), Ok(&version), "{} shown as {}", text, shown);
            if let Ok(reparsed) = reparsed {
                prop_assert_eq!(reparsed.to_string(), shown);
            }
        }
    }

    #[test]
    fn compare_is_antisymmetric_and_reflexive((a, b, _) in triple()) {
        prop_assert_eq!(a.compare(&b), b.compare(&a).reverse(), "{} vs {}", a, b);
        prop_assert_eq!(a.compare(&a), Equal);
    }

    #[test]
    fn equal_versions_compare_equal_and_hash_the_same((a, b, _) in triple()) {
        prop_assert_eq!(a == b, a.compare(&b) == Equal, "{} vs {}", a, b);
        if a == b {
            prop_assert_eq!(hash_of(&a), hash_of(&b));
            prop_assert_eq!(a.to_string(), b.to_string());
        }
    }

    #[test]
    fn compare_is_transitive_among_comparable_versions((a, b, c) in triple()) {
        let (ab, bc, ac) = (a.compare(&b), b.compare(&c), a.compare(&c));
        if at_most(ab) && at_most(bc) {
            let expected = if ab == Equal && bc == Equal { Equal } else { Less };
            prop_assert_eq!(ac, expected, "{} {} {} / {} {}", a, b, c, ab, bc);
        }
        if ab == Equal {
            prop_assert_eq!(ac, bc, "{} == {} vs {}", a, b, c);
        }
        if ab == Incomparable && bc == Equal {
            prop_assert_eq!(ac, Incomparable);
        }
    }
}
