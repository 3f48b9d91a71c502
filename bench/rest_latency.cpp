// bench_rest_latency: request latency through the REST API as a client sees it. One keep-alive
// HTTP connection, requests one after another (no concurrency, so the figures are service time
// plus loopback, not queueing). Each query kind is warmed up, then timed request by request from
// sending the request line to reading the last byte of the body.
//
// Usage: bench_rest_latency --port P [--host H] [--token T] [--warmup W] [--requests R] [--tsv]
//                           NAME=PATH_AND_QUERY...
// PATH_AND_QUERY is sent as is (already URL-encoded). Output, one line per kind (--tsv):
//   kind<TAB>requests<TAB>p50_ms<TAB>p95_ms<TAB>p99_ms<TAB>mean_ms<TAB>max_ms<TAB>numResults<TAB>bytes
// numResults is the first response's "numResults" (-1 when it has none). Exit status 3 when any
// response was not 200.
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string token;
    int warmup = 20;
    int requests = 200;
    bool tsv = false;
    std::vector<std::pair<std::string, std::string>> kinds;  // name, path and query
};

[[noreturn]] void usage(const std::string& problem) {
    std::fprintf(stderr,
                 "bench_rest_latency: %s\nUsage: bench_rest_latency --port P [--host H] [--token T] [--warmup W] "
                 "[--requests R] [--tsv] NAME=PATH_AND_QUERY...\n",
                 problem.c_str());
    std::exit(2);
}

int parseInt(std::string_view flag, std::string_view text, int low, int high) {
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
        usage(std::string(flag) + " must be an integer in " + std::to_string(low) + "-" + std::to_string(high));
    }
    return value;
}

Options parseOptions(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) usage(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--tsv") {
            options.tsv = true;
        } else if (arg == "--host") {
            options.host = value();
        } else if (arg == "--port") {
            options.port = parseInt(arg, value(), 1, 65535);
        } else if (arg == "--token") {
            options.token = value();
        } else if (arg == "--warmup") {
            options.warmup = parseInt(arg, value(), 0, 1000000);
        } else if (arg == "--requests") {
            options.requests = parseInt(arg, value(), 1, 1000000);
        } else if (arg.starts_with("-")) {
            usage("unknown option " + std::string(arg));
        } else {
            const auto equals = arg.find('=');
            if (equals == std::string_view::npos || equals == 0 || equals + 1 >= arg.size() ||
                arg[equals + 1] != '/') {
                usage("a query kind is NAME=/path?query, got '" + std::string(arg) + "'");
            }
            options.kinds.emplace_back(std::string(arg.substr(0, equals)), std::string(arg.substr(equals + 1)));
        }
    }
    if (options.port == 0) usage("--port is required");
    if (options.kinds.empty()) usage("no query kinds given");
    return options;
}

struct Response {
    int status = 0;
    std::string body;
};

Response get(Poco::Net::HTTPClientSession& session, const std::string& pathAndQuery, const std::string& token) {
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, pathAndQuery, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(true);
    if (!token.empty()) request.set("Authorization", token);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    auto& in = session.receiveResponse(response);
    Response result;
    result.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, result.body);
    return result;
}

long long numResultsOf(const std::string& body) {
    try {
        const auto parsed = Poco::JSON::Parser().parse(body);
        const auto object = parsed.extract<Poco::JSON::Object::Ptr>();
        if (object && object->has("numResults")) return object->getValue<long long>("numResults");
    } catch (const Poco::Exception&) {
        // Not JSON or not an object: reported as "no count".
    } catch (const std::exception&) {
    }
    return -1;
}

// Nearest rank: the smallest sample with at least p of the samples at or below it.
double percentile(const std::vector<double>& sorted, double p) {
    const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
    const Options options = parseOptions(argc, argv);
    Poco::Net::HTTPClientSession session(options.host, static_cast<Poco::UInt16>(options.port));
    session.setKeepAlive(true);
    session.setTimeout(Poco::Timespan(120, 0));
    int exitCode = 0;
    if (!options.tsv) {
        std::printf("%-16s %8s %9s %9s %9s %9s %9s %10s %9s\n", "kind", "requests", "p50 ms", "p95 ms", "p99 ms",
                    "mean ms", "max ms", "numResults", "bytes");
    }
    for (const auto& [name, path] : options.kinds) {
        try {
            Response first = get(session, path, options.token);
            if (first.status != 200) {
                std::fprintf(stderr, "bench_rest_latency: %s: HTTP %d: %.300s\n", name.c_str(), first.status,
                             first.body.c_str());
                exitCode = 3;
                continue;
            }
            for (int i = 1; i < options.warmup; ++i) get(session, path, options.token);
            std::vector<double> millis;
            millis.reserve(static_cast<std::size_t>(options.requests));
            int failures = 0;
            for (int i = 0; i < options.requests; ++i) {
                const auto start = Clock::now();
                const Response response = get(session, path, options.token);
                millis.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
                if (response.status != 200) ++failures;
            }
            if (failures > 0) {
                std::fprintf(stderr, "bench_rest_latency: %s: %d of %d timed requests were not 200\n", name.c_str(),
                             failures, options.requests);
                exitCode = 3;
            }
            std::sort(millis.begin(), millis.end());
            const double mean = std::accumulate(millis.begin(), millis.end(), 0.0) / static_cast<double>(millis.size());
            const long long hits = numResultsOf(first.body);
            std::printf(options.tsv ? "%s\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%lld\t%zu\n"
                                    : "%-16s %8zu %9.3f %9.3f %9.3f %9.3f %9.3f %10lld %9zu\n",
                        name.c_str(), millis.size(), percentile(millis, 0.50), percentile(millis, 0.95),
                        percentile(millis, 0.99), mean, millis.back(), hits, first.body.size());
            std::fflush(stdout);
        } catch (const Poco::Exception& e) {
            std::fprintf(stderr, "bench_rest_latency: %s: %s\n", name.c_str(), e.displayText().c_str());
            session.reset();
            exitCode = 3;
        }
    }
    return exitCode;
}
