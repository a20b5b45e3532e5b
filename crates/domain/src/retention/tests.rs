//! Tests of the deletion rules and the § 7a clock with exact calendar dates.

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn rule(d: Datenart) -> Loeschregel {
    default_rules().get(&d).copied().expect("every Datenart has a default rule")
}

#[test]
fn every_datenart_has_exactly_one_default_rule_and_a_german_name() {
    let rules = default_rules();
    assert_eq!(rules.len(), Datenart::ALL.len());
    for d in Datenart::ALL {
        assert!(rules.contains_key(&d), "{}", d.code());
        assert!(!d.label_de().is_empty());
    }
    assert_eq!(Datenart::D12.code(), "D12");
    assert_eq!(Datenart::D1.label_de(), "Nachweise telefonischer Werbeeinwilligungen von Verbrauchern");
}

#[test]
fn r59_use_moves_retention_date() {
    // Scenario 3: consent via SMS code, a call, and a second call two years later.
    let granted = ts("2026-01-10T10:01:00Z");
    assert_eq!(uwg7a_retain_until(granted, None, granted), ts("2031-01-10T10:01:00Z"));
    let first_call = ts("2026-02-01T09:00:00Z");
    assert_eq!(uwg7a_retain_until(granted, Some(first_call), granted), ts("2031-02-01T09:00:00Z"));
    let second_call = ts("2028-02-01T14:30:00Z");
    assert_eq!(uwg7a_retain_until(granted, Some(second_call), granted), ts("2033-02-01T14:30:00Z"));
}

#[test]
fn r59_last_change_counts_when_it_is_the_latest() {
    let granted = ts("2026-01-10T10:01:00Z");
    let changed = ts("2027-06-30T08:00:00Z");
    assert_eq!(uwg7a_retain_until(granted, Some(ts("2026-03-01T00:00:00Z")), changed), ts("2032-06-30T08:00:00Z"));
}

#[test]
fn r59_leap_day_plus_five_years_is_28_february() {
    // jiff clamps a day that does not exist in the target month to the month's last day.
    let leap = ts("2024-02-29T12:00:00Z");
    assert_eq!(uwg7a_retain_until(leap, None, leap), ts("2029-02-28T12:00:00Z"));
}

#[test]
fn r59_d1_rule_matches_the_uwg7a_clock_and_has_no_year_end_rounding() {
    let d1 = rule(Datenart::D1);
    assert!(!d1.end_of_year);
    let start = ts("2026-05-15T07:45:00Z");
    assert_eq!(retain_until(&d1, start), uwg7a_retain_until(start, None, start));
}

#[test]
fn r22_withdrawals_are_kept_as_long_as_the_consent_proof() {
    assert_eq!(rule(Datenart::D2), rule(Datenart::D1));
}

#[test]
fn e2_three_years_to_end_of_year() {
    let d4 = rule(Datenart::D4);
    assert!(d4.end_of_year);
    assert_eq!(retain_until(&d4, ts("2026-05-15T10:00:00Z")), ts("2030-01-01T00:00:00Z"));
    assert_eq!(retain_until(&d4, ts("2026-12-31T23:00:00Z")), ts("2030-01-01T00:00:00Z"));
    assert_eq!(retain_until(&d4, ts("2026-01-01T00:00:00Z")), ts("2030-01-01T00:00:00Z"));
    assert_eq!(retain_until(&d4, ts("2027-01-01T00:00:00Z")), ts("2031-01-01T00:00:00Z"));
}

#[test]
fn e3_deletion_due_adds_the_cycle_with_month_end_clamping() {
    let d1 = rule(Datenart::D1);
    let start = ts("2026-01-31T12:00:00Z");
    assert_eq!(retain_until(&d1, start), ts("2031-01-31T12:00:00Z"));
    assert_eq!(deletion_due(&d1, start), ts("2031-02-28T12:00:00Z"));
}

#[test]
fn r64_unconfirmed_doi_data_goes_after_30_days_plus_one() {
    let d9 = rule(Datenart::D9);
    let expiry = ts("2026-03-20T08:00:00Z");
    assert_eq!(retain_until(&d9, expiry), ts("2026-04-19T08:00:00Z"));
    assert_eq!(deletion_due(&d9, expiry), ts("2026-04-20T08:00:00Z"));
}

#[test]
fn r44_consent_profile_is_deleted_within_a_day_of_withdrawal() {
    let d11 = rule(Datenart::D11);
    let withdrawn = ts("2026-07-01T09:00:00Z");
    assert_eq!(retain_until(&d11, withdrawn), withdrawn);
    assert_eq!(deletion_due(&d11, withdrawn), ts("2026-07-02T09:00:00Z"));
}

#[test]
fn periods_add_years_then_months_then_days() {
    let r = Loeschregel {
        start: StartType::Creation,
        vorhaltefrist: Period { years: 1, months: 1, days: 1 },
        deletion_cycle: Period::ZERO,
        end_of_year: false,
    };
    assert_eq!(retain_until(&r, ts("2027-01-31T00:00:00Z")), ts("2028-03-01T00:00:00Z"));
}

#[test]
fn far_future_saturates_instead_of_panicking() {
    let r = Loeschregel {
        start: StartType::Creation,
        vorhaltefrist: Period::years(u16::MAX),
        deletion_cycle: Period::years(1),
        end_of_year: true,
    };
    assert_eq!(retain_until(&r, ts("2026-01-01T00:00:00Z")), Timestamp::MAX);
    assert_eq!(deletion_due(&r, ts("2026-01-01T00:00:00Z")), Timestamp::MAX);
}
