package org.lungnodules.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv3d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The book's nodule classifier ("LunaModel", also used for malignancy): BatchNorm3d on the single
 * input channel, four blocks of two 3×3×3 convolutions with ReLU and a 2×2×2 max-pool (8, 16, 32
 * and 64 channels), and a linear head from the flattened 64×2×3×3 features to two logits.
 * <p>
 * Input (N, 1, 32, 48, 48) HU chunks clamped to [−1000, 1000]; output {logits (N, 2), softmax (N, 2)},
 * where column 1 is the positive class. State-dict keys: {@code tail_batchnorm.*},
 * {@code block1..4.conv1/conv2.*}, {@code head_linear.*}.
 */
public final class NoduleClassifier extends AbstractBlock implements TorchModule {

	public static final int DEPTH = 32, HEIGHT = 48, WIDTH = 48;
	private static final int BLOCKS = 4, FIRST_WIDTH = 8;

	private final BatchNorm tailBatchNorm;
	private final Conv3d[] conv1 = new Conv3d[BLOCKS], conv2 = new Conv3d[BLOCKS];
	private final Linear headLinear;
	private TorchLayout layout;
	private volatile boolean channelsLast = true;

	public NoduleClassifier() {
		tailBatchNorm = addChildBlock("tail_batchnorm", Networks.batchNorm());
		for (int b = 0; b < BLOCKS; b++) {
			int width = FIRST_WIDTH << b;
			conv1[b] = addChildBlock("block" + (b + 1) + "_conv1", conv(width));
			conv2[b] = addChildBlock("block" + (b + 1) + "_conv2", conv(width));
		}
		headLinear = addChildBlock("head_linear", Linear.builder().setUnits(2).build());
	}

	private static Conv3d conv(int filters) {
		return Conv3d.builder().setFilters(filters).setKernelShape(new Shape(3, 3, 3))
			.optPadding(new Shape(1, 1, 1)).optBias(true).build();
	}

	@Override
	protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
		// channels-last: see MemoryLayout (after BatchNorm, which drops the format of a single channel)
		NDArray x = tailBatchNorm.forward(store, inputs, training).head();
		if (channelsLast) x = MemoryLayout.channelsLast(x);
		for (int b = 0; b < BLOCKS; b++) {
			x = Activation.relu(conv1[b].forward(store, new NDList(x), training).head());
			x = Activation.relu(conv2[b].forward(store, new NDList(x), training).head());
			x = Pool.maxPool3d(x, new Shape(2, 2, 2), new Shape(2, 2, 2), new Shape(0, 0, 0), false);
		}
		// C-order flatten of (N, 64, 2, 3, 3), exactly like PyTorch's view(N, -1)
		x = x.reshape(x.getShape().get(0), -1);
		NDArray logits = headLinear.forward(store, new NDList(x), training).head();
		return new NDList(logits, logits.softmax(1));
	}

	@Override
	public Shape[] getOutputShapes(Shape[] inputShapes) {
		long n = inputShapes[0].get(0);
		return new Shape[] { new Shape(n, 2), new Shape(n, 2) };
	}

	@Override
	protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
		Shape shape = inputShapes[0];
		tailBatchNorm.initialize(manager, dataType, shape);
		for (int b = 0; b < BLOCKS; b++) {
			conv1[b].initialize(manager, dataType, shape);
			shape = conv1[b].getOutputShapes(new Shape[] { shape })[0];
			conv2[b].initialize(manager, dataType, shape);
			shape = conv2[b].getOutputShapes(new Shape[] { shape })[0];
			shape = new Shape(shape.get(0), shape.get(1), shape.get(2) / 2, shape.get(3) / 2, shape.get(4) / 2);
		}
		headLinear.initialize(manager, dataType, new Shape(shape.get(0), shape.size() / shape.get(0)));
	}

	@Override
	public synchronized TorchLayout torchLayout() {
		if (layout == null) {
			TorchLayout l = new TorchLayout().addBatchNorm("tail_batchnorm", tailBatchNorm);
			for (int b = 0; b < BLOCKS; b++) {
				l.addWeightAndBias("block" + (b + 1) + ".conv1", conv1[b]);
				l.addWeightAndBias("block" + (b + 1) + ".conv2", conv2[b]);
			}
			layout = l.addWeightAndBias("head_linear", headLinear);
		}
		return layout;
	}

	@Override
	public void setChannelsLast(boolean on) { channelsLast = on; }

	@Override
	public boolean isChannelsLast() { return channelsLast; }

	@Override
	public Shape exampleInputShape() {
		return new Shape(1, 1, DEPTH, HEIGHT, WIDTH);
	}
}
