//! Times and days for people: "14:05", "Today", "Yesterday", "Mon 14 Apr".
//!
//! The server does not know the reader's time zone, so it renders in UTC;
//! once hydrated, the browser renders in its own. Components pick the offset
//! with [`offset_minutes`], which is 0 until hydration so that the hydrated
//! page first matches the server's HTML exactly.

/// Minutes to add to UTC to get the reader's local time at `ts_ms`.
pub(crate) fn offset_minutes(ts_ms: i64, hydrated: bool) -> i64 {
    #[cfg(feature = "hydrate")]
    if hydrated {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ts_ms as f64));
        return -(date.get_timezone_offset() as i64);
    }
    let _ = (ts_ms, hydrated);
    0
}

/// Days since the epoch in local time.
pub(crate) fn day_number(ts_ms: i64, offset_min: i64) -> i64 {
    (ts_ms + offset_min * 60_000).div_euclid(86_400_000)
}

/// (year, month 1–12, day 1–31) of a day number (Howard Hinnant's
/// civil_from_days).
pub(crate) fn civil(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// "14:05" (24-hour, unambiguous everywhere).
pub(crate) fn clock(ts_ms: i64, offset_min: i64) -> String {
    let minutes = (ts_ms + offset_min * 60_000)
        .div_euclid(60_000)
        .rem_euclid(24 * 60);
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// A day heading relative to `today` (a day number): "Today", "Yesterday",
/// "Mon 14 Apr" this year, "14 Apr 2023" before.
pub(crate) fn day_label(day: i64, today: i64) -> String {
    if day == today {
        return "Today".into();
    }
    if day == today - 1 {
        return "Yesterday".into();
    }
    let (y, m, d) = civil(day);
    let (this_year, _, _) = civil(today);
    let month = MONTHS[(m - 1) as usize];
    if y == this_year {
        let weekday = WEEKDAYS[day.rem_euclid(7) as usize];
        format!("{weekday} {d} {month}")
    } else {
        format!("{d} {month} {y}")
    }
}

/// The inbox's short time: the clock today, the day otherwise.
pub(crate) fn short_when(ts_ms: i64, now_ms: i64, offset_min: i64) -> String {
    let day = day_number(ts_ms, offset_min);
    let today = day_number(now_ms, offset_min);
    if day == today {
        clock(ts_ms, offset_min)
    } else {
        day_label(day, today)
    }
}

/// ISO 8601 in UTC, for `<time datetime>`.
pub(crate) fn iso(ts_ms: i64) -> String {
    let (y, m, d) = civil(ts_ms.div_euclid(86_400_000));
    format!("{y:04}-{m:02}-{d:02}T{}Z", clock(ts_ms, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-04-14T09:40:00Z, a Sunday.
    const T: i64 = 1_713_087_600_000;

    #[test]
    fn clock_and_dates() {
        assert_eq!(clock(T, 0), "09:40");
        assert_eq!(clock(T, 120), "11:40");
        assert_eq!(clock(T, -600), "23:40");
        assert_eq!(civil(day_number(T, 0)), (2024, 4, 14));
        assert_eq!(civil(day_number(T, -600)), (2024, 4, 13));
        assert_eq!(iso(T), "2024-04-14T09:40Z");
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(-1), (1969, 12, 31));
    }

    #[test]
    fn day_labels() {
        let today = day_number(T, 0);
        assert_eq!(day_label(today, today), "Today");
        assert_eq!(day_label(today - 1, today), "Yesterday");
        assert_eq!(day_label(today - 3, today), "Thu 11 Apr");
        assert_eq!(day_label(today - 400, today), "11 Mar 2023");
        assert_eq!(short_when(T - 3_600_000, T, 0), "08:40");
        assert_eq!(short_when(T - 86_400_000, T, 0), "Yesterday");
    }
}
