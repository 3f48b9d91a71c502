#pragma once
/// @file provider.hpp
/// What every provider has: a unique name and an enabled flag.
///
/// Ownership: providers are owned by their PluginSet and live until the set is destroyed.
/// Thread-safety: name() is constant; enable()/disable()/isEnabled() may be called from any
/// thread (the default implementation uses an atomic flag).
/// @since 1.0

#include <atomic>
#include <string>

namespace tessera::sdk {

/// @since 1.0
class Provider {
public:
    virtual ~Provider() = default;

    /// Unique among all loaded providers of the same kind, stable across releases, made of
    /// `[A-Za-z0-9_.-]`. A duplicate is refused by the host at load time.
    virtual std::string name() const = 0;

    /// Turn the provider on. Returns false if it refuses.
    virtual bool enable() {
        enabled_.store(true);
        return true;
    }
    /// Turn the provider off. Returns false if it refuses.
    virtual bool disable() {
        enabled_.store(false);
        return true;
    }
    virtual bool isEnabled() const { return enabled_.load(); }

private:
    std::atomic<bool> enabled_{true};
};

}  // namespace tessera::sdk
