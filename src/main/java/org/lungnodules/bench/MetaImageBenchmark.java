package org.lungnodules.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.MetaImage;

/**
 * MetaImage reading speed against plain NIO. Writes a MET_SHORT volume (default 512×512×300,
 * option {@code size=WxHxD}) to a temporary folder, then times {@link MetaImage#read} and a plain
 * FileChannel read of the same .raw into one ByteBuffer viewed as a ShortBuffer, alternating,
 * {@code repeats} times (default 5) after one warm-up each. Reports median ms, MB/s and the ratio.
 * Both read from the page cache after the first pass, so this measures decoding, not the disk.
 */
public final class MetaImageBenchmark {

	private MetaImageBenchmark() {}

	public static void run(PrintStream out, Map<String, String> options) throws Exception {
		int[] size = Arrays.stream(options.getOrDefault("size", "512x512x300").split("x")).mapToInt(Integer::parseInt).toArray();
		int repeats = Integer.parseInt(options.getOrDefault("repeats", "5"));
		int w = size[0], h = size[1], d = size[2];
		Path folder = Files.createTempDirectory("metaimage-bench");
		try {
			short[] hu = new short[w * h * d];
			Random r = new Random(1);
			for (int i = 0; i < hu.length; i++)
				hu[i] = (short) (r.nextInt(3000) - 1024);
			Path mhd = folder.resolve("bench.mhd");
			MetaImage.writeVolume(mhd, CtVolume.ofShorts(hu, w, h, d, Geometry.unit(), "bench"), false);
			hu = null;
			Path raw = folder.resolve("bench.raw");
			long bytes = Files.size(raw);
			out.printf("MetaImage read benchmark: %dx%dx%d MET_SHORT, %.1f MB, %d repeats%n", w, h, d, bytes / 1e6, repeats);

			long[] ours = new long[repeats], plain = new long[repeats];
			long checksum = 0;
			for (int i = -1; i < repeats; i++) {
				long t0 = System.nanoTime();
				MetaImage m = MetaImage.read(mhd);
				long t1 = System.nanoTime();
				short[] p = plainRead(raw, (int) (bytes / 2));
				long t2 = System.nanoTime();
				checksum += m.image().firstElement().getRealDouble() + p[p.length - 1];
				if (i >= 0) {
					ours[i] = t1 - t0;
					plain[i] = t2 - t1;
				}
			}
			double oursMs = median(ours) / 1e6, plainMs = median(plain) / 1e6;
			out.printf("  MetaImage.read     median %8.1f ms  %8.1f MB/s%n", oursMs, bytes / 1e3 / oursMs);
			out.printf("  plain FileChannel  median %8.1f ms  %8.1f MB/s%n", plainMs, bytes / 1e3 / plainMs);
			out.printf("  ratio (ours / plain) %.2f  (goal: at most 2.0)  [checksum %d]%n", oursMs / plainMs, checksum);
		}
		finally {
			try (Stream<Path> files = Files.walk(folder)) {
				for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator)
					Files.deleteIfExists(p);
			}
		}
	}

	/** The baseline: whole file into one heap buffer, then a bulk little-endian ShortBuffer copy. */
	private static short[] plainRead(Path raw, int count) throws IOException {
		ByteBuffer buf = ByteBuffer.allocate(count * 2).order(ByteOrder.LITTLE_ENDIAN);
		try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.READ)) {
			while (buf.hasRemaining() && ch.read(buf) >= 0) {}
		}
		buf.flip();
		short[] out = new short[count];
		buf.asShortBuffer().get(out);
		return out;
	}

	private static double median(long[] v) {
		long[] s = v.clone();
		Arrays.sort(s);
		return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
	}
}
