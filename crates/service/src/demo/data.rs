//! Synthetic German master data for `konsent demo`: names, streets, cities, numbers, addresses.
//! Everything is invented; e-mail domains are reserved example domains.

use jiff::civil::Date;
use konsent_domain::contact::{EmailAddress, PhoneE164, PostalAddress};
use konsent_domain::time::SeededEntropy;

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Anna",
    "Lena",
    "Marie",
    "Sophie",
    "Laura",
    "Julia",
    "Katharina",
    "Sabine",
    "Petra",
    "Monika",
    "Ursula",
    "Claudia",
    "Andrea",
    "Birgit",
    "Jana",
    "Lea",
    "Emma",
    "Mia",
    "Hannah",
    "Johanna",
    "Jörg",
    "Jürgen",
    "Thomas",
    "Michael",
    "Andreas",
    "Stefan",
    "Markus",
    "Christian",
    "Matthias",
    "Frank",
    "Peter",
    "Wolfgang",
    "Klaus",
    "Lukas",
    "Felix",
    "Jonas",
    "Maximilian",
    "Paul",
    "Leon",
    "Tobias",
    "Sören",
    "Björn",
    "Günther",
    "Özlem",
    "Mehmet",
    "Ayşe",
    "Dragan",
    "Zofia",
    "Élodie",
    "Björk",
];

pub(crate) const LAST_NAMES: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Schäfer",
    "Koch",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Schmitz",
    "Krause",
    "Meier",
    "Lehmann",
    "Schmid",
    "Schulze",
    "Maier",
    "Köhler",
    "Herrmann",
    "König",
    "Walter",
    "Mayer",
    "Huber",
    "Kaiser",
    "Fuchs",
    "Peters",
    "Lang",
    "Scholz",
    "Möller",
    "Weiß",
    "Jung",
    "Hahn",
    "Yılmaz",
    "Kowalski",
    "Müller-Lüdenscheidt",
    "von Bülow",
    "Großmann",
];

pub(crate) const STREETS: &[&str] = &[
    "Hauptstraße",
    "Schulstraße",
    "Gartenstraße",
    "Bahnhofstraße",
    "Dorfstraße",
    "Bergstraße",
    "Birkenweg",
    "Lindenstraße",
    "Kirchstraße",
    "Waldstraße",
    "Ringstraße",
    "Schillerstraße",
    "Goethestraße",
    "Am Markt",
    "Mühlenweg",
    "Rosenstraße",
    "Friedhofstraße",
    "Jahnstraße",
    "Eichendorffweg",
    "Große Bäckerstraße",
];

/// (city, postcode prefix digits, landline area code without 0)
pub(crate) const CITIES: &[(&str, &str, &str)] = &[
    ("Berlin", "10", "30"),
    ("Hamburg", "20", "40"),
    ("München", "80", "89"),
    ("Köln", "50", "221"),
    ("Frankfurt am Main", "60", "69"),
    ("Stuttgart", "70", "711"),
    ("Düsseldorf", "40", "211"),
    ("Leipzig", "04", "341"),
    ("Dortmund", "44", "231"),
    ("Essen", "45", "201"),
    ("Bremen", "28", "421"),
    ("Dresden", "01", "351"),
    ("Hannover", "30", "511"),
    ("Nürnberg", "90", "911"),
    ("Münster", "48", "251"),
    ("Würzburg", "97", "931"),
];

const MOBILE_PREFIXES: &[&str] = &["170", "171", "175"];
const MAIL_DOMAINS: &[&str] = &["example.com", "example.org", "example.net", "beispiel.example"];

/// A small deterministic random helper over [`SeededEntropy`].
pub(crate) struct Rng<'a>(pub &'a SeededEntropy);

impl Rng<'_> {
    pub fn below(&self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.0.next_u64() % n }
    }
    pub fn pick<T: Copy>(&self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    /// True with probability `percent`/100.
    pub fn chance(&self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn digits(&self, n: usize) -> String {
        (0..n).map(|i| char::from(b'0' + if i == 0 { 1 + self.below(9) as u8 } else { self.below(10) as u8 })).collect()
    }
}

/// ASCII transliteration for e-mail local parts.
pub(crate) fn ascii_local(s: &str) -> String {
    let mut out = String::new();
    for c in s.to_lowercase().chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            'é' | 'è' => out.push('e'),
            'ı' => out.push('i'),
            'ş' => out.push('s'),
            'a'..='z' | '0'..='9' => out.push(c),
            _ => out.push('-'),
        }
    }
    out.trim_matches('-').replace("--", "-")
}

/// A synthetic person's master data.
pub(crate) struct Synthetic {
    pub first: &'static str,
    pub last: &'static str,
    pub address: PostalAddress,
    pub birth: Date,
    pub email: EmailAddress,
    pub mobile: PhoneE164,
    pub landline: PhoneE164,
}

pub(crate) fn person(r: &Rng<'_>, n: u64, today: Date) -> Synthetic {
    let first = r.pick(FIRST_NAMES);
    let last = r.pick(LAST_NAMES);
    let (city, plz, area) = r.pick(CITIES);
    let postcode = format!("{plz}{:03}", r.below(1000));
    let street = format!("{} {}", r.pick(STREETS), 1 + r.below(180));
    let address = PostalAddress::new(&street, &postcode, city, "DE").expect("synthetic addresses are valid");
    let age = if r.chance(1) { 15 } else { 18 + r.below(68) as i16 };
    let birth = Date::new(today.year() - age, 1 + r.below(12) as i8, 1 + r.below(28) as i8).unwrap_or(today);
    let email =
        EmailAddress::parse(&format!("{}.{}.{n}@{}", ascii_local(first), ascii_local(last), r.pick(MAIL_DOMAINS)))
            .expect("synthetic e-mail addresses are valid");
    let mobile = (0..20)
        .find_map(|_| PhoneE164::parse(&format!("0{} {}", r.pick(MOBILE_PREFIXES), r.digits(7))).ok())
        .unwrap_or_else(|| PhoneE164::parse("0170 1234567").expect("valid"));
    let landline = (0..20)
        .find_map(|_| PhoneE164::parse(&format!("0{area} {}", r.digits(7))).ok())
        .unwrap_or_else(|| PhoneE164::parse("030 1234567").expect("valid"));
    Synthetic { first, last, address, birth, email, mobile, landline }
}
