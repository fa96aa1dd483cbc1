package io.dcls4j.optim;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Adam with decoupled weight decay, with PyTorch's semantics ({@code torch.optim.AdamW}): at step t
 * (1 for the first),
 * <pre>
 * p     *= 1 - lr * weightDecay
 * m      = beta1 * m + (1 - beta1) * g
 * v      = beta2 * v + (1 - beta2) * g^2
 * vhat   = amsgrad ? (vmax = max(vmax, v)) : v
 * p     -= lr / (1 - beta1^t) * m / (sqrt(vhat) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * State: {@code exp_avg}, {@code exp_avg_sq} and, with amsgrad, {@code max_exp_avg_sq}.
 */
public final class AdamW extends Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final boolean amsgrad;

    private AdamW(Builder b) {
        super(b, b.amsgrad ? List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq") : List.of("exp_avg", "exp_avg_sq"));
        beta1 = b.beta1;
        beta2 = b.beta2;
        eps = b.eps;
        amsgrad = b.amsgrad;
    }

    /** Defaults as PyTorch: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01, no amsgrad. */
    public static Builder builder() {
        return new Builder();
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public boolean amsgrad() {
        return amsgrad;
    }

    @Override
    void update(int i, double lr, double weightDecay, long step) {
        MemorySegment p = values[i];
        MemorySegment g = grads[i];
        MemorySegment m = stateSegments[0][i];
        MemorySegment v = stateSegments[1][i];
        long n = counts[i];
        float decay = (float) (1 - lr * weightDecay);
        float b1 = (float) beta1;
        float c1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float c2 = (float) (1 - beta2);
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2 = 1 - Math.pow(beta2, step);
        float stepSize = (float) (lr / bc1);
        float invSqrtBc2 = (float) (1 / Math.sqrt(bc2));
        float e = (float) eps;
        if (cuda[i] != null) {
            cuda[i].adamwUpdate(n, p, g, m, v, amsgrad ? stateSegments[2][i] : MemorySegment.NULL, decay, b1, c1, b2,
                    c2, stepSize, invSqrtBc2, e);
            return;
        }
        if (amsgrad) {
            MemorySegment vmax = stateSegments[2][i];
            for (long j = 0; j < n; j++) {
                float gv = g.getAtIndex(F, j);
                float mv = b1 * m.getAtIndex(F, j) + c1 * gv;
                float vv = b2 * v.getAtIndex(F, j) + c2 * gv * gv;
                float mx = Math.max(vmax.getAtIndex(F, j), vv);
                m.setAtIndex(F, j, mv);
                v.setAtIndex(F, j, vv);
                vmax.setAtIndex(F, j, mx);
                float denom = (float) Math.sqrt(mx) * invSqrtBc2 + e;
                p.setAtIndex(F, j, p.getAtIndex(F, j) * decay - stepSize * mv / denom);
            }
            return;
        }
        for (long j = 0; j < n; j++) {
            float gv = g.getAtIndex(F, j);
            float mv = b1 * m.getAtIndex(F, j) + c1 * gv;
            float vv = b2 * v.getAtIndex(F, j) + c2 * gv * gv;
            m.setAtIndex(F, j, mv);
            v.setAtIndex(F, j, vv);
            float denom = (float) Math.sqrt(vv) * invSqrtBc2 + e;
            p.setAtIndex(F, j, p.getAtIndex(F, j) * decay - stepSize * mv / denom);
        }
    }

    /** Configures an {@link AdamW}. */
    public static final class Builder extends Optimizer.Builder<Builder, AdamW> {
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double eps = 1e-8;
        private boolean amsgrad;

        private Builder() {
            super(1e-3, 0.01);
        }

        /** Coefficients of the running averages of the gradient and its square; each in [0, 1). */
        public Builder betas(double beta1, double beta2) {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
            }
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        /** Added to the denominator; > 0. */
        public Builder eps(double eps) {
            if (!(eps > 0) || Double.isInfinite(eps)) {
                throw new IllegalArgumentException("eps must be finite and > 0, got " + eps);
            }
            this.eps = eps;
            return this;
        }

        /** The AMSGrad variant (keeps the maximum of v). */
        public Builder amsgrad(boolean amsgrad) {
            this.amsgrad = amsgrad;
            return this;
        }

        @Override
        public AdamW build() {
            return new AdamW(this);
        }
    }
}
