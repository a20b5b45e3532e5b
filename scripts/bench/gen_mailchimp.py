#!/usr/bin/env python3
"""Writes a Mailchimp "subscribed members" export of N distinct members for the import benchmark.

Usage: scripts/bench/gen_mailchimp.py N OUT.csv [--seed S] [--until YYYY-MM-DD] [--touch-days D]

Header as Mailchimp writes it (crates/formats/testdata/mailchimp/.../subscribed_members_export_*.csv):
Email Address, First Name, Last Name, Address, Phone Number, Birthday, merge fields, the two
marketing-permission columns, MEMBER_RATING, OPTIN_TIME, OPTIN_IP, CONFIRM_TIME, CONFIRM_IP, geo
columns, LAST_CHANGED, LEID, EUID, NOTES, TAGS. Every address is distinct (the row number is part
of it); names, cities, numbers and times vary. 85 % of the rows carry the whole double opt-in
record (sign-up time and IP, confirmation time and IP); 15 % were added to Mailchimp without one
(empty OPTIN_TIME and OPTIN_IP, as Mailchimp writes imported members). Sign-ups fall in the 520
days before --until (default: today, UTC), so the e-mail consents are not stale (R29: 18 months
without use) when the list is segmented soon after. Deterministic for a seed and --until.
--touch-days D moves every LAST_CHANGED D days later and nothing else: a later export of the same
list (another file, same members and opt-in records), for a re-import.
"""

import argparse
import random
import sys
from datetime import datetime, timedelta, timezone

FIRST = ["Jürgen", "Käthe", "Björn", "Małgorzata", "Zoë", "Ömer", "Anna-Lena", "Sören", "Klaus", "Ulrike",
         "Günther", "Anneliese", "François", "Lukas", "Mia", "Leon", "Hannah", "Emre", "Sophie", "Paul",
         "Marie", "Jonas", "Lea", "Felix", "Laura", "Elias", "Johanna", "Noah", "Ayşe", "Dragan"]
LAST = ["Weiß", "Großmann", "Müller-Lüdenscheidt", "Wiśniewska", "Schütz", "Yıldız", "Becker", "Häußler",
        "Strauß", "Bäcker", "Öztürk", "Köhler", "Schmidt", "Schneider", "Fischer", "Meyer", "Wagner", "Schulz",
        "Hoffmann", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Braun",
        "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Lehmann"]
CITY = [("Berlin", "BE", "10115", 52.52, 13.40), ("Düsseldorf", "NW", "40212", 51.22, 6.77),
        ("Hamburg", "HH", "20457", 53.55, 9.99), ("München", "BY", "80469", 48.14, 11.58),
        ("Köln", "NW", "50667", 50.94, 6.96), ("Frankfurt am Main", "HE", "60311", 50.11, 8.68),
        ("Lüdenscheid", "NW", "58507", 51.22, 7.63), ("Würzburg", "BY", "97070", 49.79, 9.95),
        ("Freiburg im Breisgau", "BW", "79098", 47.99, 7.85), ("Leipzig", "SN", "04109", 51.34, 12.37)]
STREET = ["Schloßstraße", "Königsallee", "Am Kühlen Grunde", "Fährstraße", "Würzburger Ring", "Lindenallee",
          "Maximilianstraße", "Gärtnerplatz", "Heinrich-Heine-Straße", "Hauptstraße", "Bahnhofstraße"]
DOMAINS = ["example.com", "example.de", "example.org", "example.net", "maklerhaus-nordlicht.de",
           "vorsorge-beispiel.de", "mail.example", "post.example.de"]
TAGS = ['"""Kunde"",""Newsletter"""', '"""Interessent"""', '"""Newsletter"""',
        '"""Kunde"",""Kfz"",""Bestand 2021"""', ""]
HEADER = ('"Email Address","First Name","Last Name",Address,"Phone Number",Birthday,Anrede,Titel,Mobilnummer,'
          'Kundennummer,Firma,E-Mail-Newsletter,"Telefonische Beratung",MEMBER_RATING,OPTIN_TIME,OPTIN_IP,'
          'CONFIRM_TIME,CONFIRM_IP,LATITUDE,LONGITUDE,GMTOFF,DSTOFF,TIMEZONE,CC,REGION,LAST_CHANGED,LEID,EUID,'
          'NOTES,TAGS\n')
ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ł": "l", "ś": "s", "ı": "i", "ë": "e",
                       "ç": "c", "ş": "s", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", " ": "", "Ç": "C"})


def local_part(first, last):
    return f"{first}.{last}".lower().translate(ASCII)


def main():
    ap = argparse.ArgumentParser(usage=__doc__)
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--until", default=datetime.now(timezone.utc).strftime("%Y-%m-%d"))
    ap.add_argument("--touch-days", type=int, default=0)
    a = ap.parse_args()
    n, out, seed = a.n, a.out, a.seed
    until = datetime.strptime(a.until, "%Y-%m-%d")
    rnd = random.Random(seed)
    base = until - timedelta(days=525)
    fmt = "%Y-%m-%d %H:%M:%S"
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        buf = []
        for i in range(n):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            city, region, plz, lat, lon = rnd.choice(CITY)
            # The row number makes every address distinct; case varies as in real exports.
            email = f"{local_part(first, last)}.{i}@{rnd.choice(DOMAINS)}"
            if i % 53 == 7:
                email = email.capitalize()
            optin = base + timedelta(seconds=rnd.randrange(0, 520 * 86400))
            confirm = optin + timedelta(seconds=rnd.randrange(60, 3 * 86400))
            changed = confirm + timedelta(seconds=rnd.randrange(0, 86400), days=a.touch_days)
            full_doi = rnd.random() >= 0.15
            optin_time = f'"{optin.strftime(fmt)}"' if full_doi else ""
            optin_ip = f"198.51.100.{rnd.randrange(1, 255)}" if full_doi else ""
            phone = f'"030 {rnd.randrange(1000000, 99999999)}"' if rnd.random() < 0.4 else ""
            mobile = f'"+49 15{rnd.randrange(1, 9)} {rnd.randrange(1000000, 99999999)}"' if rnd.random() < 0.5 else ""
            buf.append(
                f'{email},{first},{last},"{rnd.choice(STREET)} {rnd.randrange(1, 200)}  {city}  {region}  {plz}  DE",'
                f'{phone},{rnd.randrange(1, 13):02}/{rnd.randrange(1, 29):02},{rnd.choice(["Herr", "Frau", ""])},'
                f'{"Dr." if rnd.random() < 0.05 else ""},{mobile},K-{i:07},,Yes,'
                f'{"Yes" if rnd.random() < 0.3 else ""},{rnd.randrange(1, 6)},{optin_time},{optin_ip},'
                f'"{confirm.strftime(fmt)}",203.0.113.{rnd.randrange(1, 255)},{lat + rnd.uniform(-0.05, 0.05):.7f},'
                f'{lon + rnd.uniform(-0.05, 0.05):.7f},1,2,Europe/Berlin,DE,{region},"{changed.strftime(fmt)}",'
                f'{100000000 + i},{rnd.getrandbits(40):010x},,{rnd.choice(TAGS)}\n'
            )
            if len(buf) >= 10000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


if __name__ == "__main__":
    main()
