package io.dcls4j.nn;

import io.dcls4j.DclsConv;
import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A ConvNeXt-DCLS stage: blocks in sequence whose DCLS layers share one P (the first block's), while each
 * keeps its own weight, bias and SIG, as the official code (it assigns one P to every block's Dcls2d). The
 * tie: before each forward the shared P is copied into the other blocks' P, and after each backward their P
 * gradients are added into the shared one's (oneDNN binary add) and cleared. named parameters list P once,
 * under block 0. Blocks with a dense or dilated depthwise convolution have no P: the stage is then their sequence.
 */
final class TiedStage implements Module {
    private final List<ConvNeXtBlock> blocks;
    private final Sequential sequence;
    private final Parameter shared;
    private final NnOps ops;
    private final NativePlan add;

    TiedStage(List<ConvNeXtBlock> blocks) {
        this.blocks = List.copyOf(blocks);
        this.sequence = new Sequential();
        for (ConvNeXtBlock b : blocks) {
            sequence.add(b);
        }
        DclsConv first = blocks.get(0).dcls();
        this.shared = first == null ? null : first.positions();
        this.ops = first == null ? null : NnOps.of(shared.value().device());
        this.add = first == null ? null : Broadcast.add(ops, shared.value().shape());
    }

    List<ConvNeXtBlock> blocks() {
        return blocks;
    }

    /** The stage's P, in dcls4j's layout; null without DCLS. */
    Parameter positions() {
        return shared;
    }

    @Override
    public Tensor forward(Tensor x) {
        for (int j = 1; shared != null && j < blocks.size(); j++) {
            blocks.get(j).dcls().positions().value().copyFrom(shared.value());
        }
        return sequence.forward(x);
    }

    @Override
    public Tensor backward(Tensor gradY) {
        Tensor g = sequence.backward(gradY);
        for (int j = 1; shared != null && j < blocks.size(); j++) {
            Tensor other = blocks.get(j).dcls().positions().grad();
            ops.binary(add, shared.grad(), other, shared.grad());
            other.fill(0f);
        }
        return g;
    }

    @Override
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        for (int j = 0; j < blocks.size(); j++) {
            for (var e : blocks.get(j).namedParameters().entrySet()) {
                if (j == 0 || !e.getKey().equals("dwconv.P")) {
                    out.put(j + "." + e.getKey(), e.getValue());
                }
            }
        }
        return Collections.unmodifiableMap(out);
    }

    @Override
    public void zeroGrad() {
        sequence.zeroGrad();
    }

    @Override
    public Module train() {
        sequence.train();
        return this;
    }

    @Override
    public Module eval() {
        sequence.eval();
        return this;
    }

    /** Clamps the shared P as the official clamp_parameters (the others are copies of it). */
    void clampPositions() {
        if (shared != null) {
            blocks.get(0).dcls().clampPositions();
        }
    }

    @Override
    public void close() {
        sequence.close();
        if (add != null) {
            add.close();
        }
    }
}
