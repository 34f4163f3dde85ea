package org.lungnodules.nn;

import java.util.Locale;
import java.util.Random;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;

/**
 * Creates the project's networks by role and initializes them for training from scratch.
 * <ul>
 * <li>{@code cls}: nodule / non-nodule classifier, a {@link NoduleClassifier}.</li>
 * <li>{@code mal}: benign / malignant classifier, the same architecture.</li>
 * <li>{@code seg}: the {@link SegmentationUNet}.</li>
 * </ul>
 */
public final class Networks {

	private Networks() {}

	public enum Kind {
		CLS, SEG, MAL;

		public static Kind parse(String name) {
			try {
				return valueOf(name.trim().toUpperCase(Locale.ROOT));
			} catch (IllegalArgumentException e) {
				throw new IllegalArgumentException("Unknown network '" + name + "': expected cls, seg or mal");
			}
		}
	}

	/**
	 * A new network of the given kind with parameters allocated in {@code manager} (which must outlive
	 * the network) and DJL's default values (BatchNorm: weight 1, bias 0, mean 0, var 1). Load a state
	 * dict with {@link StateDicts#load} or call {@link #initializeFromScratch}.
	 */
	public static TorchModule create(Kind kind, NDManager manager) {
		TorchModule net = kind == Kind.SEG ? new SegmentationUNet() : new NoduleClassifier();
		net.initialize(manager, EngineTypes.require(DataType.FLOAT32, kind + " parameters"), net.exampleInputShape());
		return net;
	}

	/** BatchNorm as PyTorch's default: eps 1e-5, PyTorch momentum 0.1 (= DJL momentum 0.9), affine. */
	static BatchNorm batchNorm() {
		return BatchNorm.builder().optEpsilon(1e-5f).optMomentum(0.9f).build();
	}

	/**
	 * The published initialization for training from scratch. Every conv, transposed conv and linear
	 * weight is Kaiming-normal for ReLU in fan-out mode: N(0, 2 / fan_out). Each bias is drawn from a
	 * normal distribution with mean −1/√fan_out and standard deviation 1/√fan_out: the book calls
	 * {@code normal_(bias, -bound, bound)}, whose arguments are (mean, std), not an interval. fan_out is
	 * PyTorch's: weight dimension 0 times the kernel size (for a transposed conv that dimension is the
	 * input channels). BatchNorm parameters are reset to weight 1, bias 0, mean 0, var 1.
	 */
	public static void initializeFromScratch(TorchModule net, long seed) {
		Random random = new Random(seed);
		TorchLayout layout = net.torchLayout();
		for (String key : layout.keys()) {
			if (layout.isBatchCounter(key)) {
				layout.setBatchCounter(key, 0);
				continue;
			}
			Parameter p = layout.parameter(key);
			long[] shape = p.getShape().getShape();
			String prefix = key.substring(0, key.lastIndexOf('.'));
			boolean batchNorm = layout.isBatchCounter(prefix + ".num_batches_tracked");
			float[] values = new float[Math.toIntExact(p.getShape().size())];
			if (batchNorm) {
				float fill = key.endsWith(".weight") || key.endsWith(".running_var") ? 1f : 0f;
				java.util.Arrays.fill(values, fill);
			} else if (key.endsWith(".weight")) {
				double std = Math.sqrt(2.0 / fanOut(shape));
				for (int i = 0; i < values.length; i++) values[i] = (float) (random.nextGaussian() * std);
			} else if (key.endsWith(".bias")) {
				double bound = 1 / Math.sqrt(fanOut(layout.parameter(prefix + ".weight").getShape().getShape()));
				for (int i = 0; i < values.length; i++) values[i] = (float) (-bound + random.nextGaussian() * bound);
			} else {
				throw new IllegalStateException("No initialization rule for " + key);
			}
			p.getArray().set(values);
		}
	}

	/** PyTorch's fan_out: size(0) × receptive field (product of the dimensions after the first two). */
	static long fanOut(long[] weightShape) {
		long receptive = 1;
		for (int i = 2; i < weightShape.length; i++) receptive *= weightShape[i];
		return weightShape[0] * receptive;
	}

	/** Shape of {@code n} samples for a network kind (chunks for cls/mal, slices of h×w for seg). */
	static Shape batchShape(Kind kind, long n, long h, long w) {
		return kind == Kind.SEG ? new Shape(n, SegmentationUNet.IN_CHANNELS, h, w)
			: new Shape(n, 1, NoduleClassifier.DEPTH, NoduleClassifier.HEIGHT, NoduleClassifier.WIDTH);
	}
}
