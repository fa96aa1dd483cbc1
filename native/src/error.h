// Errors inside the native core: thrown as dcls::Error, turned into a dcls_status at the C ABI.
#pragma once

#include <new>
#include <stdexcept>
#include <string>

#include "dcls.h"

namespace dcls {

class Error : public std::runtime_error {
public:
    Error(dcls_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    dcls_status status() const { return status_; }

private:
    dcls_status status_;
};

// Throws DCLS_ERROR_INVALID_ARGUMENT with `message` unless `condition` holds.
inline void require(bool condition, const std::string &message) {
    if (!condition) throw Error(DCLS_ERROR_INVALID_ARGUMENT, message);
}

// The C ABI's error boundary (api.cpp, cuda/cuda_api.cpp): runs `body` and maps every exception
// to a status, with "function: why" in `last_error` (each library's thread-local message). On
// success the message is left as it is (the last failure's, as dcls.h documents).
template <typename Body>
dcls_status guarded(std::string &last_error, const char *function, Body &&body) {
    auto fail = [&](dcls_status status, const std::string &why) {
        last_error = std::string(function) + ": " + why;
        return status;
    };
    try {
        body();
        return DCLS_OK;
    } catch (const Error &e) {
        return fail(e.status(), e.what());
    } catch (const std::bad_alloc &) {
        return fail(DCLS_ERROR_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception &e) {
        return fail(DCLS_ERROR_INTERNAL, e.what());
    } catch (...) {
        return fail(DCLS_ERROR_INTERNAL, "unknown exception");
    }
}

}  // namespace dcls
