// Loads cuDNN 9 with dlopen. Tried in order: the file named by DCLS_CUDNN_LIBRARY, the library
// found at build time (DCLS_CUDNN_DEFAULT_LIBRARY), then "libcudnn.so.9" by the dynamic linker's
// search. cuDNN 9's libcudnn.so.9 is a thin layer that loads its sub-libraries
// (libcudnn_graph.so.9, libcudnn_cnn.so.9, ...) by name; when it was found by path, those beside it
// are loaded first by path, so that its own search finds them whatever LD_LIBRARY_PATH says.
#include "cudnn_loader.h"

#include <string>

#include "error.h"

#ifndef DCLS_CUDA_EMULATION
#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <vector>

namespace dcls {
namespace cuda {
namespace {

struct Loaded {
    CudnnApi api;
    bool ok = false;
    std::string error;
};

bool exists(const std::string &path) {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

void preload_siblings(const std::string &path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos) return;
    const std::string dir = path.substr(0, slash + 1);
    // Dependencies first; a sub-library that fails to load (a missing optional dependency) is
    // left to cuDNN, which reports it when it needs it.
    static const char *const subs[] = {"libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
                                       "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9",
                                       "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9"};
    for (const char *sub : subs)
        if (exists(dir + sub)) (void)dlopen((dir + sub).c_str(), RTLD_NOW | RTLD_GLOBAL);
}

Loaded load() {
    Loaded result;
    std::vector<std::string> candidates;
    if (const char *env = std::getenv("DCLS_CUDNN_LIBRARY"); env && *env) candidates.push_back(env);
#ifdef DCLS_CUDNN_DEFAULT_LIBRARY
    if (*DCLS_CUDNN_DEFAULT_LIBRARY) candidates.push_back(DCLS_CUDNN_DEFAULT_LIBRARY);
#endif
    candidates.push_back("libcudnn.so.9");
    std::string tried;
    void *handle = nullptr;
    for (const std::string &c : candidates) {
        if (c.find('/') != std::string::npos) preload_siblings(c);
        handle = dlopen(c.c_str(), RTLD_NOW | RTLD_GLOBAL);
        if (handle) break;
        const char *e = dlerror();
        tried += (tried.empty() ? "" : "; ") + c + ": " + (e ? e : "not found");
    }
    if (!handle) {
        result.error = "cuDNN 9 could not be loaded (set DCLS_CUDNN_LIBRARY to libcudnn.so.9, or add its folder to "
                       "LD_LIBRARY_PATH); tried " + tried;
        return result;
    }
#define DCLS_CUDNN_LOOKUP(f)                                                          \
    result.api.f = reinterpret_cast<cudnn_api::f##_fn>(dlsym(handle, #f));           \
    if (!result.api.f) {                                                              \
        result.error = std::string("cuDNN library lacks ") + #f;                     \
        return result;                                                                \
    }
    DCLS_CUDNN_FUNCTIONS(DCLS_CUDNN_LOOKUP)
#undef DCLS_CUDNN_LOOKUP
    // The layers' groups: a missing function turns its group off, not cuDNN.
    bool complete = true;
#define DCLS_CUDNN_OPTIONAL(f)                                                  \
    result.api.f = reinterpret_cast<cudnn_api::f##_fn>(dlsym(handle, #f));     \
    complete = complete && result.api.f != nullptr;
    DCLS_CUDNN_POOLING_FUNCTIONS(DCLS_CUDNN_OPTIONAL)
    result.api.pooling = complete;
    complete = true;
    DCLS_CUDNN_SOFTMAX_FUNCTIONS(DCLS_CUDNN_OPTIONAL)
    result.api.softmax = complete;
    complete = true;
    DCLS_CUDNN_BATCH_NORM_FUNCTIONS(DCLS_CUDNN_OPTIONAL)
    result.api.batch_norm = complete;
#undef DCLS_CUDNN_OPTIONAL
    const size_t version = result.api.cudnnGetVersion();
    if (version / 10000 != cudnn_api::kMajor) {
        result.error = "cuDNN version " + std::to_string(version) + " loaded, but the library was built for cuDNN " +
                       std::to_string(cudnn_api::kMajor);
        return result;
    }
    result.ok = true;
    return result;
}

const Loaded &loaded() {
    static const Loaded instance = load();  // thread-safe initialisation
    return instance;
}

}  // namespace

const CudnnApi &cudnn() {
    const Loaded &l = loaded();
    if (!l.ok) throw Error(DCLS_ERROR_BACKEND, l.error);
    return l.api;
}

int32_t cudnn_version(std::string *why) {
    const Loaded &l = loaded();
    if (!l.ok) {
        if (why) *why = l.error;
        return 0;
    }
    return int32_t(l.api.cudnnGetVersion());
}

CudnnLayerOps cudnn_layer_ops() {
    const Loaded &l = loaded();
    CudnnLayerOps ops;
    if (!l.ok) return ops;
    ops.pooling = l.api.pooling;
    ops.softmax = l.api.softmax;
    ops.batch_norm = l.api.batch_norm;
    return ops;
}

}  // namespace cuda
}  // namespace dcls

#else  // DCLS_CUDA_EMULATION

namespace dcls {
namespace cuda {

int32_t cudnn_version(std::string *why) {
    if (why) *why = "no cuDNN in the CPU emulation of CUDA (test_cuda_emu)";
    return 0;
}

CudnnLayerOps cudnn_layer_ops() { return CudnnLayerOps{}; }

}  // namespace cuda
}  // namespace dcls

#endif
