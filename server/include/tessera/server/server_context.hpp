#pragma once
// The services the REST handlers work with, owned by Application and borrowed by every route.

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

namespace tessera::core {
class IndexService;
class PluginHost;
class QueryService;
class RecentLog;
class ServerSettings;
class SessionStore;
class TaskManager;
class TransferSettings;
class ThumbnailStore;
class UserStore;
}  // namespace tessera::core

namespace tessera::server {

class DicomServices;  // server/src/dicom/dicom_services.hpp

struct ServerContext {
    core::ServerSettings& settings;
    core::UserStore& users;
    core::SessionStore& sessions;
    core::PluginHost& plugins;
    core::RecentLog& recentLog;
    std::chrono::steady_clock::time_point startedAt;
    core::TaskManager& tasks;
    core::IndexService& indexing;
    core::QueryService& queries;
    std::filesystem::path dataDir;  // absolute; exports live in <dataDir>/exports
    /// The storage and query/retrieve SCPs.
    DicomServices& dicom;
    /// Accepted SOP classes and transfer syntaxes of the storage SCP.
    core::TransferSettings& transfer;
    /// Makes the watch folder follow archive.enable-watch-directory / archive.watch-directory
    /// after they changed; throws sdk::Error when it cannot (empty = no watcher).
    std::function<void()> applyWatchSettings = {};
    /// Thumbnails made at index time (<dataDir>/thumbnails); /dic2png?thumbnail=true serves
    /// thumbnails->get(uri) when present, before rendering. Null = none.
    core::ThumbnailStore* thumbnails = nullptr;
};

}  // namespace tessera::server
