package org.lungnodules.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense tensor as a PyTorch checkpoint stores it: a dtype, a shape and contiguous little-endian
 * bytes in C order. It is the common currency between checkpoint files and networks, independent
 * of DJL, so that files can be read and checked without starting an engine.
 */
public final class Tensor {

	/** PyTorch storage types, with the storage class name used in pickles and the element size. */
	public enum DType {
		FLOAT32("FloatStorage", 4), FLOAT64("DoubleStorage", 8), FLOAT16("HalfStorage", 2),
		BFLOAT16("BFloat16Storage", 2), INT64("LongStorage", 8), INT32("IntStorage", 4),
		INT16("ShortStorage", 2), INT8("CharStorage", 1), UINT8("ByteStorage", 1), BOOL("BoolStorage", 1);

		public final String storageName;
		public final int bytes;

		DType(String storageName, int bytes) {
			this.storageName = storageName;
			this.bytes = bytes;
		}

		public static DType fromStorageName(String name) {
			for (DType t : values())
				if (t.storageName.equals(name)) return t;
			return null;
		}
	}

	private final DType dtype;
	private final long[] shape;
	private final ByteBuffer data;

	/** @param data little-endian, C order, exactly numel × dtype.bytes bytes (not copied) */
	public Tensor(DType dtype, long[] shape, ByteBuffer data) {
		this.dtype = dtype;
		this.shape = shape.clone();
		long expected = numel(shape) * dtype.bytes;
		if (data.remaining() != expected)
			throw new IllegalArgumentException("Tensor of shape " + Arrays.toString(shape) + " and type " + dtype + " needs " +
				expected + " bytes, got " + data.remaining());
		this.data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
	}

	public static Tensor ofFloats(long[] shape, float[] values) {
		ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
		b.asFloatBuffer().put(values);
		return new Tensor(DType.FLOAT32, shape, b);
	}

	public static Tensor ofLongs(long[] shape, long[] values) {
		ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
		b.asLongBuffer().put(values);
		return new Tensor(DType.INT64, shape, b);
	}

	public static long numel(long[] shape) {
		long n = 1;
		for (long s : shape) {
			if (s < 0) throw new IllegalArgumentException("Negative dimension in " + Arrays.toString(shape));
			n = Math.multiplyExact(n, s);
		}
		return n;
	}

	public DType dtype() { return dtype; }
	public long[] shape() { return shape.clone(); }
	public long numel() { return numel(shape); }

	/** Read-only little-endian view of the raw bytes. */
	public ByteBuffer data() { return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN); }

	/** Values converted to float (exact for FLOAT32). */
	public float[] toFloatArray() {
		int n = Math.toIntExact(numel());
		float[] out = new float[n];
		ByteBuffer b = data();
		switch (dtype) {
			case FLOAT32: b.asFloatBuffer().get(out); break;
			case FLOAT64: for (int i = 0; i < n; i++) out[i] = (float) b.getDouble(i * 8); break;
			case INT64: for (int i = 0; i < n; i++) out[i] = b.getLong(i * 8); break;
			case INT32: for (int i = 0; i < n; i++) out[i] = b.getInt(i * 4); break;
			case INT16: for (int i = 0; i < n; i++) out[i] = b.getShort(i * 2); break;
			case INT8: for (int i = 0; i < n; i++) out[i] = b.get(i); break;
			case UINT8: case BOOL: for (int i = 0; i < n; i++) out[i] = b.get(i) & 0xff; break;
			case FLOAT16: for (int i = 0; i < n; i++) out[i] = halfToFloat(b.getShort(i * 2)); break;
			case BFLOAT16: for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16); break;
			default: throw new IllegalStateException(dtype.toString());
		}
		return out;
	}

	/** IEEE 754 half to float; Java 17 has no Float.float16ToFloat yet. */
	static float halfToFloat(short h) {
		int bits = h & 0xffff, sign = (bits & 0x8000) << 16, exp = (bits >>> 10) & 0x1f, mant = bits & 0x3ff;
		if (exp == 0x1f) return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
		if (exp == 0) {
			if (mant == 0) return Float.intBitsToFloat(sign);
			float f = mant / 1024f / 16384f; // subnormal: mant * 2^-24
			return sign != 0 ? -f : f;
		}
		return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
	}

	@Override
	public String toString() {
		return "Tensor[" + dtype + " " + Arrays.toString(shape) + "]";
	}
}
