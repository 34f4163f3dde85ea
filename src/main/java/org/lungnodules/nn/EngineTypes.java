package org.lungnodules.nn;

import java.util.Locale;

import ai.djl.ndarray.types.DataType;

/**
 * The one check for the data type of every array this package hands to DJL's PyTorch engine.
 * <p>
 * DJL 0.33–0.36 has no bfloat16 mapping in its native layer: creating or casting an array to
 * {@link DataType#BFLOAT16} and running a network on it aborts the whole JVM ("terminate called without
 * an active exception", measured in a probe, BENCHMARKS.md), so Fiji would vanish without a message.
 * Nothing in this project asks for bfloat16 today: the networks are created and fed in float32
 * ({@link Networks#create}, {@link Inference}), there is no precision option, and weights stored as
 * bfloat16 or float16 in a checkpoint are widened to float32 in Java ({@code io.Tensor#toFloatArray})
 * before they reach DJL. This guard keeps it that way: a future caller gets a clear exception instead.
 */
public final class EngineTypes {

	private EngineTypes() {}

	/**
	 * Returns {@code type} if the engine can take it.
	 *
	 * @param what names the array in the message, e.g. "U-Net input"
	 * @throws UnsupportedOperationException for bfloat16 (before anything reaches the native layer)
	 */
	public static DataType require(DataType type, String what) {
		if (type == DataType.BFLOAT16)
			throw new UnsupportedOperationException(what + ": bfloat16 is not supported by DJL's PyTorch engine "
				+ "(its native layer has no bfloat16 mapping and would abort the JVM); use float32. "
				+ "Checkpoints stored in bfloat16 are fine: their weights are widened to float32 when loaded.");
		if (type == null) throw new IllegalArgumentException(what + ": no data type");
		return type;
	}

	/** {@link #require} for a type named as in DJL ({@code "bfloat16"}, {@code "float32"}, any case). */
	public static DataType require(String typeName, String what) {
		DataType type;
		try {
			type = DataType.valueOf(typeName.trim().toUpperCase(Locale.ROOT));
		} catch (IllegalArgumentException e) {
			throw new IllegalArgumentException(what + ": unknown data type '" + typeName + "'", e);
		}
		return require(type, what);
	}
}
