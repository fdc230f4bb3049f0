package org.lparemu.cli;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM and SIGINT as a request to stop: the long-running commands (serve, guest) shut down in order and exit 0,
 * rather than the JVM's default exit with 143 / 130 in the middle of their work.
 *
 * <p>{@code sun.misc.Signal} (module jdk.unsupported, present in every JDK) is the only API for this. It is reached
 * reflectively so that the build can treat javac's "internal proprietary API" warning, which no option suppresses,
 * as an error everywhere else. Without it (a JDK that lacks the module) the action runs as a shutdown hook.
 */
final class Signals {
    private Signals() {
    }

    /** Runs {@code action} on the first SIGTERM or SIGINT. */
    static void onTermination(Runnable action) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handlerType = Class.forName("sun.misc.SignalHandler");
            Object handler = Proxy.newProxyInstance(handlerType.getClassLoader(), new Class<?>[] {handlerType},
                    (proxy, method, args) -> switch (method.getName()) {
                        case "handle" -> {
                            action.run();
                            yield null;
                        }
                        case "hashCode" -> System.identityHashCode(proxy);
                        case "equals" -> proxy == args[0];
                        default -> "termination handler";
                    });
            Method handle = signal.getMethod("handle", signal, handlerType);
            for (String name : List.of("TERM", "INT")) {
                handle.invoke(null, signal.getConstructor(String.class).newInstance(name), handler);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            LoggerFactory.getLogger(Signals.class).debug("no sun.misc.Signal ({}); stopping from a shutdown hook", e.toString());
            Runtime.getRuntime().addShutdownHook(new Thread(action, "lparemu-shutdown"));
        }
    }
}
