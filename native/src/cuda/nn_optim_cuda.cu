// The optimizers' updates on the device (dcls_cuda_adamw_update, dcls_cuda_sgd_update): one thread per
// element, the arithmetic of io.dcls4j.optim's host loops in the same order, with the step's scalars
// (bias corrections, learning rate) computed once on the host as there.
#include <cmath>

#include "block_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace nn {
namespace {

__global__ void adamw_kernel(int64_t count, float *p, const float *g, float *m, float *v, float *vmax, AdamWStep s) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    {
        const float gv = g[i];
        const float mv = s.beta1 * m[i] + s.one_minus_beta1 * gv;
        const float vv = s.beta2 * v[i] + s.one_minus_beta2 * gv * gv;
        m[i] = mv;
        v[i] = vv;
        float second = vv;
        if (vmax) {
            second = fmaxf(vmax[i], vv);
            vmax[i] = second;
        }
        const float denom = sqrtf(second) * s.inv_sqrt_bias2 + s.eps;
        p[i] = p[i] * s.decay - s.step_size * mv / denom;
    }
}

__global__ void sgd_kernel(int64_t count, float *p, const float *g, float *buf, SgdStep s) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    {
        const float pv = p[i];
        float d = g[i] + s.weight_decay * pv;
        if (buf) {
            const float b = s.first ? d : s.momentum * buf[i] + s.keep * d;
            buf[i] = b;
            d = s.nesterov ? d + s.momentum * b : b;
        }
        p[i] = pv - s.lr * d;
    }
}

}  // namespace

void adamw_update(cudaStream_t stream, int64_t count, float *param, const float *grad, float *exp_avg,
                  float *exp_avg_sq, float *max_exp_avg_sq, const AdamWStep &s) {
    if (count == 0) return;
    DCLS_LAUNCH(adamw_kernel, grid_for(count), kBlock, 0, stream)(count, param, grad, exp_avg, exp_avg_sq,
                                                                  max_exp_avg_sq, s);
    check_launch("adamw_kernel");
}

void sgd_update(cudaStream_t stream, int64_t count, float *param, const float *grad, float *momentum_buffer,
                const SgdStep &s) {
    if (count == 0) return;
    DCLS_LAUNCH(sgd_kernel, grid_for(count), kBlock, 0, stream)(count, param, grad, momentum_buffer, s);
    check_launch("sgd_kernel");
}

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
