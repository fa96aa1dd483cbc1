package io.dcls4j.cli;

import io.dcls4j.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * The {@code dcls4j} command line, the jar's Main-Class: {@code train}, {@code demo}, {@code bench} and {@code info}.
 *
 * <p>Exit codes: {@value #OK} success; {@value #FAILURE} failure (an error, or the demo missing its
 * target); {@value #USAGE} usage error (unknown subcommand or option, bad value).
 */
@Command(name = "dcls4j", mixinStandardHelpOptions = true, versionProvider = Versions.class,
        description = "Dilated Convolution with Learnable Spacings (DCLS) on the CPU: a native core (oneDNN)"
                + " behind a zero-copy Java API.",
        subcommands = {TrainCommand.class, DemoCommand.class, BenchCommand.class, InfoCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:failure (an error, or the demo missed its target)",
                "2:usage error (unknown subcommand or option, bad value)"})
public final class Main implements Callable<Integer> {
    public static final int OK = 0;
    public static final int FAILURE = 1;
    public static final int USAGE = 2;

    @Spec
    CommandSpec spec;

    /** Without a subcommand: the usage, and exit code 2. */
    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        err.println("Missing subcommand.");
        spec.commandLine().usage(err);
        return USAGE;
    }

    /** The configured command line: errors in a command print one line and give exit code 1. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            err.println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (Boolean.getBoolean("dcls4j.debug")) {
                ex.printStackTrace(err);
            }
            err.flush();
            return FAILURE;
        });
        return cl;
    }

    /** Runs the command line in this JVM and returns its exit code (0, 1 or 2). */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    public static void main(String[] args) {
        int relaunched = VectorModule.relaunchIfNeeded(args);
        System.exit(relaunched >= 0 ? relaunched : execute(args));
    }
}
