package org.lungnodules.nn;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;

/**
 * A DJL block that mirrors a PyTorch module, so that its parameters can be exchanged with a PyTorch
 * state dict by {@link StateDicts}.
 */
public interface TorchModule extends Block {

	/** The PyTorch state-dict keys of this network, in PyTorch order, bound to the DJL parameters. */
	TorchLayout torchLayout();

	/** A valid input shape (batch of 1) used to initialize the parameters. */
	Shape exampleInputShape();

	/**
	 * Whether forward passes store activations channels-last (see {@link MemoryLayout}): the same
	 * function, computed 1.5–3× faster on the CPU, with float rounding in a different order. On by
	 * default; {@link Inference} turns it off for the published recipe's U-Net, whose outputs then
	 * match PyTorch's default layout to 1e-4.
	 */
	void setChannelsLast(boolean on);

	boolean isChannelsLast();
}
