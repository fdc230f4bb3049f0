package org.lparemu.fraybench;

import java.util.ArrayList;
import java.util.Random;
import org.pastalab.fray.core.randomness.ControlledRandom;
import org.pastalab.fray.core.randomness.Randomness;
import org.pastalab.fray.core.randomness.RandomnessProvider;

/**
 * Fray's randomness, seeded: Fray's own provider draws from an unseeded {@link Random}, so a campaign could not be
 * repeated. Every iteration of one campaign draws from the one generator seeded here, so (scheduler, seed) fixes the
 * sequence of schedules Fray tries, as far as Fray itself is deterministic.
 */
final class SeededRandomness implements RandomnessProvider {
    private final Random rng;

    SeededRandomness(long seed) {
        this.rng = new Random(seed);
    }

    @Override
    public Randomness getRandomness() {
        return new ControlledRandom(new ArrayList<>(), new ArrayList<>(), rng);
    }
}
