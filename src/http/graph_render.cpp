#include "graph_render.h"

#include "core/gobject_ptr.h"
#include "core/invoke.h"
#include "core/log.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace camrelay {

namespace {

// Graphviz's messages for the render in progress (its error hook is a plain
// function pointer, global: only the one worker thread renders).
thread_local std::string graphvizMessages;

int collectGraphvizMessage(char* text) {
    if (text && graphvizMessages.size() < 2000) graphvizMessages += text;
    return 0;
}

struct GraphDeleter {
    void operator()(Agraph_t* graph) const noexcept { agclose(graph); }
};
struct RenderDataDeleter {
    void operator()(char* data) const noexcept { gvFreeRenderData(data); }
};

// The layout of one graph; freed before the graph is closed (Graphviz's order).
class Layout {
public:
    Layout(GVC_t* gvc, Agraph_t* graph) : gvc_(gvc), graph_(graph) {}
    ~Layout() { gvFreeLayout(gvc_, graph_); }
    Layout(const Layout&) = delete;
    Layout& operator=(const Layout&) = delete;

private:
    GVC_t* gvc_;
    Agraph_t* graph_;
};

// One Graphviz context for the process: creating it loads the plugin list
// (config6a). Never freed: at exit the worker may still be using it.
GVC_t* graphvizContext() {
    static GVC_t* gvc = nullptr;
    if (!gvc) {
        agseterrf(collectGraphvizMessage);
        agseterr(AGERR);  // warnings (font metrics, ...) are not the caller's business
        gvc = gvContext();
    }
    return gvc;
}

std::string withMessages(const std::string& what) {
    std::string text = what;
    while (!graphvizMessages.empty() && (graphvizMessages.back() == '\n' || graphvizMessages.back() == ' '))
        graphvizMessages.pop_back();
    if (!graphvizMessages.empty()) text += ": " + graphvizMessages;
    return text;
}

}  // namespace

SvgRender renderDotToSvg(const std::string& dot) {
    SvgRender result;
    if (dot.size() > kMaxDotBytes) {
        result.error = "the graph is " + std::to_string(dot.size()) + " bytes of DOT; at most " +
                       std::to_string(kMaxDotBytes) + " are rendered (ask for format=dot)";
        return result;
    }
    GVC_t* gvc = graphvizContext();
    if (!gvc) {
        result.error = "Graphviz could not start";
        return result;
    }
    graphvizMessages.clear();
    agreseterrors();
    std::unique_ptr<Agraph_t, GraphDeleter> graph(agmemread(dot.c_str()));
    if (!graph) {
        result.error = withMessages("Graphviz could not read the DOT text");
        return result;
    }
    // Layout time grows faster than the node count: very large graphs are refused.
    if (agnnodes(graph.get()) > kMaxGraphNodes) {
        result.error = "the graph has " + std::to_string(agnnodes(graph.get())) + " nodes; at most " +
                       std::to_string(kMaxGraphNodes) + " are laid out (ask for format=dot)";
        return result;
    }
    if (gvLayout(gvc, graph.get(), "dot") != 0) {
        result.error = withMessages("Graphviz's dot layout failed");
        return result;
    }
    Layout layout(gvc, graph.get());
    char* raw = nullptr;
    unsigned int length = 0;
    const int rendered = gvRenderData(gvc, graph.get(), "svg", &raw, &length);
    std::unique_ptr<char, RenderDataDeleter> data(raw);
    if (rendered != 0 || !data) {
        result.error = withMessages("Graphviz could not render SVG");
        return result;
    }
    result.svg.assign(data.get(), length);
    return result;
}

struct GraphRenderer::Impl {
    struct Job {
        std::string dot;
        std::function<void(SvgRender&)> done;
        GRef<GMainContext> context;  // where done runs
    };
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Job> waiting;
    bool busy = false;  // the worker is rendering
    bool started = false;

    void run() {
        for (;;) {
            Job job;
            {
                std::unique_lock<std::mutex> lock(mutex);
                busy = false;
                wake.wait(lock, [this] { return !waiting.empty(); });
                job = std::move(waiting.front());
                waiting.pop_front();
                busy = true;
            }
            SvgRender result;
            try {
                result = renderDotToSvg(job.dot);
            } catch (...) {
                result.error = "rendering failed: " + currentExceptionText();
            }
            auto rendered = std::make_shared<SvgRender>(std::move(result));
            invokeOn(job.context.get(), [done = std::move(job.done), rendered]() { done(*rendered); });
        }
    }
};

GraphRenderer& GraphRenderer::instance() {
    // Never destroyed: the worker may be inside a layout when the process
    // exits, and joining it would hold up shutdown for nothing.
    static GraphRenderer* renderer = new GraphRenderer();
    return *renderer;
}

GraphRenderer::Impl* GraphRenderer::impl() {
    static Impl* impl = new Impl();  // lives as long as the detached worker
    return impl;
}

bool GraphRenderer::submit(std::string dot, std::function<void(SvgRender&)> done) {
    Impl* i = impl();
    std::lock_guard<std::mutex> lock(i->mutex);
    if (i->waiting.size() >= kMaxWaiting) return false;
    if (!i->started) {
        std::thread([i] { i->run(); }).detach();
        i->started = true;
    }
    i->waiting.push_back(Impl::Job{std::move(dot), std::move(done),
                                   GRef<GMainContext>::adopt(g_main_context_ref_thread_default())});
    i->wake.notify_one();
    return true;
}

}  // namespace camrelay
