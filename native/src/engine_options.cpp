#include "engine_options.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "error.h"

namespace dcls {

namespace {

struct Option {
    const char *name;
    const char *environment;
    bool allows_always;
};

constexpr Option kOptions[] = {
    {"dft_conv", "DCLS_DFT_CONV", true},
    {"depthwise_conv", "DCLS_DEPTHWISE_CONV", false},
    {"depthwise_backward_weights", "DCLS_DEPTHWISE_BACKWARD_WEIGHTS", false},
    {"dense_backward_weights", "DCLS_DENSE_BACKWARD_WEIGHTS", true},
    {"sparse_conv", "DCLS_SPARSE_CONV", true},
};
constexpr int kCount = int(sizeof(kOptions) / sizeof(kOptions[0]));

bool parse(const char *value, bool allows_always, EngineChoice &choice) {
    if (value == nullptr) return false;
    if (std::strcmp(value, "auto") == 0) choice = EngineChoice::Auto;
    else if (std::strcmp(value, "never") == 0) choice = EngineChoice::Never;
    else if (allows_always && std::strcmp(value, "always") == 0) choice = EngineChoice::Always;
    else return false;
    return true;
}

struct Settings {
    std::mutex mutex;
    EngineChoice choice[kCount];
    Settings() {
        for (int i = 0; i < kCount; ++i) {
            choice[i] = EngineChoice::Auto;
            parse(std::getenv(kOptions[i].environment), kOptions[i].allows_always, choice[i]);
        }
    }
};

Settings &settings() {
    static Settings s;
    return s;
}

}  // namespace

EngineChoice engine_choice(EngineOption option) {
    Settings &s = settings();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.choice[int(option)];
}

void set_engine_option(const char *name, const char *value) {
    require(name != nullptr && value != nullptr, "name and value must not be null");
    for (int i = 0; i < kCount; ++i) {
        if (std::strcmp(name, kOptions[i].name) != 0) continue;
        EngineChoice choice;
        require(parse(value, kOptions[i].allows_always, choice),
                std::string("engine option ") + name + " takes auto" + (kOptions[i].allows_always ? ", never or always" : " or never") +
                    ", not '" + value + "'");
        Settings &s = settings();
        std::lock_guard<std::mutex> lock(s.mutex);
        s.choice[i] = choice;
        return;
    }
    require(false, std::string("unknown engine option '") + name +
                       "' (known: dft_conv, depthwise_conv, depthwise_backward_weights, dense_backward_weights, sparse_conv)");
}

}  // namespace dcls
