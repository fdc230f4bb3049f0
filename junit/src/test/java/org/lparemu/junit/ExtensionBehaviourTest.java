package org.lparemu.junit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineExecutionResults;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.lparemu.client.ControlClient;
import org.lparemu.client.GuestConnection;
import org.lparemu.core.guest.GuestKernel;
import org.lparemu.core.guest.TopologyPolicy;
import org.lparemu.core.hypervisor.InProcessPort;
import org.lparemu.core.hypervisor.PartitionSpec;
import org.lparemu.core.hypervisor.Platform;
import org.lparemu.core.papr.HStatus;
import org.lparemu.core.papr.Hcall;
import org.lparemu.core.papr.Vas;
import org.lparemu.core.port.HcallResult;
import org.lparemu.server.EmbeddedDaemon;

/**
 * What the extension does to other tests, observed from outside: sample test classes (static nested, so neither
 * Surefire nor the Jupiter engine runs them on their own) are executed with the JUnit testkit and their outcomes
 * inspected. Above all: a test that passes on its own but leaves an invariant broken FAILS, and every failure
 * names its trace files, which exist.
 */
@Timeout(120)
class ExtensionBehaviourTest {
    private static final Pattern JSON_FILE = Pattern.compile("(\\S+\\.json) \\(Chrome JSON");
    private static final Pattern TEXT_FILE = Pattern.compile("and (\\S+\\.txt) \\(plain text\\)");

    /** A passing test that leaves a window open in the hypervisor that no guest window holds: a leak. */
    @LparemuTest
    static class LeaksAWindow {
        @Test
        void opensAWindowBehindTheKernelsBack(GuestKernel kernel, GuestConnection rogue) {
            HcallResult r = rogue.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1, Vas.DEFAULT_DOMAIN_ID);
            assertEquals(HStatus.H_SUCCESS, r.status());
        }
    }

    /** The same leak, with the oracles switched off. */
    @LparemuTest(checkInvariants = false)
    static class LeaksUnchecked {
        @Test
        void opensAWindowBehindTheKernelsBack(GuestKernel kernel, GuestConnection rogue) {
            assertEquals(HStatus.H_SUCCESS, rogue.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1,
                    Vas.DEFAULT_DOMAIN_ID).status());
        }
    }

    /** The leak in-process: no sockets, a second in-process port as the rogue. */
    @LparemuTest(transport = LparemuTest.Transport.IN_PROCESS)
    static class LeaksInProcess {
        @Test
        void opensAWindowBehindTheKernelsBack(GuestKernel kernel, Platform platform, Emulator emulator) {
            InProcessPort rogue = emulator.track(new InProcessPort(platform, "lpar1", "rogue", false));
            assertEquals(HStatus.H_SUCCESS, rogue.hcall(0, Hcall.H_ALLOCATE_VAS_WINDOW, Vas.WIN_TYPE_DEFAULT, 1,
                    Vas.DEFAULT_DOMAIN_ID).status());
        }
    }

    /**
     * A passing test that migrates a guest of the 65b9fdadfc4d era: the migration's associativity changes reach no
     * notifier, so the CPU map is stale; the same test in today's era (v5.9+, which keeps boot-time nodes by design)
     * passes.
     */
    @LparemuTest(transport = LparemuTest.Transport.IN_PROCESS)
    static class MigratesInTheScopeExtendedEra {
        @Test
        void migrates(@Guest(topology = TopologyPolicy.SCOPE_EXTENDED) GuestKernel kernel, Platform platform)
                throws Exception {
            long event = platform.migrate("lpar1", "").eventId();
            assertEquals(0, platform.awaitEvent(event, 20_000).get(30, TimeUnit.SECONDS).status());
        }

        @Test
        void migratesToday(@Guest GuestKernel kernel, Platform platform) throws Exception {
            long event = platform.migrate("lpar1", "").eventId();
            assertEquals(0, platform.awaitEvent(event, 20_000).get(30, TimeUnit.SECONDS).status());
        }
    }

    /** A test whose own assertion fails after some hypervisor traffic. */
    @LparemuTest
    static class FailsItsOwnAssertion {
        @Test
        void expectsTooMuch(GuestKernel kernel) {
            assertTrue(kernel.nxGzip().open(false, -1).ok());
            assertEquals(2, kernel.nxGzip().openHandles(), "the test's own message");
        }
    }

    /** Records which platform each method saw. */
    static final Map<String, Platform> SEEN = new ConcurrentHashMap<>();

    @LparemuTest(lifecycle = LparemuTest.Lifecycle.PER_CLASS)
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class SharesOnePlatform {
        @Test
        @Order(1)
        void first(Platform platform) {
            SEEN.put("shared.first", platform);
            platform.createPartition(PartitionSpec.named("extra"));
            assertEquals(2, platform.listPartitions().size());
        }

        @Test
        @Order(2)
        void second(Platform platform) {
            SEEN.put("shared.second", platform);
            assertEquals(List.of("lpar1"), platform.listPartitions().stream().map(s -> s.name()).toList(),
                    "reset between methods: the partition the first method created is gone");
        }

        @Test
        @Order(3)
        @LparemuTest
        void ownPlatform(Platform platform) {
            SEEN.put("shared.own", platform);
        }
    }

    @LparemuTest
    @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
    static class PlatformPerMethod {
        @Test
        @Order(1)
        void first(Platform platform) {
            SEEN.put("perMethod.first", platform);
        }

        @Test
        @Order(2)
        void second(Platform platform) {
            SEEN.put("perMethod.second", platform);
        }
    }

    @LparemuTest(transport = LparemuTest.Transport.IN_PROCESS)
    static class InProcessHasNoSockets {
        @Test
        void bootsAKernelWithoutADaemon(GuestKernel kernel, Emulator emulator) {
            assertFalse(emulator.socket());
            assertTrue(kernel.nxGzip().open(false, -1).ok());
            assertThrows(IllegalStateException.class, emulator::daemon);
        }

        @Test
        void cannotInjectAControlClient(ControlClient control) {
            // never runs: resolution fails
        }
    }

    /** Ports used by the parallel samples, and a barrier showing the classes really ran at the same time. */
    static final Set<Integer> PORTS = Collections.newSetFromMap(new ConcurrentHashMap<>());
    static final CountDownLatch TOGETHER = new CountDownLatch(2);

    @LparemuTest
    static class ParallelA {
        @Test
        void meetsB(GuestKernel kernel, EmbeddedDaemon ports) throws InterruptedException {
            ParallelSamples.run(kernel, ports);
        }
    }

    @LparemuTest
    static class ParallelB {
        @Test
        void meetsA(GuestKernel kernel, EmbeddedDaemon ports) throws InterruptedException {
            ParallelSamples.run(kernel, ports);
        }
    }

    @Test
    void aTestThatLeavesAnInvariantBrokenFailsAndItsTraceIsWritten() throws IOException {
        Throwable t = onlyFailure(run(LeaksAWindow.class));
        assertInstanceOf(LparemuExtension.InvariantViolation.class, t);
        String message = t.getMessage();
        assertTrue(message.contains("window-leak"), message);
        assertTrue(message.contains("no live guest window has it"), message);
        assertTraceFiles(message, "H_ALLOCATE_VAS_WINDOW");
    }

    @Test
    void theTopologyEraIsChosenPerGuestAndTheCpuAffinityOracleFailsTheTestThatLeftAMapStale() {
        EngineExecutionResults results = run(MigratesInTheScopeExtendedEra.class);
        results.testEvents().assertStatistics(s -> s.succeeded(1).failed(1));
        Throwable t = onlyFailure(results);
        assertInstanceOf(LparemuExtension.InvariantViolation.class, t);
        assertTrue(t.getMessage().contains("cpu-node-stale at lpar1/cpu 0") && t.getMessage().contains("SCOPE_EXTENDED"),
                t.getMessage());
    }

    @Test
    void theInProcessTransportRunsTheSameOracles() throws IOException {
        Throwable t = onlyFailure(run(LeaksInProcess.class));
        assertInstanceOf(LparemuExtension.InvariantViolation.class, t);
        assertTrue(t.getMessage().contains("window-leak"), t.getMessage());
        assertTraceFiles(t.getMessage(), "H_ALLOCATE_VAS_WINDOW");
    }

    @Test
    void checkInvariantsFalseLetsTheSameTestPass() {
        run(LeaksUnchecked.class).testEvents().assertStatistics(s -> s.succeeded(1).failed(0));
    }

    @Test
    void aTestsOwnFailureKeepsItsMessageAndCauseAndNamesTheTraceFiles() throws IOException {
        Throwable t = onlyFailure(run(FailsItsOwnAssertion.class));
        assertInstanceOf(LparemuExtension.TracedFailure.class, t);
        assertInstanceOf(AssertionError.class, t.getCause());
        assertTrue(t.getMessage().contains("the test's own message"), t.getMessage());
        assertTraceFiles(t.getMessage(), "H_ALLOCATE_VAS_WINDOW");
    }

    @Test
    void perClassSharesOnePlatformResetBetweenMethodsAndAMethodAnnotationGetsItsOwn() {
        run(SharesOnePlatform.class).testEvents().assertStatistics(s -> s.succeeded(3).failed(0));
        assertSame(SEEN.get("shared.first"), SEEN.get("shared.second"));
        assertNotEquals(SEEN.get("shared.first"), SEEN.get("shared.own"));
        assertTrue(SEEN.get("shared.first").isClosed(), "closed after the class");
        assertTrue(SEEN.get("shared.own").isClosed(), "closed after its method");
    }

    @Test
    void perMethodGivesEachMethodAFreshPlatform() {
        run(PlatformPerMethod.class).testEvents().assertStatistics(s -> s.succeeded(2).failed(0));
        assertNotEquals(SEEN.get("perMethod.first"), SEEN.get("perMethod.second"));
        assertTrue(SEEN.get("perMethod.first").isClosed() && SEEN.get("perMethod.second").isClosed());
    }

    @Test
    void inProcessBootsKernelsButRefusesSocketClients() {
        EngineExecutionResults r = run(InProcessHasNoSockets.class);
        r.testEvents().assertStatistics(s -> s.succeeded(1).failed(1));
        Throwable t = onlyFailure(r);
        assertTrue(t.getMessage().contains("IN_PROCESS"), t.getMessage());
    }

    @Test
    void testClassesRunInParallelEachOnItsOwnDaemon() {
        EngineExecutionResults r = EngineTestKit.engine("junit-jupiter")
                .configurationParameter("junit.jupiter.execution.parallel.enabled", "true")
                .configurationParameter("junit.jupiter.execution.parallel.mode.classes.default", "concurrent")
                .configurationParameter("junit.jupiter.execution.parallel.config.strategy", "fixed")
                .configurationParameter("junit.jupiter.execution.parallel.config.fixed.parallelism", "2")
                .selectors(selectClass(ParallelA.class), selectClass(ParallelB.class))
                .execute();
        r.testEvents().assertStatistics(s -> s.succeeded(2).failed(0));
        assertEquals(2, PORTS.size(), "two daemons, two guest ports: " + PORTS);
        assertEquals(0, TOGETHER.getCount());
    }

    @Test
    void fileNamesAreSafeAndDistinctPerInvocation() {
        Pattern safe = Pattern.compile("[A-Za-z0-9_.-]+");
        EngineExecutionResults r = run(FailsItsOwnAssertion.class);
        String message = onlyFailure(r).getMessage();
        Matcher m = JSON_FILE.matcher(message);
        assertTrue(m.find(), message);
        String name = Path.of(m.group(1)).getFileName().toString();
        assertTrue(safe.matcher(name).matches(), name);
        assertTrue(name.startsWith("FailsItsOwnAssertion.expectsTooMuch-"), name);
    }

    static EngineExecutionResults run(Class<?> sample) {
        return EngineTestKit.engine("junit-jupiter").selectors(selectClass(sample)).execute();
    }

    static Throwable onlyFailure(EngineExecutionResults r) {
        List<Event> failed = new ArrayList<>(r.testEvents().failed().list());
        assertEquals(1, failed.size(), "one failed test: " + failed);
        return failed.get(0).getPayload(TestExecutionResult.class).orElseThrow().getThrowable().orElseThrow();
    }

    /** The message names a Chrome JSON file and a text file; both exist and show {@code expected} in the trace. */
    static void assertTraceFiles(String message, String expected) throws IOException {
        Matcher json = JSON_FILE.matcher(message);
        Matcher text = TEXT_FILE.matcher(message);
        assertTrue(json.find() && text.find(), "the message names both files: " + message);
        Path jsonFile = Path.of(json.group(1));
        Path textFile = Path.of(text.group(1));
        assertTrue(jsonFile.startsWith(Path.of("target/lparemu").toAbsolutePath()), jsonFile.toString());
        String chrome = Files.readString(jsonFile, StandardCharsets.UTF_8);
        assertTrue(chrome.contains("\"traceEvents\"") && chrome.contains(expected), chrome);
        String listing = Files.readString(textFile, StandardCharsets.UTF_8);
        assertTrue(listing.contains(expected), listing);
    }

    /** What the parallel samples do: meet each other (so they overlap for real), note their port, open a window. */
    static final class ParallelSamples {
        private ParallelSamples() {
        }

        static void run(GuestKernel kernel, EmbeddedDaemon ports) throws InterruptedException {
            PORTS.add(ports.guestPort());
            TOGETHER.countDown();
            assertTrue(TOGETHER.await(30, TimeUnit.SECONDS), "the other class never ran at the same time");
            assertTrue(kernel.nxGzip().open(false, -1).ok());
        }
    }
}
