//! Pins the ordering, equality and error behaviour of vendor versions on the
//! examples of issue 2 (DESIGN.md §3), checked in both directions.

use netswim_domain::version::{Version, VersionOrdering, compare_versions};
use netswim_domain::{DomainError, Os};

use VersionOrdering::{Equal, Greater, Incomparable, Less};

/// Compares `a` with `b` and `b` with `a`.
fn check(os: Os, a: &str, b: &str, expected: VersionOrdering) {
    let parse =
        |input| Version::parse(os, input).unwrap_or_else(|error| panic!("{os} '{input}': {error}"));
    let (first, second) = (parse(a), parse(b));
    assert_eq!(first.compare(&second), expected, "{os}: {a} vs {b}");
    assert_eq!(
        second.compare(&first),
        expected.reverse(),
        "{os}: {b} vs {a}"
    );
    assert_eq!(first == second, expected == Equal, "{os}: {a} == {b}");
}

#[test]
fn cisco_ios_trains_rebuilds_and_interim_builds_order_as_cisco_ships_them() {
    for (a, b, expected) in [
        // Numbers compare as numbers.
        ("12.2(55)SE9", "12.2(55)SE10", Less),
        ("12.2(55)SE10", "15.0(2)SE11", Less),
        ("15.2(2)E7", "15.2(7)E8", Less),
        // Rebuild letters.
        ("12.4(5b)", "12.4(5a)", Greater),
        ("12.4(5)", "12.4(5a)", Less),
        ("15.2(4)M6", "15.2(4)M6a", Less),
        ("15.2(4)M6a", "15.2(4)M7", Less),
        ("15.5(3)S10a", "15.5(3)S10", Greater),
        // Train variants: the variant letter dominates the rebuild number.
        ("12.2(25)SEE2", "12.2(25)SEB4", Greater),
        ("12.2(25)SEE1", "12.2(25)SEE2", Less),
        ("12.2(25)SE", "12.2(25)SEE", Less),
        ("12.2(35)SE", "12.2(25)SEE4", Greater),
        ("12.2(18)EW5", "12.2(25)EWA14", Less),
        ("12.2(33)SXJ", "12.2(33)SXJ9", Less),
        ("12.2(33)SXI14", "12.2(33)SXJ", Less),
        ("15.3(3)JG1", "15.3(3)JA1", Greater),
        ("15.3(3)JA1", "15.3(3)JAB", Less),
        ("12.4(25d)JA2", "15.3(3)JA1", Less),
        // Interim builds 12.2(1.x) sort after 12.2(1) and before 12.2(2).
        ("12.2(1)T", "12.2(1.5)T", Less),
        ("12.2(1.5)T", "12.2(2)T", Less),
        ("12.2(1)", "12.2(1.5)", Less),
        ("12.2(1.5)", "12.2(2)", Less),
        // Special builds sort just after their base build.
        ("12.2(58)SE2", "12.2(58)SE2$", Less),
        ("12.2(58)SE2$", "12.2(58)SE3", Less),
        // Unrelated trains are incomparable.
        ("12.2(55)SE8", "12.2(33)SXJ", Incomparable),
        ("15.2(2)E7", "15.1(4)M8", Incomparable),
        ("12.4(5)", "12.4(15)T", Incomparable),
        ("15.0(2)SE11", "15.2(2)E7", Incomparable),
        ("12.2(33)SXJ9", "12.2(33)SRE", Incomparable),
        // Spellings of one release are equal.
        ("12.2(25)SEE1", "12.2(25)see1", Equal),
        ("15.2(2)E7", "15.02(02)E07", Equal),
        ("12.2(58)SE2$", "12.2(58)SE2$", Equal),
    ] {
        check(Os::Ios, a, b, expected);
    }
}

#[test]
fn cisco_ios_xe_drops_leading_zeros_and_orders_rebuilds() {
    for (a, b, expected) in [
        ("16.12.04", "16.12.4", Equal),
        ("03.07.03E", "3.7.3E", Equal),
        ("17.09.04a", "17.9.4a", Equal),
        ("03.04.06.SG", "3.4.6SG", Equal),
        ("17.9.4", "17.9.4a", Less),
        ("17.9.4a", "17.9.4b", Less),
        ("17.9.4b", "17.9.5", Less),
        ("17.9.1", "17.10.1", Less),
        ("16.12.4", "17.3.1", Less),
        ("3.6.10E", "03.07.03E", Less),
        ("03.13.00.S", "03.16.04b.S", Less),
        ("3.16.4S", "3.16.4bS", Less),
        ("16.3.20170410:103306", "17.14.20230924:023456", Less),
        ("17.14.20230924:023456", "17.14.20230924:023457", Less),
        // 3.x trains, releases and engineering builds are separate families.
        ("03.07.03E", "03.04.06.SG", Incomparable),
        ("03.13.00.S", "03.07.03E", Incomparable),
        ("3.7.3E", "16.12.4", Incomparable),
        ("16.3.20170410:103306", "16.3.5", Incomparable),
        // IOS-style versions reported by XE 3.x routers.
        ("15.4(3)S4", "15.5(3)S10a", Less),
        ("15.2(3)E3", "03.07.03E", Incomparable),
    ] {
        check(Os::Iosxe, a, b, expected);
    }
}

#[test]
fn cisco_ios_xr_orders_releases_and_keeps_interim_builds_apart() {
    for (a, b, expected) in [
        ("6.5.3", "7.3.2", Less),
        ("7.9.1", "7.10.1", Less),
        ("24.1.1", "7.11.2", Greater),
        ("5.3.4[Default]", "5.3.4", Equal),
        ("6.2.1.23I", "6.2.1.24I", Less),
        ("6.2.1.23I", "6.2.1", Incomparable),
    ] {
        check(Os::Iosxr, a, b, expected);
    }
}

#[test]
fn cisco_nxos_platform_trains_are_families() {
    for (a, b, expected) in [
        ("9.3(7)", "9.3(8)", Less),
        ("9.3(8)", "9.3(10)", Less),
        ("7.0(3)I7(8)", "7.0(3)I7(9)", Less),
        ("7.0(3)I7(9)", "7.0(3)I7(10)", Less),
        ("7.0(3)I6(1)", "7.0(3)I7(1)", Less),
        ("6.0(2)U6(9)", "6.0(2)U6(10)", Less),
        ("8.4(2)", "8.4(2a)", Less),
        ("8.4(2a)", "8.4(2b)", Less),
        ("9.3(8)", "10.2(3)F", Less),
        ("10.2(3)F", "10.2(5)M", Less),
        ("5.2(1)SV3(1.10)", "5.2(1)SV3(1.15)", Less),
        ("7.0(3)I7(9)", "07.0(03)I7(09)", Equal),
        ("7.0(3)I7(9)", "6.0(2)U6(10)", Incomparable),
        ("7.0(3)I7(9)", "7.0(3)N1(1)", Incomparable),
        ("7.0(3)I7(9)", "9.3(8)", Incomparable),
    ] {
        check(Os::Nxos, a, b, expected);
    }
}

#[test]
fn huawei_vrp_fields_compare_as_numbers() {
    for (a, b, expected) in [
        ("V200R024C00", "V200R024C00SPC500", Less),
        ("V200R024C00SPC500", "V200R024C00SPC600", Less),
        ("V200R024C00SPC500", "V200R024C10", Less),
        ("V100R005C01", "V200R001C00", Less),
        ("V200R019C10SPC500", "V200R019C10SPC500B013", Less),
        ("V200R019C10SPC500", "V200R019C10SPC500SPH001", Less),
        ("v200r024c00spc500", "V200R024C00SPC500", Equal),
        ("SPH001", "SPH002", Less),
        ("SPH010", "SPH9", Greater),
        ("V200R011SPH016", "V200R011SPH017", Less),
        ("5.160", "5.170", Less),
        ("V200R024C00SPC500", "SPH001", Incomparable),
        ("V200R024C00SPC500", "5.170", Incomparable),
        ("V200R011SPH016", "V200R011C10SPC600", Incomparable),
    ] {
        check(Os::Vrp, a, b, expected);
    }
}

#[test]
fn junos_service_releases_sit_between_releases_and_x_trains_stand_alone() {
    for (a, b, expected) in [
        ("18.4R3", "18.4R3-S1", Less),
        ("18.4R3-S1", "18.4R4", Less),
        ("18.4R3-S1", "21.4R3-S3.4", Less),
        ("9.5B1.2", "9.5R1.6", Incomparable),
        ("9.5A1", "9.5A2", Less),
        ("21.4R3-S3", "21.4R3-S3.4", Less),
        ("17.3R3-S7.2", "17.3R3-S8", Less),
        ("20.4R1", "20.4R1.12", Less),
        ("20.4R1.12", "20.4R2", Less),
        ("15.1X49-D90.2", "15.1X49-D100.6", Less),
        ("14.1X53-D40.8", "15.1X53-D590.1", Less),
        ("21.4r3-s3.4", "21.4R3-S3.4", Equal),
        ("12.3X48-D10.4", "15.1X49-D100.6", Incomparable),
        ("14.1X53-D40.8", "14.1R1", Incomparable),
        ("15.1X49-D100.6", "18.4R3-S1", Incomparable),
        ("19.4I20200331", "19.4R1", Incomparable),
        ("21.4R3-S3.4-EVO", "21.4R3-S3.4", Incomparable),
        ("21.4R3-S3.4-EVO", "22.2R1-EVO", Less),
    ] {
        check(Os::Junos, a, b, expected);
    }
}

#[test]
fn dotted_versions_of_aireos_and_access_points_compare_numerically() {
    for (os, a, b, expected) in [
        (Os::Aireos, "8.5.182.104", "8.10.185.0", Less),
        (Os::Aireos, "8.10.185.0", "8.10.185.00", Equal),
        (Os::Aireos, "8.10.185.0", "8.10.196.0", Less),
        (Os::Cheetah, "8.10.185.0", "17.12.0.78", Less),
        (Os::Cheetah, "17.9.4.27", "17.12.0.78", Less),
        (Os::Cheetah, "15.3(3)JA1", "15.3(3)JG1", Less),
        (Os::Cheetah, "15.3(3)JA1", "17.12.0.78", Incomparable),
        (Os::Ios, "15.3(3)JA1", "15.3(3)JF15", Less),
    ] {
        check(os, a, b, expected);
    }
}

#[test]
fn junose_release_and_patch_tails_compare_numerically() {
    for (a, b, expected) in [
        ("10.3.2", "10.3.2 release-0.25", Less),
        ("16.1.0 release-0.25", "16.1.0 patch-0.1", Less),
        ("10.3.2 patch-0.2", "12.3.3 patch-1.1", Less),
        ("12.3.3 patch-1.1", "12.3.3 patch-1.10", Less),
        ("15.1.0p0-1", "15.1.0 patch-0.1", Equal),
        ("15.1.0p0-1", "16.1.0 release-0.25", Less),
    ] {
        check(Os::Junose, a, b, expected);
    }
}

#[test]
fn asa_and_gaia_versions_compare_numerically() {
    check(Os::Asa, "9.8(4)32", "9.8(4)35", Less);
    check(Os::Asa, "9.8(4)", "9.8(4)32", Less);
    check(Os::Asa, "9.12(4)37", "9.8(4)32", Greater);
    check(Os::Gaia, "R80.40", "R81.10", Less);
    check(Os::Gaia, "R81.10", "R81.10 Take 95", Less);
}

#[test]
fn compare_versions_parses_both_sides() {
    assert_eq!(
        compare_versions(Os::Ios, "12.2(25)SEE2", "12.2(25)SEB4"),
        Ok(Greater)
    );
    assert!(compare_versions(Os::Ios, "12.2(25)SEE2", "bogus").is_err());
}

/// Parses `input` expecting an error whose reason contains every fragment.
fn check_error(os: Os, input: &str, fragments: &[&str]) {
    let error = Version::parse(os, input).expect_err(input);
    let DomainError::InvalidVersion {
        os: ref error_os,
        input: ref error_input,
        ref reason,
    } = error
    else {
        panic!("{input}: unexpected error {error:?}");
    };
    assert_eq!(error_os, os.as_str());
    assert_eq!(error_input, input);
    for fragment in fragments {
        assert!(
            reason.contains(fragment),
            "{input}: '{reason}' lacks '{fragment}'"
        );
    }
    assert!(error.to_string().contains(input), "{error}");
}

#[test]
fn bad_versions_are_rejected_with_the_problem_and_an_example() {
    check_error(
        Os::Ios,
        "",
        &["empty", "a Cisco IOS version looks like 15.2(7)E8"],
    );
    check_error(Os::Ios, "   ", &["empty"]);
    check_error(
        Os::Ios,
        "garbage",
        &["major release number", "like 15.2(7)E8"],
    );
    check_error(Os::Ios, "15.2", &["expected '('", "found the end"]);
    check_error(Os::Ios, "15.2(7", &["expected ')'"]);
    check_error(
        Os::Ios,
        "15.2(7)E8 RELEASE",
        &["unexpected ' RELEASE' at the end"],
    );
    check_error(Os::Ios, "15.2(7)8", &["rebuild number needs a train"]);
    check_error(Os::Ios, "15.2(99999999999)E", &["too large"]);
    check_error(Os::Ios, "15.2(7)E8é", &["unexpected character"]);
    check_error(Os::Iosxe, "17", &["at least 2", "like 17.9.4a"]);
    check_error(Os::Iosxe, "17.9.4.S", &["no train suffix"]);
    check_error(Os::Iosxr, "7.x", &["like 7.3.2"]);
    check_error(Os::Nxos, "9.3(8", &["expected ')'", "like 9.3(8)"]);
    check_error(Os::Nxos, "9.3(8)(1)", &["platform train"]);
    check_error(Os::Vrp, "V200X024", &["expected 'R'", "V200R024C00SPC500"]);
    check_error(Os::Vrp, "SPHx", &["hot patch number"]);
    check_error(Os::Junos, "18.4Q3", &["release type", "like 18.4R3-S1"]);
    check_error(Os::Junos, "18.4R3-Z1", &["expected S"]);
    check_error(
        Os::Aireos,
        "8.10.185.0a",
        &["unexpected 'a'", "like 8.10.185.0"],
    );
    check_error(Os::Junose, "10.3.2 hotfix", &["unexpected", "patch-0.2"]);
    check_error(Os::Asa, "9.8.4", &["expected '('", "9.8(4)32"]);
    check_error(Os::Gaia, "81.20", &["expected 'R'", "R81.20"]);
    check_error(Os::Cheetah, "AP 17.12", &["like 17.12.0.78"]);
}

#[test]
fn versions_printed_by_real_devices_parse_to_their_canonical_form() {
    for (os, input, expected) in [
        (Os::Ios, "15.2(4.0.55)E", "15.2(4.0.55)E"),
        (Os::Ios, "15.4(0.10)S", "15.4(0.10)S"),
        (Os::Ios, "15.0(1r)M16", "15.0(1r)M16"),
        (Os::Ios, "12.2(44r)SG9", "12.2(44r)SG9"),
        (Os::Ios, "11.0(10c)XB1", "11.0(10c)XB1"),
        (Os::Ios, "12.2(18)SXF7", "12.2(18)SXF7"),
        (Os::Ios, "15.2(4d)", "15.2(4d)"),
        (Os::Iosxe, "17.06.01", "17.6.1"),
        (Os::Iosxe, "03.03.02.SG", "3.3.2SG"),
        (Os::Iosxe, "03.06.07E", "3.6.7E"),
        (Os::Iosxe, "17.18.01prd21", "17.18.1prd21"),
        (Os::Iosxe, "17.3.1r[FC2]", "17.3.1r"),
        (Os::Iosxe, "16.9.1r [FC2]", "16.9.1r"),
        (
            Os::Iosxe,
            "17.6.20210302:012459 [S2C-build-polaris_dev-BLD_POLARIS_DEV_LATEST_20210302_012043]",
            "17.6.20210302:012459",
        ),
        (Os::Iosxe, "17.15.03.0.5371", "17.15.3.0.5371"),
        (Os::Iosxr, "6.7.35.03I", "6.7.35.3I"),
        (Os::Iosxr, "6.4.2[Default]", "6.4.2"),
        (Os::Iosxr, "7.9.2 LNT", "7.9.2"),
        (Os::Nxos, "10.2(3) [Feature Release]", "10.2(3)"),
        (Os::Nxos, "6.0(2)U6(5b)", "6.0(2)U6(5b)"),
        (Os::Nxos, "7.0(7)N1(1)", "7.0(7)N1(1)"),
        (Os::Nxos, "5.3(2b)", "5.3(2b)"),
        (Os::Vrp, "V600R021SPH001", "V600R021SPH001"),
        (Os::Vrp, "V300R019C13SPC200", "V300R019C13SPC200"),
        (Os::Vrp, "8.180", "8.180"),
        (Os::Junos, "13.3R1.4", "13.3R1.4"),
        (Os::Junos, "18.2R2-S1", "18.2R2-S1"),
        (Os::Aireos, "8.2.170.0", "8.2.170.0"),
        (Os::Asa, "9.8(4)10", "9.8(4)10"),
        (Os::Gaia, "R80.40", "R80.40"),
        (Os::Cheetah, "17.12.0.78", "17.12.0.78"),
    ] {
        let version =
            Version::parse(os, input).unwrap_or_else(|error| panic!("{os} '{input}': {error}"));
        assert_eq!(version.to_string(), expected, "{os} '{input}'");
    }
}

#[test]
fn interim_and_pre_release_builds_order_within_their_kind() {
    check(Os::Ios, "15.2(4)E", "15.2(4.0.55)E", Less);
    check(Os::Ios, "15.2(4.0.55)E", "15.2(5)E", Less);
    check(Os::Ios, "15.4(0.10)S", "15.4(1)S", Less);
    check(Os::Iosxe, "17.7.1prd16", "17.7.1prd17", Less);
    check(Os::Iosxe, "17.7.1prd16", "17.18.1prd21", Less);
    check(Os::Iosxe, "17.7.1prd16", "17.7.1", Incomparable);
    check(
        Os::Iosxe,
        "17.7.1prd16",
        "17.7.20211003:014100",
        Incomparable,
    );
    check(Os::Nxos, "10.3(6) [Maintenance Release]", "10.3(6)", Equal);
}

#[test]
fn error_message_names_input_problem_and_expected_form() {
    let error = Version::parse(Os::Ios, "15.2(7").unwrap_err();
    assert_eq!(
        error.to_string(),
        "'15.2(7' is not a valid ios version: expected ')' after the release number, \
         found the end; a Cisco IOS version looks like 15.2(7)E8, 12.2(55)SE10 or 15.3(3)JA1"
    );
}
