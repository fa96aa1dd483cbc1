// Overlap-save blocks over DftConv (see blocked_conv1d.h). With the padded signal xp (length
// L + 2 pad, zeros after it) and blocks of B outputs, block b covers xp[b B, b B + B + k - 1) and
// produces outputs [b B, b B + B); the last block's extra outputs are dropped (and get a zero
// gradient), so the batch of blocks is exactly the convolution:
//   forward           y[b B + j]  = inner forward of block b, output j
//   backward data     gxp = sum over blocks of the inner backward data, placed at b B; folded back
//                     through the padding (padding.cpp)
//   backward weights  the inner backward weights sum over the batch, blocks included.
#include "blocked_conv1d.h"

#include <algorithm>
#include <cstring>

#include "conv_geometry.h"
#include "cpu_kernels_common.h"
#include "dft_conv.h"
#include "error.h"
#include "padding.h"

namespace dcls {

namespace {

// The inner convolution: every block of every signal as one batch, no padding.
dcls_conv_desc block_desc(const dcls_conv_desc &d, int64_t block, int64_t blocks) {
    dcls_conv_desc b = d;
    b.batch = d.batch * blocks;
    b.padding_mode = DCLS_PADDING_ZEROS;
    b.input_size[0] = block + d.kernel_size[0] - 1;
    b.padding[0] = 0;
    return b;
}

int64_t output_length(const dcls_conv_desc &d) {
    return conv_positions(d.input_size[0], d.padding[0], d.kernel_size[0]);
}

// The block size (outputs per block) the cost model likes best, or 0 when none beats the direct
// convolution (any of them, with the choice Always, as long as the signal spans two blocks).
int64_t choose_block(const dcls_conv_desc &d, EngineChoice choice) {
    if (choice == EngineChoice::Never || d.ndim != 1 || !DftConv::runs(d)) return 0;
    const int64_t out = output_length(d);
    const bool always = choice == EngineChoice::Always;
    int64_t best = 0;
    double best_cost = 0.0;
    for (int64_t block : {16, 32, 64, 128, 256}) {
        if (2 * block > out) break;
        const dcls_conv_desc inner = block_desc(d, block, ceil_div(out, block));
        if (!DftConv::fits(inner)) continue;
        const double cost = DftConv::cost(inner);
        if (best == 0 || cost < best_cost) {
            best = block;
            best_cost = cost;
        }
    }
    if (best == 0 || always) return best;
    // Better than the direct convolution, and than one DFT over the whole signal.
    const bool whole = DftConv::fits(d) && DftConv::cost(d) < best_cost;
    return DftConv::direct_cost(d) >= DftConv::kMargin * best_cost && !whole ? best : 0;
}

}  // namespace

struct BlockedConv1d::Impl {
    dcls_conv_desc d;
    int64_t ci, co, len, padded, out, k, block, blocks, frame;
    PadShape pad_shape{};
    std::unique_ptr<DftConv> inner;
    AlignedArray<float> signal, in_blocks, out_blocks;

    Impl(const dcls_conv_desc &desc, int64_t block_size)
        : d(desc),
          ci(desc.in_channels),
          co(desc.out_channels),
          len(desc.input_size[0]),
          padded(desc.input_size[0] + 2 * desc.padding[0]),
          out(output_length(desc)),
          k(desc.kernel_size[0]),
          block(block_size),
          blocks(ceil_div(out, block)),
          frame(block + desc.kernel_size[0] - 1) {
        inner = std::make_unique<DftConv>(block_desc(d, block, blocks));
        pad_shape.ndim = 1;
        pad_shape.planes = d.batch * ci;
        pad_shape.size[0] = len;
        pad_shape.pad[0] = d.padding[0];
        signal.allocate(size_t(d.batch * ci * padded));
        in_blocks.allocate(size_t(d.batch * blocks * ci * frame));
        out_blocks.allocate(size_t(d.batch * blocks * co * block));
    }

    // in_blocks[(n blocks + b) ci + c][t] = xp[n ci + c][b block + t] (0 past the padded signal).
    void cut_input(const float *x) {
        pad_forward(pad_shape, static_cast<dcls_padding_mode>(d.padding_mode), x, signal.get());
        const float *xp = signal.get();
        float *dst = in_blocks.get();
#pragma omp parallel for collapse(3) schedule(static)
        for (int64_t n = 0; n < d.batch; ++n)
            for (int64_t b = 0; b < blocks; ++b)
                for (int64_t c = 0; c < ci; ++c) {
                    const int64_t start = b * block, have = std::clamp<int64_t>(padded - start, 0, frame);
                    float *row = dst + ((n * blocks + b) * ci + c) * frame;
                    std::memcpy(row, xp + (n * ci + c) * padded + start, sizeof(float) * have);
                    std::memset(row + have, 0, sizeof(float) * (frame - have));
                }
    }

    // Between y (N, Cout, out) and out_blocks ((n blocks + b), Cout, block): to_blocks pads with 0.
    void move_outputs(const float *from, float *to, bool to_blocks) {
#pragma omp parallel for collapse(3) schedule(static)
        for (int64_t n = 0; n < d.batch; ++n)
            for (int64_t b = 0; b < blocks; ++b)
                for (int64_t o = 0; o < co; ++o) {
                    const int64_t start = b * block, have = std::min(block, out - start);
                    const int64_t flat = (n * co + o) * out + start, blocked = ((n * blocks + b) * co + o) * block;
                    if (to_blocks) {
                        std::memcpy(to + blocked, from + flat, sizeof(float) * have);
                        std::memset(to + blocked + have, 0, sizeof(float) * (block - have));
                    } else {
                        std::memcpy(to + flat, from + blocked, sizeof(float) * have);
                    }
                }
    }
};

std::unique_ptr<ConvEngine> BlockedConv1d::create(const dcls_conv_desc &desc, EngineChoice choice) {
    const int64_t block = choose_block(desc, choice);
    if (block <= 0) return nullptr;
    return std::make_unique<BlockedConv1d>(desc, block);
}

BlockedConv1d::BlockedConv1d(const dcls_conv_desc &desc, int64_t block) : impl_(new Impl(desc, block)) {}

double BlockedConv1d::speed(Pass) const {
    const Impl &p = *impl_;
    return DftConv::direct_cost(p.d) / (DftConv::kMargin * DftConv::cost(block_desc(p.d, p.block, p.blocks)));
}

std::string BlockedConv1d::info(Pass) const {
    return "dcls:dft-blocked(block=" + std::to_string(impl_->block) + ")";
}

BlockedConv1d::~BlockedConv1d() = default;

void BlockedConv1d::forward(const float *x, const float *kernel, const float *bias, float *y) {
    Impl &p = *impl_;
    p.cut_input(x);
    p.inner->forward(p.in_blocks.get(), kernel, bias, p.out_blocks.get());
    p.move_outputs(p.out_blocks.get(), y, false);
}

void BlockedConv1d::backward_data(const float *grad_y, const float *kernel, float *grad_x) {
    Impl &p = *impl_;
    p.move_outputs(grad_y, p.out_blocks.get(), true);
    p.inner->backward_data(p.out_blocks.get(), kernel, p.in_blocks.get());
    // Add the blocks into the padded signal's gradient (each row of it by one thread: no races).
    float *gxp = p.signal.get();
    const float *src = p.in_blocks.get();
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t n = 0; n < p.d.batch; ++n)
        for (int64_t c = 0; c < p.ci; ++c) {
            float *row = gxp + (n * p.ci + c) * p.padded;
            std::memset(row, 0, sizeof(float) * p.padded);
            for (int64_t b = 0; b < p.blocks; ++b) {
                const int64_t start = b * p.block, have = std::clamp<int64_t>(p.padded - start, 0, p.frame);
                const float *blk = src + ((n * p.blocks + b) * p.ci + c) * p.frame;
                for (int64_t t = 0; t < have; ++t) row[start + t] += blk[t];
            }
        }
    pad_backward(p.pad_shape, static_cast<dcls_padding_mode>(p.d.padding_mode), gxp, grad_x);
}

void BlockedConv1d::backward_weights(const float *x, const float *grad_y, float *grad_kernel, float *grad_bias,
                                     bool accumulate) {
    Impl &p = *impl_;
    p.cut_input(x);
    p.move_outputs(grad_y, p.out_blocks.get(), true);
    p.inner->backward_weights(p.in_blocks.get(), p.out_blocks.get(), grad_kernel, grad_bias, accumulate);
}

}  // namespace dcls
