package io.dcls4j.nn;

import io.dcls4j.Tensor;
import io.dcls4j.ffi.dcls_nn_h;

/** An element-wise activation on oneDNN eltwise (dcls_activation_*): {@link Gelu} and {@link Relu}. */
public abstract sealed class Activation extends Layer<Activation.ActState> permits Gelu, Relu {
    private final int kind;

    Activation(int kind) {
        this.kind = kind;
    }

    @Override
    ActState newState(long[] shape) {
        return new ActState(shape);
    }

    @Override
    public Tensor forward(Tensor x) {
        ActState s = forwardState(x);
        NnNative.check(dcls_nn_h.dcls_activation_forward(s.plan.get(), x.segment(), s.y.segment()));
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        ActState s = backwardState(gradY);
        NnNative.check(dcls_nn_h.dcls_activation_backward(s.plan.get(), lastInput().segment(), gradY.segment(),
                s.gradX.segment()));
        return s.gradX;
    }

    @Override
    public String toString() {
        return name() + "()";
    }

    final class ActState extends Layer.State {
        final NativePlan plan;

        ActState(long[] shape) {
            super(shape, shape);
            long count = y.elementCount();
            plan = own(new NativePlan(p -> dcls_nn_h.dcls_activation_plan_create(kind, count, p),
                    dcls_nn_h::dcls_activation_plan_destroy));
        }
    }
}
