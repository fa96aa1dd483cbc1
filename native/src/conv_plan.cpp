// A convolution plan: for forward, backward-data and backward-weights of one shape, oneDNN
// primitives or the library's own kernels (below), with the reorders between the caller's plain
// C-order tensors and the layouts the primitives run fastest on, and every scratch buffer. All of
// it is made once, in the constructor; a call only points memory objects at the caller's buffers
// and executes.
//
// Layouts. In oneDNN 3.13 a convolution on plain nchw/oihw memory runs reference code, 100 to
// 4000x slower, so each primitive is created with channels-last activations (nwc/nhwc/ndhwc;
// for depthwise this selects brdgmm_dw, and for dense and 1D shapes brgconv is as fast or faster
// than the blocked `any` layouts) and `any` weights. If that gives a reference implementation,
// `any` activations are tried too. Reorders then copy from/to the caller's ncw/nchw/ncdhw
// activations and oiw.../goiw... weights, where the grouped weights (Cout, Cin/g, k...) are
// viewed as (g, Cout/g, Cin/g, k...).
//
// Our own kernels. oneDNN 3.13's depthwise backward-weights kernel takes kernels up to 3 wide and
// falls back to gemm beyond (a few GFLOP/s); its depthwise forward and backward data (brdgmm_dw,
// jit_dw) run wide kernels at half of the FMA peak or less, plus the reorders; dense 1D shapes
// and wide kernels get gemm for backward weights. So depthwise shapes with channel multiplier 1
// run DepthwiseConv (forward; backward data at stride 1) and DepthwiseBackwardWeights, and dense
// shapes run DenseBackwardWeights where oneDNN would run gemm or reference code. They read and
// write the caller's plain tensors and pack what they need themselves (with any padding mode);
// the passes they take get no oneDNN primitive (a plan may have none at all).
//
// Padding. Zero padding is the primitive's own. Reflect, replicate and circular padding pad the
// input explicitly into a scratch buffer, and the primitive convolves that with zero padding;
// backward-data computes the gradient of the padded input and folds it back (pad_backward).
//
// Large kernels. Dense stride-1 shapes with large kernels may run through DFTs (dft_conv.cpp),
// long 1D ones in overlapping blocks (blocked_conv1d.cpp), where the cost model says it pays.
//
// Kernel windows. Given a box of kernel cells outside which the kernel is 0, the passes run
// a plan for just the box when that pays (windowed_conv.cpp); this plan's own primitives and
// kernels stay for the whole kernel.
//
// Scratch memory is shared between the passes, which never run at the same time (a plan is
// not safe for concurrent use): one buffer for the input-side activation in the primitive's
// layout (x, grad_x), one for the output side (y, grad_y), one for the weights, one for the
// padded input, and one oneDNN scratchpad (scratchpad mode user) for all primitives.
#include "conv_plan.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "dnnl.hpp"

#include "blocked_conv1d.h"
#include "dense_backward_weights.h"
#include "depthwise_backward_weights.h"
#include "depthwise_conv.h"
#include "dft_conv.h"
#include "engine_options.h"
#include "error.h"
#include "onednn_engine.h"
#include "padding.h"
#include "windowed_conv.h"

namespace dcls {

dnnl::engine &cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// A 64-byte aligned scratch buffer.
class Buffer {
public:
    void allocate(size_t bytes) {
        const size_t size = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;
        void *p = std::aligned_alloc(64, size);
        if (p == nullptr) throw std::bad_alloc();
        data_.reset(p);
        std::memset(p, 0, size);
    }
    void *get() const { return data_.get(); }
    float *floats() const { return static_cast<float *>(data_.get()); }

private:
    struct Free {
        void operator()(void *p) const { std::free(p); }
    };
    std::unique_ptr<void, Free> data_;
};

tag plain_activation_tag(int ndim) {
    return ndim == 1 ? tag::ncw : ndim == 2 ? tag::nchw : tag::ncdhw;
}

tag channels_last_tag(int ndim) {
    return ndim == 1 ? tag::nwc : ndim == 2 ? tag::nhwc : tag::ndhwc;
}

tag plain_weights_tag(int ndim, bool grouped) {
    if (grouped) return ndim == 1 ? tag::goiw : ndim == 2 ? tag::goihw : tag::goidhw;
    return ndim == 1 ? tag::oiw : ndim == 2 ? tag::oihw : tag::oidhw;
}

bool is_reference(const char *impl) { return std::strncmp(impl, "ref", 3) == 0; }

// Creates a primitive descriptor with each activation layout in turn and keeps the first one
// oneDNN implements with optimised code; failing that, the first that exists. Channels-last comes
// first, except for a single input channel: there oneDNN 3.13's brg_conv_fwd on nhwc/ndhwc gives
// wrong results when the last output axis has size 1 with stride > 1 (found by test_conv), while
// `any` picks the jit kernel made for single-channel inputs.
template <typename Pd, typename Make>
Pd choose_layout(int ndim, bool channels_last_first, const char *what, Make make) {
    Pd fallback;
    const tag order[2][2] = {{tag::any, channels_last_tag(ndim)}, {channels_last_tag(ndim), tag::any}};
    for (tag activations : order[channels_last_first ? 1 : 0]) {
        Pd pd = make(activations);
        if (!pd) continue;
        if (!is_reference(pd.impl_info_str())) return pd;
        if (!fallback) fallback = pd;
    }
    if (!fallback) throw Error(DCLS_ERROR_BACKEND, std::string("oneDNN has no ") + what + " for this shape");
    return fallback;
}

// Whether dense backward weights should run our kernel rather than oneDNN's `impl`: where oneDNN
// has only gemm or reference code (1D shapes, wide kernels), ours is 1.5 to 8x faster; against
// its jit kernels it is about even, so they stay. The engine options (engine_options.h) override
// this and the other choices, for tests and measurements. oneDNN 3.13's jit_1x1 backward weights
// corrupts the heap on strided 1x1 kernels over long rows (found by the fuzz harness, 2 -> 3
// channels over 6002 cells at stride 2; test_extremes): ours takes those always.
bool prefer_own_dense(const char *impl, const dcls_conv_desc &d) {
    const bool broken = std::strstr(impl, "jit_1x1") != nullptr &&
                        std::any_of(d.stride, d.stride + d.ndim, [](int64_t s) { return s > 1; });
    switch (engine_choice(EngineOption::DenseBackwardWeights)) {
        case EngineChoice::Always: return true;
        case EngineChoice::Never: return broken;
        default: return broken || is_reference(impl) || std::strstr(impl, "gemm") != nullptr;
    }
}

// One tensor argument of a primitive: `user` has the caller's plain layout (its data handle is
// set per call), `prim` the layout the primitive chose. When they differ, `prim` lives in a plan
// scratch buffer and `copy` reorders between them (user -> prim for inputs, prim -> user for
// outputs); otherwise `prim` is `user` and `copy` is empty.
struct Operand {
    memory user;
    memory prim;
    dnnl::reorder copy;
    memory copy_scratchpad;
};

}  // namespace

struct ConvPlan::Impl {
    dcls_conv_desc d{};
    int64_t out[3] = {1, 1, 1};
    bool explicit_padding = false;
    PadShape pad_shape{};
    dnnl::stream stream;

    // Scratch buffers (see the top of the file); scratchpad_bytes is the largest scratchpad
    // any primitive asks for.
    Buffer src_buf, dst_buf, weights_buf, pad_buf, scratchpad_buf, zero_bias, bias_buf;
    size_t scratchpad_bytes = 0;
    dnnl::primitive_attr attr;  // scratchpad mode user

    // Forward.
    dnnl::convolution_forward::primitive_desc fwd_pd;
    dnnl::convolution_forward fwd;
    Operand fwd_src, fwd_weights, fwd_dst;
    memory fwd_bias, fwd_scratchpad;

    // Backward data.
    dnnl::convolution_backward_data::primitive_desc bwd_data_pd;
    dnnl::convolution_backward_data bwd_data;
    Operand bwd_data_diff_dst, bwd_data_weights, bwd_data_diff_src;
    memory bwd_data_scratchpad;

    // Backward weights. The weight gradient goes to `bwd_weights_diff` (weights_buf), then is
    // reordered to the caller's buffer, with a sum post-op when accumulating (weights are small,
    // so the extra copy when the layouts agree is not worth a separate path). The bias gradient
    // goes to bias_buf, then is copied or added to the caller's buffer.
    dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd;
    dnnl::convolution_backward_weights bwd_weights;
    Operand bwd_weights_src, bwd_weights_diff_dst;
    memory bwd_weights_user, bwd_weights_diff, bwd_weights_diff_bias, bwd_weights_scratchpad;
    dnnl::reorder bwd_weights_copy, bwd_weights_add;
    memory bwd_weights_copy_scratchpad, bwd_weights_add_scratchpad;

    // Our own kernels, each set instead of the primitive of its passes.
    std::unique_ptr<DepthwiseConv> depthwise_conv;  // forward; backward data at stride 1
    std::unique_ptr<DepthwiseBackwardWeights> depthwise_bwd_weights;
    std::unique_ptr<DenseBackwardWeights> dense_bwd_weights;
    std::unique_ptr<ConvEngine> engine;  // one of ours for all three passes (DFT, blocked 1D DFT)
    bool own_fwd = false, own_bwd_data = false, own_bwd_weights = false;

    // The kernel window, when one is set and pays.
    std::unique_ptr<WindowedConv> window;
    bool windowed = false;

    explicit Impl(const dcls_conv_desc &desc);

    void note_scratchpad(const dnnl::primitive_desc_base &pd) {
        scratchpad_bytes = std::max(scratchpad_bytes, pd.scratchpad_desc().get_size());
    }
    memory scratchpad_for(const dnnl::primitive_desc_base &pd) const {
        return memory(pd.scratchpad_desc(), cpu_engine(), scratchpad_buf.get());
    }
    Operand make_operand(const memory::desc &user_md, const memory::desc &prim_md, void *scratch,
                         bool input);
    // The backward-weights primitive, its operands and the copies of its result.
    void make_bwd_weights(const memory::desc &prim_in_user, const memory::desc &out_user,
                          const memory::desc &weights_user, const memory::desc &bias_md);
    void to_prim(const Operand &op) {
        if (op.copy)
            op.copy.execute(stream, {{DNNL_ARG_FROM, op.user}, {DNNL_ARG_TO, op.prim},
                                     {DNNL_ARG_SCRATCHPAD, op.copy_scratchpad}});
    }
    void from_prim(const Operand &op) {
        if (op.copy)
            op.copy.execute(stream, {{DNNL_ARG_FROM, op.prim}, {DNNL_ARG_TO, op.user},
                                     {DNNL_ARG_SCRATCHPAD, op.copy_scratchpad}});
    }
};

Operand ConvPlan::Impl::make_operand(const memory::desc &user_md, const memory::desc &prim_md,
                                     void *scratch, bool input) {
    Operand op;
    op.user = memory(user_md, cpu_engine(), DNNL_MEMORY_NONE);
    if (user_md == prim_md) {
        op.prim = op.user;
        return op;
    }
    op.prim = memory(prim_md, cpu_engine(), scratch);
    auto pd = input ? dnnl::reorder::primitive_desc(op.user, op.prim, attr)
                    : dnnl::reorder::primitive_desc(op.prim, op.user, attr);
    op.copy = dnnl::reorder(pd);
    op.copy_scratchpad = memory(pd.scratchpad_desc(), cpu_engine(), DNNL_MEMORY_NONE);
    note_scratchpad(pd);
    return op;
}

ConvPlan::Impl::Impl(const dcls_conv_desc &desc) : d(desc), stream(cpu_engine()) {
    const int nd = d.ndim;
    const bool grouped = d.groups > 1;
    explicit_padding = d.padding_mode != DCLS_PADDING_ZEROS;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);

    // Geometry. With explicit padding the primitive sees the padded input and no padding.
    memory::dims prim_in_dims{d.batch, d.in_channels};
    memory::dims out_dims{d.batch, d.out_channels}, weights_dims, strides, pad_l, pad_r;
    if (grouped) weights_dims = {d.groups, d.out_channels / d.groups, d.in_channels / d.groups};
    else weights_dims = {d.out_channels, d.in_channels};
    pad_shape.ndim = nd;
    pad_shape.planes = d.batch * d.in_channels;
    for (int i = 0; i < nd; ++i) {
        out[i] = (d.input_size[i] + 2 * d.padding[i] - d.kernel_size[i]) / d.stride[i] + 1;
        prim_in_dims.push_back(explicit_padding ? d.input_size[i] + 2 * d.padding[i] : d.input_size[i]);
        out_dims.push_back(out[i]);
        weights_dims.push_back(d.kernel_size[i]);
        strides.push_back(d.stride[i]);
        pad_l.push_back(explicit_padding ? 0 : d.padding[i]);
        pad_r.push_back(explicit_padding ? 0 : d.padding[i]);
        pad_shape.size[i] = d.input_size[i];
        pad_shape.pad[i] = d.padding[i];
    }

    // The caller's plain layouts; prim_in_user is the input as the primitive sees it (the
    // padded scratch buffer with explicit padding, else the caller's input).
    const memory::desc prim_in_user(prim_in_dims, dt::f32, plain_activation_tag(nd));
    const memory::desc out_user(out_dims, dt::f32, plain_activation_tag(nd));
    const memory::desc weights_user(weights_dims, dt::f32, plain_weights_tag(nd, grouped));
    const memory::desc bias_md({d.out_channels}, dt::f32, tag::x);
    const memory::desc weights_any(weights_dims, dt::f32, tag::any);
    const auto algo = dnnl::algorithm::convolution_direct;
    auto &eng = cpu_engine();

    // Our own kernels: see the top of the file. The passes they take get no oneDNN primitive.
    if (DepthwiseConv::applies(d) && engine_choice(EngineOption::DepthwiseConv) != EngineChoice::Never) {
        depthwise_conv = std::make_unique<DepthwiseConv>(d);
        own_bwd_data = DepthwiseConv::backward_data_applies(d);
        own_fwd = true;
    }
    if (BlockedConv1d::applies(d)) engine = std::make_unique<BlockedConv1d>(d);
    else if (DftConv::applies(d)) engine = std::make_unique<DftConv>(d);
    if (engine) {
        own_fwd = own_bwd_data = own_bwd_weights = true;
        return;
    }
    if (DepthwiseBackwardWeights::applies(d) &&
        engine_choice(EngineOption::DepthwiseBackwardWeights) != EngineChoice::Never) {
        depthwise_bwd_weights = std::make_unique<DepthwiseBackwardWeights>(d);
        own_bwd_weights = true;
    }

    // Primitive descriptors: forward when any pass uses oneDNN (the others take it as a hint).
    const bool cl_first = d.in_channels > 1;
    using fwd_pd_t = dnnl::convolution_forward::primitive_desc;
    using bwd_data_pd_t = dnnl::convolution_backward_data::primitive_desc;
    using bwd_weights_pd_t = dnnl::convolution_backward_weights::primitive_desc;
    if (own_fwd && own_bwd_data && own_bwd_weights) return;
    fwd_pd = choose_layout<fwd_pd_t>(nd, cl_first, "forward convolution", [&](tag t) {
        return fwd_pd_t(eng, dnnl::prop_kind::forward_training, algo,
                        memory::desc(prim_in_dims, dt::f32, t), weights_any, bias_md,
                        memory::desc(out_dims, dt::f32, t), strides, pad_l, pad_r, attr, true);
    });
    if (!own_bwd_data)
        bwd_data_pd = choose_layout<bwd_data_pd_t>(nd, cl_first, "backward-data convolution", [&](tag t) {
            return bwd_data_pd_t(eng, algo, memory::desc(prim_in_dims, dt::f32, t), weights_any,
                                 memory::desc(out_dims, dt::f32, t), strides, pad_l, pad_r, fwd_pd,
                                 attr, true);
        });
    if (!own_bwd_weights) {
        bwd_weights_pd = choose_layout<bwd_weights_pd_t>(nd, cl_first, "backward-weights convolution", [&](tag t) {
            return bwd_weights_pd_t(eng, algo, memory::desc(prim_in_dims, dt::f32, t), weights_any,
                                    bias_md, memory::desc(out_dims, dt::f32, t), strides, pad_l,
                                    pad_r, fwd_pd, attr, true);
        });
        if (DenseBackwardWeights::applies(d) && prefer_own_dense(bwd_weights_pd.impl_info_str(), d)) {
            dense_bwd_weights = std::make_unique<DenseBackwardWeights>(d);
            bwd_weights_pd = {};
            own_bwd_weights = true;
        }
    }
    if (own_fwd && own_bwd_data && own_bwd_weights) return;

    // Scratch sizes: an operand needs scratch only when its layout differs from the caller's;
    // the weight gradient always has scratch.
    size_t src_bytes = 0, dst_bytes = 0, weights_bytes = 0;
    auto need = [](size_t &bytes, const memory::desc &user, const memory::desc &prim) {
        if (user != prim) bytes = std::max(bytes, prim.get_size());
    };
    if (!own_fwd) {
        need(src_bytes, prim_in_user, fwd_pd.src_desc());
        need(dst_bytes, out_user, fwd_pd.dst_desc());
        need(weights_bytes, weights_user, fwd_pd.weights_desc());
        note_scratchpad(fwd_pd);
    }
    if (!own_bwd_data) {
        need(src_bytes, prim_in_user, bwd_data_pd.diff_src_desc());
        need(dst_bytes, out_user, bwd_data_pd.diff_dst_desc());
        need(weights_bytes, weights_user, bwd_data_pd.weights_desc());
        note_scratchpad(bwd_data_pd);
    }
    if (!own_bwd_weights) {
        need(src_bytes, prim_in_user, bwd_weights_pd.src_desc());
        need(dst_bytes, out_user, bwd_weights_pd.diff_dst_desc());
        weights_bytes = std::max(weights_bytes, bwd_weights_pd.diff_weights_desc().get_size());
        note_scratchpad(bwd_weights_pd);
    }
    src_buf.allocate(src_bytes);
    dst_buf.allocate(dst_bytes);
    weights_buf.allocate(weights_bytes);
    if (explicit_padding) pad_buf.allocate(prim_in_user.get_size());
    zero_bias.allocate(bias_md.get_size());
    bias_buf.allocate(bias_md.get_size());

    // The primitives, their operands, and the copies of the weight gradient.
    if (!own_fwd) {
        fwd = dnnl::convolution_forward(fwd_pd);
        fwd_src = make_operand(prim_in_user, fwd_pd.src_desc(), src_buf.get(), true);
        fwd_weights = make_operand(weights_user, fwd_pd.weights_desc(), weights_buf.get(), true);
        fwd_dst = make_operand(out_user, fwd_pd.dst_desc(), dst_buf.get(), false);
        fwd_bias = memory(bias_md, eng, DNNL_MEMORY_NONE);
    }
    if (!own_bwd_data) {
        bwd_data = dnnl::convolution_backward_data(bwd_data_pd);
        bwd_data_diff_dst = make_operand(out_user, bwd_data_pd.diff_dst_desc(), dst_buf.get(), true);
        bwd_data_weights = make_operand(weights_user, bwd_data_pd.weights_desc(), weights_buf.get(), true);
        bwd_data_diff_src = make_operand(prim_in_user, bwd_data_pd.diff_src_desc(), src_buf.get(), false);
    }
    if (!own_bwd_weights) make_bwd_weights(prim_in_user, out_user, weights_user, bias_md);

    // One scratchpad for every primitive; the memory objects above that were made before its
    // size was known get their handle now. With explicit padding the primitives' input side is
    // the padded buffer.
    scratchpad_buf.allocate(scratchpad_bytes);
    if (!own_fwd) fwd_scratchpad = scratchpad_for(fwd_pd);
    if (!own_bwd_data) bwd_data_scratchpad = scratchpad_for(bwd_data_pd);
    if (!own_bwd_weights) bwd_weights_scratchpad = scratchpad_for(bwd_weights_pd);
    for (Operand *op : {&fwd_src, &fwd_weights, &fwd_dst, &bwd_data_diff_dst, &bwd_data_weights, &bwd_data_diff_src,
                        &bwd_weights_src, &bwd_weights_diff_dst})
        if (op->copy) op->copy_scratchpad.set_data_handle(scratchpad_buf.get());
    if (!own_bwd_weights) {
        bwd_weights_copy_scratchpad.set_data_handle(scratchpad_buf.get());
        bwd_weights_add_scratchpad.set_data_handle(scratchpad_buf.get());
    }
    if (explicit_padding)
        for (Operand *op : {&fwd_src, &bwd_data_diff_src, &bwd_weights_src})
            if (op->user) op->user.set_data_handle(pad_buf.get());
}

void ConvPlan::Impl::make_bwd_weights(const memory::desc &prim_in_user, const memory::desc &out_user,
                                      const memory::desc &weights_user, const memory::desc &bias_md) {
    auto &eng = cpu_engine();
    bwd_weights = dnnl::convolution_backward_weights(bwd_weights_pd);
    bwd_weights_src = make_operand(prim_in_user, bwd_weights_pd.src_desc(), src_buf.get(), true);
    bwd_weights_diff_dst = make_operand(out_user, bwd_weights_pd.diff_dst_desc(), dst_buf.get(), true);
    bwd_weights_user = memory(weights_user, eng, DNNL_MEMORY_NONE);
    bwd_weights_diff = memory(bwd_weights_pd.diff_weights_desc(), eng, weights_buf.get());
    bwd_weights_diff_bias = memory(bias_md, eng, bias_buf.get());
    dnnl::reorder::primitive_desc copy_pd(bwd_weights_diff, bwd_weights_user, attr);
    bwd_weights_copy = dnnl::reorder(copy_pd);
    bwd_weights_copy_scratchpad = memory(copy_pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    note_scratchpad(copy_pd);
    dnnl::post_ops sum;
    sum.append_sum(1.f);
    dnnl::primitive_attr add_attr = attr;
    add_attr.set_post_ops(sum);
    dnnl::reorder::primitive_desc add_pd(bwd_weights_diff, bwd_weights_user, add_attr);
    bwd_weights_add = dnnl::reorder(add_pd);
    bwd_weights_add_scratchpad = memory(add_pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    note_scratchpad(add_pd);
}

ConvPlan::ConvPlan(const dcls_conv_desc &desc) : impl_(new Impl(desc)) {}

ConvPlan::~ConvPlan() = default;

const dcls_conv_desc &ConvPlan::desc() const { return impl_->d; }

const int64_t *ConvPlan::output_size() const { return impl_->out; }

void ConvPlan::set_kernel_window(const int64_t lo[3], const int64_t hi[3]) {
    Impl &p = *impl_;
    if (!p.window) p.window = std::make_unique<WindowedConv>(p.d);
    p.windowed = p.window->set_window(lo, hi);
}

void ConvPlan::forward(const float *x, const float *kernel, const float *bias, float *y) {
    Impl &p = *impl_;
    if (p.windowed) {
        p.window->forward(x, kernel, bias, y);
        return;
    }
    if (p.engine) {
        p.engine->forward(x, kernel, bias, y);
        return;
    }
    if (p.own_fwd) {
        p.depthwise_conv->forward(x, kernel, bias, y);
        return;
    }
    if (p.explicit_padding)
        pad_forward(p.pad_shape, static_cast<dcls_padding_mode>(p.d.padding_mode), x, p.pad_buf.floats());
    else
        p.fwd_src.user.set_data_handle(const_cast<float *>(x));
    p.fwd_weights.user.set_data_handle(const_cast<float *>(kernel));
    p.fwd_bias.set_data_handle(bias != nullptr ? const_cast<float *>(bias) : p.zero_bias.floats());
    p.fwd_dst.user.set_data_handle(y);

    p.to_prim(p.fwd_src);
    p.to_prim(p.fwd_weights);
    p.fwd.execute(p.stream, {{DNNL_ARG_SRC, p.fwd_src.prim},
                             {DNNL_ARG_WEIGHTS, p.fwd_weights.prim},
                             {DNNL_ARG_BIAS, p.fwd_bias},
                             {DNNL_ARG_DST, p.fwd_dst.prim},
                             {DNNL_ARG_SCRATCHPAD, p.fwd_scratchpad}});
    p.from_prim(p.fwd_dst);
    p.stream.wait();
}

void ConvPlan::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    Impl &p = *impl_;
    if (p.windowed) {
        p.window->backward_data(grad_y, kernel, grad_x);
        return;
    }
    if (p.engine) {
        p.engine->backward_data(grad_y, kernel, grad_x);
        return;
    }
    if (p.own_bwd_data) {
        p.depthwise_conv->backward_data(grad_y, kernel, grad_x);
        return;
    }
    p.bwd_data_diff_dst.user.set_data_handle(const_cast<float *>(grad_y));
    p.bwd_data_weights.user.set_data_handle(const_cast<float *>(kernel));
    if (!p.explicit_padding) p.bwd_data_diff_src.user.set_data_handle(grad_x);

    p.to_prim(p.bwd_data_diff_dst);
    p.to_prim(p.bwd_data_weights);
    p.bwd_data.execute(p.stream, {{DNNL_ARG_DIFF_DST, p.bwd_data_diff_dst.prim},
                                  {DNNL_ARG_WEIGHTS, p.bwd_data_weights.prim},
                                  {DNNL_ARG_DIFF_SRC, p.bwd_data_diff_src.prim},
                                  {DNNL_ARG_SCRATCHPAD, p.bwd_data_scratchpad}});
    p.from_prim(p.bwd_data_diff_src);
    p.stream.wait();
    if (p.explicit_padding)
        pad_backward(p.pad_shape, static_cast<dcls_padding_mode>(p.d.padding_mode), p.pad_buf.floats(), grad_x);
}

void ConvPlan::backward_weights(const float *x, const float *grad_y, float *grad_kernel,
                                float *grad_bias, bool accumulate) {
    Impl &p = *impl_;
    if (p.windowed) {
        p.window->backward_weights(x, grad_y, grad_kernel, grad_bias, accumulate);
        return;
    }
    if (p.engine) {
        p.engine->backward_weights(x, grad_y, grad_kernel, grad_bias, accumulate);
        return;
    }
    if (p.depthwise_bwd_weights) {
        p.depthwise_bwd_weights->run(x, grad_y, grad_kernel, grad_bias, accumulate);
        return;
    }
    if (p.dense_bwd_weights) {
        p.dense_bwd_weights->run(x, grad_y, grad_kernel, grad_bias, accumulate);
        return;
    }
    if (p.explicit_padding)
        pad_forward(p.pad_shape, static_cast<dcls_padding_mode>(p.d.padding_mode), x, p.pad_buf.floats());
    else
        p.bwd_weights_src.user.set_data_handle(const_cast<float *>(x));
    p.bwd_weights_diff_dst.user.set_data_handle(const_cast<float *>(grad_y));
    p.bwd_weights_user.set_data_handle(grad_kernel);

    p.to_prim(p.bwd_weights_src);
    p.to_prim(p.bwd_weights_diff_dst);
    p.bwd_weights.execute(p.stream, {{DNNL_ARG_SRC, p.bwd_weights_src.prim},
                                     {DNNL_ARG_DIFF_DST, p.bwd_weights_diff_dst.prim},
                                     {DNNL_ARG_DIFF_WEIGHTS, p.bwd_weights_diff},
                                     {DNNL_ARG_DIFF_BIAS, p.bwd_weights_diff_bias},
                                     {DNNL_ARG_SCRATCHPAD, p.bwd_weights_scratchpad}});
    if (accumulate)
        p.bwd_weights_add.execute(p.stream, {{DNNL_ARG_FROM, p.bwd_weights_diff},
                                             {DNNL_ARG_TO, p.bwd_weights_user},
                                             {DNNL_ARG_SCRATCHPAD, p.bwd_weights_add_scratchpad}});
    else
        p.bwd_weights_copy.execute(p.stream, {{DNNL_ARG_FROM, p.bwd_weights_diff},
                                              {DNNL_ARG_TO, p.bwd_weights_user},
                                              {DNNL_ARG_SCRATCHPAD, p.bwd_weights_copy_scratchpad}});
    p.stream.wait();

    if (grad_bias != nullptr) {
        const float *db = p.bias_buf.floats();
        if (accumulate)
            for (int64_t o = 0; o < p.d.out_channels; ++o) grad_bias[o] += db[o];
        else
            std::memcpy(grad_bias, db, sizeof(float) * p.d.out_channels);
    }
}

}  // namespace dcls
