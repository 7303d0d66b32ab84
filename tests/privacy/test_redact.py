"""Taking a person out of the team's text, and recognising them in kept bytes (pure)."""

from __future__ import annotations

import json

from app.privacy.redact import Redactor, Traces, byte_forms, found_in


def traces() -> Traces:
    t = Traces()
    t.add_name("Carla  Mendes")
    t.add_identifier("carla.m@example.com")
    t.add_phone("+1 (555) 010-0200")
    t.add_text('My order "4411" never arrived\nplease help')
    t.add_text("ok")
    return t


def test_identifiers_names_and_quotes_are_replaced_in_the_teams_text() -> None:
    redact = Redactor(traces()).text
    assert redact("Hi Carla, we wrote to CARLA.M@example.com") == (
        "Hi [erased], we wrote to [erased]"
    )
    assert redact("Carla Mendes called from 15550100200") == "[erased] called from [erased]"
    assert redact("call +1 555 010 0200 or (555)010-0200?") == "call [erased] or [erased]?"
    assert redact('She said: My order "4411" never arrived\nplease help') == "She said: [erased]"
    # Parts of a name match whole words only; a customer's short words are everybody's.
    assert redact("Mendesian carlas ok") == "Mendesian carlas ok"


def test_kept_bytes_are_recognised_as_written_and_as_json_writes_them() -> None:
    forms = byte_forms(traces().needles())
    event = json.dumps({"text": 'My order "4411" never arrived\nplease help'}).encode()
    assert found_in(event, forms)
    assert found_in(b'{"email":"Carla.M@Example.com"}', forms)
    assert found_in(b"tel 15550100200", forms)
    assert not found_in(b'{"text":"ok"}', forms)
