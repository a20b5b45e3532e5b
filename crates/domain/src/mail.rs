//! Transactional mails as plain data: the double opt-in confirmation (R13) in German with English
//! below, without advertising content. Sending is the jobs' business.

use serde::{Deserialize, Serialize};

/// A mail to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingMail {
    /// Message id (`<…@konsent>`), stable across retries so receivers can deduplicate.
    pub message_id: String,
    /// Recipient address.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
}

/// A text message to send (SMS).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingSms {
    /// Message id, stable across retries.
    pub message_id: String,
    /// Recipient number, E.164.
    pub to: String,
    /// Text.
    pub text: String,
}

/// What the outbox holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Outgoing {
    /// An e-mail.
    Mail(OutgoingMail),
    /// A text message.
    Sms(OutgoingSms),
}

impl Outgoing {
    /// The message id.
    pub fn message_id(&self) -> &str {
        match self {
            Outgoing::Mail(m) => &m.message_id,
            Outgoing::Sms(s) => &s.message_id,
        }
    }
}

/// The text of a verification code message (R15, R16): no advertising.
pub fn otp_text(company: &str, code: &str) -> String {
    format!("{code} ist Ihr Bestätigungscode für {company}. Gültig 10 Minuten. / {code} is your confirmation code.")
}

/// The text message asking a person to confirm in text form the consent they gave in a call
/// (R17 b); no advertising, only the confirmation.
pub fn call_confirmation_sms(company: &str, link: &str) -> String {
    format!(
        "Bitte bestätigen Sie Ihre telefonische Einwilligung in Werbeanrufe von {company}: {link} \
         (nur wenn Sie zugestimmt haben) / Please confirm the consent you gave on the phone."
    )
}

/// The sentence (German, English; each with a leading space) that tells a person a code by text
/// message follows their click, when it does (R15, R16); empty otherwise.
pub fn number_follows_note(number_follows: bool) -> (&'static str, &'static str) {
    if number_follows {
        (
            " Danach schicken wir Ihnen einen Code per SMS, mit dem Sie Ihre Rufnummer bestätigen.",
            " After that we send you a code by text message to verify your phone number.",
        )
    } else {
        ("", "")
    }
}

/// The text message asking a person to renew their consent (R43), sent only where their SMS
/// consent is valid; the link opens a page with the full wording and one button.
pub fn repermission_sms(company: &str, link: &str) -> String {
    format!(
        "{company} bittet Sie, Ihre Einwilligung zu erneuern: {link} (nur wenn Sie einverstanden sind). \
         Keine SMS mehr: Antwort STOP. Werbewiderspruch jederzeit (Art. 21 DSGVO). / Please renew your consent; \
         reply STOP to opt out."
    )
}

/// Subject and body of the confirmation mail for a consent given under `text_title` to
/// `company`; `link` opens the confirmation page, which is valid until `expires` (a date).
pub fn doi_confirmation(
    company: &str,
    text_title: &str,
    link: &str,
    expires: &str,
    preferences: &str,
) -> (String, String) {
    let subject = format!("Bitte bestätigen Sie Ihre Einwilligung / Please confirm your consent – {company}");
    let text = format!(
        "Guten Tag,\n\n\
         Sie haben bei {company} eingewilligt: „{text_title}“.\n\
         Bitte bestätigen Sie, dass diese E-Mail-Adresse Ihnen gehört und Sie die Einwilligung \
         erteilt haben. Öffnen Sie dazu diesen Link und klicken Sie auf „Bestätigen“:\n\n{link}\n\n\
         Der Link ist bis zum {expires} gültig. Wenn Sie nichts tun, wird die Einwilligung nicht \
         wirksam. Wenn Sie sich nicht angemeldet haben, können Sie diese E-Mail ignorieren.\n\n\
         Ihre Einstellungen: {preferences}\n\n\
         ---\n\n\
         Hello,\n\n\
         you gave your consent to {company}: \"{text_title}\".\n\
         Please confirm that this e-mail address is yours and that you gave it: open this link and \
         click \"Confirm\":\n\n{link}\n\n\
         The link is valid until {expires}. If you do nothing, the consent does not take effect. If \
         you did not sign up, please ignore this e-mail.\n\nYour preferences: {preferences}\n"
    );
    (subject, text)
}

/// One consent a re-permission mail asks the person to renew: the current text's title and
/// wording and the channels it covers.
#[derive(Debug, Clone)]
pub struct Renewal<'a> {
    /// Title of the current text version.
    pub title: &'a str,
    /// Its full wording, which the renewal is given under.
    pub body: &'a str,
    /// The channels, German labels.
    pub channels_de: Vec<&'a str>,
    /// The channels, English labels.
    pub channels_en: Vec<&'a str>,
}

/// Subject and body of a re-permission request (R43): the consents `company` asks the person to
/// renew, each with its current wording, one link that renews them all after a click on the page
/// it opens, valid until `expires`; whether a text-message code to the number follows.
pub fn repermission_request(
    company: &str,
    renewals: &[Renewal<'_>],
    link: &str,
    expires: &str,
    preferences: &str,
    number_follows: bool,
) -> (String, String) {
    let subject = format!("Möchten Sie weiter von uns hören? / Renew your consent – {company}");
    let list = |de: bool| {
        renewals
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let (label, channels, wording) = if de {
                    ("Kanäle", r.channels_de.join(", "), "Wortlaut")
                } else {
                    ("Channels", r.channels_en.join(", "), "Wording")
                };
                format!("{n}. „{t}“ ({label}: {channels})\n{wording}:\n{b}\n", n = i + 1, t = r.title, b = r.body)
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (number_de, number_en) = number_follows_note(number_follows);
    let text = format!(
        "Guten Tag,\n\n\
         Sie haben {company} erlaubt, Sie zu kontaktieren. Damit wir das weiterhin dürfen, bitten wir \
         Sie, Ihre Einwilligung zu erneuern:\n\n{de}\n\
         Wenn Sie einverstanden sind, öffnen Sie diesen Link und klicken Sie auf „Erneuern“:\n\n{link}\n\n\
         Der Link ist bis zum {expires} gültig.{number_de} Wenn Sie nichts tun, wird keine neue \
         Einwilligung wirksam. Ihre Einstellungen und der Widerruf: {preferences}\n\n\
         Sie können der Verwendung Ihrer Daten für Werbung jederzeit widersprechen (Art. 21 Abs. 2 \
         DSGVO), formlos, zum Beispiel über den Link oben oder durch eine Antwort auf diese E-Mail.\n\n\
         ---\n\n\
         Hello,\n\n\
         you allowed {company} to contact you. To go on doing so, we ask you to renew your consent:\n\n{en}\n\
         If you agree, open this link and click \"Renew\":\n\n{link}\n\n\
         The link is valid until {expires}.{number_en} If you do nothing, no new consent takes effect. \
         Your preferences and withdrawal: {preferences}\n\n\
         You may object to the use of your data for advertising at any time (Art. 21(2) GDPR), \
         informally, for example through the link above or by replying to this e-mail.\n",
        de = list(true),
        en = list(false),
    );
    (subject, text)
}

/// What a consent receipt states (R69).
#[derive(Debug, Clone)]
pub struct ReceiptFacts<'a> {
    /// Receipt id.
    pub receipt_id: &'a str,
    /// When the consent became effective (text, UTC).
    pub at: &'a str,
    /// The advertisers (controllers) by legal name and seat.
    pub companies: &'a [String],
    /// Product categories (purposes).
    pub purposes: &'a [String],
    /// Channels, German labels.
    pub channels: &'a [String],
    /// Text family, version and SHA-256.
    pub text_version: &'a str,
    /// The full text.
    pub text: &'a str,
    /// The preference centre, where every consent can be withdrawn.
    pub preferences_url: &'a str,
}

/// Subject and body of the consent receipt (R69): receipt id, time, controllers, purposes,
/// channels, the text version and how to withdraw.
pub fn consent_receipt(f: &ReceiptFacts<'_>) -> (String, String) {
    let subject = format!("Ihre Einwilligung – Bestätigung {} / Your consent – receipt", f.receipt_id);
    let text = format!(
        "Guten Tag,\n\nhiermit bestätigen wir Ihre Einwilligung.\n\n\
         Beleg-Nr.: {id}\nZeitpunkt: {at}\nVerantwortlich: {companies}\nZwecke (Sparten): {purposes}\n\
         Kanäle: {channels}\nText-Version: {version}\n\nWortlaut:\n{text}\n\n\
         Widerruf: Sie können diese Einwilligung jederzeit mit Wirkung für die Zukunft widerrufen, \
         formlos gegenüber {companies}, zum Beispiel durch eine Antwort auf diese E-Mail oder hier:\n{prefs}\n\n---\n\n\
         Hello,\n\nthis confirms your consent.\n\nReceipt no.: {id}\nTime: {at}\nController: {companies}\n\
         Purposes: {purposes}\nChannels: {channels}\nText version: {version}\n\n\
         Withdrawal: you can withdraw this consent at any time with effect for the future, informally, \
         for example by replying to this e-mail or here:\n{prefs}\n",
        id = f.receipt_id,
        at = f.at,
        companies = f.companies.join(", "),
        purposes = f.purposes.join(", "),
        channels = f.channels.join(", "),
        version = f.text_version,
        text = f.text,
        prefs = f.preferences_url,
    );
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r13_confirmation_mail_names_company_text_link_and_expiry_in_both_languages() {
        let (s, t) = doi_confirmation("Muster GmbH", "Newsletter", "https://x/doi/abc", "11.12.2026", "https://x/p/q");
        assert!(s.contains("Muster GmbH") && s.contains("bestätigen"));
        for needle in
            ["Muster GmbH", "Newsletter", "https://x/doi/abc", "11.12.2026", "Bestätigen", "Confirm", "https://x/p/q"]
        {
            assert!(t.contains(needle), "{needle}");
        }
    }

    #[test]
    fn r43_a_repermission_request_lists_every_consent_with_its_wording_in_both_languages() {
        let r = |title, body, de, en| Renewal { title, body, channels_de: vec![de], channels_en: vec![en] };
        let renewals = [
            r("Newsletter", "Ich willige ein, den Newsletter zu erhalten.", "E-Mail", "e-mail"),
            r("Beratung", "Ich willige in Anrufe zur Beratung ein.", "Telefon", "phone"),
        ];
        let (s, t) =
            repermission_request("Muster GmbH", &renewals, "https://x/doi/abc", "11.12.2026", "https://x/p/q", true);
        assert!(s.contains("Muster GmbH"), "{s}");
        for needle in [
            "1. „Newsletter“ (Kanäle: E-Mail)",
            "2. „Beratung“ (Kanäle: Telefon)",
            "Ich willige in Anrufe zur Beratung ein.",
            "(Channels: phone)",
            "https://x/doi/abc",
            "11.12.2026",
            "Code per SMS",
            "Art. 21 Abs. 2 DSGVO",
            "Art. 21(2) GDPR",
            "Erneuern",
            "Renew",
            "https://x/p/q",
        ] {
            assert!(t.contains(needle), "{needle}: {t}");
        }
        assert_eq!(t.matches("https://x/doi/abc").count(), 2, "one link renews both, once per language");
        let (_, plain) = repermission_request("M", &renewals[..1], "l", "e", "p", false);
        assert!(!plain.contains("SMS"), "{plain}");
    }

    #[test]
    fn r33_r43_a_repermission_sms_names_the_sender_and_offers_stop_and_the_objection() {
        let t = repermission_sms("Muster GmbH", "https://x/doi/abc");
        for needle in ["Muster GmbH", "https://x/doi/abc", "STOP", "Art. 21 DSGVO"] {
            assert!(t.contains(needle), "{needle}: {t}");
        }
    }
}
