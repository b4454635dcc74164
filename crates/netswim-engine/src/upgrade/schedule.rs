//! When jobs run: a [`Schedule`] (now, or at a time; once or recurring)
//! turned into instants, computed in the schedule's IANA time zone with
//! jiff's bundled tz database (no system tzdata needed).
//!
//! Rules (pinned by the tests below):
//! - `at` is RFC 3339 with an offset (`2026-11-23T02:00:00+01:00`, `…Z`) or a
//!   local date-time (`2026-11-23T02:00[:SS]`) read in `time_zone` (default
//!   UTC). A local time that falls in a daylight-saving gap is moved forward
//!   by the gap's length; one that occurs twice takes the earlier instant
//!   (jiff's "compatible" disambiguation, like RFC 5545).
//! - Occurrence `n` is always computed from the anchor (`at`, or the
//!   submission time), never from the previous occurrence, so nothing drifts:
//!   minute and hourly recurrences add exact elapsed time; daily, weekly,
//!   monthly and yearly ones add calendar units in the zone, so a daily 02:00
//!   job stays at 02:00 local across DST changes.
//! - Monthly on day 29–31 clamps to the last day of shorter months (Jan 31 →
//!   Feb 28 → Mar 31 → Apr 30); yearly on Feb 29 runs on Feb 28 in common
//!   years.
//! - A server that was down skips the occurrences it missed: the next run is
//!   the first occurrence after now, so a backlog never starts a burst.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{Span, Zoned};
use netswim_store::Timestamp;

use super::{Recurrence, Schedule};
use crate::EngineError;

/// A schedule resolved against its zone: the anchor instant and recurrence.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedSchedule {
    /// The first run (the `at` time, or the submission time).
    pub anchor: Zoned,
    pub recurrence: Recurrence,
}

fn invalid(reason: String) -> EngineError {
    EngineError::Invalid {
        what: "schedule",
        reason,
    }
}

fn time_zone(schedule: &Schedule) -> Result<TimeZone, EngineError> {
    match schedule.time_zone.as_deref().map(str::trim) {
        None | Some("") => Ok(TimeZone::UTC),
        Some(name) => TimeZone::get(name).map_err(|error| {
            invalid(format!(
                "unknown time zone {name:?}: {error} (hint: use an IANA name such as Europe/Zurich or UTC)"
            ))
        }),
    }
}

fn to_jiff(at: Timestamp) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(at.as_millis()).unwrap_or(jiff::Timestamp::MAX)
}

fn to_store(at: &Zoned) -> Timestamp {
    Timestamp(at.timestamp().as_millisecond())
}

/// Resolves a schedule at submission time `now`.
pub fn resolve(schedule: &Schedule, now: Timestamp) -> Result<ResolvedSchedule, EngineError> {
    let zone = time_zone(schedule)?;
    let anchor = match schedule.at.as_deref().map(str::trim) {
        None | Some("") => to_jiff(now).to_zoned(zone),
        Some(text) => parse_at(text, zone)?,
    };
    Ok(ResolvedSchedule {
        anchor,
        recurrence: schedule.recurrence,
    })
}

fn parse_at(text: &str, zone: TimeZone) -> Result<Zoned, EngineError> {
    // An explicit offset (or Z) names the instant; the zone still governs
    // recurrences.
    if let Ok(instant) = text.parse::<jiff::Timestamp>() {
        return Ok(instant.to_zoned(zone));
    }
    let civil: DateTime = text.parse().map_err(|error| {
        invalid(format!(
            "cannot read time {text:?}: {error} (hint: 2026-11-23T02:00:00+01:00, or 2026-11-23T02:00 with a time zone)"
        ))
    })?;
    civil.to_zoned(zone).map_err(|error| {
        invalid(format!(
            "time {text:?} does not exist in the zone: {error} (hint: pick another time)"
        ))
    })
}

fn step(recurrence: Recurrence, n: i64) -> Option<Span> {
    let span = Span::new();
    match recurrence {
        Recurrence::None => None,
        Recurrence::Minute => span.try_minutes(n).ok(),
        Recurrence::Hourly => span.try_hours(n).ok(),
        Recurrence::Daily => span.try_days(n).ok(),
        Recurrence::Weekly => span.try_weeks(n).ok(),
        Recurrence::Monthly => span.try_months(n).ok(),
        Recurrence::Yearly => span.try_years(n).ok(),
    }
}

/// The longest a step can last, in seconds: dividing elapsed time by it
/// gives a lower bound on the occurrences already past.
fn max_step_seconds(recurrence: Recurrence) -> i64 {
    // Calendar units stretch by a DST change (at most 2 hours anywhere).
    const DST: i64 = 2 * 3_600;
    match recurrence {
        Recurrence::None => i64::MAX,
        Recurrence::Minute => 60,
        Recurrence::Hourly => 3_600,
        Recurrence::Daily => 24 * 3_600 + DST,
        Recurrence::Weekly => 7 * 24 * 3_600 + DST,
        Recurrence::Monthly => 31 * 24 * 3_600 + DST,
        Recurrence::Yearly => 366 * 24 * 3_600 + DST,
    }
}

impl ResolvedSchedule {
    /// Occurrence `n` (0 = the anchor), or `None` past jiff's range or
    /// without recurrence (for `n > 0`).
    pub fn occurrence(&self, n: i64) -> Option<Zoned> {
        if n == 0 {
            return Some(self.anchor.clone());
        }
        let span = step(self.recurrence, n)?;
        self.anchor.checked_add(span).ok()
    }

    /// When the job first runs: the anchor (a past anchor means now).
    pub fn first_run(&self) -> Timestamp {
        to_store(&self.anchor)
    }

    /// The first occurrence strictly after `after`; `None` for a schedule
    /// that does not recur.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        if self.recurrence == Recurrence::None {
            return None;
        }
        let after_jiff = to_jiff(after);
        if self.anchor.timestamp() > after_jiff {
            return Some(to_store(&self.anchor));
        }
        let elapsed = after_jiff.as_second() - self.anchor.timestamp().as_second();
        // Start at a lower bound on the occurrences already past and walk
        // forward: exact for minutes and hours, a few percent short for
        // calendar units.
        let mut n = (elapsed / max_step_seconds(self.recurrence)).max(1);
        loop {
            let candidate = self.occurrence(n)?;
            if candidate.timestamp() > after_jiff {
                return Some(to_store(&candidate));
            }
            n = n.checked_add(1)?;
        }
    }

    /// The schedule with `at` fixed to the anchor (RFC 3339 with offset) and
    /// the zone kept, as stored in the job: later runs count from it.
    pub fn to_schedule(&self) -> Schedule {
        let zone_name = self.anchor.time_zone().iana_name().map(str::to_owned);
        Schedule {
            at: Some(
                self.anchor
                    .timestamp()
                    .display_with_offset(self.anchor.offset())
                    .to_string(),
            ),
            time_zone: zone_name,
            recurrence: self.recurrence,
        }
    }
}

/// `<Prefix>_<subject>_<YYYYMMDD-HHMMSS>` in UTC, e.g.
/// `Distribute_c2960x-universalk9-mz.152-7.E10.bin_20261123-020000`; without a
/// subject `<Prefix>_<timestamp>`.
pub fn default_job_name(prefix: &str, subject: Option<&str>, at: Timestamp) -> String {
    let stamp = to_jiff(at).strftime("%Y%m%d-%H%M%S").to_string();
    match subject.map(str::trim).filter(|subject| !subject.is_empty()) {
        Some(subject) => format!("{prefix}_{subject}_{stamp}"),
        None => format!("{prefix}_{stamp}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp(
            text.parse::<jiff::Timestamp>()
                .expect("test instant")
                .as_millisecond(),
        )
    }

    fn schedule(at: Option<&str>, zone: Option<&str>, recurrence: Recurrence) -> Schedule {
        Schedule {
            at: at.map(str::to_owned),
            time_zone: zone.map(str::to_owned),
            recurrence,
        }
    }

    fn show(at: Timestamp, zone: &str) -> String {
        to_jiff(at)
            .to_zoned(TimeZone::get(zone).expect("zone"))
            .strftime("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }

    #[test]
    fn first_run_reads_offsets_local_times_and_defaults_to_now() {
        let now = at("2026-11-22T10:00:00Z");
        let cases = [
            (
                Some("2026-11-23T02:00:00+01:00"),
                None,
                "2026-11-23T01:00:00Z",
            ),
            (
                Some("2026-11-23T02:00:00Z"),
                Some("Asia/Tokyo"),
                "2026-11-23T02:00:00Z",
            ),
            (
                Some("2026-11-23T02:00"),
                Some("Europe/Zurich"),
                "2026-11-23T01:00:00Z",
            ),
            (
                Some("2026-07-01T02:00:00"),
                Some("Europe/Zurich"),
                "2026-07-01T00:00:00Z",
            ),
            (Some("2026-11-23T02:00"), None, "2026-11-23T02:00:00Z"),
            (
                Some("2026-11-23T02:00"),
                Some("America/New_York"),
                "2026-11-23T07:00:00Z",
            ),
            (None, Some("Europe/Zurich"), "2026-11-22T10:00:00Z"),
            (None, None, "2026-11-22T10:00:00Z"),
        ];
        for (at_text, zone, expected) in cases {
            let resolved =
                resolve(&schedule(at_text, zone, Recurrence::None), now).expect("valid schedule");
            assert_eq!(
                resolved.first_run(),
                at(expected),
                "{at_text:?} in {zone:?}"
            );
        }
    }

    #[test]
    fn bad_times_and_zones_are_refused_with_a_hint() {
        let now = Timestamp(0);
        for (at_text, zone) in [
            (Some("tomorrow"), None),
            (Some("2026-13-01T00:00"), None),
            (None, Some("Mars/Olympus")),
        ] {
            let error = resolve(&schedule(at_text, zone, Recurrence::Daily), now)
                .expect_err("must be refused")
                .to_string();
            assert!(error.contains("hint"), "{error}");
        }
    }

    #[test]
    fn daily_two_am_stays_two_am_local_across_both_dst_changes() {
        let resolved = resolve(
            &schedule(
                Some("2026-03-27T02:30"),
                Some("Europe/Zurich"),
                Recurrence::Daily,
            ),
            Timestamp(0),
        )
        .expect("valid");
        // 2026-03-29 02:30 does not exist in Zurich (02:00 → 03:00): moved
        // forward by the gap; the day after it is 02:30 again.
        let expected = [
            "2026-03-28 02:30:00 CET",
            "2026-03-29 03:30:00 CEST",
            "2026-03-30 02:30:00 CEST",
        ];
        let mut after = resolved.first_run();
        for want in expected {
            let next = resolved.next_after(after).expect("recurs");
            assert_eq!(show(next, "Europe/Zurich"), want);
            after = next;
        }
        // Autumn: 02:30 occurs twice on 2026-10-25; the earlier (CEST) runs.
        let autumn = resolve(
            &schedule(
                Some("2026-10-24T02:30"),
                Some("Europe/Zurich"),
                Recurrence::Daily,
            ),
            Timestamp(0),
        )
        .expect("valid");
        let first = autumn.next_after(autumn.first_run()).expect("recurs");
        assert_eq!(show(first, "Europe/Zurich"), "2026-10-25 02:30:00 CEST");
        let second = autumn.next_after(first).expect("recurs");
        assert_eq!(show(second, "Europe/Zurich"), "2026-10-26 02:30:00 CET");
    }

    #[test]
    fn monthly_on_the_31st_clamps_to_month_end_without_drifting() {
        let resolved = resolve(
            &schedule(Some("2027-01-31T02:00"), Some("UTC"), Recurrence::Monthly),
            Timestamp(0),
        )
        .expect("valid");
        let mut after = resolved.first_run();
        let mut seen = Vec::new();
        for _ in 0..4 {
            after = resolved.next_after(after).expect("recurs");
            seen.push(show(after, "UTC"));
        }
        assert_eq!(
            seen,
            [
                "2027-02-28 02:00:00 UTC",
                "2027-03-31 02:00:00 UTC",
                "2027-04-30 02:00:00 UTC",
                "2027-05-31 02:00:00 UTC",
            ]
        );
    }

    #[test]
    fn each_recurrence_steps_by_its_unit() {
        let base = "2028-02-29T12:00:00Z";
        let cases = [
            (Recurrence::Minute, "2028-02-29T12:01:00Z"),
            (Recurrence::Hourly, "2028-02-29T13:00:00Z"),
            (Recurrence::Daily, "2028-03-01T12:00:00Z"),
            (Recurrence::Weekly, "2028-03-07T12:00:00Z"),
            (Recurrence::Monthly, "2028-03-29T12:00:00Z"),
            (Recurrence::Yearly, "2029-02-28T12:00:00Z"),
        ];
        for (recurrence, expected) in cases {
            let resolved =
                resolve(&schedule(Some(base), None, recurrence), Timestamp(0)).expect("valid");
            assert_eq!(
                resolved.next_after(at(base)),
                Some(at(expected)),
                "{recurrence:?}"
            );
        }
        let once =
            resolve(&schedule(Some(base), None, Recurrence::None), Timestamp(0)).expect("valid");
        assert_eq!(once.next_after(at(base)), None);
    }

    #[test]
    fn a_long_outage_skips_missed_runs_to_the_first_future_one() {
        let resolved = resolve(
            &schedule(
                Some("2020-01-01T02:00"),
                Some("Europe/Zurich"),
                Recurrence::Daily,
            ),
            Timestamp(0),
        )
        .expect("valid");
        let now = at("2026-11-22T10:00:00Z");
        let next = resolved.next_after(now).expect("recurs");
        assert_eq!(show(next, "Europe/Zurich"), "2026-11-23 02:00:00 CET");
        let minutely = resolve(
            &schedule(Some("2020-01-01T00:00:30Z"), None, Recurrence::Minute),
            Timestamp(0),
        )
        .expect("valid");
        assert_eq!(minutely.next_after(now), Some(at("2026-11-22T10:00:30Z")));
    }

    #[test]
    fn next_after_is_strictly_later_and_minimal_for_many_instants() {
        // Property check over a spread of instants and every recurrence:
        // the result is after `after`, is an occurrence, and the occurrence
        // before it is not after `after`.
        let zones = [
            "UTC",
            "Europe/Zurich",
            "America/New_York",
            "Australia/Lord_Howe",
        ];
        let recurrences = [
            Recurrence::Minute,
            Recurrence::Hourly,
            Recurrence::Daily,
            Recurrence::Weekly,
            Recurrence::Monthly,
            Recurrence::Yearly,
        ];
        for zone in zones {
            for recurrence in recurrences {
                let resolved = resolve(
                    &schedule(Some("2024-01-31T01:30"), Some(zone), recurrence),
                    Timestamp(0),
                )
                .expect("valid");
                let window = max_step_seconds(recurrence) * 1_000 * 60;
                for k in 0..40_i64 {
                    let after =
                        Timestamp(resolved.first_run().as_millis() + (k * 7_919_993_017) % window);
                    let next = resolved.next_after(after).expect("recurs");
                    assert!(next > after, "{zone} {recurrence:?} {k}");
                    let mut n = 0;
                    while resolved.occurrence(n).map(|z| to_store(&z)) != Some(next) {
                        n += 1;
                        assert!(n < 1_000_000, "not an occurrence");
                    }
                    if n > 0 {
                        let before = resolved.occurrence(n - 1).map(|z| to_store(&z));
                        assert!(
                            before.is_some_and(|b| b <= after),
                            "{zone} {recurrence:?} {k}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn stored_schedule_round_trips_to_the_same_occurrences() {
        let resolved = resolve(
            &schedule(None, Some("Europe/Zurich"), Recurrence::Weekly),
            at("2026-11-22T10:00:00Z"),
        )
        .expect("valid");
        let stored = resolved.to_schedule();
        assert_eq!(stored.at.as_deref(), Some("2026-11-22T11:00:00+01:00"));
        assert_eq!(stored.time_zone.as_deref(), Some("Europe/Zurich"));
        let again = resolve(&stored, Timestamp(0)).expect("valid");
        assert_eq!(again, resolved);
    }

    #[test]
    fn default_names_carry_prefix_subject_and_utc_stamp() {
        let when = at("2026-11-23T02:03:04Z");
        assert_eq!(
            default_job_name("Distribute", Some("c2960x.bin"), when),
            "Distribute_c2960x.bin_20261123-020304"
        );
        assert_eq!(
            default_job_name("Commit", None, when),
            "Commit_20261123-020304"
        );
    }
}
