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

/// Subject and body of the confirmation mail for a consent given under `text_title` to
/// `company`; `link` opens the confirmation page, which is valid until `expires` (a date).
pub fn doi_confirmation(company: &str, text_title: &str, link: &str, expires: &str) -> (String, String) {
    let subject = format!("Bitte bestätigen Sie Ihre Einwilligung / Please confirm your consent – {company}");
    let text = format!(
        "Guten Tag,\n\n\
         Sie haben bei {company} eingewilligt: „{text_title}“.\n\
         Bitte bestätigen Sie, dass diese E-Mail-Adresse Ihnen gehört und Sie die Einwilligung \
         erteilt haben. Öffnen Sie dazu diesen Link und klicken Sie auf „Bestätigen“:\n\n{link}\n\n\
         Der Link ist bis zum {expires} gültig. Wenn Sie nichts tun, wird die Einwilligung nicht \
         wirksam. Wenn Sie sich nicht angemeldet haben, können Sie diese E-Mail ignorieren.\n\n\
         ---\n\n\
         Hello,\n\n\
         you gave your consent to {company}: \"{text_title}\".\n\
         Please confirm that this e-mail address is yours and that you gave it: open this link and \
         click \"Confirm\":\n\n{link}\n\n\
         The link is valid until {expires}. If you do nothing, the consent does not take effect. If \
         you did not sign up, please ignore this e-mail.\n"
    );
    (subject, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r13_confirmation_mail_names_company_text_link_and_expiry_in_both_languages() {
        let (s, t) = doi_confirmation("Muster GmbH", "Newsletter", "https://x/doi/abc", "11.12.2026");
        assert!(s.contains("Muster GmbH") && s.contains("bestätigen"));
        for needle in ["Muster GmbH", "Newsletter", "https://x/doi/abc", "11.12.2026", "Bestätigen", "Confirm"] {
            assert!(t.contains(needle), "{needle}");
        }
    }
}
