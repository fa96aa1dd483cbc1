// The engines a convolution plan tries for each pass, in order, oneDNN style: every entry
// creates an engine for the shape or gives nothing, and the first engine that takes a pass runs
// it. The engine options (engine_options.h) are read here and nowhere else.
#pragma once

#include <memory>
#include <vector>

#include "conv_engine.h"
#include "dcls.h"

namespace dcls {

struct EngineSelection {
    std::vector<std::unique_ptr<ConvEngine>> engines;  // the engines that got a pass, prepared
    ConvEngine *pass[kPassCount] = {nullptr, nullptr, nullptr};
};

// The engines for the whole kernel of `desc` (validated by the caller), one per pass.
EngineSelection select_engines(const dcls_conv_desc &desc);

class SparseConv;

// Whether the tap-sparse engine may run at all (the engine option sparse_conv is not "never").
bool sparse_allowed();
// Whether the tap-sparse engine, on `cells` kernel cells in all, should run `pass` instead of
// `dense`, the engine the plan has for it now on a kernel box of `dense_cells` cells per pair: the
// option sparse_conv "always", or by the cost model ("auto").
bool prefer_sparse(Pass pass, const SparseConv &sparse, int64_t cells, const ConvEngine &dense, double dense_macs);

}  // namespace dcls
