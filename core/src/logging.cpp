#include "tessera/core/logging.hpp"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/Logger.h>
#include <Poco/Message.h>
#include <Poco/PatternFormatter.h>
#include <Poco/SplitterChannel.h>
#include <dcmtk/oflog/oflog.h>

namespace tessera::core {

RecentLog::RecentLog(std::size_t maxLines) : maxLines_(maxLines == 0 ? 1 : maxLines) {}

void RecentLog::append(std::string line) {
    std::lock_guard lock(mutex_);
    if (lines_.size() == maxLines_) lines_.pop_front();
    lines_.push_back(std::move(line));
}

std::string RecentLog::text() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& line : lines_) {
        out += line;
        out += '\n';
    }
    return out;
}

namespace {

// Receives already formatted messages (it sits behind a FormattingChannel).
class RecentLogChannel : public Poco::Channel {
public:
    explicit RecentLogChannel(std::shared_ptr<RecentLog> recent) : recent_(std::move(recent)) {}
    void log(const Poco::Message& message) override { recent_->append(message.getText()); }

private:
    std::shared_ptr<RecentLog> recent_;
};

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%i %q [%s] %t";

Poco::AutoPtr<Poco::Channel> formatted(Poco::AutoPtr<Poco::Channel> channel) {
    Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter(kPattern));
    formatter->setProperty("times", "local");
    return Poco::AutoPtr<Poco::Channel>(new Poco::FormattingChannel(formatter, channel));
}

}  // namespace

void configureLogging(const LoggingOptions& options, std::shared_ptr<RecentLog> recent) {
    Poco::AutoPtr<Poco::SplitterChannel> splitter(new Poco::SplitterChannel);
    if (options.console) splitter->addChannel(formatted(new Poco::ConsoleChannel));
    if (!options.logFile.empty()) {
        std::filesystem::create_directories(options.logFile.parent_path());
        Poco::AutoPtr<Poco::FileChannel> file(new Poco::FileChannel(options.logFile.string()));
        file->setProperty("rotation", "10 M");
        file->setProperty("archive", "number");
        file->setProperty("purgeCount", "5");
        file->setProperty("flush", "false");
        splitter->addChannel(formatted(file));
    }
    if (recent) splitter->addChannel(formatted(new RecentLogChannel(std::move(recent))));
    Poco::Logger::root().setChannel(splitter);
    Poco::Logger::root().setLevel(options.debug ? Poco::Message::PRIO_DEBUG : Poco::Message::PRIO_INFORMATION);
    // DCMTK logs a warning for every file it stops reading at PixelData, which is what we ask it
    // to do; only its errors are worth a line (and ours say which file).
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
    // Loggers created before this call keep their old channel: re-point them all.
    Poco::Logger::setChannel("", splitter);
    Poco::Logger::setLevel("", options.debug ? Poco::Message::PRIO_DEBUG : Poco::Message::PRIO_INFORMATION);
}

}  // namespace tessera::core
