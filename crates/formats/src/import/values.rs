//! Cell values: date-times, dates, yes/no flags, consent words, tag lists and Mailchimp addresses.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, fmt::strtime};

use super::error::quoted;

/// How local date-times are read: the zone for times without offset and optional user formats.
#[derive(Debug, Clone)]
pub(crate) struct TimeRules {
    pub tz: TimeZone,
    pub date_format: Option<String>,
    pub datetime_format: Option<String>,
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 18 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
}

/// `YYYY-MM-DD`, `DD.MM.YYYY` or `D.M.YYYY`.
fn civil_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let (y, m, d) = if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        (digits(&b[..4])?, digits(&b[5..7])?, digits(&b[8..])?)
    } else {
        let mut parts = s.split('.');
        let d = digits(parts.next()?.as_bytes())?;
        let m = digits(parts.next()?.as_bytes())?;
        let yp = parts.next()?;
        if parts.next().is_some() || yp.len() != 4 {
            return None;
        }
        (digits(yp.as_bytes())?, m, d)
    };
    Date::new(i16::try_from(y).ok()?, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

/// `HH:MM` or `HH:MM:SS`, optionally with a fraction of seconds.
fn civil_time(s: &str) -> Option<(i8, i8, i8, i32)> {
    let (main, frac) = match s.split_once('.') {
        Some((m, f)) => (m, Some(f)),
        None => (s, None),
    };
    let mut parts = main.split(':');
    let h = digits(parts.next()?.as_bytes())?;
    let mi = digits(parts.next()?.as_bytes())?;
    let sec = match parts.next() {
        Some(p) => digits(p.as_bytes())?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    let nanos = match frac {
        Some(f) if !f.is_empty() && f.len() <= 9 => digits(f.as_bytes())? * 10i64.pow(9 - f.len() as u32),
        Some(_) => return None,
        None => 0,
    };
    Some((i8::try_from(h).ok()?, i8::try_from(mi).ok()?, i8::try_from(sec).ok()?, i32::try_from(nanos).ok()?))
}

/// A local date or date-time without offset in the built-in formats.
fn civil_datetime(s: &str) -> Option<DateTime> {
    let (d, t) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let date = civil_date(d)?;
    let (h, m, sec, n) = match t {
        Some(t) => civil_time(t)?,
        None => (0, 0, 0, 0),
    };
    DateTime::new(date.year(), date.month(), date.day(), h, m, sec, n).ok()
}

fn user_format(fmt: &str, s: &str, rules: &TimeRules) -> Option<Timestamp> {
    let tm = strtime::parse(fmt, s).ok()?;
    if tm.offset().is_some() {
        return tm.to_timestamp().ok();
    }
    let dt = match tm.to_datetime() {
        Ok(dt) => dt,
        Err(_) => tm.to_date().ok()?.to_datetime(jiff::civil::Time::midnight()),
    };
    rules.tz.to_timestamp(dt).ok()
}

/// Reads a point in time: empty → `None`; Unix seconds or milliseconds (`0` → `None`, as
/// CleverReach writes for "never"); `YYYY-MM-DD[ HH:MM[:SS]]`, `DD.MM.YYYY[ HH:MM[:SS]]` in the
/// rules' zone; RFC 3339 with offset; the user's formats first when given.
pub(crate) fn timestamp(s: &str, rules: &TimeRules) -> Result<Option<Timestamp>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    for fmt in [&rules.datetime_format, &rules.date_format].into_iter().flatten() {
        if let Some(ts) = user_format(fmt, s, rules) {
            return Ok(Some(ts));
        }
    }
    if let Some(n) = digits(s.as_bytes()) {
        return match s.len() {
            1 if n == 0 => Ok(None),
            9 | 10 => Timestamp::from_second(n)
                .map(Some)
                .map_err(|e| format!("{} ist keine gültige Unix-Zeit / is not a valid Unix time: {e}", quoted(s))),
            13 => Timestamp::from_millisecond(n)
                .map(Some)
                .map_err(|e| format!("{} ist keine gültige Unix-Zeit / is not a valid Unix time: {e}", quoted(s))),
            _ => Err(format!(
                "{} ist weder ein Datum noch eine Unix-Zeit in Sekunden / is neither a date nor a Unix time in seconds",
                quoted(s)
            )),
        };
    }
    if let Some(dt) = civil_datetime(s) {
        return rules.tz.to_timestamp(dt).map(Some).map_err(|e| format!("{}: {e}", quoted(s)));
    }
    if let Ok(ts) = s.parse::<Timestamp>() {
        return Ok(Some(ts));
    }
    Err(format!(
        "{} ist kein lesbares Datum mit Uhrzeit (erwartet z. B. 2024-05-17 14:30, 17.05.2024 oder Unix-Sekunden) / \
         cannot read it as a date or time (expected e.g. 2024-05-17 14:30, 17.05.2024 or Unix seconds)",
        quoted(s)
    ))
}

/// Reads a calendar date: `YYYY-MM-DD`, `DD.MM.YYYY`, the user's date format; a Mailchimp
/// birthday `MM/DD` (no year) gives `None` without error.
pub(crate) fn date(s: &str, rules: &TimeRules) -> Result<Option<Date>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if let Some(fmt) = &rules.date_format
        && let Ok(d) = strtime::parse(fmt, s).and_then(|tm| tm.to_date())
    {
        return Ok(Some(d));
    }
    if let Some(d) = civil_date(s) {
        return Ok(Some(d));
    }
    let b = s.as_bytes();
    if b.len() == 5 && b[2] == b'/' && digits(&b[..2]).is_some() && digits(&b[3..]).is_some() {
        return Ok(None);
    }
    Err(format!(
        "{} ist kein lesbares Datum (erwartet JJJJ-MM-TT oder TT.MM.JJJJ) / cannot read it as a date (expected YYYY-MM-DD or DD.MM.YYYY)",
        quoted(s)
    ))
}

/// Yes/no flags: `yes y true 1 x ja j wahr` and `no n false 0 nein falsch`; `None` for an empty
/// cell, `Err` for anything else.
pub(crate) fn flag(s: &str) -> Result<Option<bool>, ()> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.to_lowercase().as_str() {
        "yes" | "y" | "true" | "1" | "x" | "ja" | "j" | "wahr" | "✓" | "✔" => Ok(Some(true)),
        "no" | "n" | "false" | "0" | "nein" | "falsch" | "-" => Ok(Some(false)),
        _ => Err(()),
    }
}

/// A consent cell of broker software.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Consent {
    Granted,
    Denied,
    Withdrawn,
}

/// `ja`/`nein`/`widerrufen` and the flags of [`flag`].
pub(crate) fn consent(s: &str) -> Result<Option<Consent>, ()> {
    let lower = s.trim().to_lowercase();
    if matches!(lower.as_str(), "widerrufen" | "widerruf" | "revoked" | "withdrawn" | "abgemeldet") {
        return Ok(Some(Consent::Withdrawn));
    }
    Ok(flag(&lower)?.map(|g| if g { Consent::Granted } else { Consent::Denied }))
}

/// Tags in either Mailchimp style: `"Kunde","Newsletter"` (each quoted) or `vip, denver`.
pub(crate) fn tags(s: &str) -> Vec<String> {
    let s = s.trim();
    if s.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if s.starts_with('"') {
        let mut cur = String::new();
        let mut quoted = false;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    cur.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                ',' if !quoted => out.push(std::mem::take(&mut cur)),
                _ => cur.push(c),
            }
        }
        out.push(cur);
    } else {
        out.extend(s.split([',', ';']).map(str::to_string));
    }
    out.into_iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
}

/// A list cell split at `sep`, trimmed, empty parts dropped.
pub(crate) fn list(s: &str, sep: char) -> Vec<String> {
    s.split(sep).map(str::trim).filter(|p| !p.is_empty()).map(str::to_string).collect()
}

/// Mailchimp's address cell, parts separated by two spaces:
/// `street [addr2]  city  region  postcode  country`. Returns (street, city, postcode, country).
pub(crate) fn mailchimp_address(s: &str) -> (Option<String>, Option<String>, Option<String>, Option<String>) {
    let parts: Vec<&str> = s.split("  ").map(str::trim).filter(|p| !p.is_empty()).collect();
    let own = |p: &str| Some(p.to_string());
    match parts.len() {
        0 => (None, None, None, None),
        1..=3 => (Some(parts.join(", ")), None, None, None),
        4 => (own(parts[0]), own(parts[1]), own(parts[2]), own(parts[3])),
        n => (Some(parts[..n - 4].join(", ")), own(parts[n - 4]), own(parts[n - 2]), own(parts[n - 1])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeRules {
        TimeRules { tz: TimeZone::get("Europe/Berlin").expect("tzdata"), date_format: None, datetime_format: None }
    }

    #[test]
    fn timestamps_in_all_builtin_forms() {
        let r = berlin();
        let want: Timestamp = "2019-03-01T00:00:00Z".parse().expect("literal");
        assert_eq!(timestamp("2019-03-01 01:00", &r), Ok(Some(want)));
        assert_eq!(timestamp("2019-03-01 01:00:00", &r), Ok(Some(want)));
        assert_eq!(timestamp("01.03.2019 01:00", &r), Ok(Some(want)));
        assert_eq!(timestamp("1551398400", &r), Ok(Some(want)));
        assert_eq!(timestamp("1551398400000", &r), Ok(Some(want)));
        assert_eq!(timestamp("2019-03-01T00:00:00Z", &r), Ok(Some(want)));
        assert_eq!(timestamp("0", &r), Ok(None));
        assert_eq!(timestamp("", &r), Ok(None));
        assert!(timestamp("31.02.2019", &r).is_err());
        assert!(timestamp("gestern", &r).is_err());
    }

    #[test]
    fn summer_time_is_two_hours() {
        let want: Timestamp = "2024-05-17T12:30:00Z".parse().expect("literal");
        assert_eq!(timestamp("2024-05-17 14:30", &berlin()), Ok(Some(want)));
    }

    #[test]
    fn user_format_first() {
        let mut r = berlin();
        r.datetime_format = Some("%m/%d/%Y %I:%M %p".into());
        let want: Timestamp = "2024-05-17T12:30:00Z".parse().expect("literal");
        assert_eq!(timestamp("05/17/2024 02:30 PM", &r), Ok(Some(want)));
    }

    #[test]
    fn dates() {
        let r = berlin();
        assert_eq!(date("30.06.1975", &r), Ok(Some(jiff::civil::date(1975, 6, 30))));
        assert_eq!(date("1975-06-30", &r), Ok(Some(jiff::civil::date(1975, 6, 30))));
        assert_eq!(date("06/30", &r), Ok(None));
        assert!(date("1975/06/30", &r).is_err());
    }

    #[test]
    fn both_tag_styles() {
        assert_eq!(tags(r#""Kunde","Newsletter""#), vec!["Kunde", "Newsletter"]);
        assert_eq!(tags("vip, denver"), vec!["vip", "denver"]);
        assert_eq!(tags(r#""a, b","c""d""#), vec!["a, b", "c\"d"]);
        assert!(tags("  ").is_empty());
    }

    #[test]
    fn address_parts() {
        let (s, c, p, l) = mailchimp_address("Schloßstraße 12  Berlin  BE  10115  DE");
        assert_eq!(
            (s.as_deref(), c.as_deref(), p.as_deref(), l.as_deref()),
            (Some("Schloßstraße 12"), Some("Berlin"), Some("10115"), Some("DE"))
        );
        let (s, c, _, _) = mailchimp_address("123 Fake St.  Apt 2  Anytown  NY  12345  US");
        assert_eq!((s.as_deref(), c.as_deref()), (Some("123 Fake St., Apt 2"), Some("Anytown")));
    }
}
