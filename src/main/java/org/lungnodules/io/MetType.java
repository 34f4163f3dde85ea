package org.lungnodules.io;

import java.util.Locale;

import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.NativeType;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ByteType;
import net.imglib2.type.numeric.integer.IntType;
import net.imglib2.type.numeric.integer.LongType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.type.numeric.integer.UnsignedByteType;
import net.imglib2.type.numeric.integer.UnsignedIntType;
import net.imglib2.type.numeric.integer.UnsignedLongType;
import net.imglib2.type.numeric.integer.UnsignedShortType;
import net.imglib2.type.numeric.real.DoubleType;
import net.imglib2.type.numeric.real.FloatType;

/**
 * The scalar MET_* element types and the ImgLib2 types that hold them exactly. Sizes follow
 * MetaIO's metaTypes.h, where MET_LONG/MET_ULONG are 32-bit (int32_t/uint32_t) on every platform
 * and only MET_LONG_LONG/MET_ULONG_LONG are 64-bit.
 */
enum MetType {
	MET_CHAR(Storage.BYTE), MET_UCHAR(Storage.BYTE),
	MET_SHORT(Storage.SHORT), MET_USHORT(Storage.SHORT),
	MET_INT(Storage.INT), MET_UINT(Storage.INT),
	MET_LONG(Storage.INT), MET_ULONG(Storage.INT),
	MET_LONG_LONG(Storage.LONG), MET_ULONG_LONG(Storage.LONG),
	MET_FLOAT(Storage.FLOAT), MET_DOUBLE(Storage.DOUBLE);

	/** The Java primitive array that backs the ImgLib2 type (unsigned types reuse the signed arrays). */
	enum Storage {
		BYTE(1), SHORT(2), INT(4), LONG(8), FLOAT(4), DOUBLE(8);

		final int bytes;

		Storage(int bytes) { this.bytes = bytes; }

		Object newArray(int length) {
			switch (this) {
				case BYTE: return new byte[length];
				case SHORT: return new short[length];
				case INT: return new int[length];
				case LONG: return new long[length];
				case FLOAT: return new float[length];
				default: return new double[length];
			}
		}
	}

	final Storage storage;

	MetType(Storage storage) { this.storage = storage; }

	int bytes() { return storage.bytes; }

	/** Parses a header value, or returns null for a name MetaIO does not define as a scalar type. */
	static MetType parse(String value) {
		try {
			return valueOf(value.trim().toUpperCase(Locale.ROOT));
		}
		catch (IllegalArgumentException e) {
			return null;
		}
	}

	/** A fresh variable of the matching ImgLib2 type. */
	@SuppressWarnings("rawtypes")
	NativeType type() {
		switch (this) {
			case MET_CHAR: return new ByteType();
			case MET_UCHAR: return new UnsignedByteType();
			case MET_SHORT: return new ShortType();
			case MET_USHORT: return new UnsignedShortType();
			case MET_INT: case MET_LONG: return new IntType();
			case MET_UINT: case MET_ULONG: return new UnsignedIntType();
			case MET_LONG_LONG: return new LongType();
			case MET_ULONG_LONG: return new UnsignedLongType();
			case MET_FLOAT: return new FloatType();
			default: return new DoubleType();
		}
	}

	/** Wraps a primitive array (already filled) as an ArrayImg of the matching type. */
	Img<? extends RealType<?>> wrap(Object array, long[] dims) {
		switch (this) {
			case MET_CHAR: return ArrayImgs.bytes((byte[]) array, dims);
			case MET_UCHAR: return ArrayImgs.unsignedBytes((byte[]) array, dims);
			case MET_SHORT: return ArrayImgs.shorts((short[]) array, dims);
			case MET_USHORT: return ArrayImgs.unsignedShorts((short[]) array, dims);
			case MET_INT: case MET_LONG: return ArrayImgs.ints((int[]) array, dims);
			case MET_UINT: case MET_ULONG: return ArrayImgs.unsignedInts((int[]) array, dims);
			case MET_LONG_LONG: return ArrayImgs.longs((long[]) array, dims);
			case MET_ULONG_LONG: return ArrayImgs.unsignedLongs((long[]) array, dims);
			case MET_FLOAT: return ArrayImgs.floats((float[]) array, dims);
			default: return ArrayImgs.doubles((double[]) array, dims);
		}
	}

	/**
	 * The MET type that stores {@code t} exactly. Types without a MET twin (e.g. 12-bit or
	 * boolean types) are written as MET_DOUBLE, which holds every value they can take.
	 */
	static MetType of(RealType<?> t) {
		if (t instanceof ByteType) return MET_CHAR;
		if (t instanceof UnsignedByteType) return MET_UCHAR;
		if (t instanceof ShortType) return MET_SHORT;
		if (t instanceof UnsignedShortType) return MET_USHORT;
		if (t instanceof IntType) return MET_INT;
		if (t instanceof UnsignedIntType) return MET_UINT;
		if (t instanceof LongType) return MET_LONG_LONG;
		if (t instanceof UnsignedLongType) return MET_ULONG_LONG;
		if (t instanceof FloatType) return MET_FLOAT;
		return MET_DOUBLE;
	}

	boolean isInteger() {
		return storage != Storage.FLOAT && storage != Storage.DOUBLE;
	}
}
