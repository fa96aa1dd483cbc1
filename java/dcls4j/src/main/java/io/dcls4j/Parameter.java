package io.dcls4j;

/**
 * A learnable tensor and its gradient, both owned by the layer that created them. Backward passes
 * add into {@link #grad()}; {@code zeroGrad()} on the layer clears it. Optimizers update
 * {@link #value()} in place.
 */
public final class Parameter {
    private final String name;
    private final Tensor value;
    private final Tensor grad;

    public Parameter(String name, Tensor value, Tensor grad) {
        if (!value.sameShape(grad)) {
            throw new IllegalArgumentException("parameter " + name + ": value " + value + " and grad " + grad
                    + " differ in shape");
        }
        this.name = name;
        this.value = value;
        this.grad = grad;
    }

    /** The name, as in the PyTorch reference's state_dict: weight, P, SIG or bias. */
    public String name() {
        return name;
    }

    public Tensor value() {
        return value;
    }

    public Tensor grad() {
        return grad;
    }

    /** {@code parameters} under their names, in order, unmodifiable: a layer's namedParameters(). */
    static java.util.Map<String, Parameter> byName(java.util.List<Parameter> parameters) {
        java.util.Map<String, Parameter> named = new java.util.LinkedHashMap<>();
        for (Parameter p : parameters) {
            named.put(p.name(), p);
        }
        return java.util.Collections.unmodifiableMap(named);
    }

    @Override
    public String toString() {
        return "Parameter " + name + " " + value;
    }
}
