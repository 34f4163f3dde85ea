package org.lungnodules.training;

import java.util.SplittableRandom;

/**
 * Per-epoch shuffles that are pure functions of (seed, epoch, list): a resumed run, or a second
 * instance, computes the same order without any saved state. The two most recent epochs are kept
 * (a loop may prefetch the next epoch while the last batches of this one are filled), so memory
 * stays at 4 bytes per list element per kept epoch and does not grow.
 */
final class EpochOrder {

	private final long seed;
	private final long salt;
	private final int size;
	private int epochA = Integer.MIN_VALUE, epochB = Integer.MIN_VALUE;
	private int[] orderA, orderB;

	/** @param salt tells apart the lists of one source (positives, negatives…) so they shuffle independently */
	EpochOrder(long seed, long salt, int size) {
		this.seed = seed;
		this.salt = salt;
		this.size = size;
	}

	int size() { return size; }

	/** Element {@code i} (taken modulo the list size, so short lists cycle) of the epoch's order. */
	int at(int epoch, long i) {
		return order(epoch)[(int) Math.floorMod(i, (long) size)];
	}

	synchronized int[] order(int epoch) {
		if (epoch == epochA) return orderA;
		if (epoch == epochB) return orderB;
		int[] o = permutation(size, seed, epoch, salt);
		epochB = epochA;
		orderB = orderA;
		epochA = epoch;
		orderA = o;
		return o;
	}

	/** A Fisher-Yates shuffle of 0..n-1 from a generator seeded by (seed, epoch, salt). */
	static int[] permutation(int n, long seed, int epoch, long salt) {
		SplittableRandom rng = Augmentation.sampleRandom(seed ^ Augmentation.mix(salt), epoch, -1);
		int[] p = new int[n];
		for (int i = 0; i < n; i++) p[i] = i;
		for (int i = n - 1; i > 0; i--) {
			int j = rng.nextInt(i + 1);
			int t = p[i];
			p[i] = p[j];
			p[j] = t;
		}
		return p;
	}
}
