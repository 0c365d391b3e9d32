//! Go duration strings (`30s`, `1m30s`, `500ms`, `1.5h`), as HEALTHCHECK
//! flags take them.

use std::time::Duration;

/// Parses a Go duration. Negative durations are rejected (no HEALTHCHECK
/// interval can be negative); the error says what is accepted.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let body = text.strip_prefix('+').unwrap_or(text);
    if let Some(negative) = body.strip_prefix('-') {
        return if negative.trim_start_matches(['0', '.']).is_empty() {
            Ok(Duration::ZERO)
        } else {
            Err("a non-negative duration".to_string())
        };
    }
    if body == "0" {
        return Ok(Duration::ZERO);
    }
    if body.is_empty() {
        return Err(expected());
    }
    let mut total: u128 = 0;
    let mut rest = body;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(after) => {
                let len = after.bytes().take_while(u8::is_ascii_digit).count();
                after.split_at(len)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(expected());
        }
        let unit_len = after
            .char_indices()
            .find(|&(_, c)| c.is_ascii_digit() || c == '.')
            .map_or(after.len(), |(i, _)| i);
        let (unit, after) = after.split_at(unit_len);
        let nanos_per_unit: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(expected()),
        };
        let whole: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| expected())?
        };
        let mut fraction: u128 = 0;
        let mut scale: u128 = 1;
        for digit in frac_part.bytes().take(18) {
            fraction = fraction * 10 + u128::from(digit - b'0');
            scale *= 10;
        }
        total = whole
            .checked_mul(nanos_per_unit)
            .and_then(|t| t.checked_add(fraction * nanos_per_unit / scale))
            .and_then(|t| total.checked_add(t))
            .filter(|&t| t <= i64::MAX as u128)
            .ok_or_else(|| "a duration below 292 years".to_string())?;
        rest = after;
    }
    let nanos = u64::try_from(total).map_err(|_| expected())?;
    Ok(Duration::from_nanos(nanos))
}

fn expected() -> String {
    "a duration such as 30s, 1m30s or 500ms (units: ns, us, ms, s, m, h)".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let d = |s| parse_go_duration(s).unwrap();
        assert_eq!(d("30s"), Duration::from_secs(30));
        assert_eq!(d("1m30s"), Duration::from_secs(90));
        assert_eq!(d("500ms"), Duration::from_millis(500));
        assert_eq!(d("1.5h"), Duration::from_secs(5400));
        assert_eq!(d("0"), Duration::ZERO);
        assert_eq!(d("0s"), Duration::ZERO);
        assert_eq!(d(".5s"), Duration::from_millis(500));
        assert_eq!(d("1µs"), Duration::from_micros(1));
        for bad in ["", "5", "s", "5x", "-5s", "1..5s", "."] {
            assert!(parse_go_duration(bad).is_err(), "{bad}");
        }
    }
}
