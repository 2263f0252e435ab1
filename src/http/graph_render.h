#pragma once
// DOT text to SVG with Graphviz's own library (libgvc: the "dot" layout and
// its core SVG renderer), for GET /api/cameras/{id}/graph?format=svg.
//
// Graphviz keeps global state (its error handler, the layout's statics) and
// is not thread-safe, and a layout can take a while: every render runs on one
// worker thread of its own, one at a time, with at most kMaxWaiting more
// queued; beyond that submit() refuses (the caller answers 503).
//
// Thread affinity: submit() on any thread that runs a GMainContext (the loop
// thread); done runs on that thread's thread-default context. renderDotToSvg
// only on the renderer's worker thread (or a test's one thread).
#include <cstddef>
#include <functional>
#include <string>

namespace camrelay {

struct SvgRender {
    std::string svg;    // the document when error is empty
    std::string error;  // Graphviz's words, or why it was not tried
};

// Refused before Graphviz sees it: DOT over this many bytes, graphs over this many nodes.
constexpr size_t kMaxDotBytes = 2 * 1024 * 1024;
constexpr int kMaxGraphNodes = 3000;

// Synchronous: parse, layout, render, free. Not thread-safe (see above).
SvgRender renderDotToSvg(const std::string& dot);

class GraphRenderer {
public:
    static constexpr size_t kMaxWaiting = 2;

    // The one renderer of the process (its worker starts on first use).
    static GraphRenderer& instance();

    // Queues dot for rendering; done(result) later on the caller's
    // thread-default main context. False (done never called) when a render is
    // running and kMaxWaiting more are waiting already.
    bool submit(std::string dot, std::function<void(SvgRender&)> done);

private:
    GraphRenderer() = default;
    struct Impl;
    Impl* impl();
};

}  // namespace camrelay
