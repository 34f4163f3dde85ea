package org.lungnodules.nn;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;

import org.lungnodules.io.Tensor;

/**
 * Moves weights between PyTorch state dicts ({@code Map<String, Tensor>}, keys as PyTorch names them)
 * and the DJL parameters of a {@link TorchModule}.
 * <p>
 * PyTorch and DJL lay out every weight used here identically (conv: out, in, k…; transposed conv:
 * in, out, k…; linear: out, in), so values are copied unchanged. {@code num_batches_tracked} has no
 * DJL counterpart: it is checked, kept in the {@link TorchLayout} and written back on export.
 */
public final class StateDicts {

	private static final Set<Tensor.DType> FLOAT_TYPES =
		EnumSet.of(Tensor.DType.FLOAT32, Tensor.DType.FLOAT64, Tensor.DType.FLOAT16, Tensor.DType.BFLOAT16);

	private StateDicts() {}

	/**
	 * Copies a state dict into the network. Nothing is changed unless every key fits.
	 *
	 * @param source names the origin in error messages, e.g. the checkpoint file
	 * @throws WeightMismatchException listing every missing, unexpected, mis-shaped or mistyped key
	 */
	public static void load(TorchModule net, Map<String, Tensor> stateDict, String source) throws WeightMismatchException {
		TorchLayout layout = net.torchLayout();
		List<String> problems = new ArrayList<>();
		for (String key : layout.keys()) {
			Tensor t = stateDict.get(key);
			long[] expected = expectedShape(layout, key);
			if (t == null) {
				problems.add("missing key " + key + " " + Arrays.toString(expected));
			} else if (!Arrays.equals(t.shape(), expected)) {
				problems.add("wrong shape for " + key + ": " + Arrays.toString(t.shape()) + " in the state dict, network has " +
					Arrays.toString(expected));
			} else if (layout.isBatchCounter(key) ? t.dtype() != Tensor.DType.INT64 : !FLOAT_TYPES.contains(t.dtype())) {
				problems.add("wrong type for " + key + ": " + t.dtype() + ", expected " +
					(layout.isBatchCounter(key) ? "INT64" : "a floating-point type"));
			}
		}
		for (String key : stateDict.keySet())
			if (!layout.keys().contains(key)) problems.add("unexpected key " + key + " " + Arrays.toString(stateDict.get(key).shape()));
		if (!problems.isEmpty()) throw new WeightMismatchException(source, problems);

		for (String key : layout.keys()) {
			Tensor t = stateDict.get(key);
			if (layout.isBatchCounter(key)) layout.setBatchCounter(key, t.data().getLong(0));
			else layout.parameter(key).getArray().set(FloatBuffer.wrap(t.toFloatArray()));
		}
	}

	/**
	 * The network's weights as a PyTorch state dict: float32 tensors and int64 0-d batch counters, in
	 * PyTorch's key order, ready for {@code TorchCheckpoint.write} and {@code load_state_dict}.
	 */
	public static LinkedHashMap<String, Tensor> export(TorchModule net) {
		TorchLayout layout = net.torchLayout();
		LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
		for (String key : layout.keys()) {
			if (layout.isBatchCounter(key)) {
				out.put(key, Tensor.ofLongs(new long[0], new long[] { layout.batchCounter(key) }));
			} else {
				NDArray array = layout.parameter(key).getArray();
				out.put(key, Tensor.ofFloats(array.getShape().getShape(), array.toFloatArray()));
			}
		}
		return out;
	}

	private static long[] expectedShape(TorchLayout layout, String key) {
		if (layout.isBatchCounter(key)) return new long[0];
		Parameter p = layout.parameter(key);
		return p.getShape().getShape();
	}
}
