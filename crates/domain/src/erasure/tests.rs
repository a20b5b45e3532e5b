use super::*;
use crate::attachment::AttachmentKind;
use crate::consent::ConsentStatus;
use crate::consent::testkit::*;
use crate::retention::default_rules;

fn file(sha: &str) -> AttachmentMeta {
    AttachmentMeta { sha256: sha.into(), kind: AttachmentKind::Recording, content_type: "audio/x-wav".into(), size: 10 }
}

fn until_of(lines: &[PlanLine], item: &Item) -> Option<(KeepReason, Timestamp)> {
    lines.iter().find(|l| &l.item == item).and_then(|l| match l.disposition {
        Disposition::KeepRestricted { reason, until } => Some((reason, until)),
        Disposition::DeleteNow => None,
    })
}

#[test]
fn r47_scenario9_phone_proof_kept_until_last_use_plus_five_years_the_rest_goes() {
    let now = ts("2026-12-04T12:00:00Z");
    let mut phone = phone_record();
    phone.evidence.push(recording(PHONE, true));
    phone.given_at = ts("2021-06-01T10:00:00Z");
    phone.granted_at = Some(ts("2021-06-01T10:01:00Z"));
    phone.last_change_at = ts("2021-06-01T10:01:00Z");
    phone.last_use_at = Some(ts("2024-12-04T09:00:00Z"));
    let mut pending = email_record();
    pending.id = consent_id(3);
    pending.status = ConsentStatus::Requested;
    pending.granted_at = None;
    let consents = [phone.clone(), pending];
    let lines = plan(&ErasureInput {
        consents: &consents,
        contact_points: &[cp(PHONE), cp(EMAIL)],
        attachments: &[file(&"cd".repeat(32)), file(&"ef".repeat(32))],
        hold_until: None,
        now,
        rules: &default_rules(),
    });
    let proof = Some((KeepReason::Uwg7a5y, ts("2029-12-04T09:00:00Z")));
    assert_eq!(until_of(&lines, &Item::ConsentProof { id: phone.id }), proof, "last use + 5 years");
    assert_eq!(until_of(&lines, &Item::PersonData), proof, "names and address belong to the § 7a proof");
    assert_eq!(until_of(&lines, &Item::ContactPoint { id: cp(PHONE) }), proof);
    assert_eq!(until_of(&lines, &Item::Attachment { sha256: "cd".repeat(32) }), proof, "the recording is proof");
    for gone in [
        Item::ContactPoint { id: cp(EMAIL) },
        Item::ConsentProof { id: consent_id(3) },
        Item::Attachment { sha256: "ef".repeat(32) },
        Item::PendingMessages,
    ] {
        assert_eq!(until_of(&lines, &gone), None, "{gone:?} is deleted now");
    }
    assert_eq!(kept_until(&lines), Some(ts("2029-12-04T09:00:00Z")));
    let text = reply(&lines);
    assert!(text.contains("gesperrt aufbewahrt bis 04.12.2029"), "{text}");
    assert!(text.contains("§ 7a UWG") && text.contains("Gelöscht:"), "{text}");
}

#[test]
fn r47_nothing_to_keep_when_no_consent_was_ever_valid() {
    let mut pending = phone_record();
    pending.status = ConsentStatus::Requested;
    pending.granted_at = None;
    let lines = plan(&ErasureInput {
        consents: &[pending],
        contact_points: &[cp(PHONE)],
        attachments: &[],
        hold_until: None,
        now: ts("2026-12-04T12:00:00Z"),
        rules: &default_rules(),
    });
    assert!(lines.iter().all(|l| l.disposition == Disposition::DeleteNow), "{lines:?}");
    assert_eq!(kept_until(&lines), None);
}

#[test]
fn r59_phone_proof_past_its_five_years_is_deleted_at_once() {
    let mut old = phone_record();
    old.status = ConsentStatus::Withdrawn;
    old.last_change_at = ts("2020-03-01T00:00:00Z");
    old.granted_at = Some(ts("2019-01-01T00:00:00Z"));
    old.given_at = ts("2019-01-01T00:00:00Z");
    old.last_use_at = Some(ts("2020-02-01T00:00:00Z"));
    let lines = plan(&ErasureInput {
        consents: &[old],
        contact_points: &[cp(PHONE)],
        attachments: &[],
        hold_until: None,
        now: ts("2026-12-04T12:00:00Z"),
        rules: &default_rules(),
    });
    assert_eq!(kept_until(&lines), None, "{lines:?}");
}

#[test]
fn r61_a_hold_keeps_everything_at_least_until_its_review_and_longer_duties_stay() {
    let review = ts("2027-06-30T00:00:00Z");
    let mut pending = email_record();
    pending.status = ConsentStatus::Requested;
    pending.granted_at = None;
    pending.id = consent_id(3);
    let lines = plan(&ErasureInput {
        consents: &[email_record(), pending],
        contact_points: &[cp(EMAIL), cp(PHONE)],
        attachments: &[],
        hold_until: Some(review),
        now: ts("2026-12-04T12:00:00Z"),
        rules: &default_rules(),
    });
    let claims = Some((KeepReason::LegalClaims, ts("2030-01-01T00:00:00Z")));
    assert_eq!(until_of(&lines, &Item::ConsentProof { id: consent_id(2) }), claims, "the longer duty stays");
    let held = Some((KeepReason::LegalHold, review));
    assert_eq!(until_of(&lines, &Item::ConsentProof { id: consent_id(3) }), held, "what would go now waits");
    assert_eq!(until_of(&lines, &Item::ContactPoint { id: cp(PHONE) }), held);
    assert_eq!(until_of(&lines, &Item::PendingMessages), None, "queued messages go regardless");
}

#[test]
fn d4_a_live_email_consent_is_kept_for_claims_to_the_end_of_the_third_year() {
    let lines = plan(&ErasureInput {
        consents: &[email_record()],
        contact_points: &[cp(EMAIL)],
        attachments: &[],
        hold_until: None,
        now: ts("2026-12-04T12:00:00Z"),
        rules: &default_rules(),
    });
    assert_eq!(
        until_of(&lines, &Item::ConsentProof { id: consent_id(2) }),
        Some((KeepReason::LegalClaims, ts("2030-01-01T00:00:00Z")))
    );
}
