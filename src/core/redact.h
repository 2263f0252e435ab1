#pragma once
// Removes credentials from text shown to users or written to logs. Applied
// where text leaves camrelay (every log line, camera errors and events, the
// pipeline text in the API, --check), so a caller cannot forget it. The forms:
//
//  - URL userinfo: scheme://user:pass@host -> scheme://***@host. The userinfo
//    ends at the LAST '@' of the URL, so passwords with '@' or '/' go whole.
//    A URL ends at whitespace or a quote; a URL right after a quote
//    (location="rtsp://a:b c@h/x") ends at the closing quote instead.
//    A URL cut short ("rtsp://admin:pa…", clipped text) loses everything
//    after "://".
//  - credential properties and query parameters: user-id= user-pw= proxy-id=
//    proxy-pw= user= password= passwd= pw= passphrase= token= key= secret=
//    api-key= access_token= and names ending in -pw -password -token -secret
//    -key ...; in a query string (after ? & ;) also pass= auth= sig=.
//    Quoted values lose what is inside the quotes.
//  - HTTP credential headers anywhere (souphttpsrc extra-headers):
//    Authorization, Proxy-Authorization, Cookie, Set-Cookie, with ':' or '=',
//    to the end of the quoted value or line.
//
// Invalid UTF-8 (and NUL) becomes U+FFFD, so the result is always valid UTF-8.
// Redacting twice gives the same text as once. Linear time, no regex.
// Over-redaction is preferred to a leak: a path holding an '@' after a URL's
// host (http://h/a@b) is masked too.
// Thread affinity: any thread.
#include <string>
#include <string_view>

namespace camrelay {

std::string redactCredentials(std::string_view text);

}  // namespace camrelay
