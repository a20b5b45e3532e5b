//! Argument errors German first: a German line naming what was wrong, then clap's own English
//! message with its usage line and tips.

use clap::error::{ContextKind, ErrorKind};

/// The German line for an argument error; `None` where clap prints help or the version.
pub fn german(e: &clap::Error) -> Option<String> {
    let ctx = |k| e.get(k).map(ToString::to_string).filter(|s| !s.is_empty());
    let arg = ctx(ContextKind::InvalidArg).map_or_else(|| "einem Argument".to_string(), |a| format!("„{a}“"));
    let value = ctx(ContextKind::InvalidValue).unwrap_or_default();
    Some(match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            return None;
        }
        ErrorKind::UnknownArgument => format!("unbekanntes Argument {arg}"),
        ErrorKind::InvalidSubcommand => {
            format!("unbekannter Befehl „{}“", ctx(ContextKind::InvalidSubcommand).unwrap_or_default())
        }
        ErrorKind::InvalidValue => match ctx(ContextKind::ValidValue) {
            Some(valid) => format!("ungültiger Wert „{value}“ für {arg}; möglich sind: {valid}"),
            None if value.is_empty() => format!("{arg} braucht einen Wert"),
            None => format!("ungültiger Wert „{value}“ für {arg}"),
        },
        ErrorKind::ValueValidation => format!("ungültiger Wert „{value}“ für {arg}"),
        ErrorKind::MissingRequiredArgument => match e.get(ContextKind::InvalidArg) {
            Some(clap::error::ContextValue::Strings(missing)) if missing.len() > 1 => {
                format!("es fehlen {}", missing.iter().map(|m| format!("„{m}“")).collect::<Vec<_>>().join(", "))
            }
            _ => format!("es fehlt {arg}"),
        },
        ErrorKind::MissingSubcommand => "es fehlt ein Befehl".to_string(),
        ErrorKind::ArgumentConflict => match ctx(ContextKind::PriorArg) {
            Some(prior) => format!("{arg} geht nicht zusammen mit „{prior}“"),
            None => format!("{arg} geht nicht zusammen mit einem anderen Argument"),
        },
        ErrorKind::NoEquals => format!("{arg} braucht „=“ vor dem Wert"),
        ErrorKind::TooManyValues => format!("zu viele Werte für {arg}"),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => format!("falsche Anzahl von Werten für {arg}"),
        ErrorKind::InvalidUtf8 => "ein Argument ist kein gültiges UTF-8".to_string(),
        _ => "die Argumente sind fehlerhaft".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::german;
    use crate::args::Cli;

    fn line(args: &[&str]) -> Option<String> {
        let e = Cli::try_parse_from(std::iter::once("konsent").chain(args.iter().copied())).err()?;
        german(&e)
    }

    #[test]
    fn argument_errors_are_named_in_german() {
        assert_eq!(line(&["verify", "--frmat", "x"]).unwrap(), "unbekanntes Argument „--frmat“");
        assert_eq!(line(&["verfiy"]).unwrap(), "unbekannter Befehl „verfiy“");
        assert_eq!(line(&["import", "members.csv"]).unwrap(), "es fehlen „--format <FORMAT>“, „--text <TEXT>“");
        assert_eq!(line(&["import", "members.csv", "--format", "mailchimp"]).unwrap(), "es fehlt „--text <TEXT>“");
        assert_eq!(line(&["demo", "--persons", "viele"]).unwrap(), "ungültiger Wert „viele“ für „--persons <PERSONS>“");
        assert_eq!(line(&["demo", "--persons"]).unwrap(), "„--persons <PERSONS>“ braucht einen Wert");
        assert_eq!(line(&["--help"]), None);
    }
}
