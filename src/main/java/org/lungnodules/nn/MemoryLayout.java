package org.lungnodules.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Puts activations in PyTorch's channels-last memory format (NHWC / NDHWC) without changing their
 * logical (N, C, ...) shape or values.
 * <p>
 * <b>Why.</b> On CPU, PyTorch runs convolutions through oneDNN. With the default NCHW layout it
 * converts every activation to a blocked layout and back around each convolution (a full copy each
 * way), and for convolutions with fewer than 16 input channels (the classifier's 8 → 8 and 8 → 16) its
 * weight gradient falls back to oneDNN's im2col + GEMM implementation: measured on 2 cores, about 10×
 * the time of the forward convolution, and far worse when the cores are shared, which made one
 * classifier training step take 10–20 s. In channels-last format oneDNN uses its direct (BRGEMM)
 * kernels for all three passes, with no conversions; BatchNorm, ReLU, pooling and concatenation keep
 * the format, so it is enough to set it once on the input of a network.
 * <p>
 * DJL has no memory-format API, so the format is made from views: PyTorch infers channels-last from
 * the strides of a (N, C, ...) view of a contiguous (N, ..., C) array. A single channel is ambiguous,
 * and PyTorch's BatchNorm then returns the default format: call this again after such a layer.
 */
final class MemoryLayout {

	private MemoryLayout() {}

	/** The same values as {@code x} (N, C, spatial...), stored channels-last; a copy only if needed. */
	static NDArray channelsLast(NDArray x) {
		Shape shape = x.getShape();
		int dims = shape.dimension();
		int[] toLast = new int[dims], back = new int[dims];
		long[] lastShape = new long[dims];
		toLast[0] = 0;
		back[0] = 0;
		lastShape[0] = shape.get(0);
		for (int d = 1; d < dims - 1; d++) {
			toLast[d] = d + 1;
			lastShape[d] = shape.get(d + 1);
			back[d + 1] = d;
		}
		toLast[dims - 1] = 1;
		lastShape[dims - 1] = shape.get(1);
		back[1] = dims - 1;
		// reshape copies into (N, ..., C) order unless x already is stored that way; the rest are views
		return x.transpose(toLast).reshape(shape.get(0), -1).reshape(new Shape(lastShape)).transpose(back);
	}
}
