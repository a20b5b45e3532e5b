//! Tests of the consent-text and form linter, one requirement at a time.

use super::*;
use crate::consent::testkit::*;
use crate::text::body_sha256;

const GOOD: &str = "Ich willige ein, dass die Muster Makler GmbH, Köln, mich per Telefon und E-Mail über \
Versicherungen informiert. Diese Einwilligung kann ich jederzeit widerrufen, z. B. per E-Mail an \
widerruf@muster-makler.de.";

fn advertisers() -> Vec<Advertiser> {
    vec![advertiser(1, "Muster Makler GmbH"), advertiser(2, "Beispiel Versicherung AG")]
}

fn lint(body: &str, channels: &[Channel], scope_advertisers: &[u128]) -> Vec<LintIssue> {
    lint_text(&text(body, scope(scope_advertisers, &["insurance"], channels)), &advertisers())
}

fn codes(issues: &[LintIssue]) -> Vec<&'static str> {
    issues.iter().map(LintIssue::code).collect()
}

#[test]
fn a_complete_text_has_no_findings() {
    assert_eq!(lint(GOOD, &[Channel::PhoneLive, Channel::Email], &[1]), vec![]);
}

#[test]
fn r7_partner_catch_all_without_list_is_rejected() {
    // Scenario 5.
    let body = "Ich willige ein, dass unsere Partner mich per Telefon über Versicherungen informieren. \
                Ich kann jederzeit widerrufen.";
    let issues = lint(body, &[Channel::PhoneLive], &[1]);
    let catch_all = issues.iter().find(|i| i.code() == "catch_all_wording");
    assert!(catch_all.is_some_and(LintIssue::is_error), "{issues:?}");
    assert!(codes(&issues).contains(&"advertiser_not_named"));
}

#[test]
fn r7_catch_all_terms_are_found_case_insensitively() {
    for phrase in [
        "PARTNERUNTERNEHMEN",
        "Kooperationspartnern",
        "sonstige\n   Unternehmen",
        "Dritte",
        "our partners",
        "third parties",
    ] {
        let body = format!("Ich willige ein, dass {phrase} mich per Telefon anrufen. Jederzeit widerrufbar.");
        let issues = lint(&body, &[Channel::PhoneLive], &[1]);
        assert!(codes(&issues).contains(&"catch_all_wording"), "{phrase}: {issues:?}");
    }
}

#[test]
fn r7_catch_all_is_word_ish_not_any_substring() {
    let body = "Erstens, zweitens, drittens: die Muster Makler GmbH ruft per Telefon an. Jederzeit widerrufbar.";
    let mut issues = lint(body, &[Channel::PhoneLive], &[1, 2]);
    issues.retain(|i| i.code() == "catch_all_wording");
    assert_eq!(issues, vec![]);
}

#[test]
fn r7_partner_wording_with_every_advertiser_named_is_accepted() {
    let body = "Ich willige ein, dass unsere Partner Muster Makler GmbH und Beispiel Versicherung AG mich per \
                Telefon informieren. Ich kann jederzeit widerrufen.";
    assert_eq!(lint(body, &[Channel::PhoneLive], &[1, 2]), vec![]);
}

#[test]
fn r7_legal_name_containing_partner_is_not_a_catch_all() {
    let advertisers = vec![advertiser(1, "Müller & Partner GmbH"), advertiser(2, "Beispiel Versicherung AG")];
    let body = "Die Müller & Partner GmbH darf mich per Telefon anrufen. Jederzeit widerrufbar.";
    let issues = lint_text(&text(body, scope(&[1, 2], &["insurance"], &[Channel::PhoneLive])), &advertisers);
    assert_eq!(codes(&issues), vec!["advertiser_not_named"]);
    assert_eq!(
        issues[0].kind,
        LintKind::AdvertiserNotNamed { advertiser: adv(2), legal_name: "Beispiel Versicherung AG".into() }
    );
}

#[test]
fn r7_every_scope_advertiser_must_be_registered() {
    let issues = lint(GOOD, &[Channel::PhoneLive, Channel::Email], &[1, 3]);
    assert!(issues.contains(&LintIssue::new(LintKind::AdvertiserUnknown { advertiser: adv(3) })));
}

#[test]
fn r7_r9_empty_scope_axes_are_errors() {
    let t = text(GOOD, scope(&[], &[], &[]));
    let issues = lint_text(&t, &advertisers());
    let found = codes(&issues);
    for code in ["scope_without_advertisers", "scope_without_categories", "scope_without_channels"] {
        assert!(found.contains(&code), "{code}: {found:?}");
    }
}

#[test]
fn r8_missing_withdrawal_notice_is_an_error() {
    let body = "Die Muster Makler GmbH darf mich per Telefon anrufen.";
    let issues = lint(body, &[Channel::PhoneLive], &[1]);
    assert_eq!(issues, vec![LintIssue::new(LintKind::MissingWithdrawalNotice)]);
    assert!(issues[0].is_error());

    let english = "Muster Makler GmbH may call me by phone. I may withdraw this consent at any time.";
    assert_eq!(lint(english, &[Channel::PhoneLive], &[1]), vec![]);
}

#[test]
fn r8_withdrawal_without_any_time_is_a_warning() {
    let body = "Die Muster Makler GmbH darf mich per Telefon anrufen. Ein Widerruf ist per Brief möglich.";
    let issues = lint(body, &[Channel::PhoneLive], &[1]);
    assert_eq!(codes(&issues), vec!["withdrawal_not_at_any_time"]);
    assert_eq!(issues[0].severity, Severity::Warning);
}

#[test]
fn r9_channel_in_scope_must_be_named() {
    let issues = lint(GOOD, &[Channel::PhoneLive, Channel::Email, Channel::Sms, Channel::Post], &[1]);
    assert_eq!(
        issues,
        vec![
            LintIssue::new(LintKind::ChannelNotMentioned { channel: Channel::Sms }),
            LintIssue::new(LintKind::ChannelNotMentioned { channel: Channel::Post }),
        ]
    );
    let body = format!("{GOOD} Auch per SMS und per Post.");
    assert_eq!(lint(&body, &[Channel::PhoneLive, Channel::Email, Channel::Sms, Channel::Post], &[1]), vec![]);
}

#[test]
fn r16_whatsapp_text_names_whatsapp_and_the_business() {
    let body = "Ich möchte Angebote per Messenger erhalten. Jederzeit widerrufbar.";
    let issues = lint(body, &[Channel::MessengerWhatsapp], &[1]);
    let found = codes(&issues);
    assert!(found.contains(&"whatsapp_not_named"), "{found:?}");
    assert!(found.contains(&"whatsapp_business_not_named"), "{found:?}");

    let body = "Die Muster Makler GmbH darf mir Angebote per WhatsApp senden. Jederzeit widerrufbar.";
    assert_eq!(lint(body, &[Channel::MessengerWhatsapp], &[1]), vec![]);
}

#[test]
fn r8_privacy_notice_link_is_required() {
    for url in ["", "  ", "ftp://example.de/ds", "https://"] {
        let mut t = text(GOOD, scope(&[1], &["insurance"], &[Channel::PhoneLive, Channel::Email]));
        t.privacy_notice.url = url.into();
        assert_eq!(codes(&lint_text(&t, &advertisers())), vec!["missing_privacy_notice"], "{url:?}");
    }
    let mut t = text(GOOD, scope(&[1], &["insurance"], &[Channel::PhoneLive, Channel::Email]));
    t.privacy_notice.version = String::new();
    let issues = lint_text(&t, &advertisers());
    assert_eq!(codes(&issues), vec!["privacy_notice_version_missing"]);
    assert!(!issues[0].is_error());
}

#[test]
fn r10_hash_mismatch_is_an_error() {
    let mut t = text(GOOD, scope(&[1], &["insurance"], &[Channel::PhoneLive, Channel::Email]));
    t.body.push_str(" Nachträglich geändert.");
    assert_eq!(codes(&lint_text(&t, &advertisers())), vec!["hash_mismatch"]);
    t.sha256 = body_sha256(&t.body);
    assert_eq!(lint_text(&t, &advertisers()), vec![]);
}

fn checkbox(label: &str, pre_ticked: bool, declarations: &[DeclarationKind]) -> FormCheckbox {
    FormCheckbox { label: label.into(), pre_ticked, declarations: declarations.to_vec() }
}

#[test]
fn r4_pre_ticked_checkbox_is_an_error() {
    // Scenario 6.
    let form = FormConfig {
        checkboxes: vec![
            checkbox("AGB akzeptieren", false, &[DeclarationKind::TermsAcceptance]),
            checkbox("Ja, ich möchte Angebote per Telefon", true, &[DeclarationKind::MarketingConsent]),
        ],
    };
    let issues = lint_form(&form);
    assert_eq!(
        issues,
        vec![LintIssue::new(LintKind::PreTicked { checkbox: 1, label: "Ja, ich möchte Angebote per Telefon".into() })]
    );
    assert!(issues[0].is_error());
    assert!(issues[0].message_de().contains("vorangekreuzt"));
    assert!(issues[0].message_en().contains("pre-ticked"));
}

#[test]
fn r5_marketing_consent_bundled_with_another_declaration_is_an_error() {
    for other in [
        DeclarationKind::TermsAcceptance,
        DeclarationKind::PrivacyAcknowledgement,
        DeclarationKind::PrizeDraw,
        DeclarationKind::ContractStatement,
    ] {
        let form = FormConfig { checkboxes: vec![checkbox("Ja", false, &[DeclarationKind::MarketingConsent, other])] };
        assert_eq!(codes(&lint_form(&form)), vec!["bundled_declaration"], "{other:?}");
    }
    let separate = FormConfig {
        checkboxes: vec![
            checkbox("Gewinnspiel", false, &[DeclarationKind::PrizeDraw]),
            checkbox("Werbung per E-Mail", false, &[DeclarationKind::MarketingConsent]),
        ],
    };
    assert_eq!(lint_form(&separate), vec![]);
}

#[test]
fn r8_marketing_checkbox_needs_a_label() {
    let form = FormConfig { checkboxes: vec![checkbox(" ", false, &[DeclarationKind::MarketingConsent])] };
    assert_eq!(codes(&lint_form(&form)), vec!["checkbox_label_missing"]);
}

#[test]
fn lint_codes_serialise_as_their_code() {
    let issue = LintIssue::new(LintKind::CatchAllWording { term: "partner".into() });
    let json = serde_json::to_value(&issue).ok();
    assert_eq!(json.as_ref().map(|v| v["kind"]["code"].clone()), Some(issue.code().into()));
    assert!(issue.message_de().contains("partner"));
}

#[test]
fn r7_partner_next_to_a_single_named_advertiser_is_a_catch_all() {
    let body = "Ich willige ein, dass die Muster Makler GmbH und ihre Partner mich per Telefon über \
                Versicherungen informieren. Ich kann jederzeit widerrufen.";
    let issues = lint(body, &[Channel::PhoneLive], &[1]);
    assert!(codes(&issues).contains(&"catch_all_wording"), "{issues:?}");
}
