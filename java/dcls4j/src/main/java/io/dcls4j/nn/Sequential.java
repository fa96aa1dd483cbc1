package io.dcls4j.nn;

import io.dcls4j.Parameter;
import io.dcls4j.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * torch.nn.Sequential: children run in order, backward in reverse. Each child has a name that prefixes its
 * parameters' names ("0", "1", ... by default, as torch); a child added under the empty name contributes its
 * names unprefixed (ConvNeXt's gamma sits on the block itself). The Sequential owns its children: closing it
 * closes them.
 */
public final class Sequential implements Module {
    private final List<String> names = new ArrayList<>();
    private final List<Module> children = new ArrayList<>();
    private boolean closed;

    /** Children named "0", "1", ... */
    public static Sequential of(Module... modules) {
        Sequential s = new Sequential();
        for (Module m : modules) {
            s.add(String.valueOf(s.children.size()), m);
        }
        return s;
    }

    /** Appends {@code module} under {@code name} (unique; "" for no prefix). */
    public Sequential add(String name, Module module) {
        ensureOpen();
        if (name == null || module == null) {
            throw new IllegalArgumentException("Sequential.add: name and module must not be null");
        }
        if (!name.isEmpty() && names.contains(name)) {
            throw new IllegalArgumentException("Sequential.add: a child is already named " + name);
        }
        names.add(name);
        children.add(module);
        return this;
    }

    /** Appends {@code module} under the next index. */
    public Sequential add(Module module) {
        return add(String.valueOf(children.size()), module);
    }

    public List<Module> children() {
        return Collections.unmodifiableList(children);
    }

    /** The child at {@code index}. */
    public Module get(int index) {
        return children.get(index);
    }

    @Override
    public Tensor forward(Tensor x) {
        ensureOpen();
        Tensor t = x;
        for (int i = 0; i < children.size(); i++) {
            t = children.get(i).forward(t);
        }
        return t;
    }

    @Override
    public Tensor backward(Tensor gradY) {
        ensureOpen();
        Tensor g = gradY;
        for (int i = children.size() - 1; i >= 0; i--) {
            g = children.get(i).backward(g);
        }
        return g;
    }

    @Override
    public Map<String, Parameter> namedParameters() {
        ensureOpen();
        return Collections.unmodifiableMap(collect(names, children));
    }

    @Override
    public Map<String, Tensor> namedBuffers() {
        ensureOpen();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < children.size(); i++) {
            String prefix = prefix(names.get(i));
            children.get(i).namedBuffers().forEach((k, v) -> out.put(prefix + k, v));
        }
        return Collections.unmodifiableMap(out);
    }

    /** The parameters of named children, prefixed, each parameter once under its first name (torch's order). */
    static Map<String, Parameter> collect(List<String> names, List<? extends Module> modules) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int i = 0; i < modules.size(); i++) {
            String prefix = prefix(names.get(i));
            for (var e : modules.get(i).namedParameters().entrySet()) {
                if (seen.add(e.getValue())) {
                    out.put(prefix + e.getKey(), e.getValue());
                }
            }
        }
        return out;
    }

    static String prefix(String name) {
        return name.isEmpty() ? "" : name + ".";
    }

    @Override
    public void zeroGrad() {
        ensureOpen();
        for (int i = 0; i < children.size(); i++) {
            children.get(i).zeroGrad();
        }
    }

    @Override
    public Module train() {
        ensureOpen();
        children.forEach(Module::train);
        return this;
    }

    @Override
    public Module eval() {
        ensureOpen();
        children.forEach(Module::eval);
        return this;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("Sequential is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Module m : children) {
            m.close();
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Sequential(");
        for (int i = 0; i < children.size(); i++) {
            b.append(i == 0 ? "" : ", ").append(names.get(i).isEmpty() ? "" : names.get(i) + "=").append(children.get(i));
        }
        return b.append(')').toString();
    }
}
