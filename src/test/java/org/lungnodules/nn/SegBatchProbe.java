package org.lungnodules.nn;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

/**
 * Issue #24 probe, run by hand (not a test): the U-Net on n 512² slices in batches of each size given,
 * in the order given, in one JVM, on this thread, bypassing {@link Inference}'s heap cap; prints wall,
 * user and system seconds per slice and the largest difference from the first configuration.
 * <pre>java -cp target/test-classes:target/classes:$(cat cp.txt) org.lungnodules.nn.SegBatchProbe SEG.state 16 1,4,8,1</pre>
 */
public final class SegBatchProbe {

	public static void main(String[] args) throws Exception {
		Path model = Path.of(args[0]);
		int n = Integer.parseInt(args[1]), h = 512, w = 512, c = SegmentationUNet.IN_CHANNELS;
		float[] input = new float[n * c * h * w];
		Random r = new Random(24);
		for (int i = 0; i < input.length; i++) input[i] = -1000 + 2000 * r.nextFloat();
		System.out.println("malloc: " + EngineEnvironment.mallocState() + "; GLIBC_TUNABLES=" + System.getenv("GLIBC_TUNABLES"));
		try (Inference inf = Inference.builder().device("cpu").network(Networks.Kind.SEG, model).build()) {
			System.out.println("malloc: " + EngineEnvironment.mallocState() + "; threads " + ai.djl.pytorch.jni.JniUtils.getNumThreads());
			TorchModule unet = inf.network(Networks.Kind.SEG);
			unet.setChannelsLast(false);
			float[] first = null;
			for (String b : args[2].split(",")) {
				int batch = Integer.parseInt(b);
				float[] out = new float[n * h * w];
				long[] t0 = times();
				for (int start = 0; start < n; start += batch) {
					int count = Math.min(batch, n - start);
					try (NDManager m = NDManager.newBaseManager()) {
						float[] part = java.util.Arrays.copyOfRange(input, start * c * h * w, (start + count) * c * h * w);
						NDArray x = m.create(part, new Shape(count, c, h, w));
						NDList y = unet.forward(new ParameterStore(m, false), new NDList(x), false);
						System.arraycopy(y.head().toFloatArray(), 0, out, start * h * w, count * h * w);
					}
				}
				long[] t1 = times();
				double diff = 0;
				if (first == null) first = out;
				else for (int i = 0; i < out.length; i++) diff = Math.max(diff, Math.abs(out[i] - first[i]));
				System.out.printf("batch %d: wall %.3f s/slice, user %.3f, sys %.3f; max |diff| %.2e; VmHWM %d MB%n", batch,
					(t1[0] - t0[0]) / 1e9 / n, (t1[1] - t0[1]) / 100.0 / n, (t1[2] - t0[2]) / 100.0 / n, diff,
					EngineEnvironment.processMemoryKb("VmHWM") / 1024);
			}
		}
	}

	/** Nanoseconds of wall time, then user and system clock ticks of the process (/proc/self/stat). */
	private static long[] times() throws Exception {
		String stat = Files.readString(Path.of("/proc/self/stat"));
		String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
		return new long[] { System.nanoTime(), Long.parseLong(f[11]), Long.parseLong(f[12]) };
	}
}
