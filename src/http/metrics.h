#pragma once
// GET /metrics: the service's figures in the Prometheus text exposition
// format 0.0.4, for Prometheus, Grafana agents and the like (docs/api.md
// "Metrics" lists every series). A scrape walks the cameras and outputs on the
// loop thread and reads /proc/self; its size is bounded by the number of
// cameras times a fixed set of series, plus the HTTP route table times the
// status codes seen.
// Thread affinity: loop thread only.
#include "camera/registry.h"
#include "http/front_door.h"
#include "outputs/outputs.h"

#include <libsoup/soup.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace camrelay {

// A label value as the text format wants it: backslash, double quote and
// newline escaped; invalid UTF-8 replaced (names come from config files).
std::string escapeLabelValue(std::string_view value);

// Writes metric families: HELP and TYPE once, then the family's samples.
// Samples of one family must be written before the next family starts.
class MetricsText {
public:
    using Labels = std::vector<std::pair<const char*, std::string>>;
    // type: "counter" or "gauge". Counters' names end in _total.
    void family(const char* name, const char* type, const char* help);
    void sample(const Labels& labels, double value);
    void sample(const Labels& labels, uint64_t value);
    const std::string& text() const { return text_; }

private:
    void name(const Labels& labels);
    std::string text_;
    const char* family_ = "";
};

// Registers GET /metrics and starts counting HTTP requests by route group
// (the access rule's documented shape, never the raw path) and status.
// registry, outputs and door outlive the server.
void addMetricsRoutes(SoupServer* server, Registry& registry, Outputs& outputs, const FrontDoor& door);

// A connection taken over from libsoup (stealConnection) ends its request
// without libsoup's request-finished: counted here, with the status its new
// owner answers (101 for a WebSocket, 200 for an MJPEG stream...).
void countStolenRequest(SoupServerMessage* msg, unsigned status);

}  // namespace camrelay
