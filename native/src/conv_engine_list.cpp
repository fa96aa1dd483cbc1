// The engine list of a convolution plan (conv_engine_list.h). Its order is the preference:
//
//   blocked 1D DFT   long 1D stride-1 shapes, where overlap-save blocks through DftConv beat both
//                    the direct convolution and one DFT over the whole signal (its cost model)
//   DFT              dense stride-1 shapes with large kernels, where its cost model says it pays
//   depthwise        channel multiplier 1: forward, and backward data at stride 1 (oneDNN's
//                    brdgmm_dw / jit_dw run wide kernels at half of the FMA peak or less)
//   depthwise bwd w  channel multiplier 1 (oneDNN's takes kernels up to 3 wide, then gemm)
//   dense bwd w      groups 1, where oneDNN would run gemm or reference code (ours is 1.5 to 8x
//                    faster there; against its jit kernels about even, so they stay)
//   oneDNN           everything else
//
// The tap-sparse engine (sparse_conv.h) is chosen later, per pass, whenever the kernel cells are
// set (they move during training): prefer_sparse below.
//
// Entries declare the passes they may take, so that an entry is only created (and, for the dense
// backward-weights one, oneDNN asked which implementation it would run) when a pass is still
// open. An engine created for one pass serves the later passes it takes.
#include "conv_engine_list.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "blocked_conv1d.h"
#include "dense_backward_weights.h"
#include "depthwise_backward_weights.h"
#include "depthwise_conv.h"
#include "dft_conv.h"
#include "engine_options.h"
#include "error.h"
#include "onednn_conv.h"
#include "sparse_conv.h"

namespace dcls {

namespace {

using Create = std::unique_ptr<ConvEngine> (*)(const dcls_conv_desc &);

struct Entry {
    bool may_take[kPassCount];  // forward, backward data, backward weights
    Create create;
};

// Whether the dense backward-weights engine should replace oneDNN's: where oneDNN has only gemm
// or reference code (1D shapes, wide kernels), unless the option says otherwise. oneDNN 3.13's
// jit_1x1 backward weights corrupts the heap on strided 1x1 kernels over long rows (found by the
// fuzz harness, 2 -> 3 channels over 6002 cells at stride 2; test_extremes): ours takes those
// whatever the option says.
std::unique_ptr<ConvEngine> create_dense_backward_weights(const dcls_conv_desc &d) {
    const EngineChoice choice = engine_choice(EngineOption::DenseBackwardWeights);
    if (!DenseBackwardWeights::applies(d)) return nullptr;
    if (choice == EngineChoice::Always) return DenseBackwardWeights::create(d);  // no oneDNN query needed
    const std::string impl = OnednnConv::backward_weights_impl(d);
    const bool strided = std::any_of(d.stride, d.stride + d.ndim, [](int64_t s) { return s > 1; });
    const bool broken = strided && impl.find("jit_1x1") != std::string::npos;
    const bool weak = impl.compare(0, 3, "ref") == 0 || impl.find("gemm") != std::string::npos;
    if (broken || (choice == EngineChoice::Auto && weak)) return DenseBackwardWeights::create(d);
    return nullptr;
}

const Entry kEntries[] = {
    {{true, true, true},
     [](const dcls_conv_desc &d) { return BlockedConv1d::create(d, engine_choice(EngineOption::DftConv)); }},
    {{true, true, true},
     [](const dcls_conv_desc &d) { return DftConv::create(d, engine_choice(EngineOption::DftConv)); }},
    {{true, true, false},
     [](const dcls_conv_desc &d) {
         return engine_choice(EngineOption::DepthwiseConv) == EngineChoice::Never ? nullptr : DepthwiseConv::create(d);
     }},
    {{false, false, true},
     [](const dcls_conv_desc &d) {
         return engine_choice(EngineOption::DepthwiseBackwardWeights) == EngineChoice::Never
                    ? nullptr
                    : DepthwiseBackwardWeights::create(d);
     }},
    {{false, false, true}, create_dense_backward_weights},
    {{true, true, true}, OnednnConv::create},
};
constexpr int kEntryCount = int(sizeof(kEntries) / sizeof(kEntries[0]));

}  // namespace

bool sparse_allowed() { return engine_choice(EngineOption::SparseConv) != EngineChoice::Never; }

// The dense engines' time: the direct convolution's multiply-adds on the box over their speed;
// the sparse engine's: its own estimate (SparseConv::cost). Both in oneDNN multiply-adds.
bool prefer_sparse(Pass pass, const SparseConv &sparse, int64_t cells, const ConvEngine &dense, double dense_macs) {
    switch (engine_choice(EngineOption::SparseConv)) {
        case EngineChoice::Always: return true;
        case EngineChoice::Never: return false;
        default: return sparse.cost(pass, cells) < dense_macs / dense.speed(pass);
    }
}

EngineSelection select_engines(const dcls_conv_desc &d) {
    std::unique_ptr<ConvEngine> created[kEntryCount];
    bool tried[kEntryCount] = {};
    int chosen[kPassCount];
    for (int p = 0; p < kPassCount; ++p) {
        chosen[p] = -1;
        for (int e = 0; e < kEntryCount && chosen[p] < 0; ++e) {
            if (!kEntries[e].may_take[p]) continue;
            if (!tried[e]) {
                created[e] = kEntries[e].create(d);
                tried[e] = true;
            }
            if (created[e] && created[e]->takes(Pass(p))) chosen[p] = e;
        }
        if (chosen[p] < 0) throw Error(DCLS_ERROR_INTERNAL, std::string("no engine for ") + pass_name(Pass(p)));
    }
    EngineSelection s;
    for (int e = 0; e < kEntryCount; ++e) {
        bool passes[kPassCount];
        bool any = false;
        for (int p = 0; p < kPassCount; ++p) any |= passes[p] = chosen[p] == e;
        if (!any) continue;
        created[e]->prepare(passes);
        for (int p = 0; p < kPassCount; ++p)
            if (passes[p]) s.pass[p] = created[e].get();
        s.engines.push_back(std::move(created[e]));
    }
    return s;
}

}  // namespace dcls
