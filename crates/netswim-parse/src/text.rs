//! Small text helpers shared by the parsers: lines, numbers, uptimes, device errors.

use crate::ParseError;

/// Refuses output that is the device's own error message rather than command output.
pub fn reject_device_error(output: &str) -> Result<(), ParseError> {
    let trimmed = output.trim_start();
    for marker in [
        "% Invalid input",
        "% Incomplete command",
        "% Ambiguous command",
        "% Unknown command",
        "Error: Unrecognized command",
        "Error: Wrong parameter",
        "syntax error, expecting",
        "Incorrect usage",
    ] {
        let first_lines: Vec<&str> = trimmed.lines().take(4).collect();
        if first_lines
            .iter()
            .any(|line| line.trim_start().starts_with(marker))
            && trimmed.lines().count() <= 6
        {
            return Err(ParseError::DeviceError {
                message: first_lines
                    .iter()
                    .map(|line| line.trim())
                    .filter(|line| !line.is_empty() && !line.trim_start().starts_with('^'))
                    .collect::<Vec<_>>()
                    .join(" "),
            });
        }
    }
    Ok(())
}

/// Parses a decimal number that may carry thousands separators (`1,234,567`).
pub fn parse_u64(text: &str) -> Option<u64> {
    let digits: String = text.trim().chars().filter(|c| *c != ',').collect();
    digits.parse().ok()
}

/// Turns `2 years, 31 weeks, 6 days, 9 hours, 55 minutes` (and the `1 day`,
/// `3 hours`, `21 secs` spellings of other OSes) into seconds.
pub fn parse_uptime(text: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut seen = false;
    let mut words = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .peekable();
    while let Some(word) = words.next() {
        let Ok(count) = word.parse::<u64>() else {
            continue;
        };
        let Some(unit) = words.peek() else { break };
        let unit = unit.to_ascii_lowercase();
        let seconds = if unit.starts_with("year") {
            365 * 86_400
        } else if unit.starts_with("week") {
            7 * 86_400
        } else if unit.starts_with("day") {
            86_400
        } else if unit.starts_with("hour") {
            3_600
        } else if unit.starts_with("min") {
            60
        } else if unit.starts_with("sec") {
            1
        } else {
            continue;
        };
        words.next();
        total = total.saturating_add(count.saturating_mul(seconds));
        seen = true;
    }
    seen.then_some(total)
}

/// A label as a stable snake_case key: ASCII letters and digits lowercased,
/// every run of anything else one `_`, none at either end
/// (`Running Image : ` -> `running_image`).
pub fn snake_key(text: &str) -> String {
    let mut key = String::new();
    for character in text.trim().chars() {
        if character.is_ascii_alphanumeric() {
            key.push(character.to_ascii_lowercase());
        } else if !key.ends_with('_') && !key.is_empty() {
            key.push('_');
        }
    }
    key.trim_end_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_in_every_unit_adds_up() {
        assert_eq!(
            parse_uptime("2 years, 31 weeks, 6 days, 9 hours, 55 minutes"),
            Some(2 * 31_536_000 + 31 * 604_800 + 6 * 86_400 + 9 * 3_600 + 55 * 60)
        );
        assert_eq!(
            parse_uptime("1 day, 15 hours, 32 minutes"),
            Some(86_400 + 15 * 3_600 + 32 * 60)
        );
        assert_eq!(
            parse_uptime("0 day(s), 3 hour(s), 1 minute(s), 21 second(s)"),
            Some(3 * 3_600 + 60 + 21)
        );
        assert_eq!(parse_uptime("no numbers"), None);
    }

    #[test]
    fn invalid_input_marker_is_a_device_error() {
        let out = "show verzion\n     ^\n% Invalid input detected at '^' marker.\n";
        assert!(matches!(
            reject_device_error(out),
            Err(ParseError::DeviceError { .. })
        ));
        assert!(reject_device_error("Cisco IOS Software, ...").is_ok());
    }

    #[test]
    fn numbers_with_separators_parse() {
        assert_eq!(parse_u64("1,234,567"), Some(1_234_567));
        assert_eq!(parse_u64(" 42 "), Some(42));
        assert_eq!(parse_u64("x"), None);
    }
}
