// An engine for one or more passes of one convolution shape (dcls.h's conventions: plain C-order
// tensors, grad_x overwritten, accumulate for the kernel and bias gradients). A ConvPlan picks one
// engine per pass from a list (conv_engine_list.h), oneDNN style: each entry's create(desc) gives an
// engine or nothing, and the plan asks a created engine which passes it takes.
#pragma once

#include <string>

#include "dcls.h"
#include "error.h"

namespace dcls {

enum class Pass { Forward = 0, BackwardData = 1, BackwardWeights = 2 };
constexpr int kPassCount = 3;

// "forward", "backward_data", "backward_weights": the keys of dcls_conv_plan_info.
inline const char *pass_name(Pass pass) {
    static const char *const names[kPassCount] = {"forward", "backward_data", "backward_weights"};
    return names[int(pass)];
}

class ConvEngine {
public:
    virtual ~ConvEngine() = default;

    // Whether this engine runs `pass` of the shape it was created for.
    virtual bool takes(Pass pass) const = 0;
    // Called once when the plan has handed out every pass, with the passes this engine got: an
    // engine that builds per-pass resources (oneDNN's primitives) builds only those.
    virtual void prepare(const bool /*passes*/[kPassCount]) {}
    // What runs `pass`, e.g. "dcls:depthwise(avx512)" or "onednn:brg_conv_fwd:avx512_core".
    virtual std::string info(Pass pass) const = 0;
    // The direct convolution's multiply-adds this engine gets through per unit of time on `pass`,
    // relative to oneDNN's direct convolution: what the plan's cost model weighs the kernel's cells
    // with when the tap-sparse engine competes (conv_plan.cpp).
    virtual double speed(Pass /*pass*/) const { return 1.0; }

    // The passes; only those takes() accepts are ever called.
    virtual void forward(const float * /*x*/, const float * /*kernel*/, const float * /*bias*/, float * /*y*/) {
        not_taken(Pass::Forward);
    }
    virtual void backward_data(const float * /*grad_y*/, const float * /*kernel*/, float * /*grad_x*/) {
        not_taken(Pass::BackwardData);
    }
    virtual void backward_weights(const float * /*x*/, const float * /*grad_y*/, float * /*grad_kernel*/,
                                  float * /*grad_bias*/, bool /*accumulate*/) {
        not_taken(Pass::BackwardWeights);
    }

private:
    [[noreturn]] static void not_taken(Pass pass) {
        throw Error(DCLS_ERROR_INTERNAL, std::string("an engine was handed a pass it does not take: ") + pass_name(pass));
    }
};

}  // namespace dcls
