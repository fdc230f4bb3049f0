package org.lparemu.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.codegen.docgen.manpage.ManPageGenerator;

/**
 * {@code lparemu shell-support}: installs bash/zsh completion and the man pages, both generated from the picocli
 * model of the command line (so they can never disagree with {@code --help}). The completion script is picocli's
 * {@link AutoComplete}; the man pages are picocli-codegen's {@link ManPageGenerator} AsciiDoc, turned into troff by
 * {@code asciidoctor -b manpage} (Debian package {@code asciidoctor}) when it is installed, else left as AsciiDoc.
 */
@Command(name = "shell-support", mixinStandardHelpOptions = true,
        description = "Install shell completion (bash, and zsh through bashcompinit) and man pages, generated from "
                + "this command line. Default: under ~/.local, where bash-completion and man look without setup.")
final class ShellSupportCommand implements Callable<Integer> {
    /** How long asciidoctor may take for all pages. */
    static final long ASCIIDOCTOR_TIMEOUT_S = 120;

    @Option(names = "--prefix", paramLabel = "DIR", description = "Install under DIR: DIR/share/bash-completion/"
            + "completions/lparemu and DIR/share/man/man1/lparemu*.1 (default: ~/.local).")
    Path prefix;

    @Option(names = "--completion-only", description = "Print the completion script to standard output; install nothing.")
    boolean printCompletion;

    @Option(names = "--asciidoctor", paramLabel = "PROGRAM", description = "The asciidoctor to render man pages with "
            + "(default: asciidoctor on the PATH; 'none' keeps the AsciiDoc sources).")
    String asciidoctor = "asciidoctor";

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        CommandLine root = LparemuCli.commandLine();
        if (printCompletion) {
            out.print(completion(root));
            out.flush();
            return 0;
        }
        Path base = prefix != null ? prefix : Path.of(System.getProperty("user.home"), ".local");
        Path completionFile = base.resolve("share/bash-completion/completions/lparemu");
        Files.createDirectories(completionFile.getParent());
        Files.writeString(completionFile, completion(root), StandardCharsets.UTF_8);
        out.printf("completion: %s (new shells load it; in this one: source %s)%n", completionFile, completionFile);

        Path man1 = base.resolve("share/man/man1");
        Path adocDir = base.resolve("share/lparemu/man");
        List<Path> pages = manPages(root, adocDir);
        List<Path> rendered = render(pages, man1, out);
        if (rendered.isEmpty()) {
            out.printf("man pages: %d AsciiDoc sources in %s; install asciidoctor (apt-get install asciidoctor) and run "
                    + "this again to get 'man lparemu'%n", pages.size(), adocDir);
        } else {
            out.printf("man pages: %d in %s (man lparemu, man lparemu-serve, ...; if man does not find them, add %s to "
                    + "MANPATH)%n", rendered.size(), man1, base.resolve("share/man"));
        }
        out.flush();
        return 0;
    }

    /** The bash completion script for the whole command tree. */
    static String completion(CommandLine root) {
        return AutoComplete.bash("lparemu", root);
    }

    /** One AsciiDoc man page per command and subcommand, written to {@code dir}; returns them. */
    static List<Path> manPages(CommandLine root, Path dir) throws IOException {
        Files.createDirectories(dir);
        int rc = ManPageGenerator.generateManPage(dir.toFile(), null, new boolean[0], false, root.getCommandSpec());
        if (rc != 0) {
            throw new LparemuCli.CliException("the man page generator failed (status " + rc + ")");
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".adoc")).sorted().toList();
        }
    }

    /** Renders {@code pages} to troff in {@code man1} with asciidoctor; empty when there is none to run. */
    List<Path> render(List<Path> pages, Path man1, PrintWriter out) throws IOException, InterruptedException {
        if (asciidoctor.equals("none") || pages.isEmpty()) {
            return List.of();
        }
        Files.createDirectories(man1);
        List<String> cmd = new ArrayList<>(List.of(asciidoctor, "-b", "manpage", "-D", man1.toString()));
        pages.forEach(p -> cmd.add(p.toString()));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return List.of(); // not installed
        }
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(ASCIIDOCTOR_TIMEOUT_S, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            out.printf("asciidoctor failed: %s%n", log.strip());
            return List.of();
        }
        List<Path> rendered = new ArrayList<>();
        for (Path page : pages) {
            String name = page.getFileName().toString();
            Path troff = man1.resolve(name.substring(0, name.length() - ".adoc".length()) + ".1");
            if (Files.isRegularFile(troff)) {
                rendered.add(troff);
            }
        }
        return rendered;
    }
}
