//! The campaign policy the gate applies: staleness per channel (R29), minimum age (R11), Robinson
//! list (R31), caller id (R32) and whether § 7(3) UWG may be relied on (R34).

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use crate::channel::Channel;

/// Policy of one campaign (or the tenant default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CampaignPolicy {
    /// Maximum months without grant or use before a consent is stale, per channel (R29). A channel
    /// not listed has no staleness limit. Defaults: phone 12, e-mail/SMS/messenger 18.
    pub staleness_months: BTreeMap<Channel, u16>,
    /// Minimum age of the person (R11); default 16.
    pub min_age: i16,
    /// The campaign must be matched against a Robinson list (R31).
    pub robinson_required: bool,
    /// Result of the Robinson match: `Some(true)` = listed, `None` = not checked.
    pub robinson_match: Option<bool>,
    /// Phone only: whether the call presents a valid caller id; `Some(false)` blocks (R32),
    /// `None` = not known here (the telephony configuration check is elsewhere).
    pub caller_id_presented: Option<bool>,
    /// The campaign may rely on § 7(3) UWG for e-mail to existing customers (R34).
    pub allow_existing_customer: bool,
}

impl Default for CampaignPolicy {
    fn default() -> Self {
        Self {
            staleness_months: BTreeMap::from([
                (Channel::PhoneLive, 12),
                (Channel::PhoneAutomated, 12),
                (Channel::Email, 18),
                (Channel::Sms, 18),
                (Channel::MessengerWhatsapp, 18),
            ]),
            min_age: 16,
            robinson_required: false,
            robinson_match: None,
            caller_id_presented: None,
            allow_existing_customer: false,
        }
    }
}

impl CampaignPolicy {
    /// Whether a consent last granted or used at `anchor` is stale at `now` on `channel`: more than
    /// the limit's calendar months (UTC) have passed. The last instant of the limit itself is fresh.
    pub fn is_stale(&self, channel: Channel, anchor: Timestamp, now: Timestamp) -> bool {
        self.stale_after(channel, anchor).is_some_and(|limit| now > limit)
    }

    /// The last fresh instant of a consent last granted or used at `anchor` on `channel`
    /// (`None`: the channel has no staleness limit).
    pub fn stale_after(&self, channel: Channel, anchor: Timestamp) -> Option<Timestamp> {
        let months = *self.staleness_months.get(&channel)?;
        Span::new()
            .try_months(months)
            .and_then(|span| anchor.to_zoned_datetime(TimeZone::UTC).checked_add(span))
            .ok()
            .map(|z| z.timestamp())
    }
}

/// Reads per-channel staleness limits written `phone_live=6,email=12` (`:` works as well as `=`).
pub fn parse_staleness(s: &str) -> Result<BTreeMap<Channel, u16>, String> {
    let mut out = BTreeMap::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (ch, months) = part
            .split_once(['=', ':'])
            .ok_or_else(|| format!("{part:?}: Kanal=Monate erwartet / expected channel=months"))?;
        let ch: Channel = ch.trim().parse().map_err(|_| format!("{:?}: kein Kanal / not a channel", ch.trim()))?;
        let months: u16 = months
            .trim()
            .parse()
            .ok()
            .filter(|m| (1..=120).contains(m))
            .ok_or_else(|| format!("{:?}: 1 bis 120 Monate / 1 to 120 months", months.trim()))?;
        out.insert(ch, months);
    }
    Ok(out)
}

/// What staleness counts from (R29): the later of the grant and the last use.
pub fn staleness_anchor(record: &crate::consent::ConsentRecord) -> Timestamp {
    record.granted_at.unwrap_or(record.given_at).max(record.last_use_at.unwrap_or(record.given_at))
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn r29_staleness_limits_are_read_per_channel_and_bad_ones_named() {
        let m = parse_staleness("phone_live=6, email:12").unwrap();
        assert_eq!(m, BTreeMap::from([(Channel::PhoneLive, 6), (Channel::Email, 12)]));
        assert_eq!(parse_staleness("").unwrap(), BTreeMap::new());
        assert!(parse_staleness("telefon=6").unwrap_err().contains("telefon"));
        assert!(parse_staleness("email=0").unwrap_err().contains("1 bis 120"));
        assert!(parse_staleness("email").unwrap_err().contains("Kanal=Monate"));
    }
}
