// Cross-entropy on logits: log-softmax by oneDNN (softmax_log over the classes), then the mean
// negative log-likelihood with label smoothing, as torch.nn.CrossEntropyLoss. oneDNN has no
// loss primitive, so the gather by label and the gradient (softmax - target) / B are written here.
#include <cmath>

#include "nn_ops.h"

namespace dcls::nn {

CrossEntropyPlan::CrossEntropyPlan(int64_t batch, int64_t classes)
    : batch_(batch), classes_(classes), stream_(cpu_engine()), labels_(static_cast<size_t>(batch)) {
    const memory::desc md = plain({batch, classes});
    log_softmax_ = dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(
        cpu_engine(), dnnl::prop_kind::forward_training, dnnl::algorithm::softmax_log, md, md, 1));
    src_ = user_memory(md);
    dst_ = user_memory(md);
    log_probs_.allocate(static_cast<size_t>(batch * classes));
}

float CrossEntropyPlan::forward(const float *logits, const int32_t *labels, float label_smoothing) {
    for (int64_t b = 0; b < batch_; ++b) {
        require(labels[b] >= 0 && labels[b] < classes_, "label " + std::to_string(labels[b]) + " of sample " +
                                                            std::to_string(b) + " is outside [0, " +
                                                            std::to_string(classes_) + ")");
        labels_[static_cast<size_t>(b)] = labels[b];
    }
    log_softmax_.execute(stream_, {{DNNL_ARG_SRC, bind(src_, logits)}, {DNNL_ARG_DST, bind(dst_, log_probs_.get())}});
    stream_.wait();
    double total = 0;
    for (int64_t b = 0; b < batch_; ++b) {
        const float *row = log_probs_.get() + b * classes_;
        double all = 0;
        for (int64_t k = 0; k < classes_; ++k) all += row[k];
        total += (1.0 - label_smoothing) * -row[labels_[static_cast<size_t>(b)]] - label_smoothing * all / classes_;
    }
    smoothing_ = label_smoothing;
    has_forward_ = true;
    return static_cast<float>(total / batch_);
}

void CrossEntropyPlan::backward(float *grad_logits) {
    require(has_forward_, "backward before any forward on this plan");
    const float off = smoothing_ / static_cast<float>(classes_);
    const float inv_batch = 1.f / static_cast<float>(batch_);
    for (int64_t b = 0; b < batch_; ++b) {
        const float *row = log_probs_.get() + b * classes_;
        float *g = grad_logits + b * classes_;
        for (int64_t k = 0; k < classes_; ++k) g[k] = (std::exp(row[k]) - off) * inv_batch;
        g[labels_[static_cast<size_t>(b)]] -= (1.f - smoothing_) * inv_batch;
    }
}

}  // namespace dcls::nn
