// MJPEG mode of the viewer page: reads /api/cameras/{id}/stream with fetch()
// (a streamed body, so the page sees each part's X-Timestamp, which an <img>
// would hide) and hands every JPEG to the page's canvas.
//
// camrelayMjpeg.start(id, sink) -> {stop()}; sink: {frame({jpeg, captureMs,
// number, size, placeholder}), error(text)}.
// camrelayMjpeg.Parser is exported for the page's tests.
//
// The service is trusted but the network between it and the browser is not
// (a proxy, a captive portal, a truncated body): the parser bounds a part's
// head and body and stops with an error instead of buffering without end.
'use strict';

const camrelayMjpeg = (() => {
  const kMaxHeadBytes = 8 * 1024;           // a part's headers: about 150 bytes from camrelay
  const kMaxPartBytes = 16 * 1024 * 1024;   // one JPEG: a 4K frame at quality 95 is ~3 MiB
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('latin1');
  const headEnd = encoder.encode('\r\n\r\n');

  // The index of needle in haystack[from..], or -1.
  function indexOf(haystack, needle, from) {
    const first = needle[0];
    const last = haystack.length - needle.length;
    for (let i = from; i <= last; i++) {
      if (haystack[i] !== first) continue;
      let j = 1;
      while (j < needle.length && haystack[i + j] === needle[j]) j++;
      if (j === needle.length) return i;
    }
    return -1;
  }

  // Push-style multipart/x-mixed-replace parser. push(bytes) returns the
  // complete parts ({headers: Map(lower-case name -> value), body: Uint8Array})
  // and throws an Error on a malformed or oversized part.
  class Parser {
    constructor(boundary) {
      this.delimiter = encoder.encode(`--${boundary}`);
      this.buffer = new Uint8Array(64 * 1024);
      this.length = 0;
      this.state = 'preamble';   // preamble -> head -> body -> (after body) head ...
      this.headers = null;
      this.bodyLength = -1;      // from Content-Length; -1: up to the next delimiter
    }

    append(bytes) {
      if (this.length + bytes.length > this.buffer.length) {
        const size = Math.max(this.buffer.length * 2, this.length + bytes.length);
        const grown = new Uint8Array(size);
        grown.set(this.buffer.subarray(0, this.length));
        this.buffer = grown;
      }
      this.buffer.set(bytes, this.length);
      this.length += bytes.length;
    }

    consume(n) {
      this.buffer.copyWithin(0, n, this.length);
      this.length -= n;
    }

    push(bytes) {
      this.append(bytes);
      const parts = [];
      for (;;) {
        const data = this.buffer.subarray(0, this.length);
        if (this.state === 'preamble' || this.state === 'delimiter') {
          // "--boundary" then CRLF (a part follows) or "--" (the end).
          const at = indexOf(data, this.delimiter, 0);
          if (at < 0) {
            if (this.length > kMaxHeadBytes) throw new Error('no multipart boundary in the first 8 KiB');
            break;
          }
          // Between parts only the CRLF that ends the body may come before the boundary.
          if (this.state === 'delimiter' && at > 2) throw new Error('no boundary after a part (wrong Content-Length?)');
          const after = at + this.delimiter.length;
          if (this.length < after + 2) break;
          if (data[after] === 0x2d && data[after + 1] === 0x2d) throw new Error('the stream ended (closing boundary)');
          let skip = after;
          while (skip < this.length && (data[skip] === 0x20 || data[skip] === 0x09)) skip++;   // transport padding
          if (this.length < skip + 2) break;
          if (data[skip] !== 0x0d || data[skip + 1] !== 0x0a) throw new Error('malformed multipart boundary line');
          this.consume(skip + 2);
          this.state = 'head';
        } else if (this.state === 'head') {
          const end = indexOf(data, headEnd, 0);
          if (end < 0) {
            if (this.length > kMaxHeadBytes) throw new Error(`a part's headers exceed ${kMaxHeadBytes} bytes`);
            break;
          }
          if (end > kMaxHeadBytes) throw new Error(`a part's headers exceed ${kMaxHeadBytes} bytes`);
          this.headers = new Map();
          for (const line of decoder.decode(data.subarray(0, end)).split('\r\n')) {
            const colon = line.indexOf(':');
            if (colon > 0) this.headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
          }
          const declared = this.headers.get('content-length');
          this.bodyLength = -1;
          if (declared !== undefined) {
            if (!/^\d{1,9}$/.test(declared)) throw new Error(`bad Content-Length "${declared.slice(0, 32)}"`);
            this.bodyLength = Number(declared);
            if (this.bodyLength > kMaxPartBytes) throw new Error(`a part of ${this.bodyLength} bytes exceeds ${kMaxPartBytes}`);
          }
          this.consume(end + 4);
          this.state = 'body';
        } else {  // body
          let bodyEnd;
          if (this.bodyLength >= 0) {
            if (this.length < this.bodyLength) break;
            bodyEnd = this.bodyLength;
          } else {
            bodyEnd = indexOf(data, this.delimiter, 0);
            if (bodyEnd < 0) {
              if (this.length > kMaxPartBytes) throw new Error(`a part exceeds ${kMaxPartBytes} bytes`);
              break;
            }
            if (bodyEnd >= 2 && data[bodyEnd - 2] === 0x0d && data[bodyEnd - 1] === 0x0a) bodyEnd -= 2;
          }
          parts.push({ headers: this.headers, body: data.slice(0, bodyEnd) });
          this.consume(bodyEnd);
          this.state = 'delimiter';
        }
      }
      return parts;
    }
  }

  function boundaryOf(contentType) {
    const m = /^multipart\/x-mixed-replace\s*;.*boundary="?([^";,\s]{1,70})"?/i.exec(contentType || '');
    return m ? m[1] : null;
  }

  // The error text of a refused request: the service's JSON message if there is one.
  async function answerError(response) {
    let text = '';
    try { text = (await response.text()).slice(0, 1000); } catch (e) { /* the status alone then */ }
    try {
      const body = JSON.parse(text);
      if (body && typeof body.message === 'string') return `${response.status}: ${body.message}`;
    } catch (e) { /* not JSON */ }
    return `HTTP ${response.status}${text ? ': ' + text.slice(0, 200) : ''}`;
  }

  function start(id, sink) {
    const abort = new AbortController();
    let stopped = false;
    (async () => {
      try {
        const response = camrelaySession.checkAnswer(
          await fetch(`/api/cameras/${encodeURIComponent(id)}/stream`, { signal: abort.signal, cache: 'no-store' }));
        if (!response.ok) return sink.error(`MJPEG: ${await answerError(response)}`);
        const boundary = boundaryOf(response.headers.get('Content-Type'));
        if (!boundary) return sink.error(`MJPEG: not a multipart stream (Content-Type ${response.headers.get('Content-Type')})`);
        const parser = new Parser(boundary);
        const reader = response.body.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return sink.error('MJPEG: the stream ended');
          for (const part of parser.push(value)) {
            const stamp = Number(part.headers.get('x-timestamp'));
            sink.frame({
              jpeg: new Blob([part.body], { type: 'image/jpeg' }),
              captureMs: Number.isFinite(stamp) && stamp > 0 ? stamp * 1000 : null,
              number: Number(part.headers.get('x-frame-number')) || 0,
              size: part.body.length,
              placeholder: part.headers.get('x-camera-offline') === 'true',
            });
          }
        }
      } catch (e) {
        if (!stopped) sink.error(`MJPEG: ${e.message}`);
      }
    })();
    return {
      stop() {
        stopped = true;
        abort.abort();
      },
    };
  }

  return { start, Parser, answerError };
})();
