// Errors inside the native core: thrown as dcls::Error, turned into a dcls_status at the C ABI.
#pragma once

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

}  // namespace dcls
