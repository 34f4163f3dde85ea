package org.lungnodules.nn;

import java.util.ArrayList;
import java.util.List;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The book's segmentation network ("UNetWrapper"): BatchNorm2d over the 7 input slices, a padded
 * U-Net of depth 3 with 16/32/64 channels, and a sigmoid.
 * <ul>
 * <li>Conv block: conv 3×3 → ReLU → BatchNorm → conv 3×3 → ReLU → BatchNorm (keys {@code block.0},
 * {@code block.2}, {@code block.3}, {@code block.5}). The copy of util/unet.py in the book's
 * repository shows LeakyReLU, but PyTorch's reference outputs for these weights match ReLU (to
 * 2e-7) and not LeakyReLU(0.01) (off by up to 1.0), so ReLU it is.</li>
 * <li>Down-sampling between levels: 2×2 average pooling.</li>
 * <li>Up block: ConvTranspose2d(k=2, s=2), then concatenation (up-sampled, skip) along channels,
 * then a conv block. The published code center-crops the skip first; with padding that is a no-op.</li>
 * <li>{@code unet.last}: 1×1 conv to one channel.</li>
 * </ul>
 * Input (N, 7, H, W) with H and W multiples of 4; output (N, 1, H, W) probabilities.
 */
public final class SegmentationUNet extends AbstractBlock implements TorchModule {

	public static final int IN_CHANNELS = 7;
	private static final int DEPTH = 3, FIRST_WIDTH = 16;

	/** conv, activation, BatchNorm, conv, activation, BatchNorm: PyTorch's UNetConvBlock. */
	private static final class ConvBlock {
		final Conv2d conv0, conv3;
		final BatchNorm norm2, norm5;

		ConvBlock(AbstractBlockAccess parent, String name, int filters) {
			conv0 = parent.add(name + "_conv0", conv(filters, 3, 1));
			norm2 = parent.add(name + "_bn2", Networks.batchNorm());
			conv3 = parent.add(name + "_conv3", conv(filters, 3, 1));
			norm5 = parent.add(name + "_bn5", Networks.batchNorm());
		}

		NDArray forward(ParameterStore store, NDArray x, boolean training) {
			x = Activation.relu(conv0.forward(store, new NDList(x), training).head());
			x = norm2.forward(store, new NDList(x), training).head();
			x = Activation.relu(conv3.forward(store, new NDList(x), training).head());
			return norm5.forward(store, new NDList(x), training).head();
		}

		Shape initialize(NDManager manager, DataType type, Shape in) {
			conv0.initialize(manager, type, in);
			Shape s = conv0.getOutputShapes(new Shape[] { in })[0];
			norm2.initialize(manager, type, s);
			conv3.initialize(manager, type, s);
			norm5.initialize(manager, type, s);
			return s;
		}

		void addTo(TorchLayout layout, String prefix) {
			layout.addWeightAndBias(prefix + ".0", conv0).addBatchNorm(prefix + ".2", norm2)
				.addWeightAndBias(prefix + ".3", conv3).addBatchNorm(prefix + ".5", norm5);
		}
	}

	/** Lets the nested conv blocks register their layers as children of this block. */
	private interface AbstractBlockAccess {
		<B extends ai.djl.nn.Block> B add(String name, B block);
	}

	private final BatchNorm inputBatchNorm;
	private final ConvBlock[] down = new ConvBlock[DEPTH];
	private final UpConvolution[] up = new UpConvolution[DEPTH - 1];
	private final ConvBlock[] upConv = new ConvBlock[DEPTH - 1];
	private final Conv2d last;
	private TorchLayout layout;
	private volatile boolean channelsLast = true;

	public SegmentationUNet() {
		AbstractBlockAccess access = this::addChildBlock;
		inputBatchNorm = addChildBlock("input_batchnorm", Networks.batchNorm());
		for (int i = 0; i < DEPTH; i++)
			down[i] = new ConvBlock(access, "down" + i, FIRST_WIDTH << i);
		for (int i = 0; i < DEPTH - 1; i++) {
			int filters = FIRST_WIDTH << (DEPTH - 2 - i);
			up[i] = addChildBlock("up" + i + "_up", new UpConvolution(filters));
			upConv[i] = new ConvBlock(access, "up" + i, filters);
		}
		last = addChildBlock("last", conv(1, 1, 0));
	}

	private static Conv2d conv(int filters, int kernel, int pad) {
		return Conv2d.builder().setFilters(filters).setKernelShape(new Shape(kernel, kernel))
			.optPadding(new Shape(pad, pad)).optBias(true).build();
	}

	@Override
	protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
		NDArray x = inputs.head();
		if (x.getShape().dimension() != 4 || x.getShape().get(2) % 4 != 0 || x.getShape().get(3) % 4 != 0)
			throw new IllegalArgumentException("U-Net input must be (N, C, H, W) with H, W multiples of 4, got " + x.getShape());
		if (channelsLast) x = MemoryLayout.channelsLast(x); // see MemoryLayout
		x = inputBatchNorm.forward(store, new NDList(x), training).head();
		List<NDArray> skips = new ArrayList<>();
		for (int i = 0; i < DEPTH; i++) {
			x = down[i].forward(store, x, training);
			if (i < DEPTH - 1) {
				skips.add(x);
				x = Pool.avgPool2d(x, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false, true);
			}
		}
		for (int i = 0; i < DEPTH - 1; i++) {
			NDArray upsampled = up[i].forward(store, new NDList(x), training).head();
			x = upsampled.concat(skips.get(skips.size() - 1 - i), 1);
			x = upConv[i].forward(store, x, training);
		}
		x = last.forward(store, new NDList(x), training).head();
		return new NDList(Activation.sigmoid(x));
	}

	@Override
	public Shape[] getOutputShapes(Shape[] inputShapes) {
		Shape in = inputShapes[0];
		return new Shape[] { new Shape(in.get(0), 1, in.get(2), in.get(3)) };
	}

	@Override
	protected void initializeChildBlocks(NDManager manager, DataType type, Shape... inputShapes) {
		Shape s = inputShapes[0];
		inputBatchNorm.initialize(manager, type, s);
		Shape[] skipShapes = new Shape[DEPTH];
		for (int i = 0; i < DEPTH; i++) {
			s = down[i].initialize(manager, type, s);
			skipShapes[i] = s;
			if (i < DEPTH - 1) s = new Shape(s.get(0), s.get(1), s.get(2) / 2, s.get(3) / 2);
		}
		for (int i = 0; i < DEPTH - 1; i++) {
			up[i].initialize(manager, type, s);
			Shape u = up[i].getOutputShapes(new Shape[] { s })[0];
			Shape skip = skipShapes[DEPTH - 2 - i];
			s = upConv[i].initialize(manager, type, new Shape(u.get(0), u.get(1) + skip.get(1), u.get(2), u.get(3)));
		}
		last.initialize(manager, type, s);
	}

	@Override
	public synchronized TorchLayout torchLayout() {
		if (layout == null) {
			TorchLayout l = new TorchLayout().addBatchNorm("input_batchnorm", inputBatchNorm);
			for (int i = 0; i < DEPTH; i++) down[i].addTo(l, "unet.down_path." + i + ".block");
			for (int i = 0; i < DEPTH - 1; i++) {
				l.addWeightAndBias("unet.up_path." + i + ".up", up[i]);
				upConv[i].addTo(l, "unet.up_path." + i + ".conv_block.block");
			}
			layout = l.addWeightAndBias("unet.last", last);
		}
		return layout;
	}

	@Override
	public void setChannelsLast(boolean on) {
		channelsLast = on;
		for (UpConvolution u : up) u.channelsLast = on;
	}

	@Override
	public boolean isChannelsLast() { return channelsLast; }

	@Override
	public Shape exampleInputShape() {
		return new Shape(1, IN_CHANNELS, 64, 64);
	}
}
