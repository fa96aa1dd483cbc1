package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Tensor;

/** An element-wise activation ({@link NnOps}: oneDNN eltwise, or dcls4j's CUDA kernel): {@link Gelu}, {@link Relu}. */
public abstract sealed class Activation extends Layer<Activation.ActState> permits Gelu, Relu {
    private final int kind;

    Activation(int kind, Device device) {
        super(device);
        this.kind = kind;
    }

    @Override
    ActState newState(long[] shape) {
        return new ActState(shape);
    }

    @Override
    public Tensor forward(Tensor x) {
        ActState s = forwardState(x);
        ops().activationForward(s.plan, x, s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        ActState s = backwardState(gradY);
        ops().activationBackward(s.plan, lastInput(), gradY, s.gradX);
        return s.gradX;
    }

    @Override
    public String toString() {
        return name() + "()";
    }

    final class ActState extends Layer.State {
        final NativePlan plan;

        ActState(long[] shape) {
            super(device(), shape, shape);
            plan = own(ops().activation(kind, y.elementCount()));
        }
    }
}
