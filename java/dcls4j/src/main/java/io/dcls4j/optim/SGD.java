package io.dcls4j.optim;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Stochastic gradient descent with PyTorch's semantics ({@code torch.optim.SGD}): with
 * {@code d = grad + weightDecay * p} (L2 weight decay, added to the gradient),
 * <pre>
 * buf = d                                  on the first step,
 * buf = momentum * buf + (1 - dampening) * d  after;
 * d   = nesterov ? d + momentum * buf : buf   (when momentum != 0)
 * p  -= lr * d
 * </pre>
 * State: {@code momentum_buffer} (only when momentum != 0).
 */
public final class SGD extends Optimizer {
    private final float momentum;
    private final float dampening;
    private final boolean nesterov;

    private SGD(Builder b) {
        super(b, b.momentum != 0 ? List.of("momentum_buffer") : List.of());
        this.momentum = (float) b.momentum;
        this.dampening = (float) b.dampening;
        this.nesterov = b.nesterov;
    }

    /** Defaults: lr 0.01, momentum 0, dampening 0, no Nesterov, weight decay 0. */
    public static Builder builder() {
        return new Builder();
    }

    public double momentum() {
        return momentum;
    }

    public double dampening() {
        return dampening;
    }

    public boolean nesterov() {
        return nesterov;
    }

    @Override
    void update(int i, double lrD, double wdD, long step) {
        MemorySegment p = values[i];
        MemorySegment g = grads[i];
        long n = counts[i];
        float lr = (float) lrD;
        float wd = (float) wdD;
        if (cuda[i] != null) {
            cuda[i].sgdUpdate(n, p, g, momentum == 0f ? MemorySegment.NULL : stateSegments[0][i], lr, wd, momentum,
                    1f - dampening, step == 1, nesterov);
            return;
        }
        if (momentum == 0f) {
            for (long j = 0; j < n; j++) {
                float pv = p.getAtIndex(F, j);
                float d = g.getAtIndex(F, j) + wd * pv;
                p.setAtIndex(F, j, pv - lr * d);
            }
            return;
        }
        MemorySegment buf = stateSegments[0][i];
        float mu = momentum;
        float keep = 1f - dampening;
        boolean first = step == 1;
        for (long j = 0; j < n; j++) {
            float pv = p.getAtIndex(F, j);
            float d = g.getAtIndex(F, j) + wd * pv;
            float b = first ? d : mu * buf.getAtIndex(F, j) + keep * d;
            buf.setAtIndex(F, j, b);
            d = nesterov ? d + mu * b : b;
            p.setAtIndex(F, j, pv - lr * d);
        }
    }

    /** Configures an {@link SGD}. */
    public static final class Builder extends Optimizer.Builder<Builder, SGD> {
        private double momentum;
        private double dampening;
        private boolean nesterov;

        private Builder() {
            super(0.01, 0);
        }

        public Builder momentum(double momentum) {
            if (!(momentum >= 0) || Double.isInfinite(momentum)) {
                throw new IllegalArgumentException("momentum must be finite and >= 0, got " + momentum);
            }
            this.momentum = momentum;
            return this;
        }

        public Builder dampening(double dampening) {
            if (!Double.isFinite(dampening)) {
                throw new IllegalArgumentException("dampening must be finite, got " + dampening);
            }
            this.dampening = dampening;
            return this;
        }

        /** Nesterov momentum; needs momentum > 0 and dampening 0, as in PyTorch. */
        public Builder nesterov(boolean nesterov) {
            this.nesterov = nesterov;
            return this;
        }

        @Override
        public SGD build() {
            if (nesterov && (momentum <= 0 || dampening != 0)) {
                throw new IllegalArgumentException("Nesterov momentum requires a momentum > 0 and zero dampening");
            }
            return new SGD(this);
        }
    }
}
