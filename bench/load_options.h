#pragma once
// The options every load tool takes (where the service is, which camera, how
// long to warm up and measure, whose CPU to read), parsed in one place; each
// tool hands its own "--key value" options to `other`.
// Bad input (unknown option, missing or malformed value) prints why and exits 2.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>

namespace camrelay::testing {

struct LoadOptions {
    int port = 8080;
    std::string camera = "demo";
    double warmup = 3;     // seconds before measuring
    double duration = 10;  // seconds measured
    int pid = 0;           // the service's process (CPU, RSS); 0: none
};

// `other` returns false for a key it does not know; it may throw
// std::logic_error (std::stoi/stod) for a bad value.
inline void parseLoadOptions(int argc, char** argv, LoadOptions& options,
                             const std::function<bool(const std::string& key, const std::string& value)>& other) {
    const char* tool = argc > 0 ? argv[0] : "load tool";
    for (int i = 1; i < argc; i += 2) {
        const std::string k = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "%s: missing value for %s\n", tool, k.c_str());
            std::exit(2);
        }
        const std::string v = argv[i + 1];
        bool known = true;
        try {
            if (k == "--port") options.port = std::stoi(v);
            else if (k == "--camera") options.camera = v;
            else if (k == "--warmup") options.warmup = std::stod(v);
            else if (k == "--duration") options.duration = std::stod(v);
            else if (k == "--pid") options.pid = std::stoi(v);
            else known = other(k, v);
        } catch (const std::logic_error&) {
            std::fprintf(stderr, "%s: bad value for %s: %s\n", tool, k.c_str(), v.c_str());
            std::exit(2);
        }
        if (!known) {
            std::fprintf(stderr, "%s: unknown option %s\n", tool, k.c_str());
            std::exit(2);
        }
    }
}

}  // namespace camrelay::testing
