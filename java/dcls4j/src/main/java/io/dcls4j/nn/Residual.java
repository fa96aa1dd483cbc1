package io.dcls4j.nn;

import io.dcls4j.Device;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A residual block: y = shortcut(x) + body(x), the shortcut the identity unless given (ResNet's downsample).
 * Its parameters are the body's, unprefixed (a ConvNeXt block's dwconv.*, norm.*, ...), then the shortcut's
 * under its name. Owns both. A binary add ({@link NnOps}) for both passes.
 */
public final class Residual extends Layer<Residual.AddState> {
    private final Module body;
    private final String shortcutName;
    private final Module shortcut;
    private Tensor pendingOutput;

    /** y = x + body(x), on the CPU. */
    public Residual(Module body) {
        this(body, null, null, Device.cpu());
    }

    /** y = x + body(x), its adds on {@code device} (where the body runs). */
    public Residual(Module body, Device device) {
        this(body, null, null, device);
    }

    /** y = shortcut(x) + body(x), or x + body(x) when shortcut is null, on the CPU. */
    public Residual(Module body, String shortcutName, Module shortcut) {
        this(body, shortcutName, shortcut, Device.cpu());
    }

    /**
     * y = shortcut(x) + body(x), or x + body(x) when shortcut is null; the shortcut's names are prefixed. The adds
     * run on {@code device}, where the body and the shortcut run.
     */
    public Residual(Module body, String shortcutName, Module shortcut, Device device) {
        super(device);
        if (body == null) {
            throw new IllegalArgumentException("Residual: body is null");
        }
        if (shortcut != null && (shortcutName == null || shortcutName.isEmpty())) {
            throw new IllegalArgumentException("Residual: a shortcut needs a name");
        }
        this.body = body;
        this.shortcutName = shortcutName;
        this.shortcut = shortcut;
    }

    public Module body() {
        return body;
    }

    @Override
    AddState newState(long[] shape) {
        return new AddState(shape, pendingOutput.shape());
    }

    @Override
    public Tensor forward(Tensor x) {
        ensureOpen();
        if (x == null) {
            throw new IllegalArgumentException("Residual: input is null");
        }
        Tensor f = body.forward(x);
        Tensor id = shortcut == null ? x : shortcut.forward(x);
        if (!f.sameShape(id)) {
            throw new IllegalArgumentException("Residual: the body maps " + Arrays.toString(x.shape()) + " to "
                    + Arrays.toString(f.shape()) + ", the shortcut to " + Arrays.toString(id.shape())
                    + "; they must agree");
        }
        pendingOutput = f; // read by newState (only for a new input shape): no shape copy per step
        AddState s = forwardState(x);
        ops().binary(s.add, id, f, s.y);
        return s.y;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        AddState s = backwardState(gradY);
        Tensor g = body.backward(gradY);
        Tensor gs = shortcut == null ? gradY : shortcut.backward(gradY);
        ops().binary(s.addInput, gs, g, s.gradX);
        return s.gradX;
    }

    @Override
    public Map<String, Parameter> namedParameters() {
        ensureOpen();
        if (shortcut == null) {
            return body.namedParameters();
        }
        return Collections.unmodifiableMap(Sequential.collect(List.of("", shortcutName), List.of(body, shortcut)));
    }

    @Override
    public Map<String, Tensor> namedBuffers() {
        ensureOpen();
        if (shortcut == null) {
            return body.namedBuffers();
        }
        Map<String, Tensor> out = new LinkedHashMap<>(body.namedBuffers());
        shortcut.namedBuffers().forEach((k, v) -> out.put(shortcutName + "." + k, v));
        return Collections.unmodifiableMap(out);
    }

    @Override
    public void zeroGrad() {
        ensureOpen();
        body.zeroGrad();
        if (shortcut != null) {
            shortcut.zeroGrad();
        }
    }

    @Override
    public Module train() {
        super.train();
        body.train();
        if (shortcut != null) {
            shortcut.train();
        }
        return this;
    }

    @Override
    public Module eval() {
        super.eval();
        body.eval();
        if (shortcut != null) {
            shortcut.eval();
        }
        return this;
    }

    @Override
    public void close() {
        body.close();
        if (shortcut != null) {
            shortcut.close();
        }
        super.close();
    }

    @Override
    public String toString() {
        return "Residual(" + body + ")";
    }

    final class AddState extends Layer.State {
        final NativePlan add;
        final NativePlan addInput;

        AddState(long[] shape, long[] outShape) {
            super(device(), shape, outShape);
            add = own(Broadcast.add(ops(), outShape));
            addInput = own(Broadcast.add(ops(), shape));
        }
    }
}
