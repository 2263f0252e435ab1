#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <gst/gst.h>

#include "core/log.h"

int main(int argc, char** argv) {
    gst_init(nullptr, nullptr);
    camrelay::initLogging();
    return Catch::Session().run(argc, argv);
}
