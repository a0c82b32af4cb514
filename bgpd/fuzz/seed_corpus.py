#!/usr/bin/env python3
"""Seed corpus/<target>/ from the captured BGP vectors (../../../shared/vectors/bgp/*.hex).

decode_message gets whole messages, decode_update and update_roundtrip the UPDATE bodies,
decode_open the OPEN bodies, prefix_sid the Prefix-SID attribute values found in the UPDATEs.
"""
import pathlib
import sys

here = pathlib.Path(__file__).resolve().parent
vectors = here.parent.parent.parent / "shared" / "vectors" / "bgp"
if len(sys.argv) > 1:
    vectors = pathlib.Path(sys.argv[1])
corpus = here / "corpus"


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def prefix_sid_values(body):
    """The Prefix-SID (type 40) values of an UPDATE body, if it parses."""
    if len(body) < 4:
        return
    wl = int.from_bytes(body[0:2], "big")
    at = 2 + wl
    al = int.from_bytes(body[at:at + 2], "big")
    attrs = body[at + 2:at + 2 + al]
    i = 0
    while i + 3 <= len(attrs):
        flags, code = attrs[i], attrs[i + 1]
        if flags & 0x10:
            ln, hl = int.from_bytes(attrs[i + 2:i + 4], "big"), 4
        else:
            ln, hl = attrs[i + 2], 3
        value = attrs[i + hl:i + hl + ln]
        if code == 40:
            yield value
        i += hl + ln


n = 0
for f in sorted(vectors.glob("*.hex")):
    msg = bytes.fromhex(f.read_text().strip())
    put("decode_message", f.stem, msg)
    body, kind = msg[19:], msg[18]
    if kind == 2:
        put("decode_update", f.stem, body)
        put("update_roundtrip", f.stem, body)
        for j, v in enumerate(prefix_sid_values(body)):
            put("prefix_sid", f"{f.stem}_{j}", v)
    elif kind == 1:
        put("decode_open", f.stem, body)
    n += 1
print(f"seeded {corpus} from {n} vectors in {vectors}")
