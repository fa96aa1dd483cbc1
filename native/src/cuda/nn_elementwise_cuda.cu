// Element-wise ops of the network layers: the activations (dcls_activation) and the broadcast
// binary ops (dcls_binary_op), one thread per element in a grid-stride loop.
#include <cmath>

#include "dcls_nn.h"
#include "error.h"
#include "block_cuda.h"
#include "gelu_cuda.h"
#include "nn_cuda.h"

namespace dcls {
namespace cuda {
namespace nn {
namespace {

__global__ void activation_forward_kernel(int kind, int64_t count, const float *x, float *y) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    {
        const float v = x[i];
        y[i] = kind == DCLS_ACTIVATION_RELU ? (v > 0.f ? v : 0.f) : gelu_erf(v);
    }
}

// GELU: gelu_erf_grad. ReLU: 1 above 0, else 0 (torch's choice at 0).
__global__ void activation_backward_kernel(int kind, int64_t count, const float *x, const float *grad_y,
                                           float *grad_x) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < count; i += int64_t(gridDim.x) * blockDim.x)
    {
        const float v = x[i];
        const float d = kind == DCLS_ACTIVATION_RELU ? (v > 0.f ? 1.f : 0.f) : gelu_erf_grad(v);
        grad_x[i] = grad_y[i] * d;
    }
}

__global__ void binary_kernel(int op, Broadcast s, const float *a, const float *b, float *c) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < s.count; i += int64_t(gridDim.x) * blockDim.x)
    {
        const int64_t bo = offset_of(i, s.rank, s.dims, s.b_strides);
        c[i] = op == DCLS_BINARY_ADD ? a[i] + b[bo] : a[i] * b[bo];
    }
}

}  // namespace

void activation_forward(cudaStream_t stream, int kind, int64_t count, const float *x, float *y) {
    if (count == 0) return;
    DCLS_LAUNCH(activation_forward_kernel, grid_for(count), kBlock, 0, stream)(kind, count, x, y);
    check_launch("activation_forward_kernel");
}

void activation_backward(cudaStream_t stream, int kind, int64_t count, const float *x, const float *grad_y,
                         float *grad_x) {
    if (count == 0) return;
    DCLS_LAUNCH(activation_backward_kernel, grid_for(count), kBlock, 0, stream)(kind, count, x, grad_y, grad_x);
    check_launch("activation_backward_kernel");
}

Broadcast broadcast_shape(int rank, const int64_t *a_dims, const int64_t *b_dims) {
    Broadcast s;
    s.rank = rank;
    s.count = 1;
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
        s.dims[d] = a_dims[d];
        s.b_strides[d] = b_dims[d] == 1 ? 0 : stride;
        stride *= b_dims[d];
        s.count *= a_dims[d];
    }
    return s;
}

void binary(cudaStream_t stream, int op, const Broadcast &shape, const float *a, const float *b, float *c) {
    if (shape.count == 0) return;
    DCLS_LAUNCH(binary_kernel, grid_for(shape.count), kBlock, 0, stream)(op, shape, a, b, c);
    check_launch("binary_kernel");
}

}  // namespace nn
}  // namespace cuda
}  // namespace dcls
