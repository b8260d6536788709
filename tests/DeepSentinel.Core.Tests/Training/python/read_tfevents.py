"""An independent TensorBoard event file reader: TFRecord framing with masked CRC-32C checks and
the Event/Summary protobuf fields decoded by hand (no TensorFlow, no protobuf package).
Prints JSON: the file_version and, per event, step and scalar values."""
import json
import struct
import sys

POLY = 0x82F63B78
TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, pos):
    shift = value = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def fields(buf):
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value = buf[pos:pos + 8]
            pos += 8
        elif wire == 2:
            length, pos = varint(buf, pos)
            value = buf[pos:pos + length]
            pos += length
        elif wire == 5:
            value = buf[pos:pos + 4]
            pos += 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield number, wire, value


def records(data):
    pos = 0
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if length_crc != masked(header):
            raise ValueError("bad length CRC at %d" % pos)
        payload = data[pos + 12:pos + 12 + length]
        (payload_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if payload_crc != masked(payload):
            raise ValueError("bad data CRC at %d" % pos)
        yield payload
        pos += 16 + length


out = {"file_version": None, "events": []}
for record in records(open(sys.argv[1], "rb").read()):
    event = {"step": 0, "wall_time": None, "scalars": {}}
    for number, wire, value in fields(record):
        if number == 1 and wire == 1:
            event["wall_time"] = struct.unpack("<d", value)[0]
        elif number == 2 and wire == 0:
            event["step"] = value
        elif number == 3 and wire == 2:
            out["file_version"] = value.decode()
        elif number == 5 and wire == 2:
            for n, w, summary_value in fields(value):
                if n != 1:
                    continue
                tag, simple = None, None
                for vn, vw, v in fields(summary_value):
                    if vn == 1 and vw == 2:
                        tag = v.decode()
                    elif vn == 2 and vw == 5:
                        simple = struct.unpack("<f", v)[0]
                event["scalars"][tag] = simple
    if event["scalars"]:
        out["events"].append(event)
print(json.dumps(out))
