// The smallest useful Tessera plugin: one web service, `hello`, with one public route.
//
//   GET /ext/hello/greeting?name=Ada   →   {"greeting":"Hello, Ada!"}
//
// The greeting word comes from the plugin's own settings section (key `greeting`, written with
// its default "Hello" on first start so that it shows up in the server's configuration file).

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <tessera/sdk/plugin_export.hpp>
#include <tessera/sdk/sdk.hpp>

namespace {

namespace sdk = tessera::sdk;

// A JSON string literal with the quotes: the name comes straight from the client.
std::string jsonString(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
                    out += escaped;
                } else {
                    out += c;
                }
        }
    }
    return out + "\"";
}

class HelloService final : public sdk::WebServiceProvider {
public:
    // The host mounts the routes under /ext/<this name>.
    std::string name() const override { return "hello"; }

    void setGreeting(std::string greeting) { greeting_ = std::move(greeting); }

    std::vector<sdk::WebRoute> routes() override {
        sdk::WebRoute greeting;
        greeting.method = "GET";
        greeting.path = "/greeting";
        greeting.policy = sdk::AccessPolicy::Public;
        greeting.summary = "Greets `name` (default: world)";
        // greeting_ is set once in configure(), before routes() is called, and never changes:
        // concurrent handlers only read it.
        greeting.handler = [this](const sdk::HttpRequest& request) {
            std::string name = request.param("name").value_or("");
            if (name.empty()) name = "world";
            return sdk::HttpResponse::json("{\"greeting\":" + jsonString(greeting_ + ", " + name + "!") + "}");
        };
        return {greeting};
    }

private:
    std::string greeting_ = "Hello";
};

class HelloPlugin final : public sdk::PluginSet {
public:
    explicit HelloPlugin(sdk::HostServices& host) : host_(host) {}

    std::string name() const override { return "hello"; }

    void configure(sdk::SettingsSection& settings) override {
        const std::string greeting = settings.getOrInit("greeting", "Hello");
        if (greeting.empty()) throw sdk::Error(sdk::ErrorCode::InvalidArgument, "The setting 'greeting' is empty");
        service_.setGreeting(greeting);
        host_.log(sdk::LogLevel::Information, "greeting with '" + greeting + "'");
    }

    std::vector<sdk::WebServiceProvider*> webServiceProviders() override { return {&service_}; }

private:
    sdk::HostServices& host_;
    HelloService service_;
};

}  // namespace

TESSERA_PLUGIN(HelloPlugin, "hello", "1.0.0")
