package io.dcls4j.nn;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Map;

/**
 * A layer or a network for training loops: forward, backward, parameters, train/eval, close.
 *
 * <p><b>Ownership.</b> A module owns its parameters, their gradients and the tensors {@link #forward} and
 * {@link #backward} return: these stay valid until its next call with an input of the same shape, or until
 * {@link #close()}. The input given to {@code forward} may be read again by {@code backward}: leave it
 * unchanged in between. A module is not thread-safe.
 */
public interface Module extends AutoCloseable {
    /** The output for input {@code x} (owned by the module, see the class comment). */
    Tensor forward(Tensor x);

    /**
     * Back-propagates {@code gradY} (the shape of the last forward's output): accumulates the parameter
     * gradients and returns the input gradient (owned by the module).
     */
    Tensor backward(Tensor gradY);

    /**
     * The parameters under PyTorch's state-dict names, in order, each once under its first name, as
     * {@code named_parameters()} gives them. The map is unmodifiable.
     */
    Map<String, Parameter> namedParameters();

    /**
     * The buffers under their state-dict names (BatchNorm's running statistics), in order; empty for most
     * modules. They are saved and loaded with the parameters, but have no gradient.
     */
    default Map<String, Tensor> namedBuffers() {
        return Map.of();
    }

    /** Sets every parameter gradient to zero. */
    void zeroGrad();

    /** Training mode (the default): BatchNorm uses batch statistics, DropPath drops. */
    default Module train() {
        return this;
    }

    /** Evaluation mode: BatchNorm uses its running statistics, DropPath is the identity. */
    default Module eval() {
        return this;
    }

    /** Frees the module's native memory; later calls throw {@link IllegalStateException}. Idempotent. */
    @Override
    void close();
}
