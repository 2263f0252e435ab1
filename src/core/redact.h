#pragma once
// Removes credentials from text shown to users or written to logs: the user
// and password of URLs (rtsp://user:pass@host -> rtsp://***@host) and the
// values of the credential properties of rtspsrc/souphttpsrc (user-id=,
// user-pw=, proxy-id=, proxy-pw=). Everything else is left as it was.
// Thread affinity: any thread.
#include <string>

namespace camrelay {

std::string redactCredentials(const std::string& text);

}  // namespace camrelay
