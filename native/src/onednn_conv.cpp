// oneDNN's direct convolution as an engine (see onednn_conv.h for layouts, padding and scratch).
#include "onednn_conv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "dnnl.hpp"

#include "conv_geometry.h"
#include "error.h"
#include "onednn_engine.h"
#include "padding.h"

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

// One tensor argument of a primitive: `user` has the caller's plain layout (its data handle is
// set per call), `prim` the layout the primitive chose. When they differ, `prim` lives in a
// scratch buffer and `copy` reorders between them (user -> prim for inputs, prim -> user for
// outputs); otherwise `prim` is `user` and `copy` is empty.
struct Operand {
    memory user;
    memory prim;
    dnnl::reorder copy;
    memory copy_scratchpad;
};

using fwd_pd_t = dnnl::convolution_forward::primitive_desc;
using bwd_data_pd_t = dnnl::convolution_backward_data::primitive_desc;
using bwd_weights_pd_t = dnnl::convolution_backward_weights::primitive_desc;

// The shape as oneDNN sees it. With explicit padding the primitive sees the padded input and no
// padding; prim_in_user is the input as the primitive sees it (the padded scratch buffer with
// explicit padding, else the caller's input).
struct Shape {
    int nd;
    bool explicit_padding, cl_first;
    memory::dims prim_in_dims, out_dims, weights_dims, strides, pad_l, pad_r;
    memory::desc prim_in_user, out_user, weights_user, bias_md, weights_any;
    dnnl::primitive_attr attr;  // scratchpad mode user

    explicit Shape(const dcls_conv_desc &d) : nd(d.ndim) {
        const bool grouped = d.groups > 1;
        explicit_padding = d.padding_mode != DCLS_PADDING_ZEROS;
        cl_first = d.in_channels > 1;
        attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
        prim_in_dims = {d.batch, d.in_channels};
        out_dims = {d.batch, d.out_channels};
        if (grouped) weights_dims = {d.groups, d.out_channels / d.groups, d.in_channels / d.groups};
        else weights_dims = {d.out_channels, d.in_channels};
        for (int i = 0; i < nd; ++i) {
            const int64_t out = conv_output_length(d.input_size[i], d.padding[i], d.kernel_size[i], d.stride[i]);
            prim_in_dims.push_back(explicit_padding ? d.input_size[i] + 2 * d.padding[i] : d.input_size[i]);
            out_dims.push_back(out);
            weights_dims.push_back(d.kernel_size[i]);
            strides.push_back(d.stride[i]);
            pad_l.push_back(explicit_padding ? 0 : d.padding[i]);
            pad_r.push_back(explicit_padding ? 0 : d.padding[i]);
        }
        prim_in_user = memory::desc(prim_in_dims, dt::f32, plain_activation_tag(nd));
        out_user = memory::desc(out_dims, dt::f32, plain_activation_tag(nd));
        weights_user = memory::desc(weights_dims, dt::f32, plain_weights_tag(nd, grouped));
        bias_md = memory::desc({d.out_channels}, dt::f32, tag::x);
        weights_any = memory::desc(weights_dims, dt::f32, tag::any);
    }

    fwd_pd_t forward_pd() const {
        return choose_layout<fwd_pd_t>(nd, cl_first, "forward convolution", [&](tag t) {
            return fwd_pd_t(cpu_engine(), dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                            memory::desc(prim_in_dims, dt::f32, t), weights_any, bias_md,
                            memory::desc(out_dims, dt::f32, t), strides, pad_l, pad_r, attr, true);
        });
    }
    bwd_data_pd_t backward_data_pd(const fwd_pd_t &hint) const {
        return choose_layout<bwd_data_pd_t>(nd, cl_first, "backward-data convolution", [&](tag t) {
            return bwd_data_pd_t(cpu_engine(), dnnl::algorithm::convolution_direct,
                                 memory::desc(prim_in_dims, dt::f32, t), weights_any,
                                 memory::desc(out_dims, dt::f32, t), strides, pad_l, pad_r, hint, attr, true);
        });
    }
    bwd_weights_pd_t backward_weights_pd(const fwd_pd_t &hint) const {
        return choose_layout<bwd_weights_pd_t>(nd, cl_first, "backward-weights convolution", [&](tag t) {
            return bwd_weights_pd_t(cpu_engine(), dnnl::algorithm::convolution_direct,
                                    memory::desc(prim_in_dims, dt::f32, t), weights_any, bias_md,
                                    memory::desc(out_dims, dt::f32, t), strides, pad_l, pad_r, hint, attr, true);
        });
    }
};

}  // namespace

struct OnednnConv::Impl {
    dcls_conv_desc d{};
    Shape shape;
    PadShape pad_shape{};
    dnnl::stream stream;
    bool has[kPassCount] = {false, false, false};

    // Scratch buffers (see onednn_conv.h); scratchpad_bytes is the largest scratchpad any
    // primitive asks for.
    Buffer src_buf, dst_buf, weights_buf, pad_buf, scratchpad_buf, zero_bias, bias_buf;
    size_t scratchpad_bytes = 0;

    // Forward (its descriptor also serves as the other passes' hint).
    fwd_pd_t fwd_pd;
    dnnl::convolution_forward fwd;
    Operand fwd_src, fwd_weights, fwd_dst;
    memory fwd_bias, fwd_scratchpad;

    // Backward data.
    bwd_data_pd_t bwd_data_pd;
    dnnl::convolution_backward_data bwd_data;
    Operand bwd_data_diff_dst, bwd_data_weights, bwd_data_diff_src;
    memory bwd_data_scratchpad;

    // Backward weights. The weight gradient goes to `bwd_weights_diff` (weights_buf), then is
    // reordered to the caller's buffer, with a sum post-op when accumulating (weights are small,
    // so the extra copy when the layouts agree is not worth a separate path). The bias gradient
    // goes to bias_buf, then is copied or added to the caller's buffer.
    bwd_weights_pd_t bwd_weights_pd;
    dnnl::convolution_backward_weights bwd_weights;
    Operand bwd_weights_src, bwd_weights_diff_dst;
    memory bwd_weights_user, bwd_weights_diff, bwd_weights_diff_bias, bwd_weights_scratchpad;
    dnnl::reorder bwd_weights_copy, bwd_weights_add;
    memory bwd_weights_copy_scratchpad, bwd_weights_add_scratchpad;

    explicit Impl(const dcls_conv_desc &desc) : d(desc), shape(desc), stream(cpu_engine()) {
        pad_shape.ndim = d.ndim;
        pad_shape.planes = d.batch * d.in_channels;
        for (int i = 0; i < d.ndim; ++i) {
            pad_shape.size[i] = d.input_size[i];
            pad_shape.pad[i] = d.padding[i];
        }
    }

    void build();
    void note_scratchpad(const dnnl::primitive_desc_base &pd) {
        scratchpad_bytes = std::max(scratchpad_bytes, pd.scratchpad_desc().get_size());
    }
    memory scratchpad_for(const dnnl::primitive_desc_base &pd) const {
        return memory(pd.scratchpad_desc(), cpu_engine(), scratchpad_buf.get());
    }
    Operand make_operand(const memory::desc &user_md, const memory::desc &prim_md, void *scratch, bool input);
    // The backward-weights primitive, its operands and the copies of its result.
    void make_bwd_weights();
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

Operand OnednnConv::Impl::make_operand(const memory::desc &user_md, const memory::desc &prim_md, void *scratch,
                                       bool input) {
    Operand op;
    op.user = memory(user_md, cpu_engine(), DNNL_MEMORY_NONE);
    if (user_md == prim_md) {
        op.prim = op.user;
        return op;
    }
    op.prim = memory(prim_md, cpu_engine(), scratch);
    auto pd = input ? dnnl::reorder::primitive_desc(op.user, op.prim, shape.attr)
                    : dnnl::reorder::primitive_desc(op.prim, op.user, shape.attr);
    op.copy = dnnl::reorder(pd);
    op.copy_scratchpad = memory(pd.scratchpad_desc(), cpu_engine(), DNNL_MEMORY_NONE);
    note_scratchpad(pd);
    return op;
}

void OnednnConv::Impl::build() {
    const Shape &s = shape;
    const bool own_fwd = !has[0], own_bwd_data = !has[1], own_bwd_weights = !has[2];
    if (own_fwd && own_bwd_data && own_bwd_weights) return;
    // Forward's descriptor whenever any pass runs here (the others take it as a hint).
    fwd_pd = s.forward_pd();
    if (!own_bwd_data) bwd_data_pd = s.backward_data_pd(fwd_pd);
    if (!own_bwd_weights) bwd_weights_pd = s.backward_weights_pd(fwd_pd);

    // Scratch sizes: an operand needs scratch only when its layout differs from the caller's;
    // the weight gradient always has scratch.
    size_t src_bytes = 0, dst_bytes = 0, weights_bytes = 0;
    auto need = [](size_t &bytes, const memory::desc &user, const memory::desc &prim) {
        if (user != prim) bytes = std::max(bytes, prim.get_size());
    };
    if (!own_fwd) {
        need(src_bytes, s.prim_in_user, fwd_pd.src_desc());
        need(dst_bytes, s.out_user, fwd_pd.dst_desc());
        need(weights_bytes, s.weights_user, fwd_pd.weights_desc());
        note_scratchpad(fwd_pd);
    }
    if (!own_bwd_data) {
        need(src_bytes, s.prim_in_user, bwd_data_pd.diff_src_desc());
        need(dst_bytes, s.out_user, bwd_data_pd.diff_dst_desc());
        need(weights_bytes, s.weights_user, bwd_data_pd.weights_desc());
        note_scratchpad(bwd_data_pd);
    }
    if (!own_bwd_weights) {
        need(src_bytes, s.prim_in_user, bwd_weights_pd.src_desc());
        need(dst_bytes, s.out_user, bwd_weights_pd.diff_dst_desc());
        weights_bytes = std::max(weights_bytes, bwd_weights_pd.diff_weights_desc().get_size());
        note_scratchpad(bwd_weights_pd);
    }
    src_buf.allocate(src_bytes);
    dst_buf.allocate(dst_bytes);
    weights_buf.allocate(weights_bytes);
    if (s.explicit_padding) pad_buf.allocate(s.prim_in_user.get_size());
    zero_bias.allocate(s.bias_md.get_size());
    bias_buf.allocate(s.bias_md.get_size());

    // The primitives, their operands, and the copies of the weight gradient.
    auto &eng = cpu_engine();
    if (!own_fwd) {
        fwd = dnnl::convolution_forward(fwd_pd);
        fwd_src = make_operand(s.prim_in_user, fwd_pd.src_desc(), src_buf.get(), true);
        fwd_weights = make_operand(s.weights_user, fwd_pd.weights_desc(), weights_buf.get(), true);
        fwd_dst = make_operand(s.out_user, fwd_pd.dst_desc(), dst_buf.get(), false);
        fwd_bias = memory(s.bias_md, eng, DNNL_MEMORY_NONE);
    }
    if (!own_bwd_data) {
        bwd_data = dnnl::convolution_backward_data(bwd_data_pd);
        bwd_data_diff_dst = make_operand(s.out_user, bwd_data_pd.diff_dst_desc(), dst_buf.get(), true);
        bwd_data_weights = make_operand(s.weights_user, bwd_data_pd.weights_desc(), weights_buf.get(), true);
        bwd_data_diff_src = make_operand(s.prim_in_user, bwd_data_pd.diff_src_desc(), src_buf.get(), false);
    }
    if (!own_bwd_weights) make_bwd_weights();

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
    if (s.explicit_padding)
        for (Operand *op : {&fwd_src, &bwd_data_diff_src, &bwd_weights_src})
            if (op->user) op->user.set_data_handle(pad_buf.get());
}

void OnednnConv::Impl::make_bwd_weights() {
    auto &eng = cpu_engine();
    const Shape &s = shape;
    bwd_weights = dnnl::convolution_backward_weights(bwd_weights_pd);
    bwd_weights_src = make_operand(s.prim_in_user, bwd_weights_pd.src_desc(), src_buf.get(), true);
    bwd_weights_diff_dst = make_operand(s.out_user, bwd_weights_pd.diff_dst_desc(), dst_buf.get(), true);
    bwd_weights_user = memory(s.weights_user, eng, DNNL_MEMORY_NONE);
    bwd_weights_diff = memory(bwd_weights_pd.diff_weights_desc(), eng, weights_buf.get());
    bwd_weights_diff_bias = memory(s.bias_md, eng, bias_buf.get());
    dnnl::reorder::primitive_desc copy_pd(bwd_weights_diff, bwd_weights_user, s.attr);
    bwd_weights_copy = dnnl::reorder(copy_pd);
    bwd_weights_copy_scratchpad = memory(copy_pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    note_scratchpad(copy_pd);
    dnnl::post_ops sum;
    sum.append_sum(1.f);
    dnnl::primitive_attr add_attr = s.attr;
    add_attr.set_post_ops(sum);
    dnnl::reorder::primitive_desc add_pd(bwd_weights_diff, bwd_weights_user, add_attr);
    bwd_weights_add = dnnl::reorder(add_pd);
    bwd_weights_add_scratchpad = memory(add_pd.scratchpad_desc(), eng, DNNL_MEMORY_NONE);
    note_scratchpad(add_pd);
}

std::unique_ptr<ConvEngine> OnednnConv::create(const dcls_conv_desc &desc) {
    return std::make_unique<OnednnConv>(desc);
}

std::string OnednnConv::backward_weights_impl(const dcls_conv_desc &desc) {
    const Shape s(desc);
    return s.backward_weights_pd(s.forward_pd()).impl_info_str();
}

OnednnConv::OnednnConv(const dcls_conv_desc &desc) : impl_(new Impl(desc)) {}

OnednnConv::~OnednnConv() = default;

void OnednnConv::prepare(const bool passes[kPassCount]) {
    std::copy(passes, passes + kPassCount, impl_->has);
    impl_->build();
}

std::string OnednnConv::info(Pass pass) const {
    const Impl &p = *impl_;
    const char *impl = pass == Pass::Forward        ? (p.has[0] ? p.fwd_pd.impl_info_str() : nullptr)
                       : pass == Pass::BackwardData ? (p.has[1] ? p.bwd_data_pd.impl_info_str() : nullptr)
                                                    : (p.has[2] ? p.bwd_weights_pd.impl_info_str() : nullptr);
    return std::string("onednn:") + (impl ? impl : "none") + (p.shape.explicit_padding ? "+explicit_padding" : "");
}

void OnednnConv::forward(const float *x, const float *kernel, const float *bias, float *y) {
    Impl &p = *impl_;
    if (p.shape.explicit_padding)
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

void OnednnConv::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    Impl &p = *impl_;
    p.bwd_data_diff_dst.user.set_data_handle(const_cast<float *>(grad_y));
    p.bwd_data_weights.user.set_data_handle(const_cast<float *>(kernel));
    if (!p.shape.explicit_padding) p.bwd_data_diff_src.user.set_data_handle(grad_x);

    p.to_prim(p.bwd_data_diff_dst);
    p.to_prim(p.bwd_data_weights);
    p.bwd_data.execute(p.stream, {{DNNL_ARG_DIFF_DST, p.bwd_data_diff_dst.prim},
                                  {DNNL_ARG_WEIGHTS, p.bwd_data_weights.prim},
                                  {DNNL_ARG_DIFF_SRC, p.bwd_data_diff_src.prim},
                                  {DNNL_ARG_SCRATCHPAD, p.bwd_data_scratchpad}});
    p.from_prim(p.bwd_data_diff_src);
    p.stream.wait();
    if (p.shape.explicit_padding)
        pad_backward(p.pad_shape, static_cast<dcls_padding_mode>(p.d.padding_mode), p.pad_buf.floats(), grad_x);
}

void OnednnConv::backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                                  bool accumulate) {
    Impl &p = *impl_;
    if (p.shape.explicit_padding)
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
