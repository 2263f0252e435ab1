#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <gst/gst.h>

#include "core/log.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    // Services started by tests without a data dir of their own write to
    // $XDG_DATA_HOME/camrelay: never the developer's real one.
    char xdg[] = "/tmp/camrelay-test-xdg-XXXXXX";
    if (mkdtemp(xdg)) setenv("XDG_DATA_HOME", xdg, 1);
    gst_init(nullptr, nullptr);
    camrelay::initLogging();
    const int failed = Catch::Session().run(argc, argv);
    const std::string cleanup = std::string("rm -rf '") + xdg + "'";
    if (std::system(cleanup.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", xdg);
    return failed;
}
