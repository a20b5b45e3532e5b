//! The consent-text and form linter (R4–R10, R16): catches catch-all wording, missing withdrawal
//! notice, unnamed advertisers and channels, pre-ticked and bundled checkboxes. Errors block publishing.

mod issue;

pub use issue::{LintIssue, LintKind, Severity};

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::party::Advertiser;
use crate::text::ConsentTextVersion;

/// What a form checkbox declares when ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclarationKind {
    /// Consent to marketing contact.
    MarketingConsent,
    /// Acceptance of terms and conditions.
    TermsAcceptance,
    /// Acknowledgement of the privacy notice.
    PrivacyAcknowledgement,
    /// Participation in a prize draw.
    PrizeDraw,
    /// A statement belonging to a contract (application, advice record).
    ContractStatement,
}

/// One checkbox of a capture form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormCheckbox {
    /// Label shown next to the box.
    pub label: String,
    /// Whether the box is rendered ticked.
    pub pre_ticked: bool,
    /// The declarations ticking the box makes.
    pub declarations: Vec<DeclarationKind>,
}

/// The checkbox configuration of a capture form.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FormConfig {
    /// Checkboxes in display order.
    pub checkboxes: Vec<FormCheckbox>,
}

/// How a catch-all term is matched.
#[derive(Clone, Copy)]
enum Match {
    /// Anywhere, also inside German compounds ("Kooperationspartner").
    Anywhere,
    /// At the start of a word ("Drittanbieter", "third parties").
    WordStart,
    /// As a whole word ("Dritte", but not "Drittens").
    Word,
}

/// Catch-all wording for advertisers (R7, BGH I ZR 169/10), lower case.
const CATCH_ALL: &[(&str, Match)] = &[
    ("partner", Match::Anywhere),
    ("sonstige unternehmen", Match::WordStart),
    ("sonstigen unternehmen", Match::WordStart),
    ("andere unternehmen", Match::WordStart),
    ("anderen unternehmen", Match::WordStart),
    ("ausgewählte unternehmen", Match::WordStart),
    ("ausgewählten unternehmen", Match::WordStart),
    ("verbundene unternehmen", Match::WordStart),
    ("verbundenen unternehmen", Match::WordStart),
    ("dritte", Match::Word),
    ("dritten", Match::Word),
    ("dritter", Match::Word),
    ("drittanbieter", Match::WordStart),
    ("drittunternehmen", Match::WordStart),
    ("third part", Match::WordStart),
    ("other companies", Match::WordStart),
    ("selected companies", Match::WordStart),
    ("affiliate", Match::WordStart),
];

const WITHDRAW: &[&str] = &["widerruf", "withdraw", "revoke", "revocation"];
const ANY_TIME: &[&str] = &["jederzeit", "any time", "anytime"];

/// Words that name a channel in German or English (matched anywhere unless listed in `word_start`).
fn channel_words(channel: Channel) -> &'static [&'static str] {
    match channel {
        Channel::PhoneLive => &["telefon", "anruf", "phone", "call"],
        Channel::PhoneAutomated => &[
            "automatisiert",
            "sprachcomputer",
            "bandansage",
            "voicebot",
            "voice bot",
            "automated",
            "prerecorded",
            "pre-recorded",
        ],
        Channel::Fax => &["fax"],
        Channel::Email => &["e-mail", "email", "e\u{2011}mail"],
        Channel::Sms => &["sms", "textnachricht", "text message"],
        Channel::MessengerWhatsapp => &["whatsapp", "messenger"],
        Channel::Post => &["post", "brief", "letter"],
    }
}

/// Lower-cases and collapses whitespace, so matching ignores case and line breaks.
fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

fn at_word_start(hay: &str, idx: usize) -> bool {
    hay[..idx].chars().next_back().is_none_or(|c| !c.is_alphanumeric())
}

fn contains_at_word_start(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(i, _)| at_word_start(hay, i))
}

fn contains_word(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle)
        .any(|(i, m)| at_word_start(hay, i) && hay[i + m.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric()))
}

fn contains(hay: &str, needle: &str, how: Match) -> bool {
    match how {
        Match::Anywhere => hay.contains(needle),
        Match::WordStart => contains_at_word_start(hay, needle),
        Match::Word => contains_word(hay, needle),
    }
}

fn mentions(body: &str, channel: Channel) -> bool {
    let words = channel_words(channel);
    if channel == Channel::Post {
        words.iter().any(|w| contains_at_word_start(body, w))
    } else {
        words.iter().any(|w| body.contains(w)) || body.contains(&normalise(channel.label_de()))
    }
}

/// Lints a consent text version against the advertisers of the tenant (R7–R10, R16).
pub fn lint_text(text: &ConsentTextVersion, advertisers: &[Advertiser]) -> Vec<LintIssue> {
    let mut issues = Vec::new();
    let body = normalise(&text.body);
    if body.is_empty() {
        issues.push(LintIssue::new(LintKind::EmptyBody));
    }
    if !text.hash_matches() {
        issues.push(LintIssue::new(LintKind::HashMismatch));
    }
    let scope = &text.scope;
    if scope.advertisers.is_empty() {
        issues.push(LintIssue::new(LintKind::ScopeWithoutAdvertisers));
    }
    if scope.product_categories.is_empty() {
        issues.push(LintIssue::new(LintKind::ScopeWithoutCategories));
    }
    if scope.channels.is_empty() {
        issues.push(LintIssue::new(LintKind::ScopeWithoutChannels));
    }

    // R7: every advertiser of the scope named by legal name.
    let mut named = Vec::new();
    for &id in &scope.advertisers {
        match advertisers.iter().find(|a| a.id == id) {
            None => issues.push(LintIssue::new(LintKind::AdvertiserUnknown { advertiser: id })),
            Some(a) if body.contains(&normalise(&a.legal_name)) && !a.legal_name.trim().is_empty() => named.push(a),
            Some(a) => issues.push(LintIssue::new(LintKind::AdvertiserNotNamed {
                advertiser: id,
                legal_name: a.legal_name.clone(),
            })),
        }
    }
    let all_named = !scope.advertisers.is_empty() && named.len() == scope.advertisers.len();
    // "Partner" may only refer to a named list: with a single advertiser in scope it necessarily
    // reaches beyond it ("die X GmbH und ihre Partner"), so it is a catch-all there too.
    if !all_named || scope.advertisers.len() < 2 {
        // Legal names such as "Müller & Partner GmbH" are not catch-alls: take them out first.
        let mut rest = body.clone();
        for a in advertisers.iter().filter(|a| !a.legal_name.trim().is_empty()) {
            rest = rest.replace(&normalise(&a.legal_name), " ");
        }
        for &(term, how) in CATCH_ALL {
            if contains(&rest, term, how) {
                issues.push(LintIssue::new(LintKind::CatchAllWording { term: term.to_string() }));
            }
        }
    }

    // R8: the right to withdraw at any time.
    if !WITHDRAW.iter().any(|w| body.contains(w)) {
        issues.push(LintIssue::new(LintKind::MissingWithdrawalNotice));
    } else if !ANY_TIME.iter().any(|w| body.contains(w)) {
        issues.push(LintIssue::new(LintKind::WithdrawalNotAtAnyTime));
    }

    // R9: each channel named.
    for &channel in &scope.channels {
        if !mentions(&body, channel) {
            issues.push(LintIssue::new(LintKind::ChannelNotMentioned { channel }));
        }
    }
    // R16: WhatsApp by name, and the business.
    if scope.channels.contains(&Channel::MessengerWhatsapp) {
        if !body.contains("whatsapp") {
            issues.push(LintIssue::new(LintKind::WhatsappNotNamed));
        }
        if named.is_empty() {
            issues.push(LintIssue::new(LintKind::WhatsappBusinessNotNamed));
        }
    }

    // R8, R10: linked privacy notice.
    let url = text.privacy_notice.url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() <= "https://".len() {
        issues.push(LintIssue::new(LintKind::MissingPrivacyNotice));
    }
    if text.privacy_notice.version.trim().is_empty() {
        issues.push(LintIssue::new(LintKind::PrivacyNoticeVersionMissing));
    }
    issues
}

/// Lints the checkboxes of a capture form: nothing pre-ticked (R4), marketing consent never
/// bundled with another declaration (R5).
pub fn lint_form(form: &FormConfig) -> Vec<LintIssue> {
    let mut issues = Vec::new();
    for (index, cb) in form.checkboxes.iter().enumerate() {
        if cb.pre_ticked {
            issues.push(LintIssue::new(LintKind::PreTicked { checkbox: index, label: cb.label.clone() }));
        }
        let marketing = cb.declarations.contains(&DeclarationKind::MarketingConsent);
        if marketing && cb.declarations.iter().any(|d| *d != DeclarationKind::MarketingConsent) {
            issues.push(LintIssue::new(LintKind::BundledDeclaration { checkbox: index, label: cb.label.clone() }));
        }
        if marketing && cb.label.trim().is_empty() {
            issues.push(LintIssue::new(LintKind::CheckboxLabelMissing { checkbox: index }));
        }
    }
    issues
}

#[cfg(test)]
mod tests;
