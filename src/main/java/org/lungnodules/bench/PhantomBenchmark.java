package org.lungnodules.bench;

import java.io.PrintStream;
import java.util.Map;
import org.lungnodules.phantom.ChestPhantom;

/**
 * Times phantom generation: one CT of the default size (128x256x256) and one of LUNA16 size
 * (250x512x512), single-threaded. Options: {@code seed} (default 1), {@code repeats} (default 1).
 */
public final class PhantomBenchmark {

	private PhantomBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		long seed = Long.parseLong(options.getOrDefault("seed", "1"));
		int repeats = Integer.parseInt(options.getOrDefault("repeats", "1"));
		int[][] sizes = { { 128, 256, 256 }, { 250, 512, 512 } };
		for (int[] s : sizes) {
			ChestPhantom.Options o = ChestPhantom.Options.defaults().withSize(s[0], s[1], s[2]);
			for (int r = 0; r < repeats; r++) {
				long t0 = System.nanoTime();
				ChestPhantom p = ChestPhantom.generate(seed, r, o);
				double seconds = (System.nanoTime() - t0) / 1e9;
				double mvox = (double) s[0] * s[1] * s[2] / 1e6;
				out.printf(java.util.Locale.ROOT, "phantom %dx%dx%d (z,y,x): %.2f s, %.1f Mvoxel/s, %d nodules, %d candidates%n",
					s[0], s[1], s[2], seconds, mvox / seconds, p.nodules().size(), p.candidates().size());
			}
		}
	}
}
