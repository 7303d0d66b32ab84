"""Data subject rights for one person (a contact): an export of everything about them, and an
erasure that leaves no trace of them. Correction is `PATCH /contacts/{id}`, whose event keeps
the list rows and the search index current.

    subject.py   the person as the store holds them, and the traces that recognise them
    redact.py    finding and replacing those traces in text and in kept bytes (pure)
    export.py    the zip: export.json and their files, streamed
    erasure.py   the erasure, step by step, safe to retry
    traces.py    what Redis keeps about them outside the projections
"""
