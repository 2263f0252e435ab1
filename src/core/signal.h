#pragma once
// A minimal signal/slot for the loop thread. connect() returns a Connection
// that disconnects when destroyed, so a listener can never outlive its owner.
// Disconnecting inside an emission is safe: a disconnected slot is not called.
// Thread affinity: one thread (the loop thread).
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace camrelay {

class Connection {
public:
    Connection() = default;
    explicit Connection(std::function<void()> disconnect) : disconnect_(std::move(disconnect)) {}
    Connection(Connection&& o) noexcept : disconnect_(std::exchange(o.disconnect_, nullptr)) {}
    Connection& operator=(Connection&& o) noexcept {
        if (this != &o) { disconnect(); disconnect_ = std::exchange(o.disconnect_, nullptr); }
        return *this;
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() { disconnect(); }
    void disconnect() {
        if (auto d = std::exchange(disconnect_, nullptr)) d();
    }

private:
    std::function<void()> disconnect_;
};

template <typename... Args> class Signal {
public:
    Connection connect(std::function<void(Args...)> fn) {
        auto slot = std::make_shared<Slot>(Slot{std::move(fn), true});
        slots_->push_back(slot);
        std::weak_ptr<Slots> weakSlots = slots_;
        return Connection([weakSlots, slot] {
            slot->connected = false;
            if (auto slots = weakSlots.lock())
                for (auto it = slots->begin(); it != slots->end(); ++it)
                    if (*it == slot) { slots->erase(it); break; }
        });
    }
    void emit(Args... args) {
        auto snapshot = *slots_;  // slots may connect/disconnect while we call them
        for (auto& slot : snapshot)
            if (slot->connected) slot->fn(args...);
    }
    size_t size() const { return slots_->size(); }

private:
    struct Slot {
        std::function<void(Args...)> fn;
        bool connected;
    };
    using Slots = std::vector<std::shared_ptr<Slot>>;
    std::shared_ptr<Slots> slots_ = std::make_shared<Slots>();
};

}  // namespace camrelay
