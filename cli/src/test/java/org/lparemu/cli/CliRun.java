package org.lparemu.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One CLI invocation in-process: its exit status and what it printed. Shared by the CLI's tests. */
record CliRun(int code, String out, String err) {
    static CliRun of(String... args) {
        CommandLine cl = LparemuCli.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
