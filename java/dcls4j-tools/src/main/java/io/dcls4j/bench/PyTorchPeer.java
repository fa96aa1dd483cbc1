package io.dcls4j.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Times the original PyTorch DCLS through the project's peer script (a separate Python process), so
 * that its numbers come from the same run as ours. The reference itself is not part of dcls4j.
 */
final class PyTorchPeer {
    private static final Pattern RESULT =
            Pattern.compile("construct_ms ([0-9.]+) forward_ms ([0-9.]+) fwdbwd_ms ([0-9.]+)");

    private PyTorchPeer() {}

    static BenchCommand.Result time(String python, Path script, Path source, BenchCase c, int reps, int warmup,
                                    int threads) {
        List<String> cmd = new ArrayList<>(List.of(python, script.toString(),
                "--version", c.interpolation().referenceName(),
                "--cin", String.valueOf(c.inChannels()), "--cout", String.valueOf(c.outChannels()),
                "--groups", String.valueOf(c.groups()), "--kernel-count", String.valueOf(c.kernelCount()),
                "--reps", String.valueOf(reps), "--warmup", String.valueOf(warmup),
                "--threads", String.valueOf(threads)));
        cmd.add("--dks");
        for (int v : c.dilatedKernelSize()) {
            cmd.add(String.valueOf(v));
        }
        cmd.add("--padding");
        for (int v : c.padding()) {
            cmd.add(String.valueOf(v));
        }
        cmd.add("--input");
        for (long v : c.inputShape()) {
            cmd.add(String.valueOf(v));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DCLS_SRC", source.toString());
        String output;
        try {
            Process p = pb.start();
            output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) {
                throw new IllegalStateException("the PyTorch peer failed: " + output);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run the PyTorch peer: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        Matcher m = RESULT.matcher(output);
        if (!m.find()) {
            throw new IllegalStateException("unexpected output from the PyTorch peer: " + output);
        }
        return new BenchCommand.Result(c.name(), "PyTorch DCLS reference (torch, CPU)",
                Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3)));
    }
}
