package org.lparemu.junit;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.platform.commons.support.AnnotationSupport;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.PrrnPolicy;
import org.lparemu.core.guest.TopologyPolicy;
import org.lparemu.core.guest.VasPolicy;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.server.EmbeddedDaemon;
import org.opentest4j.TestAbortedException;

/**
 * The extension behind {@link LparemuTest}. Injectable test (and {@code @BeforeEach}/{@code @AfterEach}) method
 * parameters:
 * <ul>
 *   <li>{@link ControlClient}: a control connection to the daemon (SOCKET only);</li>
 *   <li>{@link GuestConnection}: a raw guest connection, bound as {@link Guest} says (SOCKET only);</li>
 *   <li>{@link GuestKernel}: a booted guest kernel with the policies {@link Guest} or {@link LparemuTest} choose;</li>
 *   <li>{@link Emulator}: the test's handle (platform, ports, more clients and guests, the oracles, the trace);</li>
 *   <li>{@link Platform} and {@link EmbeddedDaemon} (the latter SOCKET only);</li>
 *   <li>{@link Exploration}: the deterministic simulator's runner, to search a {@code SimScenario}'s schedules.</li>
 * </ul>
 * Each parameter gets its own client or kernel; all are closed after the test, once the oracles have run.
 *
 * <p>State lives in JUnit's extension stores (the class's for PER_CLASS, the method's otherwise), never in static
 * fields, so test classes may run in parallel, and so may the methods of a PER_METHOD class.
 */
public final class LparemuExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback, ParameterResolver, TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {
    /** System property: where trace files go; default {@code target/lparemu} (relative to the working directory). */
    public static final String TRACE_DIR_PROPERTY = "lparemu.junit.traceDir";
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LparemuExtension.class);
    private static final String CLASS_ENV = "classEnvironment";
    private static final String METHOD_ENV = "methodEnvironment";
    private static final String TEST = "test";

    /** The test's emulator plus whether its trace was written already (one failure, one pair of files). */
    private record TestState(Emulator emulator, Environment environment, AtomicBoolean traceWritten) {
    }

    /** Closes an environment when JUnit closes the store it sits in (also when a callback failed half-way). */
    private record Owned(Environment environment) implements AutoCloseable {
        @Override
        public void close() {
            environment.close();
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Optional<LparemuTest> settings = classSettings(context);
        if (settings.isPresent() && settings.get().lifecycle() == LparemuTest.Lifecycle.PER_CLASS) {
            Environment env = Environment.start(settings.get(), context.getRequiredTestClass());
            context.getStore(NS).put(CLASS_ENV, new Owned(env));
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        Owned owned = context.getStore(NS).remove(CLASS_ENV, Owned.class);
        if (owned != null) {
            owned.close();
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        Optional<LparemuTest> onMethod = context.getTestMethod()
                .flatMap(m -> AnnotationSupport.findAnnotation(m, LparemuTest.class));
        Environment env;
        if (onMethod.isPresent()) {
            env = startForMethod(context, onMethod.get());
        } else {
            Owned shared = classStore(context).get(CLASS_ENV, Owned.class);
            if (shared != null) {
                env = shared.environment();
            } else {
                LparemuTest settings = classSettings(context).orElseThrow(() -> new ExtensionConfigurationException(
                        "LparemuExtension needs @LparemuTest on the test class or method"));
                env = startForMethod(context, settings);
            }
        }
        Emulator emulator = new Emulator(env, testName(context));
        context.getStore(NS).put(TEST, new TestState(emulator, env, new AtomicBoolean()));
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        TestState state = context.getStore(NS).get(TEST, TestState.class);
        if (state == null) {
            return;
        }
        AssertionError violated = null;
        try {
            Optional<Throwable> failure = context.getExecutionException();
            if (failure.isEmpty() && state.environment().settings().checkInvariants()) {
                List<String> violations = state.emulator().checkInvariants();
                if (!violations.isEmpty()) {
                    String files = writeTrace(context, state);
                    violated = new InvariantViolation(violations.size() + " invariant violation(s) after "
                            + context.getDisplayName() + ":\n  " + String.join("\n  ", violations) + "\n" + files);
                }
            }
        } finally {
            List<Exception> closeFailures = state.emulator().closeAll();
            Owned own = context.getStore(NS).remove(METHOD_ENV, Owned.class);
            if (own != null) {
                own.close();
            } else {
                state.environment().reset();
            }
            if (violated != null) {
                closeFailures.forEach(violated::addSuppressed);
            }
        }
        if (violated != null) {
            throw violated;
        }
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
        throw withTrace(context, throwable);
    }

    @Override
    public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable throwable)
            throws Throwable {
        throw withTrace(context, throwable);
    }

    @Override
    public void handleAfterEachMethodExecutionException(ExtensionContext context, Throwable throwable)
            throws Throwable {
        throw withTrace(context, throwable);
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        if (!(parameter.getDeclaringExecutable() instanceof Method)) {
            return false;
        }
        Class<?> type = parameter.getParameter().getType();
        return type == ControlClient.class || type == GuestConnection.class || type == GuestKernel.class
                || type == Emulator.class || type == Platform.class || type == EmbeddedDaemon.class
                || type == Exploration.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        TestState state = context.getStore(NS).get(TEST, TestState.class);
        if (state == null) {
            throw new ParameterResolutionException("lparemu parameters are injected into test methods and their "
                    + "@BeforeEach/@AfterEach methods only (not @BeforeAll or constructors)");
        }
        Emulator emulator = state.emulator();
        Class<?> type = parameter.getParameter().getType();
        Optional<Guest> guest = parameter.findAnnotation(Guest.class);
        LparemuTest settings = state.environment().settings();
        String partition = guest.map(Guest::partition).filter(p -> !p.isEmpty()).orElse(settings.partition());
        try {
            if (type == Emulator.class) {
                return emulator;
            }
            if (type == Platform.class) {
                return emulator.platform();
            }
            if (type == EmbeddedDaemon.class) {
                return emulator.daemon();
            }
            if (type == Exploration.class) {
                return emulator.track(new Exploration(traceDir(), fileBase(context)));
            }
            if (type == ControlClient.class) {
                return emulator.control();
            }
            if (type == GuestConnection.class) {
                return emulator.connect(partition, guest.map(Guest::events).orElse(false));
            }
            VasPolicy vas = guest.map(Guest::vas).filter(v -> v.length > 0).map(v -> v[0]).orElse(settings.vasPolicy());
            PrrnPolicy prrn = guest.map(Guest::prrn).filter(v -> v.length > 0).map(v -> v[0])
                    .orElse(settings.prrnPolicy());
            TopologyPolicy topology = guest.map(Guest::topology).filter(v -> v.length > 0).map(v -> v[0])
                    .orElse(settings.topologyPolicy());
            return emulator.boot(partition, vas, prrn, topology);
        } catch (RuntimeException e) {
            throw new ParameterResolutionException("lparemu: cannot provide " + parameter.getParameter() + ": "
                    + e.getMessage(), e);
        }
    }

    private static Environment startForMethod(ExtensionContext context, LparemuTest settings) {
        Environment env = Environment.start(settings, context.getRequiredTestClass());
        context.getStore(NS).put(METHOD_ENV, new Owned(env));
        return env;
    }

    private static Optional<LparemuTest> classSettings(ExtensionContext context) {
        for (Optional<Class<?>> c = context.getTestClass(); c.isPresent(); c = Optional.ofNullable(c.get().getEnclosingClass())) {
            Optional<LparemuTest> found = AnnotationSupport.findAnnotation(c.get(), LparemuTest.class);
            if (found.isPresent()) {
                return found;
            }
        }
        return Optional.empty();
    }

    /** The class-level store, where a PER_CLASS environment lives. */
    private static ExtensionContext.Store classStore(ExtensionContext context) {
        ExtensionContext c = context;
        while (c.getParent().isPresent() && c.getTestMethod().isPresent()) {
            c = c.getParent().get();
        }
        return c.getStore(NS);
    }

    /** The failure, its message naming the trace files (a skipped test, an aborted assumption, stays as it is). */
    private static Throwable withTrace(ExtensionContext context, Throwable failure) {
        if (failure instanceof TestAbortedException || failure instanceof InvariantViolation) {
            return failure;
        }
        TestState state = context.getStore(NS).get(TEST, TestState.class);
        if (state == null) {
            return failure;
        }
        String files = writeTrace(context, state);
        if (files.isEmpty()) {
            return failure;
        }
        return new TracedFailure(failure, files);
    }

    /** Writes the trace once per test; the text naming the files, or empty when it was written already. */
    private static String writeTrace(ExtensionContext context, TestState state) {
        if (!state.traceWritten().compareAndSet(false, true)) {
            return "";
        }
        Path dir = traceDir();
        String base = fileBase(context);
        try {
            return "lparemu trace: " + state.emulator().writeTrace(dir, base);
        } catch (RuntimeException e) {
            return "lparemu trace: not written (" + e + ")";
        }
    }

    static Path traceDir() {
        return Path.of(System.getProperty(TRACE_DIR_PROPERTY, "target/lparemu"));
    }

    /** {@code Class.method-<hash of the unique id>}: distinct per invocation, stable across runs. */
    static String fileBase(ExtensionContext context) {
        String cls = context.getTestClass().map(Class::getSimpleName).orElse("test");
        String method = context.getTestMethod().map(Method::getName).orElse("class");
        return (cls + "." + method).replaceAll("[^A-Za-z0-9_.-]", "_") + "-"
                + String.format("%08x", context.getUniqueId().hashCode());
    }

    private static String testName(ExtensionContext context) {
        return context.getTestMethod().map(Method::getName).orElse(context.getDisplayName());
    }

    /** A test's own failure, its message extended by the trace files; the original is the cause. */
    static final class TracedFailure extends AssertionError {
        private static final long serialVersionUID = 1L;

        TracedFailure(Throwable original, String files) {
            super(original + "\n" + files, original);
            setStackTrace(original.getStackTrace());
        }
    }

    /** An invariant oracle failed after a test that passed on its own. */
    static final class InvariantViolation extends AssertionError {
        private static final long serialVersionUID = 1L;

        InvariantViolation(String message) {
            super(message);
        }
    }
}
