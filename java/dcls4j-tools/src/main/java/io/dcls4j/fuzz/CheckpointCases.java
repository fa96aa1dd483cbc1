package io.dcls4j.fuzz;

import io.dcls4j.DclsConv;
import io.dcls4j.Parameter;
import io.dcls4j.checkpoint.Checkpoint;
import io.dcls4j.optim.AdamW;
import io.dcls4j.optim.ParamGroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * Checkpoints: round trips (with shared positions and an optimizer) must restore every value exactly;
 * corrupted, truncated or mismatched files must be refused (IOException or IllegalArgumentException, with a
 * message) and leave the layers as they were, or load (a flipped bit in safetensors data is still a file).
 */
final class CheckpointCases {
    private CheckpointCases() {}

    static FuzzCase make(long seed, SplittableRandom r) {
        LayerCases.Config c = LayerCases.valid(r);
        boolean npz = r.nextBoolean();
        boolean share = r.nextBoolean();
        int damage = r.nextInt(3) == 0 ? -1 : r.nextInt(5);
        String d = (npz ? ".npz" : ".safetensors") + (share ? " shared positions" : "")
                + (damage >= 0 ? " damage #" + damage : " round trip") + " of " + c;
        return new FuzzCase(seed, "checkpoint", d, damage < 0 ? FuzzCase.Expect.VALID : FuzzCase.Expect.EITHER, () -> {
            Path dir = Files.createTempDirectory("dcls4j-fuzz");
            try (DclsConv a = c.builder(seed).build();
                 DclsConv b = share ? c.builder(seed + 1).sharePositionsWith(a).build() : c.builder(seed + 1).build();
                 AdamW opt = AdamW.builder().groups(ParamGroup.dcls(5, a, b)).build();
                 DclsConv a2 = c.builder(seed + 2).build();
                 DclsConv b2 = share ? c.builder(seed + 3).sharePositionsWith(a2).build() : c.builder(seed + 3).build();
                 AdamW opt2 = AdamW.builder().groups(ParamGroup.dcls(5, a2, b2)).build()) {
                for (Parameter p : opt.parameters()) {
                    p.grad().copyFrom(LayerCases.random(r, (int) p.grad().elementCount()));
                }
                opt.step();
                Path file = dir.resolve("model" + (npz ? ".npz" : ".safetensors"));
                // Map.of: its iteration order changes from JVM to JVM, which the names must not depend on
                Checkpoint.save(file, Map.of("first", a, "second", b), opt);
                Map<String, float[]> before = snapshot(Map.of("first", a2, "second", b2), opt2);
                if (damage >= 0) {
                    damageFile(file, damage, r);
                }
                try {
                    Checkpoint.load(file, Map.of("second", b2, "first", a2), opt2);
                } catch (IOException | IllegalArgumentException e) {
                    if (damage < 0 || !Clear.isClear(e, true)) {
                        throw e;
                    }
                    Map<String, float[]> after = snapshot(Map.of("first", a2, "second", b2), opt2);
                    for (String k : before.keySet()) {
                        Wrong.check("a refused load changed " + k, Arrays.equals(before.get(k), after.get(k)));
                    }
                    throw e; // a proper refusal
                }
                if (damage < 0) {
                    Map<String, float[]> want = snapshot(Map.of("first", a, "second", b), opt);
                    Map<String, float[]> got = snapshot(Map.of("first", a2, "second", b2), opt2);
                    for (String k : want.keySet()) {
                        Wrong.check("round trip of " + k, Arrays.equals(want.get(k), got.get(k)));
                    }
                    Wrong.check("step count", opt2.steps() == opt.steps());
                }
            } finally {
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        });
    }

    private static Map<String, float[]> snapshot(Map<String, DclsConv> layers, AdamW opt) {
        Map<String, float[]> out = new LinkedHashMap<>();
        Checkpoint.stateDict(layers, opt).forEach((k, t) -> out.put(k, t.toFloatArray()));
        return out;
    }

    private static void damageFile(Path file, int how, SplittableRandom r) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        switch (how) {
            case 0 -> Files.write(file, Arrays.copyOf(bytes, r.nextInt(bytes.length))); // truncated
            case 1 -> { // bytes flipped anywhere
                for (int i = 0, n = 1 + r.nextInt(8); i < n; i++) {
                    bytes[r.nextInt(bytes.length)] ^= (byte) (1 << r.nextInt(8));
                }
                Files.write(file, bytes);
            }
            case 2 -> { // a stretch of the header or directory overwritten
                int at = r.nextBoolean() ? r.nextInt(Math.min(bytes.length, 256)) : Math.max(0, bytes.length
                        - 1 - r.nextInt(Math.min(bytes.length, 200)));
                List<Byte> junk = new ArrayList<>();
                for (int i = 0; i < 1 + r.nextInt(16) && at + i < bytes.length; i++) {
                    bytes[at + i] = (byte) r.nextInt(256);
                    junk.add(bytes[at + i]);
                }
                Files.write(file, bytes);
            }
            case 3 -> Files.write(file, new byte[r.nextInt(64)]); // empty or zeros
            default -> { // garbage appended
                byte[] more = Arrays.copyOf(bytes, bytes.length + 1 + r.nextInt(100));
                Files.write(file, more);
            }
        }
    }
}
