package org.lungnodules.nn;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.BatchNorm;

/**
 * The state-dict key list of a {@link TorchModule}: for every PyTorch key, either the DJL
 * {@link Parameter} holding its values, or a BatchNorm batch counter ({@code num_batches_tracked}),
 * which DJL does not have and which is therefore kept here as a plain number.
 */
public final class TorchLayout {

	private final List<String> keys = new ArrayList<>();
	private final Map<String, Parameter> parameters = new LinkedHashMap<>();
	private final Map<String, Long> batchCounters = new LinkedHashMap<>();

	/** Adds {@code prefix.weight} and, if the block has one, {@code prefix.bias} (conv, deconv, linear). */
	public TorchLayout addWeightAndBias(String prefix, Block block) {
		add(prefix + ".weight", directParameter(block, "weight"));
		if (block.getParameters().contains("bias")) add(prefix + ".bias", directParameter(block, "bias"));
		return this;
	}

	/** Adds the five entries PyTorch's BatchNorm*d writes, in its order. */
	public TorchLayout addBatchNorm(String prefix, BatchNorm block) {
		add(prefix + ".weight", directParameter(block, "gamma"));
		add(prefix + ".bias", directParameter(block, "beta"));
		add(prefix + ".running_mean", directParameter(block, "runningMean"));
		add(prefix + ".running_var", directParameter(block, "runningVar"));
		String counter = prefix + ".num_batches_tracked";
		keys.add(counter);
		batchCounters.put(counter, 0L);
		return this;
	}

	private void add(String key, Parameter parameter) {
		if (parameters.containsKey(key) || batchCounters.containsKey(key))
			throw new IllegalStateException("Duplicate state-dict key " + key);
		keys.add(key);
		parameters.put(key, parameter);
	}

	private static Parameter directParameter(Block block, String name) {
		Parameter p = block.getParameters().get(name);
		if (p == null) throw new IllegalStateException(block.getClass().getSimpleName() + " has no parameter " + name);
		return p;
	}

	/** All keys in PyTorch order, counters included. */
	public List<String> keys() { return Collections.unmodifiableList(keys); }

	/** The parameter of a key, or null for a batch counter or an unknown key. */
	public Parameter parameter(String key) { return parameters.get(key); }

	public boolean isBatchCounter(String key) { return batchCounters.containsKey(key); }

	public long batchCounter(String key) { return batchCounters.get(key); }

	public void setBatchCounter(String key, long value) {
		if (!batchCounters.containsKey(key)) throw new IllegalArgumentException("Not a batch counter: " + key);
		batchCounters.put(key, value);
	}

	/** Number of trainable values, as PyTorch's {@code sum(p.numel() for p in model.parameters())}. */
	public long trainableParameterCount() {
		long n = 0;
		for (Map.Entry<String, Parameter> e : parameters.entrySet())
			if (!e.getKey().endsWith(".running_mean") && !e.getKey().endsWith(".running_var"))
				n += e.getValue().getShape().size();
		return n;
	}
}
