package org.lungnodules.io.dicom;

/**
 * Packs 1-bit pixels as PS3.5 §8.1.1 lays them out for Bits Allocated = 1: pixels fill each byte from
 * its least significant bit, frames follow one another with no padding between them, and the whole
 * is padded with zero bits to a whole byte (the data set writer pads it to even length).
 */
final class BitPacker {

	private final byte[] bytes;
	private final long capacity;
	private long count;

	BitPacker(long bits) {
		if (bits < 0 || (bits + 7) / 8 > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("Cannot pack " + bits + " bits");
		this.capacity = bits;
		this.bytes = new byte[(int) ((bits + 7) / 8)];
	}

	void add(boolean bit) {
		if (count >= capacity) throw new IllegalStateException("More than " + capacity + " bits");
		if (bit) bytes[(int) (count >>> 3)] |= (byte) (1 << (count & 7));
		count++;
	}

	byte[] bytes() {
		if (count != capacity) throw new IllegalStateException(count + " of " + capacity + " bits packed");
		return bytes;
	}

	/** Packs a whole array of bits. */
	static byte[] pack(boolean[] bits) {
		BitPacker p = new BitPacker(bits.length);
		for (boolean b : bits) p.add(b);
		return p.bytes();
	}
}
