//! The retention sweep of one person who is otherwise kept: which consents expire first because
//! their proof would be due although they were never ended (E10), and which single items
//! (recordings, scans, contact points) may go because every consent that needs them has ended
//! and its proof period has passed (R58, R60). Pure: the service applies it.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;

use crate::attachment::AttachmentMeta;
use crate::consent::{ConsentRecord, ConsentStatus, Evidence};
use crate::ids::{ConsentId, ContactPointId};
use crate::retention::{Datenart, Loeschregel, consent_proof_until_in};

/// What the sweep does to one person.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonSweep {
    /// Valid consents unused for longer than their proof would be kept: set to `ConsentExpired`
    /// before anything of theirs may go (E10); their proof then runs from the expiry.
    pub expire: Vec<ConsentId>,
    /// Evidence files no consent needs any more.
    pub attachments: Vec<String>,
    /// Contact points no consent needs any more.
    pub contact_points: Vec<ContactPointId>,
}

impl PersonSweep {
    /// Nothing to do.
    pub fn is_empty(&self) -> bool {
        self.expire.is_empty() && self.attachments.is_empty() && self.contact_points.is_empty()
    }
}

/// A consent that may still be used or confirmed: its proof is never touched (R60).
fn live(c: &ConsentRecord) -> bool {
    c.status.is_valid_for_processing() || matches!(c.status, ConsentStatus::Requested | ConsentStatus::RequestDeferred)
}

/// The end of the consent's proof period as if it had ended at its last activity.
fn proof_end_if_ended(c: &ConsentRecord, rules: &BTreeMap<Datenart, Loeschregel>) -> Option<Timestamp> {
    let ended = ConsentRecord { status: ConsentStatus::Expired, ..c.clone() };
    consent_proof_until_in(&ended, rules).map(|(until, _)| until)
}

/// Whether the consent still needs its proof at `now`: it is live, or it was granted or used and
/// its proof period has not ended. A request never confirmed nor used proves nothing (D9).
pub fn needs_proof(c: &ConsentRecord, now: Timestamp, rules: &BTreeMap<Datenart, Loeschregel>) -> bool {
    live(c)
        || ((c.granted_at.is_some() || c.last_use_at.is_some())
            && proof_end_if_ended(c, rules).is_some_and(|until| until > now))
}

/// The sweep of one person: see [`PersonSweep`].
pub fn sweep_person(
    consents: &[ConsentRecord],
    contact_points: &[ContactPointId],
    attachments: &[AttachmentMeta],
    now: Timestamp,
    rules: &BTreeMap<Datenart, Loeschregel>,
) -> PersonSweep {
    let expire: Vec<ConsentId> = consents
        .iter()
        .filter(|c| c.status.is_valid_for_processing())
        .filter(|c| proof_end_if_ended(c, rules).is_some_and(|until| until <= now))
        .map(|c| c.id)
        .collect();
    // An expired consent's proof runs from its expiry, i.e. from now.
    let keeps = |c: &ConsentRecord| expire.contains(&c.id) || needs_proof(c, now, rules);
    let names_file = |c: &ConsentRecord, sha: &str| {
        c.evidence.iter().any(|e| match e {
            Evidence::CallRecording { recording_hash: h, .. } | Evidence::PaperScan { scan_hash: h, .. } => {
                h.eq_ignore_ascii_case(sha)
            }
            _ => false,
        })
    };
    // Only items some consent refers to are decided here; the rest goes with the person (D12).
    let attachments = attachments
        .iter()
        .filter(|a| {
            let users: Vec<&ConsentRecord> = consents.iter().filter(|c| names_file(c, &a.sha256)).collect();
            !users.is_empty() && !users.iter().any(|c| keeps(c))
        })
        .map(|a| a.sha256.clone())
        .collect();
    let contact_points = contact_points
        .iter()
        .filter(|id| {
            let users: Vec<&ConsentRecord> = consents.iter().filter(|c| c.contact_points.contains(id)).collect();
            !users.is_empty() && !users.iter().any(|c| keeps(c))
        })
        .copied()
        .collect();
    PersonSweep { expire, attachments, contact_points }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachment::AttachmentKind;
    use crate::consent::testkit::*;
    use crate::retention::default_rules;

    fn file(sha: &str) -> AttachmentMeta {
        AttachmentMeta {
            sha256: sha.into(),
            kind: AttachmentKind::Recording,
            content_type: "audio/x-wav".into(),
            size: 1,
        }
    }

    /// A phone consent with a recording and an e-mail consent withdrawn in 2021 with a scan.
    fn person() -> (ConsentRecord, ConsentRecord) {
        let mut phone = phone_record();
        phone.evidence.push(recording(PHONE, true));
        let mut mail = email_record();
        mail.status = ConsentStatus::Withdrawn;
        mail.granted_at = Some(ts("2020-03-01T10:00:00Z"));
        mail.last_change_at = ts("2021-05-01T10:00:00Z");
        mail.evidence.push(paper(&"ab".repeat(32), "F-1", "Ordner 3"));
        (phone, mail)
    }

    #[test]
    fn r58_withdrawn_email_consents_file_and_address_go_after_d4_while_the_phone_proof_stays() {
        let (phone, mail) = person();
        let files = [file(&"cd".repeat(32)), file(&"ab".repeat(32))];
        let rules = default_rules();
        // D4: three years to the end of 2024, so 2024 keeps it and 2025 does not.
        let kept = sweep_person(
            &[phone.clone(), mail.clone()],
            &[cp(PHONE), cp(EMAIL)],
            &files,
            ts("2024-12-30T00:00:00Z"),
            &rules,
        );
        assert!(kept.is_empty(), "{kept:?}");
        let s = sweep_person(&[phone, mail], &[cp(PHONE), cp(EMAIL)], &files, ts("2025-01-02T00:00:00Z"), &rules);
        assert_eq!(s.attachments, vec!["ab".repeat(32)], "only the withdrawn consent's scan goes");
        assert_eq!(s.contact_points, vec![cp(EMAIL)]);
        assert!(s.expire.is_empty(), "the phone consent was granted in 2026");
    }

    #[test]
    fn r60_a_file_shared_with_a_live_consent_stays() {
        let (mut phone, mail) = person();
        phone.evidence.push(paper(&"ab".repeat(32), "F-1", "Ordner 3"));
        let s = sweep_person(
            &[phone, mail],
            &[cp(PHONE), cp(EMAIL)],
            &[file(&"ab".repeat(32))],
            ts("2027-06-01T00:00:00Z"),
            &default_rules(),
        );
        assert!(s.attachments.is_empty(), "the live phone consent names the scan too");
        assert_eq!(s.contact_points, vec![cp(EMAIL)]);
    }

    #[test]
    fn e10_a_phone_consent_unused_for_five_years_expires_before_its_proof_may_go() {
        let (phone, _) = person();
        let files = [file(&"cd".repeat(32))];
        let rules = default_rules();
        let before =
            sweep_person(std::slice::from_ref(&phone), &[cp(PHONE)], &files, ts("2031-01-10T09:00:00Z"), &rules);
        assert!(before.is_empty(), "five years after the grant of 2026-01-10 10:01 not yet reached");
        let s = sweep_person(std::slice::from_ref(&phone), &[cp(PHONE)], &files, ts("2031-01-10T11:00:00Z"), &rules);
        assert_eq!(s.expire, vec![phone.id]);
        assert!(s.attachments.is_empty() && s.contact_points.is_empty(), "the proof is not touched in the same run");
        // A use moves the clock (R59).
        let used = ConsentRecord { last_use_at: Some(ts("2028-02-01T00:00:00Z")), ..phone };
        assert!(sweep_person(&[used], &[cp(PHONE)], &files, ts("2031-01-10T11:00:00Z"), &rules).is_empty());
    }

    #[test]
    fn r58_an_unconfirmed_request_that_expired_proves_nothing() {
        let mut expired = email_record();
        expired.status = ConsentStatus::Expired;
        expired.granted_at = None;
        expired.last_change_at = ts("2026-02-01T00:00:00Z");
        assert!(!needs_proof(&expired, ts("2026-03-01T00:00:00Z"), &default_rules()));
        let s = sweep_person(&[expired], &[cp(EMAIL)], &[], ts("2026-03-01T00:00:00Z"), &default_rules());
        assert_eq!(s.contact_points, vec![cp(EMAIL)], "its address goes at once");
    }

    #[test]
    fn r60_requested_consents_and_unreferenced_items_are_left_to_the_person_rules() {
        let mut pending = email_record();
        pending.status = ConsentStatus::Requested;
        pending.granted_at = None;
        pending.given_at = ts("2019-01-01T00:00:00Z");
        pending.last_change_at = ts("2019-01-01T00:00:00Z");
        let s = sweep_person(
            &[pending],
            &[cp(EMAIL), cp(POSTAL)],
            &[file("ff")],
            ts("2030-01-01T00:00:00Z"),
            &default_rules(),
        );
        assert!(s.is_empty(), "{s:?}");
    }
}
