package org.lungnodules.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A 2-D transposed convolution with kernel 2 and stride 2 whose weight has PyTorch's layout
 * (in channels, out channels, 2, 2).
 * <p>
 * DJL 0.33's {@code Conv2dTranspose} cannot be used: it declares its weight as (out, in, k, k), and
 * its PyTorch engine does not implement deconvolution at all ("Not implemented"). With kernel ==
 * stride == 2 every input pixel owns its own 2×2 output patch, so the operation is one matrix
 * product per pixel followed by a reshuffle:
 * {@code out[n, o, 2i+a, 2j+b] = bias[o] + Σ_c x[n, c, i, j] · W[c, o, a, b]}.
 */
final class UpConvolution extends AbstractBlock {

	private static final Shape KERNEL = new Shape(2, 2);

	private final int filters;
	private final Parameter weight, bias;
	/** Output stored channels-last (set by the U-Net, see {@link MemoryLayout}). */
	volatile boolean channelsLast = true;

	UpConvolution(int filters) {
		this.filters = filters;
		weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT).build());
		bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS).build());
	}

	@Override
	protected void prepare(Shape[] inputShapes) {
		weight.setShape(new Shape(inputShapes[0].get(1), filters).addAll(KERNEL));
		bias.setShape(new Shape(filters));
	}

	@Override
	protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
		NDArray x = inputs.singletonOrThrow();
		NDArray w = store.getValue(weight, x.getDevice(), training);
		NDArray b = store.getValue(bias, x.getDevice(), training);
		long n = x.getShape().get(0), c = x.getShape().get(1), h = x.getShape().get(2), wd = x.getShape().get(3);
		// Views of the parameters would belong to the parameters' manager and outlive the batch:
		// hand them to the input's manager, which the caller closes after the batch.
		NDArray kernel = w.reshape(c, filters * 4);
		NDArray offset = b.reshape(1, filters, 1, 1);
		kernel.attach(x.getManager());
		offset.attach(x.getManager());
		NDArray pixels = x.transpose(0, 2, 3, 1).reshape(n * h * wd, c); // one row of channels per pixel
		NDArray patches = pixels.matMul(kernel); // per pixel: (o, a, b)
		NDArray out = channelsLast
			// stored (n, i, a, j, b, o): channels-last like the skip connection it is concatenated with
			? patches.reshape(n, h, wd, filters, 2, 2).transpose(0, 1, 4, 2, 5, 3).reshape(n, h * 2, wd * 2, filters).transpose(0, 3, 1, 2)
			: patches.reshape(n, h, wd, filters, 2, 2).transpose(0, 3, 1, 4, 2, 5).reshape(n, filters, h * 2, wd * 2); // n, o, i, a, j, b
		return new NDList(out.add(offset));
	}

	@Override
	public Shape[] getOutputShapes(Shape[] inputShapes) {
		Shape in = inputShapes[0];
		return new Shape[] { new Shape(in.get(0), filters, in.get(2) * 2, in.get(3) * 2) };
	}
}
