package io.dcls4j.cli.train;

import io.dcls4j.Parameter;
import io.dcls4j.nn.Module;
import io.dcls4j.optim.AdamW;
import io.dcls4j.optim.LrSchedule;
import io.dcls4j.optim.ParamGroup;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The ConvNeXt-dcls recipe's parameter groups for AdamW: weights of two or more dimensions with weight decay;
 * biases, norms and layer scales (one dimension) without, as timm does; DCLS positions and sigmas at a larger
 * learning rate without weight decay (and clamped after each step by the caller).
 */
public final class TrainingRecipe {
    private TrainingRecipe() {}

    /** Whether a state-dict name is a DCLS position or sigma. */
    static boolean isPosition(String name) {
        return name.endsWith(".P") || name.endsWith(".SIG");
    }

    public static AdamW optimizer(Module model, double lr, double weightDecay, double positionLrScale,
                                  LrSchedule schedule) {
        List<Parameter> decayed = new ArrayList<>();
        List<Parameter> plain = new ArrayList<>();
        List<Parameter> positions = new ArrayList<>();
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Parameter p = e.getValue();
            if (isPosition(e.getKey())) {
                positions.add(p);
            } else if (p.value().rank() >= 2) {
                decayed.add(p);
            } else {
                plain.add(p);
            }
        }
        AdamW.Builder b = AdamW.builder().lr(lr).weightDecay(weightDecay).schedule(schedule)
                .group(ParamGroup.of(decayed))
                .group(ParamGroup.of(plain).weightDecay(0));
        if (!positions.isEmpty()) {
            b.group(ParamGroup.of(positions).lrScale(positionLrScale).weightDecay(0));
        }
        return b.build();
    }

    /** Trainable parameters: every element of every parameter, each parameter once. */
    public static long parameterCount(Module model) {
        long n = 0;
        for (Parameter p : model.namedParameters().values()) {
            n += p.value().elementCount();
        }
        return n;
    }
}
