#include "tessera/core/dicom/move_destinations.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "tessera/core/server_settings.hpp"
#include "tessera/sdk/error.hpp"

namespace tessera::core {
namespace {

using sdk::Error;
using sdk::ErrorCode;

std::string trimmed(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    return std::string(text);
}

std::string entryKey(std::size_t index) {
    return std::string(MoveDestinations::kKey) + "[" + std::to_string(index) + "]";
}

std::optional<std::uint16_t> parsePort(const std::string& text) {
    int port = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, port);
    if (ec != std::errc() || ptr != end || port < 1 || port > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(port);
}

bool parseFlag(const std::string& text) {
    std::string lower;
    for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return lower == "true" || lower == "yes" || lower == "1" || lower == "on";
}

}  // namespace

MoveDestinations::MoveDestinations(ServerSettings& settings) : settings_(settings) {}

std::vector<MoveDestinations::Stored> MoveDestinations::readAll() const {
    std::vector<Stored> all;
    for (std::size_t i = 0;; ++i) {
        const auto entry = entryKey(i);
        if (!settings_.get(entry)) break;
        // Dicoogle writes attributes; its reader takes child elements too.
        const auto field = [&](const char* name) {
            if (auto value = settings_.get(entry + "[@" + name + "]")) return trimmed(*value);
            return trimmed(settings_.get(entry + "." + name).value_or(""));
        };
        Stored stored;
        stored.destination.aeTitle = field("aetitle");
        stored.destination.address = field("address");
        const auto port = parsePort(field("port"));
        stored.destination.port = port.value_or(0);
        stored.destination.isPublic = parseFlag(field("public"));
        stored.destination.description = field("description");
        stored.valid = port && !stored.destination.aeTitle.empty() && !stored.destination.address.empty();
        all.push_back(std::move(stored));
    }
    return all;
}

std::vector<MoveDestination> MoveDestinations::list() const {
    std::lock_guard lock(mutex_);
    std::vector<MoveDestination> out;
    for (auto& stored : readAll()) {
        if (stored.valid) out.push_back(std::move(stored.destination));
    }
    return out;
}

std::optional<MoveDestination> MoveDestinations::find(std::string_view aeTitle) const {
    const auto wanted = trimmed(aeTitle);
    if (wanted.empty()) return std::nullopt;
    for (auto& destination : list()) {
        if (destination.aeTitle == wanted) return destination;
    }
    return std::nullopt;
}

void MoveDestinations::add(const MoveDestination& input) {
    MoveDestination destination = input;
    destination.aeTitle = trimmed(destination.aeTitle);
    destination.address = trimmed(destination.address);
    if (destination.aeTitle.empty() || destination.aeTitle.size() > 16 ||
        std::any_of(destination.aeTitle.begin(), destination.aeTitle.end(),
                    [](char c) { return c == '\\' || std::iscntrl(static_cast<unsigned char>(c)); })) {
        throw Error(ErrorCode::InvalidArgument, "Illegal AE title: 1 to 16 characters, no backslash");
    }
    if (destination.address.empty()) throw Error(ErrorCode::InvalidArgument, "Illegal address: must not be empty");
    if (destination.port == 0)
        throw Error(ErrorCode::InvalidArgument, "Illegal port parameter: must be a valid TCP port");

    std::lock_guard lock(mutex_);
    const auto all = readAll();
    std::size_t index = all.size();
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& existing = all[i].destination;
        if (all[i].valid && existing.aeTitle == destination.aeTitle && existing.address == destination.address &&
            existing.port == destination.port) {
            index = i;
            break;
        }
    }
    const auto entry = entryKey(index);
    settings_.setMany({{entry + "[@aetitle]", destination.aeTitle},
                       {entry + "[@address]", destination.address},
                       {entry + "[@port]", std::to_string(destination.port)},
                       {entry + "[@public]", destination.isPublic ? "true" : "false"},
                       {entry + "[@description]", destination.description}});
}

std::size_t MoveDestinations::remove(std::string_view aeTitle, std::optional<std::uint16_t> port,
                                     std::string_view address) {
    const auto wantedAe = trimmed(aeTitle);
    const auto wantedAddress = trimmed(address);
    std::lock_guard lock(mutex_);
    const auto all = readAll();
    std::vector<std::string> keys;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& existing = all[i].destination;
        if (existing.aeTitle != wantedAe) continue;
        if (port && existing.port != *port) continue;
        if (!wantedAddress.empty() && existing.address != wantedAddress) continue;
        keys.push_back(entryKey(i));
    }
    // Removals run in order and later indexes shift: remove from the end.
    std::reverse(keys.begin(), keys.end());
    if (!keys.empty()) settings_.update(keys, {});
    return keys.size();
}

}  // namespace tessera::core
