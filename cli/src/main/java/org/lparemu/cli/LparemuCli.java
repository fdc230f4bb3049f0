package org.lparemu.cli;

import ch.qos.logback.classic.Level;
import java.util.concurrent.Callable;
import org.lparemu.kernel.matrix.KernelCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./lparemu}: the daemon, the control client, the guest kernel process and the demo. */
@Command(name = "lparemu", mixinStandardHelpOptions = true, version = "lparemu 0.1.0 (protocol v1)",
        description = "Userspace emulator of an IBM PowerVM partition: PAPR hypervisor daemon, guest kernel, "
                + "control client.",
        subcommands = {ServeCommand.class, CtlCommand.class, GuestCommand.class, DemoCommand.class, ExploreCommand.class,
                KernelCommand.class, TraceConvertCommand.class, ShellSupportCommand.class,
                CommandLine.HelpCommand.class})
public final class LparemuCli implements Callable<Integer> {

    @Option(names = "--log-level", description = "Root log level: ERROR, WARN, INFO, DEBUG, TRACE (default INFO "
            + "for serve, WARN otherwise).", scope = CommandLine.ScopeType.INHERIT)
    void setLogLevel(String level) {
        System.setProperty("lparemu.log.level.set", level);
        setRootLevel(Level.toLevel(level, Level.INFO));
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    static void setRootLevel(Level level) {
        ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME)).setLevel(level);
    }

    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new LparemuCli());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("lparemu: " + (ex.getMessage() != null ? ex.getMessage() : ex.toString()));
            return ex instanceof CliException c ? c.exitCode : 1;
        });
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** A failure to report to the user as one line, with an exit status. */
    public static final class CliException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        public CliException(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }

        public CliException(String message) {
            this(message, 1);
        }
    }
}
