#include "tessera/server/application.hpp"

#include <Poco/Logger.h>

#include "tessera/core/dicom/dicom_dictionary.hpp"
#include "tessera/core/dicom/move_destinations.hpp"
#include "tessera/core/dicom/dicom_reader.hpp"
#include "tessera/core/imaging/image_renderer.hpp"
#include "tessera/core/dicom/transfer_settings.hpp"
#include "tessera/core/index_service.hpp"
#include "tessera/core/logging.hpp"
#include "tessera/core/plugin_host.hpp"
#include "tessera/core/provider_switches.hpp"
#include "tessera/core/query_service.hpp"
#include "tessera/core/server_settings.hpp"
#include "tessera/core/session_store.hpp"
#include "tessera/core/task_manager.hpp"
#include "tessera/core/thumbnail_indexing.hpp"
#include "tessera/core/thumbnail_store.hpp"
#include "tessera/core/user_store.hpp"
#include "tessera/core/version.hpp"
#include "tessera/core/watch_folder.hpp"
#include "tessera/sdk/error.hpp"
#include "tessera/server/http_server.hpp"
#include "tessera/server/router.hpp"
#include "tessera/server/routes.hpp"
#include "tessera/server/server_context.hpp"
#include "dicom/dicom_services.hpp"
#include "dicom/storage_scp_service.hpp"
#include "dicom/query_retrieve_scp_service.hpp"

namespace tessera::server {
namespace {

Poco::Logger& logger() { return Poco::Logger::get("tessera.server"); }

bool isLoopback(const std::string& address) {
    return address == "localhost" || address == "::1" || address.rfind("127.", 0) == 0;
}

std::uint16_t chosenPort(const std::optional<int>& flag, std::uint16_t configured) {
    return flag ? static_cast<std::uint16_t>(*flag) : configured;
}

void logToPocoLogger(sdk::LogLevel level, const std::string& line) {
    auto& log = Poco::Logger::get("tessera.plugins");
    switch (level) {
        case sdk::LogLevel::Debug: log.debug(line); break;
        case sdk::LogLevel::Information: log.information(line); break;
        case sdk::LogLevel::Warning: log.warning(line); break;
        case sdk::LogLevel::Error: log.error(line); break;
    }
}

std::unique_ptr<sdk::DicomObjectView> parseDicomForPlugins(std::span<const std::uint8_t> bytes) {
    auto result = core::readDicomBytes(bytes);
    if (result.status != core::DicomReadStatus::Ok) throw sdk::Error(sdk::ErrorCode::Corrupted, result.reason);
    return std::move(result.object);
}

}  // namespace

std::filesystem::path builtinPluginDirFor(const std::filesystem::path& executable) {
    return executable.parent_path().parent_path() / "lib" / "tessera" / "plugins";
}

struct Application::Impl {
    ApplicationOptions options;
    std::filesystem::path dataDir;
    std::shared_ptr<core::RecentLog> recentLog = std::make_shared<core::RecentLog>(2000);
    std::unique_ptr<core::ServerSettings> settings;
    std::unique_ptr<core::UserStore> users;
    std::unique_ptr<core::SessionStore> sessions;
    std::unique_ptr<core::PluginHost> plugins;
    std::unique_ptr<core::TaskManager> tasks;
    std::unique_ptr<core::ThumbnailStore> thumbnails;
    std::unique_ptr<core::IndexService> indexing;
    std::unique_ptr<core::QueryService> queries;
    std::unique_ptr<core::WatchFolder> watchFolder;
    std::unique_ptr<core::TransferSettings> transfer;
    std::unique_ptr<core::MoveDestinations> moveDestinations;  // before dicom: the Q/R SCP borrows it
    std::unique_ptr<DicomServices> dicom;
    std::unique_ptr<ServerContext> context;
    Router router;
    std::unique_ptr<HttpServer> http;
    bool stopped = false;

    explicit Impl(ApplicationOptions opts) : options(std::move(opts)) {
        const auto& cli = options.commandLine;
        dataDir = std::filesystem::absolute(cli.dataDir.value_or("var")).lexically_normal();
        std::filesystem::create_directories(dataDir);
        core::configureLogging({dataDir / "logs" / "tessera.log", options.logToConsole, false}, recentLog);
        logger().information("Tessera %s starting; data directory %s", std::string(core::tesseraVersion()), dataDir.string());

        if (!core::dictionaryLoaded())
            throw sdk::Error(sdk::ErrorCode::Unavailable,
                             "The DICOM data dictionary is not loaded (install DCMTK's dicom.dic or set DCMDICTPATH)");

        settings = core::ServerSettings::open(cli.configFile.value_or(dataDir / "server.xml"));
        logger().information("Configuration %s", settings->file().string());

        users = std::make_unique<core::UserStore>(dataDir / "users.db", settings->passwordHashIterations());
        if (users->ensureDefaultAdmin())
            logger().warning("Created the default administrator 'dicoogle' with password 'dicoogle': change it");
        sessions = std::make_unique<core::SessionStore>(settings->tokenIdleTimeout());

        core::PluginHostOptions hostOptions;
        hostOptions.dataRoot = dataDir / "plugin-data";
        hostOptions.settingsFor = [this](const std::string& set) -> sdk::SettingsSection& { return settings->pluginSection(set); };
        hostOptions.log = logToPocoLogger;
        hostOptions.parseDicom = parseDicomForPlugins;
        plugins = std::make_unique<core::PluginHost>(std::move(hostOptions));
        if (!options.builtinPluginDir.empty()) plugins->loadDirectory(options.builtinPluginDir);
        for (const auto& dir : cli.pluginDirs) plugins->loadDirectory(dir);
        // Providers an administrator disabled stay disabled across restarts.
        core::applySavedProviderStates(plugins->registry(), *settings, logToPocoLogger);

        tasks = std::make_unique<core::TaskManager>();
        core::IndexServiceOptions indexOptions;
        // archive.index-threads: parser threads per index task; unset or below 1 = one per core.
        const long long indexThreads = settings->getInt("archive.index-threads", 0);
        indexOptions.threads = indexThreads > 0 ? static_cast<std::size_t>(indexThreads) : 0;
        // Thumbnails at index time (archive.save-thumbnails) into <data>/thumbnails, rendered by
        // the imaging module; /dic2png?thumbnail=true serves them without decoding the file.
        thumbnails = std::make_unique<core::ThumbnailStore>(dataDir / "thumbnails", &core::renderThumbnailPng);
        core::addThumbnailHooks(
            indexOptions, *thumbnails, plugins->registry(),
            [this] { return settings->getBool("archive.save-thumbnails", false); },
            [this] { return static_cast<unsigned>(settings->getInt("archive.thumbnail-size", 64)); });
        indexing = std::make_unique<core::IndexService>(plugins->registry(), *tasks, indexOptions);
        queries = std::make_unique<core::QueryService>(plugins->registry(), *settings);
        // The watch folder indexes without tasks (a stream of small batches would flood the task
        // list) and unindexes through the same service, so thumbnails follow.
        watchFolder = std::make_unique<core::WatchFolder>(
            [this](const std::vector<sdk::Uri>& uris) { indexing->indexItems(uris); },
            [this](const std::vector<sdk::Uri>& uris) { indexing->unindex(uris, {}); });

        transfer = std::make_unique<core::TransferSettings>(*settings);
        dicom = std::make_unique<DicomServices>();
        if (cli.storagePort) dicom->setPortOverride("storage", static_cast<std::uint16_t>(*cli.storagePort));
        if (cli.queryPort) dicom->setPortOverride("query", static_cast<std::uint16_t>(*cli.queryPort));
        dicom->setStorage(std::make_unique<StorageScpService>(*settings, *transfer, plugins->registry(), *indexing,
                                                              *queries, *dicom, dataDir / "dicom-journal"));
        moveDestinations = std::make_unique<core::MoveDestinations>(*settings);
        dicom->setQuery(std::make_unique<QueryRetrieveScpService>(*settings, *queries, plugins->registry(),
                                                                  *moveDestinations, *dicom));

        context = std::unique_ptr<ServerContext>(
            new ServerContext{*settings, *users, *sessions, *plugins, *recentLog, std::chrono::steady_clock::now(),
                              *tasks, *indexing, *queries, dataDir, *dicom, *transfer});
        context->applyWatchSettings = [this] { applyWatchSettings(); };
        context->thumbnails = thumbnails.get();
        addAccountRoutes(router, *context);
        addPluginRoutes(router, *context);
        addInfoRoutes(router, *context);
        addTaskRoutes(router, *context);
        addIndexSettingsRoutes(router, *context);
        addSearchRoutes(router, *context);
        addExportRoutes(router, *context);
        addImageRoutes(router, *context);
        addDicomRoutes(router, *context);
        addWebServiceProviderRoutes(router, *context);

        addMoveDestinationRoutes(router, *context, *moveDestinations);
    }

    void applyWatchSettings() {
        watchFolder->configure(settings->getBool("archive.enable-watch-directory", false),
                               settings->getString("archive.watch-directory", ""));
    }

    void start() {
        try {
            applyWatchSettings();
        } catch (const std::exception& e) {
            // A folder that is gone is not worth refusing to start over; the API can fix it.
            logger().warning("The watch folder is not watched: %s", std::string(e.what()));
        }
        HttpServerOptions httpOptions;
        httpOptions.address = settings->httpAddress();
        httpOptions.port = chosenPort(options.commandLine.httpPort, settings->httpPort());
        httpOptions.maxBodyBytes = settings->maxBodyBytes();
        httpOptions.allowedOrigins = settings->allowedOrigins();
        auto authenticate = [this](std::string_view token) -> std::optional<Identity> {
            auto session = sessions->touch(token);
            if (!session) return std::nullopt;
            return Identity{session->username, session->admin};
        };
        http = std::make_unique<HttpServer>(router, authenticate, httpOptions);
        http->start();
        logger().information("REST API listening on %s:%hu", http->address(), http->port());
        startDicomServices();
        if (!isLoopback(http->address()) && users->verify("dicoogle", "dicoogle"))
            logger().warning(
                "The REST API is open beyond loopback (%s) while the 'dicoogle' account still has its default "
                "password: change it now",
                http->address());
    }

    // Services with autostart (dicom-services.storage[@autostart], query-retrieve[@autostart]).
    // A port that cannot be bound is fatal at start-up, like the HTTP port.
    void startDicomServices() {
        const std::pair<const char*, const char*> services[] = {{"storage", "dicom-services.storage[@autostart]"},
                                                                {"query", "dicom-services.query-retrieve[@autostart]"}};
        for (const auto& [name, key] : services) {
            DicomService* service = dicom->byName(name);
            if (service && settings->getBool(key, true)) service->start();
        }
    }

    void stop() {
        if (stopped) return;
        stopped = true;
        if (http) http->stop();
        watchFolder->stop();
        dicom->stopAll();  // C-STOREs index and C-FINDs query: stop them before the index service
        indexing->shutdown();  // tasks use the providers: stop them before the plugins go
        plugins->shutdown();
        logger().information("Tessera stopped");
    }
};

Application::Application(ApplicationOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Application::~Application() {
    try {
        stop();
    } catch (...) {
        // Destructors must not throw; stop() already logged what failed.
    }
}

void Application::start() { impl_->start(); }
void Application::stop() { impl_->stop(); }

std::string Application::listeningLine() const {
    std::string line =
        "tessera-server listening http=" + impl_->http->address() + ":" + std::to_string(impl_->http->port());
    // A service that is not running is left out; scripts read the ports from this line.
    for (const char* name : {"storage", "query"}) {
        const DicomService* service = impl_->dicom->byName(name);
        if (!service || !service->running()) continue;
        const auto host = impl_->settings->getString(
            std::string("dicom-services.") + (std::string(name) == "storage" ? "storage" : "query-retrieve") +
                "[@hostname]",
            "0.0.0.0");
        line += std::string(" ") + name + "=" + host + ":" + std::to_string(service->port());
    }
    return line;
}

std::uint16_t Application::httpPort() const { return impl_->http->port(); }
const Router& Application::router() const { return impl_->router; }

}  // namespace tessera::server
