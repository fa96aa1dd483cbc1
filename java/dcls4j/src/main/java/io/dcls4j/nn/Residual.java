package io.dcls4j.nn;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Arrays;
import java.util.Map;

/**
 * A residual block: y = x + body(x), body's output of x's shape. Its parameters are the body's, unprefixed
 * (a ConvNeXt block's dwconv.*, norm.*, ...). Owns the body. oneDNN binary add for both passes.
 */
public final class Residual extends Layer<Residual.AddState> {
    private final Module body;

    public Residual(Module body) {
        if (body == null) {
            throw new IllegalArgumentException("Residual: body is null");
        }
        this.body = body;
    }

    public Module body() {
        return body;
    }

    @Override
    AddState newState(long[] shape) {
        return new AddState(shape);
    }

    @Override
    public Tensor forward(Tensor x) {
        AddState s = forwardState(x);
        Tensor f = body.forward(x);
        if (!f.sameShape(x)) {
            throw new IllegalArgumentException("Residual: the body maps " + Arrays.toString(x.shape()) + " to "
                    + Arrays.toString(f.shape()) + "; a residual needs the input's shape");
        }
        Broadcast.execute(s.add, x, f, s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        AddState s = backwardState(gradY);
        Tensor g = body.backward(gradY);
        Broadcast.execute(s.add, gradY, g, s.gradX);
        return s.gradX;
    }

    @Override
    public Map<String, Parameter> namedParameters() {
        ensureOpen();
        return body.namedParameters();
    }

    @Override
    public Map<String, Tensor> namedBuffers() {
        ensureOpen();
        return body.namedBuffers();
    }

    @Override
    public void zeroGrad() {
        ensureOpen();
        body.zeroGrad();
    }

    @Override
    public Module train() {
        super.train();
        body.train();
        return this;
    }

    @Override
    public Module eval() {
        super.eval();
        body.eval();
        return this;
    }

    @Override
    public void close() {
        body.close();
        super.close();
    }

    @Override
    public String toString() {
        return "Residual(" + body + ")";
    }

    final class AddState extends Layer.State {
        final NativePlan add;

        AddState(long[] shape) {
            super(shape, shape);
            add = own(Broadcast.add(shape));
        }
    }
}
