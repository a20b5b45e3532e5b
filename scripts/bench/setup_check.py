"""Creates an advertiser, a consent text, a person and a verified phone consent through the API,
then prints a wrk Lua script that POSTs /v1/check for that person's number."""
import json
import sys
import urllib.request
from datetime import datetime, timezone

base, key = sys.argv[1], sys.argv[2]


def post(path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
adv = post("/v1/advertisers", {"legal_name": "Bench Makler GmbH", "seat": "Köln",
                                "address_for_service": {"street": "Domstraße 1", "postcode": "50667", "city": "Köln"}})["id"]
text = post("/v1/texts", {"key": "bench", "title": "Telefon", "body":
             "Ich bin einverstanden, dass mich die Bench Makler GmbH per Telefon über Versicherungen informiert. "
             "Diese Einwilligung kann ich jederzeit widerrufen.",
             "scope": {"advertisers": [adv], "product_categories": ["insurance"], "channels": ["phone_live"]},
             "privacy_notice": {"url": "https://makler.example/datenschutz", "version": "1"}})["id"]
person = post("/v1/persons", {"first_name": "Bea", "last_name": "Bench",
                              "address": {"street": "Weg 1", "postcode": "50667", "city": "Köln"},
                              "contacts": [{"phone": "0170 9999999"}]})
cp = person["contact_points"][0]["id"]
consent = post("/v1/consents", {"person_id": person["person_id"], "contact_point_ids": [cp], "text_id": text,
                                "scope": {"advertisers": [adv], "product_categories": ["insurance"], "channels": ["phone_live"]},
                                "capture_method": "web_form", "affirmative_action": True,
                                "declaration_recipient": {"organisation": "Web", "agent_pseudonym": "WEB"},
                                "capture_offset_seconds": 3600,
                                "evidence": [{"kind": "web_form", "at": now, "form_ref": "/f/bench", "form_version": "1",
                                              "affirmative_action": True, "request_details": None},
                                             {"kind": "otp", "contact_point": cp, "sent_at": now, "verified_at": now}]})
assert consent["status"] == "ConsentGiven", consent["missing"]
body = json.dumps({"phone": "0170 9999999", "channel": "phone_live", "advertiser_id": adv, "product_categories": ["insurance"]})
print('wrk.method = "POST"')
print('wrk.headers["Content-Type"] = "application/json"')
print('wrk.headers["Authorization"] = "Bearer %s"' % key)
print("wrk.body = %s" % json.dumps(body))
