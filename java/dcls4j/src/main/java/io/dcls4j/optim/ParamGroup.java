package io.dcls4j.optim;

import io.dcls4j.DclsConv;
import io.dcls4j.Parameter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Parameters that share optimizer settings: a learning-rate multiplier (the optimizer's current
 * learning rate times {@link #lrScale}) and, optionally, their own weight decay.
 *
 * <pre>{@code
 * // ConvNeXt-DCLS: positions and sigma at 5x the learning rate, without weight decay
 * ParamGroup weights = ParamGroup.weightsOf(conv);                     // weight and bias
 * ParamGroup spacings = ParamGroup.positionsOf(conv).lrScale(5).weightDecay(0);
 * // or, the same in one call:
 * List<ParamGroup> groups = ParamGroup.dcls(5, conv);
 * }</pre>
 *
 * <p>A group is configured before the optimizer is built; the optimizer copies the settings.
 */
public final class ParamGroup {
    private final List<Parameter> params;
    private double lrScale = 1.0;
    private Double weightDecay;

    private ParamGroup(List<Parameter> params) {
        this.params = params;
    }

    /** A group of these parameters (duplicates, by identity, are kept once). */
    public static ParamGroup of(Parameter... params) {
        return of(List.of(params));
    }

    /** A group of these parameters (duplicates, by identity, are kept once). */
    public static ParamGroup of(Collection<Parameter> params) {
        Objects.requireNonNull(params, "params");
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Parameter> list = new ArrayList<>();
        for (Parameter p : params) {
            Objects.requireNonNull(p, "a parameter is null");
            if (seen.add(p)) {
                list.add(p);
            }
        }
        return new ParamGroup(List.copyOf(list));
    }

    /** The weights and biases of the layers. */
    public static ParamGroup weightsOf(DclsConv... layers) {
        List<Parameter> list = new ArrayList<>();
        for (DclsConv layer : layers) {
            list.add(layer.weight());
            if (layer.bias() != null) {
                list.add(layer.bias());
            }
        }
        return of(list);
    }

    /**
     * The positions and sigmas of the layers (a sigma frozen with {@link DclsConv#freezeSigma} is
     * left out; shared positions are listed once).
     */
    public static ParamGroup positionsOf(DclsConv... layers) {
        List<Parameter> list = new ArrayList<>();
        for (DclsConv layer : layers) {
            list.add(layer.positions());
            if (layer.sigma() != null && !layer.sigmaFrozen()) {
                list.add(layer.sigma());
            }
        }
        return of(list);
    }

    /**
     * The usual DCLS split: {@link #weightsOf} with the optimizer's defaults, and
     * {@link #positionsOf} with {@code positionLrScale} times the learning rate and no weight decay
     * (ConvNeXt-DCLS uses 5, the spiking-delay work 100).
     */
    public static List<ParamGroup> dcls(double positionLrScale, DclsConv... layers) {
        return List.of(weightsOf(layers), positionsOf(layers).lrScale(positionLrScale).weightDecay(0));
    }

    /** Multiplier of the optimizer's learning rate for this group; default 1. */
    public ParamGroup lrScale(double scale) {
        if (!(scale >= 0) || Double.isInfinite(scale)) {
            throw new IllegalArgumentException("lrScale must be finite and >= 0, got " + scale);
        }
        this.lrScale = scale;
        return this;
    }

    /** This group's weight decay, instead of the optimizer's. */
    public ParamGroup weightDecay(double weightDecay) {
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
        }
        this.weightDecay = weightDecay;
        return this;
    }

    public List<Parameter> params() {
        return params;
    }

    public double lrScale() {
        return lrScale;
    }

    /** This group's weight decay, or null to use the optimizer's. */
    public Double weightDecay() {
        return weightDecay;
    }

    @Override
    public String toString() {
        return "ParamGroup" + params.stream().map(Parameter::name).toList() + "(lrScale=" + lrScale
                + (weightDecay == null ? "" : ", weightDecay=" + weightDecay) + ")";
    }
}
