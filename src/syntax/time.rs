//! Timestamps: RFC 3339 parsing and UTC date parts, without a date library.

/// Seconds since the Unix epoch (UTC) of an RFC 3339 / ISO 8601 timestamp, or of a number
/// (seconds, or milliseconds when above 10^11).
pub fn parse_timestamp(s: &str) -> Option<i64> {
    parse_timestamp_ms(s).map(|ms| ms.div_euclid(1000))
}

/// Milliseconds since the Unix epoch (UTC) of an RFC 3339 / ISO 8601 timestamp (fractions
/// of a second beyond milliseconds are dropped), or of a number (seconds, or milliseconds
/// when above 10^11).
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return (n.is_finite() && n.abs() < 1e16).then(|| {
            if n.abs() > 1e11 {
                n.floor() as i64
            } else {
                (n * 1000.0).floor() as i64
            }
        });
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) && !t.is_empty() {
            t.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let mut secs = days_from_civil(y, mo, d) * 86_400;
    if b.len() == 10 {
        return Some(secs * 1000);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    secs += h * 3600 + mi * 60 + sec;
    let mut i = 19;
    let mut ms = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let frac = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return None;
        }
        for k in 0..3 {
            ms = ms * 10
                + b.get(i + k)
                    .filter(|_| k < frac)
                    .map_or(0, |c| i64::from(c - b'0'));
        }
        i += frac;
    }
    let off = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let off = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if sign == b'+' { off } else { -off }
        }
        _ => return None,
    };
    Some((secs - off) * 1000 + ms)
}

/// RFC 3339 text (UTC, milliseconds) of an epoch time in milliseconds.
pub fn format_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since the epoch.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// UTC date parts of an epoch timestamp: (year, month, day, hour, minute, ISO week).
pub fn parts(epoch: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = epoch.div_euclid(86_400);
    let rem = epoch.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // ISO 8601 week: the week with the year's first Thursday is week 1.
    let weekday = (days + 3).rem_euclid(7); // Monday = 0
    let thursday = days - weekday + 3;
    let (ty, _, _) = civil_from_days(thursday);
    let week = (thursday - days_from_civil(ty, 1, 1)) / 7 + 1;
    (y, m, d, rem / 3600, (rem % 3600) / 60, week)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds() {
        assert_eq!(parse_timestamp_ms("1970-01-01T00:00:01.5Z"), Some(1500));
        assert_eq!(
            parse_timestamp_ms("1970-01-01T00:00:01.123456Z"),
            Some(1123)
        );
        assert_eq!(parse_timestamp_ms("1969-12-31T23:59:59.250Z"), Some(-750));
        assert_eq!(parse_timestamp("1969-12-31T23:59:59.250Z"), Some(-1));
        assert_eq!(format_ms(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(format_ms(-750), "1969-12-31T23:59:59.250Z");
        let t = "2026-11-24T07:00:00.120Z";
        assert_eq!(format_ms(parse_timestamp_ms(t).unwrap()), t);
    }

    #[test]
    fn parses_rfc3339() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_timestamp("2026-11-24T07:00:00.123+01:00"),
            Some(parse_timestamp("2026-11-24T06:00:00Z").unwrap())
        );
        assert_eq!(parse_timestamp("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_timestamp("1700000000000"), Some(1_700_000_000));
        assert_eq!(parse_timestamp("2026-02-30"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn date_parts() {
        let t = parse_timestamp("2026-01-01T13:45:00Z").unwrap();
        assert_eq!(parts(t), (2026, 1, 1, 13, 45, 1));
        // 2027-01-01 is a Friday: it belongs to ISO week 53 of 2026.
        let t = parse_timestamp("2027-01-01T00:00:00Z").unwrap();
        assert_eq!(parts(t).5, 53);
        let t = parse_timestamp("2024-02-29T23:59:59Z").unwrap();
        assert_eq!(parts(t), (2024, 2, 29, 23, 59, 9));
    }
}
