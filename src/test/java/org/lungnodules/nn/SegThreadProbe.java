package org.lungnodules.nn;

import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;

/** Issue #24 probe, by hand: one stream with 2 intra-op threads vs two streams of 1 thread each. */
public final class SegThreadProbe {
	public static void main(String[] args) throws Exception {
		Path model = Path.of(args[0]);
		int n = Integer.parseInt(args[1]), h = 512, w = 512, c = SegmentationUNet.IN_CHANNELS;
		float[][] in = new float[n][c * h * w];
		Random r = new Random(24);
		for (float[] a : in) for (int i = 0; i < a.length; i++) a[i] = -1000 + 2000 * r.nextFloat();
		try (Inference inf = Inference.builder().device("cpu").network(Networks.Kind.SEG, model).build()) {
			TorchModule unet = inf.network(Networks.Kind.SEG);
			unet.setChannelsLast(false);
			float[][] outA = new float[n][], outB = new float[n][];
			ExecutorService ex = Executors.newFixedThreadPool(2);
			for (int s = 0; s < 2; s++) ex.submit(() -> { ai.djl.pytorch.jni.JniUtils.setNumThreads(1); Thread.sleep(200); return null; });
			for (String modeArg : args[2].split(",")) {
				String mode = modeArg;
				long t0 = System.nanoTime();
				unet.setChannelsLast(mode.endsWith("cl"));
				mode = mode.replace("cl", "");
				if (mode.equals("one")) {
					for (int i = 0; i < n; i++) outA[i] = run(unet, in[i]);
				} else {
					int streams = Integer.parseInt(mode.substring(1));
					List<Future<?>> fs = new ArrayList<>();
					for (int s = 0; s < streams; s++) {
						int s0 = s;
						fs.add(ex.submit(() -> {
							for (int i = s0; i < n; i += streams) outB[i] = run(unet, in[i]);
							return null;
						}));
					}
					for (Future<?> f : fs) f.get();
				}
				double diff = 0;
				if (outA[0] != null && outB[0] != null)
					for (int i = 0; i < n; i++) for (int j = 0; j < outA[i].length; j++) diff = Math.max(diff, Math.abs(outA[i][j] - outB[i][j]));
				System.out.printf(modeArg + " %s: %.3f s/slice, diff %.2e, threads(main)=%d, VmHWM %d MB%n", mode, (System.nanoTime() - t0) / 1e9 / n, diff,
					ai.djl.pytorch.jni.JniUtils.getNumThreads(), EngineEnvironment.processMemoryKb("VmHWM") / 1024);
			}
		}
	}

	static float[] run(TorchModule unet, float[] x0) {
		try (NDManager m = NDManager.newBaseManager()) {
			NDArray x = m.create(x0, new Shape(1, SegmentationUNet.IN_CHANNELS, 512, 512));
			return unet.forward(new ParameterStore(m, false), new NDList(x), false).head().toFloatArray();
		}
	}
}
