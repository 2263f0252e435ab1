#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (and the known-bad inputs
in fuzz/regressions/<target>/). Deterministic: run it again after changing a
seed and commit what changes. Every file stays under 100 KB.

  fuzz/make_corpus.py            # needs gst-launch-1.0 for the sample JPEG
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIMIT = 100 * 1024


def write(kind, target, name, data):
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogateescape')
    assert len(data) < LIMIT, (target, name, len(data))
    d = os.path.join(HERE, kind, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def seed(target, name, data):
    write('corpus', target, name, data)


def regression(target, name, data):
    write('regressions', target, name, data)


# ---- camera config -------------------------------------------------------
def camera_config():
    t = 'camera_config'
    for sub in ['pipelines', 'pipelines/examples']:
        for f in sorted(os.listdir(os.path.join(ROOT, sub))):
            if f.endswith('.conf'):
                with open(os.path.join(ROOT, sub, f), 'rb') as fh:
                    seed(t, 'shipped-' + f, fh.read())
    seed(t, 'minimal', '[camera]\nsource=videotestsrc is-live=true\n')
    seed(t, 'every-key', '[camera]\nname=Every key\nsource=videotestsrc is-live=true\nencoder=jpegenc\n'
         'width=640\nheight=480\nframerate=30000/1001\nquality=90\nenabled=false\njpeg-passthrough=false\n'
         'watchdog-timeout=5\nstart-timeout=10\nreconnect-delay=1\nreconnect-max-delay=30\non-demand=true\nlinger=10\n')
    seed(t, 'bounds', '[camera]\nsource=x\nwidth=16\nheight=16384\nframerate=240\nquality=1\n')
    seed(t, 'out-of-range', '[camera]\nsource=x\nwidth=15\nheight=16385\nframerate=241/1\nquality=0\nlinger=-1\n'
         'watchdog-timeout=99999999999999999999\nframerate=0/0\n')
    seed(t, 'bad-types', '[camera]\nsource=\nwidth=abc\nheight=1e3\nframerate=30/0\nquality=80%\nenabled=maybe\n'
         'on-demand=1\nencoder=\n')
    seed(t, 'missing-source', '[camera]\nname=no source\n')
    seed(t, 'unknown-group', '[camera]\nsource=x\n[other]\nk=v\n[camera]\nextra=1\n')
    seed(t, 'locale-and-escapes', '[camera]\nsource=a\\sb\\nc\\td\\\\e\\\nname[fr]=Caméra\nname=\\x\n')
    seed(t, 'syntax-error', 'source=x\n[camera\n=\n[]\n')
    seed(t, 'comments-and-blank', '# c\n\n;x\n[camera]\n  source = spaced  \n#end')
    seed(t, 'bom-crlf', '\ufeff[camera]\r\nsource=x\r\n')
    seed(t, 'nul-bytes', b'[camera]\nsource=a\x00b\nname=\x00\n')
    # json-glib left 0x1F unescaped: a hostile camera file made /api/cameras invalid JSON.
    seed(t, 'control-chars', b'[camera]\nsource=x\nname=Camera\x1fGone\x01\x7f\n')
    seed(t, 'invalid-utf8', b'[camera]\nsource=x\nname=\xff\xfe\xc3(\n')
    seed(t, 'random-bytes', bytes((i * 7919 + 13) % 256 for i in range(2048)))
    # The issue: 100,000 unknown keys gave 100,000 problem lines. The largest
    # count that stays under 100 KB: 16,000 distinct short keys.
    alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'
    keys = []
    for i in range(16000):
        a, r = divmod(i, 36 * 36)
        b, c = divmod(r, 36)
        keys.append(alphabet[a] + alphabet[b] + alphabet[c] + '=\n')
    seed(t, 'many-unknown-keys', '[camera]\nsource=x\n' + ''.join(keys))
    # The issue: a 50 MB name= (kept to 90 KB here).
    seed(t, 'huge-name', '[camera]\nsource=x\nname=' + 'N' * 90000 + '\n')
    seed(t, 'many-groups', ''.join('[g%d]\n' % i for i in range(5000)))


# ---- WebSocket reader ----------------------------------------------------
# Input layout (FuzzedDataProvider takes the integers from the end):
#   stream bytes | split (2 bytes) | cap index (1 byte: 16, 125, 1024, 65536, 16 MiB)
CAP_16, CAP_125, CAP_1K, CAP_64K, CAP_16M = range(5)
MASK = b'\x11\x22\x33\x44'


def frame(opcode, payload, fin=True, mask=MASK, length=None, rsv=0):
    if isinstance(payload, str):
        payload = payload.encode()
    n = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    m = 0x80 if mask is not None else 0
    if n < 126:
        head += bytes([m | n])
    elif n < 65536:
        head += bytes([m | 126]) + struct.pack('>H', n)
    else:
        head += bytes([m | 127]) + struct.pack('>Q', n)
    if mask is None:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws(stream, cap=CAP_64K, split=0):
    return stream + bytes([split & 0xff, split >> 8, cap])


def websocket_reader():
    t = 'websocket_reader'
    seed(t, 'text', ws(frame(1, '{"type":"subscribe","data":{"camera":"demo"}}'), split=5))
    seed(t, 'binary', ws(frame(2, bytes(range(256)) * 2), split=300))
    seed(t, 'fragmented-text', ws(frame(1, 'hel', fin=False) + frame(9, 'p') + frame(0, 'lo', fin=False) +
                                  frame(0, ' world'), split=12))
    seed(t, 'ping-pong-close', ws(frame(9, 'ping') + frame(10, '') + frame(8, struct.pack('>H', 1000) + b'bye')))
    seed(t, 'len16', ws(frame(2, b'x' * 300), cap=CAP_1K, split=3))
    seed(t, 'len64', ws(frame(2, b'y' * 70000), cap=CAP_16M, split=9))
    seed(t, 'two-messages-one-chunk', ws(frame(1, 'a') + frame(1, 'b') + frame(2, 'c'), split=1))
    seed(t, 'partial-header', ws(frame(2, b'z' * 200)[:3], split=1))
    seed(t, 'unmasked', ws(frame(1, 'hi', mask=None)))
    seed(t, 'reserved-bits', ws(frame(1, 'hi', rsv=0x40)))
    seed(t, 'control-too-long', ws(frame(9, b'p' * 126)))
    seed(t, 'control-fragmented', ws(frame(9, 'p', fin=False)))
    seed(t, 'invalid-utf8', ws(frame(1, b'\xc3\x28\xff')))
    # Found by the fuzzer: feed() returns false (1007) but leaves the invalid
    # text message in `out`, and both callers dispatch `out` before looking at
    # the result, so the bytes reach the JSON handlers.
    regression(t, 'invalid-utf8-text-left-in-out', ws(frame(1, b'{"type":"\xc3\x28\xff"}')))
    seed(t, 'utf8-split-across-fragments', ws(frame(1, b'\xc3', fin=False) + frame(0, b'\xa9')))
    seed(t, 'new-message-inside-fragmented', ws(frame(1, 'a', fin=False) + frame(1, 'b')))
    seed(t, 'continuation-without-start', ws(frame(0, 'x')))
    seed(t, 'unknown-opcode', ws(frame(3, 'x') + frame(11, '')))
    seed(t, 'over-cap', ws(frame(2, b'q' * 17), cap=CAP_16))
    seed(t, 'fragments-over-cap', ws(frame(2, b'q' * 10, fin=False) + frame(0, b'q' * 10), cap=CAP_16))
    seed(t, 'length-2^63', ws(frame(2, b'', length=1 << 63)))
    # The issue: a non-final text frame, then a continuation declaring
    # 0xFFFFFFFFFFFFFFFF bytes: length + fragments_.size() wraps past the cap.
    wrap = frame(1, 'a', fin=False) + frame(0, b'', length=0xFFFFFFFFFFFFFFFF) + b'more bytes'
    seed(t, 'continuation-length-wraps', ws(wrap, cap=CAP_16M, split=7))
    regression(t, 'continuation-length-wraps', ws(wrap, cap=CAP_16M, split=7))
    wrap2 = frame(2, b'abc', fin=False) + frame(0, b'', length=0xFFFFFFFFFFFFFFFD)
    seed(t, 'continuation-length-wraps-exactly', ws(wrap2, cap=CAP_64K))


# ---- JPEG inspector ------------------------------------------------------
def sample_jpeg():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, 'x.jpg')
        subprocess.run(['gst-launch-1.0', '-q', 'videotestsrc', 'num-buffers=1', '!',
                        'video/x-raw,width=16,height=16', '!', 'jpegenc', 'quality=50', '!',
                        'filesink', 'location=' + out], check=True)
        with open(out, 'rb') as f:
            return f.read()


def with_size(jpeg, width, height, sof=0xc0):
    i = jpeg.index(b'\xff\xc0')
    b = bytearray(jpeg)
    b[i + 1] = sof
    b[i + 5:i + 9] = struct.pack('>HH', height, width)
    return bytes(b)


def header_only(width, height, sof=0xc0):
    """SOI, a frame header and EOI: what the inspector reads, nothing it does not."""
    sof_seg = bytes([0xff, sof]) + struct.pack('>HBHHB', 11, 8, height, width, 1) + b'\x01\x11\x00'
    return b'\xff\xd8' + sof_seg + b'\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00' + b'\x00' * 8 + b'\xff\xd9'


def jpeg_inspector():
    t = 'jpeg_inspector'
    j = sample_jpeg()
    seed(t, 'valid-16x16', j)
    seed(t, 'padding-after-eoi', j + b'\x00' * 16)
    seed(t, 'too-much-padding', j + b'\x00' * 17)
    seed(t, 'progressive', with_size(j, 16, 16, 0xc2))
    seed(t, 'extended', with_size(j, 16, 16, 0xc1))
    seed(t, 'lossless-unsupported', with_size(j, 16, 16, 0xc3))
    seed(t, 'arithmetic-unsupported', with_size(j, 16, 16, 0xc9))
    seed(t, 'zero-size', with_size(j, 0, 16))
    seed(t, 'truncated', j[:len(j) // 2])
    seed(t, 'no-eoi', j[:-2])
    seed(t, 'soi-eoi-only', b'\xff\xd8\xff\xd9')
    seed(t, 'scan-before-frame', b'\xff\xd8\xff\xda\x00\x02\xff\xd9')
    seed(t, 'fill-bytes-and-rst', b'\xff\xd8\xff\xff\xff\xd0\xff\x01' + header_only(32, 32)[2:])
    seed(t, 'segment-length-1', b'\xff\xd8\xff\xe0\x00\x01\xff\xd9')
    seed(t, 'segment-past-end', b'\xff\xd8\xff\xe0\xff\xff\x00\x00\xff\xd9')
    seed(t, 'short-frame-header', b'\xff\xd8\xff\xc0\x00\x05\x08\x00\x10\xff\xd9')
    seed(t, 'bad-marker', b'\xff\xd8\x00\x00\x00\x00\xff\xd9')
    seed(t, 'gif', b'GIF89a' + b'\x00' * 20)
    seed(t, 'empty', b'')
    seed(t, 'header-only-640x480', header_only(640, 480))
    # The issue: a 996-byte JPEG declaring 65000x65000 passed the gate and went to
    # every viewer and the encoder; 20000x20000 took RSS from 47 to 574 MB.
    big = with_size(j, 65000, 65000)  # the sample's real scan follows the forged header
    seed(t, 'declares-65000x65000', big)
    seed(t, 'declares-20000x20000', with_size(j, 20000, 20000))
    seed(t, 'header-only-65535x65535', header_only(65535, 65535))
    regression(t, 'declares-65000x65000', big)
    regression(t, 'declares-20000x20000', with_size(j, 20000, 20000))


# ---- request-path router -------------------------------------------------
def route_path():
    t = 'route_path'
    for i, p in enumerate([
            '/api/ws', '/api/cameras', '/api/cameras/', '/api/cameras/demo', '/api/cameras/demo/stream',
            '/api/cameras/demo/ws', '/api/cameras/demo/publish', '/api/cameras/demo/snapshot',
            '/api/cameras/demo/start', '/api/cameras/demo/stop', '/api/cameras/demo/reboot',
            '//api///cameras//demo///snapshot//', '/api/cameras/../../etc/passwd', '/api/cameras/./stream',
            '/api/cameras/a%2Fb/stream', '/api/cameras/%2e%2e/snapshot', '/api/cameras/caf\u00e9',
            '/api/cameras/a\x1fb/ws', '/api/cameras/' + 'x' * 64, '/api/cameras/' + 'x' * 65 + '/stream',
            '/api/cameras/demo/stream/extra', '/api/ws/extra', '/API/CAMERAS/demo', '/api', '/', '',
            '/api/cameras/demo\x00/stream', '/api/cameras/demo?fps=5', '/api/cameras/de mo/snapshot',
            '\\api\\cameras\\demo']):
        seed(t, 'path-%02d' % i, p)
    seed(t, 'many-segments', '/a' * 20000)
    seed(t, 'many-slashes', '/api' + '/' * 50000 + 'cameras')
    seed(t, 'long-id', '/api/cameras/' + 'i' * 60000 + '/stream')


def main():
    for kind in ('corpus', 'regressions'):
        for t in ('camera_config', 'websocket_reader', 'jpeg_inspector', 'route_path'):
            shutil.rmtree(os.path.join(HERE, kind, t), ignore_errors=True)
    camera_config()
    websocket_reader()
    jpeg_inspector()
    route_path()
    return 0


if __name__ == '__main__':
    sys.exit(main())
