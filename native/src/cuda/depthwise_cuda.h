// dcls4j's own depthwise convolution kernels (groups == in_channels, any channel multiplier),
// for the large kernels DCLS makes, where cuDNN's depthwise paths are slow.
// The geometry is that of the convolution proper (explicit padding already applied).
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "cuda_common.h"

namespace dcls {
namespace cuda {

class DepthwiseConv {
public:
    // Whether the kernels apply: groups == in_channels.
    static bool eligible(const ConvGeometry &g) { return g.groups == g.in_channels; }

    DepthwiseConv(dcls_cuda_context &ctx, const ConvGeometry &g);

    // y = conv(x, w) + bias (bias may be null).
    void forward(const float *x, const float *w, const float *bias, float *y);
    // grad_x (overwritten).
    void backward_data(const float *grad_y, const float *w, float *grad_x);
    // grad_w and grad_bias (null to skip), overwritten or accumulated.
    void backward_weights(const float *x, const float *grad_y, float *grad_w, float *grad_bias, bool accumulate);

    // How each pass runs, e.g. "dcls:depthwise-tiled(R=2,RY=4)"; backward weights names its
    // kernel: "dcls:depthwise-rows(...)" (tap tiles), "dcls:depthwise-segments(...)" or
    // "dcls:depthwise-generic".
    std::string forward_info() const;
    std::string backward_data_info() const;
    std::string backward_weights_info() const;

    // Launch configurations, chosen once (public for the .cu file's launchers).
    struct TileConfig {
        bool tiled = false;  // false: one thread per output (generic kernel)
        int r = 1, ry = 1, by = 1;
        size_t shared_bytes = 0;
    };
    struct WeightsConfig {
        int tw = 1;           // output columns per segment
        int groups = 1;       // tap groups (of 8 taps along w) per block
        int slots = 1;        // segments per block pass
        int tap_blocks = 1;   // blocks along the tap groups
        int64_t chunks = 1;   // blocks along the segments
        int64_t segments = 1;
        int rows_max = 1;     // (kd, kh) rows a block loads per segment, at most
        int span = 1;         // input columns per row loaded
        size_t shared_bytes = 0;
    };
    struct RowsConfig {
        bool used = false;
        int ta = 0, tb = 0;   // taps per warp tile: kernel rows x kernel columns
        int ty_tiles = 0, tx_tiles = 0, groups_per_slice = 0, wt = 0, rs = 0;
        int br = 0, col_chunks = 0, xrows = 0, xcols = 0, gcols = 0;
        int64_t bands = 0, units = 0, chunks = 0;
        size_t shared_bytes = 0;
    };

private:
    dcls_cuda_context &ctx_;
    ConvGeometry g_;
    int64_t mult_;
    TileConfig fwd_, bwd_data_;
    WeightsConfig bwd_weights_;
    RowsConfig rows_;        // when used, backward weights runs the tap-tile kernel instead
    DeviceBuffer partials_;  // chunks x Cout x taps
};

// Kernel windows: each of `count` kernels of spatial shape k (3 axes) and its box of cells
// [lo, lo + size). Gather copies the boxes into sub (count x the box's volume); scatter writes
// them back into full, with 0 outside the boxes (accumulating: full += the box, outside unchanged).
void kernel_window_gather(cudaStream_t stream, int64_t count, const int64_t k[3], const int64_t lo[3],
                          const int64_t size[3], const float *full, float *sub);
void kernel_window_scatter(cudaStream_t stream, int64_t count, const int64_t k[3], const int64_t lo[3],
                           const int64_t size[3], const float *sub, float *full, bool accumulate);

}  // namespace cuda
}  // namespace dcls
