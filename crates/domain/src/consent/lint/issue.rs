//! Lint findings: what is wrong, how bad (error blocks publishing), in German and English.

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::ids::AdvertiserId;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks publishing.
    Error,
    /// Should be reviewed; does not block.
    Warning,
}

/// What the linter found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum LintKind {
    /// The text body is empty.
    EmptyBody,
    /// The stored hash does not match the body (R10).
    HashMismatch,
    /// The scope names no advertiser (R7).
    ScopeWithoutAdvertisers,
    /// The scope names no product category (R7).
    ScopeWithoutCategories,
    /// The scope names no channel (R9).
    ScopeWithoutChannels,
    /// An advertiser of the scope is not registered.
    AdvertiserUnknown {
        /// The advertiser.
        advertiser: AdvertiserId,
    },
    /// An advertiser of the scope is not named by legal name in the text (R7).
    AdvertiserNotNamed {
        /// The advertiser.
        advertiser: AdvertiserId,
        /// Its legal name, as it should appear.
        legal_name: String,
    },
    /// Catch-all wording ("Partner", "Dritte" …) without every advertiser named (R7).
    CatchAllWording {
        /// The term found (lower case).
        term: String,
    },
    /// No sentence on the right to withdraw (R8).
    MissingWithdrawalNotice,
    /// Withdrawal is mentioned, but not that it is possible at any time (R8, Art. 7(3)).
    WithdrawalNotAtAnyTime,
    /// A channel of the scope is not mentioned in the text (R9).
    ChannelNotMentioned {
        /// The channel.
        channel: Channel,
    },
    /// WhatsApp is in scope but not named (R16).
    WhatsappNotNamed,
    /// WhatsApp is in scope but no business of the scope is named (R16).
    WhatsappBusinessNotNamed,
    /// No link to the privacy notice (R8, R10).
    MissingPrivacyNotice,
    /// The privacy notice link has no version (R10).
    PrivacyNoticeVersionMissing,
    /// A checkbox is rendered ticked (R4, Planet49).
    PreTicked {
        /// Position of the checkbox, from 0.
        checkbox: usize,
        /// Its label.
        label: String,
    },
    /// A checkbox combines marketing consent with another declaration (R5).
    BundledDeclaration {
        /// Position of the checkbox, from 0.
        checkbox: usize,
        /// Its label.
        label: String,
    },
    /// A marketing checkbox has no label, so the person cannot know what they agree to (R8).
    CheckboxLabelMissing {
        /// Position of the checkbox, from 0.
        checkbox: usize,
    },
}

/// One finding of the linter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintIssue {
    /// What was found.
    pub kind: LintKind,
    /// How bad it is.
    pub severity: Severity,
}

impl LintIssue {
    /// A finding with the severity its kind carries.
    pub fn new(kind: LintKind) -> Self {
        let severity = match kind {
            LintKind::WithdrawalNotAtAnyTime | LintKind::PrivacyNoticeVersionMissing => Severity::Warning,
            _ => Severity::Error,
        };
        Self { kind, severity }
    }

    /// True when the finding blocks publishing.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match &self.kind {
            LintKind::EmptyBody => "empty_body",
            LintKind::HashMismatch => "hash_mismatch",
            LintKind::ScopeWithoutAdvertisers => "scope_without_advertisers",
            LintKind::ScopeWithoutCategories => "scope_without_categories",
            LintKind::ScopeWithoutChannels => "scope_without_channels",
            LintKind::AdvertiserUnknown { .. } => "advertiser_unknown",
            LintKind::AdvertiserNotNamed { .. } => "advertiser_not_named",
            LintKind::CatchAllWording { .. } => "catch_all_wording",
            LintKind::MissingWithdrawalNotice => "missing_withdrawal_notice",
            LintKind::WithdrawalNotAtAnyTime => "withdrawal_not_at_any_time",
            LintKind::ChannelNotMentioned { .. } => "channel_not_mentioned",
            LintKind::WhatsappNotNamed => "whatsapp_not_named",
            LintKind::WhatsappBusinessNotNamed => "whatsapp_business_not_named",
            LintKind::MissingPrivacyNotice => "missing_privacy_notice",
            LintKind::PrivacyNoticeVersionMissing => "privacy_notice_version_missing",
            LintKind::PreTicked { .. } => "pre_ticked",
            LintKind::BundledDeclaration { .. } => "bundled_declaration",
            LintKind::CheckboxLabelMissing { .. } => "checkbox_label_missing",
        }
    }

    /// Message in German.
    pub fn message_de(&self) -> String {
        match &self.kind {
            LintKind::EmptyBody => "Der Einwilligungstext ist leer.".into(),
            LintKind::HashMismatch => "Die Prüfsumme passt nicht zum Text.".into(),
            LintKind::ScopeWithoutAdvertisers => "Der Umfang nennt kein werbendes Unternehmen.".into(),
            LintKind::ScopeWithoutCategories => "Der Umfang nennt keinen Produktbereich.".into(),
            LintKind::ScopeWithoutChannels => "Der Umfang nennt keinen Kontaktkanal.".into(),
            LintKind::AdvertiserUnknown { advertiser } => format!("Unbekanntes werbendes Unternehmen {advertiser}."),
            LintKind::AdvertiserNotNamed { legal_name, .. } => {
                format!("Das werbende Unternehmen „{legal_name}“ wird im Text nicht mit seiner Firma genannt.")
            }
            LintKind::CatchAllWording { term } => {
                format!("Sammelbegriff „{term}“ ohne abschließende namentliche Liste aller werbenden Unternehmen.")
            }
            LintKind::MissingWithdrawalNotice => "Der Hinweis auf das Widerrufsrecht fehlt.".into(),
            LintKind::WithdrawalNotAtAnyTime => "Der Text sagt nicht, dass der Widerruf jederzeit möglich ist.".into(),
            LintKind::ChannelNotMentioned { channel } => {
                format!("Der Kanal „{}“ wird im Text nicht genannt.", channel.label_de())
            }
            LintKind::WhatsappNotNamed => "WhatsApp ist im Umfang, wird im Text aber nicht genannt.".into(),
            LintKind::WhatsappBusinessNotNamed => {
                "WhatsApp ist im Umfang, aber kein Unternehmen wird im Text genannt.".into()
            }
            LintKind::MissingPrivacyNotice => "Der Link zur Datenschutzerklärung fehlt.".into(),
            LintKind::PrivacyNoticeVersionMissing => "Die Version der Datenschutzerklärung fehlt.".into(),
            LintKind::PreTicked { label, .. } => format!("Das Kästchen „{label}“ ist vorangekreuzt."),
            LintKind::BundledDeclaration { label, .. } => {
                format!("Das Kästchen „{label}“ verbindet die Werbeeinwilligung mit einer anderen Erklärung.")
            }
            LintKind::CheckboxLabelMissing { checkbox } => {
                format!("Das Einwilligungskästchen Nr. {} hat keine Beschriftung.", checkbox + 1)
            }
        }
    }

    /// Message in English.
    pub fn message_en(&self) -> String {
        match &self.kind {
            LintKind::EmptyBody => "The consent text is empty.".into(),
            LintKind::HashMismatch => "The stored hash does not match the text.".into(),
            LintKind::ScopeWithoutAdvertisers => "The scope names no advertising company.".into(),
            LintKind::ScopeWithoutCategories => "The scope names no product category.".into(),
            LintKind::ScopeWithoutChannels => "The scope names no channel.".into(),
            LintKind::AdvertiserUnknown { advertiser } => format!("Unknown advertiser {advertiser}."),
            LintKind::AdvertiserNotNamed { legal_name, .. } => {
                format!("The advertiser \"{legal_name}\" is not named by its legal name in the text.")
            }
            LintKind::CatchAllWording { term } => {
                format!("Catch-all term \"{term}\" without an exhaustive list naming every advertiser.")
            }
            LintKind::MissingWithdrawalNotice => "The notice of the right to withdraw is missing.".into(),
            LintKind::WithdrawalNotAtAnyTime => "The text does not say consent can be withdrawn at any time.".into(),
            LintKind::ChannelNotMentioned { channel } => format!("The channel {channel} is not named in the text."),
            LintKind::WhatsappNotNamed => "WhatsApp is in scope but not named in the text.".into(),
            LintKind::WhatsappBusinessNotNamed => "WhatsApp is in scope but no business is named in the text.".into(),
            LintKind::MissingPrivacyNotice => "The link to the privacy notice is missing.".into(),
            LintKind::PrivacyNoticeVersionMissing => "The privacy notice version is missing.".into(),
            LintKind::PreTicked { label, .. } => format!("The checkbox \"{label}\" is pre-ticked."),
            LintKind::BundledDeclaration { label, .. } => {
                format!("The checkbox \"{label}\" bundles marketing consent with another declaration.")
            }
            LintKind::CheckboxLabelMissing { checkbox } => {
                format!("Consent checkbox no. {} has no label.", checkbox + 1)
            }
        }
    }
}
