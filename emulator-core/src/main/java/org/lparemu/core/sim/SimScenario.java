package org.lparemu.core.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.lparemu.core.hypervisor.PlatformConfig;

/**
 * A race to explore, declared as actors rather than holds: guest tasks (a task opening a window), operator actions
 * (a migration, a PRRN, a DLPAR core removal), a deterministic setup before them, the oracles to watch and a
 * one-line outcome. The explorer runs the actors concurrently under its scheduler; which interleaving happens is
 * the strategy's choice, never the scenario's.
 *
 * <pre>{@code
 * SimScenario s = SimScenario.named("open-vs-migration")
 *         .guestTask("opener", w -> w.nx().open(false, 0))
 *         .operator("hmc", SimWorld::migrate)
 *         .build();
 * }</pre>
 */
public final class SimScenario {
    /** Which guest policy family the scenario is about (the explorer varies that one). */
    public enum Axis { VAS, PRRN }

    /** An actor's body or a setup step; runs inside the simulation. */
    @FunctionalInterface
    public interface Action {
        void run(SimWorld w) throws Exception;
    }

    /** An actor: a guest task (runs kernel code on a vCPU) or an operator (outside the partition). */
    public record Actor(String name, boolean guest, Action body) {
    }

    private final String id;
    private final String title;
    private final Axis axis;
    private final PlatformConfig config;
    private final List<Action> setup;
    private final List<Actor> actors;
    private final List<SimOracle> oracles;
    private final Function<SimWorld, String> outcome;

    private SimScenario(Builder b) {
        this.id = b.id;
        this.title = b.title;
        this.axis = b.axis;
        this.config = b.config;
        this.setup = List.copyOf(b.setup);
        this.actors = List.copyOf(b.actors);
        this.oracles = List.copyOf(b.oracles);
        this.outcome = b.outcome;
    }

    public static Builder named(String id) {
        return new Builder(id);
    }

    public String id() {
        return id;
    }

    public String title() {
        return title;
    }

    public Axis axis() {
        return axis;
    }

    public PlatformConfig config() {
        return config;
    }

    public List<Action> setup() {
        return setup;
    }

    public List<Actor> actors() {
        return actors;
    }

    public List<SimOracle> oracles() {
        return oracles;
    }

    /** The run's outcome in a few words, read at quiescence. */
    public String outcome(SimWorld w) {
        return outcome.apply(w);
    }

    @Override
    public String toString() {
        return id + " (" + actors.size() + " actors)";
    }

    /** Builds a scenario; every actor needs a distinct name. */
    public static final class Builder {
        private final String id;
        private String title;
        private Axis axis = Axis.VAS;
        private PlatformConfig config = SimWorld.DEFAULT_CONFIG;
        private final List<Action> setup = new ArrayList<>();
        private final List<Actor> actors = new ArrayList<>();
        private final List<SimOracle> oracles = new ArrayList<>();
        private Function<SimWorld, String> outcome = SimWorld::summary;

        private Builder(String id) {
            this.id = Objects.requireNonNull(id, "id");
            this.title = id;
        }

        public Builder title(String t) {
            this.title = t;
            return this;
        }

        public Builder axis(Axis a) {
            this.axis = a;
            return this;
        }

        /** The platform: systems, limits, hypervisor options; must define the partition {@value SimWorld#PARTITION}. */
        public Builder config(PlatformConfig c) {
            this.config = c;
            return this;
        }

        /** A step after the guest booted and before any actor starts, run by the boot task; not interleaved. */
        public Builder setup(Action a) {
            setup.add(a);
            return this;
        }

        /** A user task of the guest: its system calls run kernel code on a vCPU. */
        public Builder guestTask(String name, Action body) {
            return actor(new Actor(name, true, body));
        }

        /** An operator action from outside the partition (the HMC): migrate, PRRN, DLPAR, QoS. */
        public Builder operator(String name, Action body) {
            return actor(new Actor(name, false, body));
        }

        private Builder actor(Actor a) {
            for (Actor other : actors) {
                if (other.name().equals(a.name())) {
                    throw new IllegalArgumentException("two actors named " + a.name());
                }
            }
            actors.add(a);
            return this;
        }

        /** An oracle beyond the built-in ones. */
        public Builder oracle(SimOracle o) {
            oracles.add(o);
            return this;
        }

        /** The outcome line (default: {@link SimWorld#summary}). */
        public Builder outcome(Function<SimWorld, String> f) {
            this.outcome = f;
            return this;
        }

        public SimScenario build() {
            if (actors.isEmpty()) {
                throw new IllegalStateException("scenario " + id + " has no actor");
            }
            return new SimScenario(this);
        }
    }
}
