//! Check Point Gaia `show version all`/`show version`.
//!
//! Grammar: `Product version Check Point Gaia <version>` then `OS <key>
//! <value>` lines (`OS build 294`, `OS kernel version 3.10.0`, `OS edition 64-bit`).

use netswim_domain::facts::VersionFacts;

use crate::ParseError;

/// Parses `show version` output.
pub fn parse_show_version(output: &str) -> Result<VersionFacts, ParseError> {
    let mut facts = VersionFacts::default();
    for raw_line in output.lines() {
        let line = raw_line.trim();
        if let Some(product) = line.strip_prefix("Product version ") {
            let product = product.trim();
            facts.details.insert("product".into(), product.into());
            facts.version = product.split_whitespace().last().map(str::to_string);
        } else if let Some(value) = line.strip_prefix("OS kernel version ") {
            facts
                .details
                .insert("os_kernel".into(), value.trim().into());
        } else if let Some(value) = line.strip_prefix("OS build ") {
            facts.details.insert("os_build".into(), value.trim().into());
        } else if let Some(value) = line.strip_prefix("OS edition ") {
            facts
                .details
                .insert("os_edition".into(), value.trim().into());
        }
    }
    if facts.version.is_none() {
        return Err(ParseError::UnrecognisedOutput {
            command: "show version".into(),
            reason: "no 'Product version' line (hint: is this a Check Point Gaia device?)".into(),
        });
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaia_product_version() {
        let out = "Product version Check Point Gaia R80.40\nOS build 294\nOS kernel version 3.10.0-957.21.3cpx86_64\nOS edition 64-bit";
        let facts = parse_show_version(out).unwrap();
        assert_eq!(facts.version.as_deref(), Some("R80.40"));
        assert_eq!(facts.details["os_build"], "294".into());
        assert_eq!(facts.details["os_edition"], "64-bit".into());
    }
}
