package io.dcls4j.cli;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The Vector API ({@code jdk.incubator.vector}) for the bench's pure-Java rows. {@code java -jar} ignores a
 * manifest's {@code Add-Modules}, so a JVM started plainly lacks the module, and the first Vector API class
 * would die with {@code NoClassDefFoundError}. The command line therefore re-launches itself once with
 * {@code --add-modules jdk.incubator.vector} for the commands that use it; where that cannot be done (a runtime
 * without the module), those rows are left out with a note instead.
 */
final class VectorModule {
    static final String NAME = "jdk.incubator.vector";
    private static final String RELAUNCHED = "dcls4j.relaunched";

    private VectorModule() {}

    /** Whether this JVM resolved the Vector API module. */
    static boolean present() {
        return ModuleLayer.boot().findModule(NAME).isPresent();
    }

    /** Whether this runtime has the module at all (then a re-launch with the flag can use it). */
    static boolean installed() {
        return java.lang.module.ModuleFinder.ofSystem().find(NAME).isPresent();
    }

    /** Whether {@code args} run a command that uses the Vector API (bench, but not its help). */
    static boolean wanted(String[] args) {
        if (args.length == 0 || !args[0].equals("bench")) {
            return false;
        }
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) {
                return false;
            }
        }
        return true;
    }

    /**
     * Runs this command line again in a child JVM with the module added, and returns its exit code; or -1
     * when no re-launch applies (module already there, not installed, or this is the re-launched JVM).
     */
    static int relaunchIfNeeded(String[] args) {
        if (!wanted(args) || present() || !installed() || Boolean.getBoolean(RELAUNCHED)) {
            return -1;
        }
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.add("--add-modules");
        cmd.add(NAME);
        cmd.add("--enable-native-access=ALL-UNNAMED");
        for (String jvmArg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!jvmArg.startsWith("--add-modules") && !jvmArg.startsWith("--enable-native-access")) {
                cmd.add(jvmArg);
            }
        }
        cmd.add("-D" + RELAUNCHED + "=true");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(List.of(args));
        try {
            return new ProcessBuilder(cmd).inheritIO().start().waitFor();
        } catch (java.io.IOException e) {
            return -1;  // run here without the Vector API rows
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.FAILURE;
        }
    }
}
