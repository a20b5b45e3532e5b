//! The deletion concept as a tenant has it: the default Löschregeln of section 6.3 with the
//! tenant's overrides (never below what the law demands), and the words a data protection officer
//! files with it (start event and basis per Datenart; input to the Art. 30 record, R52).

use std::collections::BTreeMap;

use super::{Datenart, Loeschregel, Period, StartType, default_rules};

impl Datenart {
    /// The event that starts the clock, in German.
    pub fn start_de(self) -> &'static str {
        match self {
            Self::D1 | Self::D2 => "letzte von Erteilung, Verwendung und Änderung",
            Self::D3 | Self::D6 => "Zeitpunkt des Anrufs",
            Self::D4 => "Ende der Einwilligung (Widerruf, Ablauf) oder letzte Verwendung",
            Self::D5 => "Versandzeitpunkt",
            Self::D7 => "Löschung des letzten Nachweises, der die Fassung nennt",
            Self::D8 => "Anlage oder letzter Treffer",
            Self::D9 => "Ablauf des Bestätigungslinks",
            Self::D10 => "Anfragezeitpunkt",
            Self::D11 => "Widerruf oder Ablauf",
            Self::D12 => "letzter Kontakt",
            Self::D13 => "Abschluss des Vorgangs",
            Self::D14 => "Ereignis",
            Self::D15 => "Erstellung der Sicherung",
        }
    }

    /// Legal basis or reason of the rule, in German.
    pub fn basis_de(self) -> &'static str {
        match self {
            Self::D1 => "§ 7a Abs. 2 UWG (gesetzlich, fünf Jahre)",
            Self::D2 => "§ 7a UWG; Bundesnetzagentur: im selben Umfang wie die Einwilligung",
            Self::D3 => "§ 7a Abs. 2 UWG: belegt jede Verwendung und bewegt die Frist von D1",
            Self::D4 => "Abwehr von Rechtsansprüchen (§§ 195, 199 BGB), Festlegung des Verantwortlichen",
            Self::D5 | Self::D6 => "Abwehr von Rechtsansprüchen, Festlegung des Verantwortlichen",
            Self::D7 => "muss jeden Nachweis überdauern, der die Fassung nennt",
            Self::D8 => "Art. 21 Abs. 3 DSGVO (Werbesperrdatei), Überprüfung alle fünf Jahre",
            Self::D9 => "Zweck entfallen (Art. 5 Abs. 1 lit. e DSGVO)",
            Self::D10 => "Abwehr missbräuchlicher Anmeldungen, Festlegung des Verantwortlichen",
            Self::D11 => "Art. 17 Abs. 1 lit. b DSGVO",
            Self::D12 => "Zweck entfallen, Festlegung des Verantwortlichen",
            Self::D13 | Self::D14 => "Rechenschaftspflicht (Art. 5 Abs. 2 DSGVO)",
            Self::D15 => "Ausnahme für Datensicherungen (DIN 66398), Rotation",
        }
    }

    /// The shortest retention the law allows a tenant to set, if the law sets one.
    pub fn statutory_minimum(self) -> Option<Period> {
        matches!(self, Self::D1 | Self::D2 | Self::D3).then_some(Period::years(5))
    }
}

impl StartType {
    /// German name.
    pub fn label_de(self) -> &'static str {
        match self {
            Self::Creation => "Entstehung",
            Self::EndOfProcess => "Prozessende",
            Self::EndOfRelationship => "Ende der Geschäftsbeziehung",
        }
    }
}

impl Period {
    /// German text, e.g. `5 Jahre`, `1 Monat`, `30 Tage`, `sofort`.
    pub fn label_de(self) -> String {
        let mut parts = Vec::new();
        let unit = |n: u16, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        if self.years > 0 {
            parts.push(unit(self.years, "Jahr", "Jahre"));
        }
        if self.months > 0 {
            parts.push(unit(self.months, "Monat", "Monate"));
        }
        if self.days > 0 {
            parts.push(unit(self.days, "Tag", "Tage"));
        }
        if parts.is_empty() { "sofort".into() } else { parts.join(" ") }
    }

    fn as_days(self) -> u32 {
        u32::from(self.years) * 366 + u32::from(self.months) * 31 + u32::from(self.days)
    }
}

/// The rules in force: the defaults with the tenant's overrides.
pub fn effective_rules(overrides: &BTreeMap<Datenart, Loeschregel>) -> BTreeMap<Datenart, Loeschregel> {
    let mut rules = default_rules();
    for (d, r) in overrides {
        rules.insert(*d, *r);
    }
    rules
}

/// Refuses overrides that keep less than the law demands; the error names the Datenart.
pub fn check_overrides(overrides: &BTreeMap<Datenart, Loeschregel>) -> Result<(), String> {
    for (d, r) in overrides {
        if let Some(min) = d.statutory_minimum()
            && r.vorhaltefrist.as_days() < min.as_days()
        {
            return Err(format!("{}: the law demands at least {} ({})", d.code(), min.label_de(), d.basis_de()));
        }
    }
    Ok(())
}
