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
}
