package org.lungnodules.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Moves voxels between files and primitive arrays in fixed-size chunks, so that reading a volume
 * needs the final arrays plus one chunk buffer, never a whole-file byte[]. Byte order is converted
 * by the bulk get/put of typed buffer views, which the JDK does with vectorised swaps.
 */
final class VoxelStreams {

	/** Chunk size: large enough for full disk speed, small next to any CT. */
	static final int CHUNK_BYTES = 8 << 20;

	private VoxelStreams() {}

	/**
	 * Where decoded voxels go: a sequence of same-type primitive arrays (one for an ArrayImg, one
	 * per plane for a PlanarImg), filled in file order.
	 */
	static final class Sink {
		private final MetType.Storage storage;
		private final Object[] arrays;
		private final int[] lengths;
		private int index, pos;

		Sink(MetType.Storage storage, Object[] arrays) {
			this.storage = storage;
			this.arrays = arrays;
			this.lengths = new int[arrays.length];
			for (int i = 0; i < arrays.length; i++)
				lengths[i] = java.lang.reflect.Array.getLength(arrays[i]);
		}

		/** Takes every whole element from {@code buf} (position to limit); a partial element stays. */
		void put(ByteBuffer buf) {
			int size = storage.bytes;
			while (buf.remaining() >= size && index < arrays.length) {
				int n = Math.min(buf.remaining() / size, lengths[index] - pos);
				Object a = arrays[index];
				int p = buf.position();
				// Typed views do not move this buffer's position (the byte copy does); set it once below.
				switch (storage) {
					case BYTE: buf.get((byte[]) a, pos, n); break;
					case SHORT: buf.asShortBuffer().get((short[]) a, pos, n); break;
					case INT: buf.asIntBuffer().get((int[]) a, pos, n); break;
					case LONG: buf.asLongBuffer().get((long[]) a, pos, n); break;
					case FLOAT: buf.asFloatBuffer().get((float[]) a, pos, n); break;
					default: buf.asDoubleBuffer().get((double[]) a, pos, n); break;
				}
				buf.position(p + n * size);
				pos += n;
				if (pos == lengths[index]) {
					index++;
					pos = 0;
				}
			}
		}
	}

	/** A direct chunk buffer in the file's byte order (direct: the channel reads into it with no copy). */
	static ByteBuffer chunk(ByteOrder order) {
		return ByteBuffer.allocateDirect(CHUNK_BYTES).order(order);
	}

	/** Reads exactly {@code length} bytes at {@code start} into the sink. */
	static void readRaw(FileChannel ch, Path file, long start, long length, ByteBuffer buf, Sink sink) throws IOException {
		buf.clear();
		long pos = start, end = start + length;
		while (pos < end) {
			buf.limit((int) Math.min(buf.capacity(), buf.position() + (end - pos)));
			int n = ch.read(buf, pos);
			if (n < 0)
				throw new MetaImageException(file, "data end at byte offset " + pos + ", but the image needs bytes up to offset " + end);
			pos += n;
			buf.flip();
			sink.put(buf);
			buf.compact();
		}
	}

	/**
	 * Inflates the zlib stream at {@code start} (at most {@code compressedLength} bytes) into the
	 * sink, streaming, and checks that it yields exactly {@code expected} bytes.
	 */
	static void readZlib(FileChannel ch, Path file, long start, long compressedLength, long expected, ByteBuffer out, Sink sink)
		throws IOException
	{
		Inflater inflater = new Inflater();
		try {
			ByteBuffer in = ByteBuffer.allocateDirect(1 << 20);
			in.limit(0);
			out.clear();
			long inPos = start, inEnd = start + compressedLength, produced = 0;
			while (!inflater.finished()) {
				if (inflater.needsInput()) {
					if (inPos >= inEnd)
						throw new MetaImageException(file, "compressed data end at byte offset " + inEnd + " after inflating " + produced +
							" of the " + expected + " bytes the image needs (truncated)");
					in.clear();
					in.limit((int) Math.min(in.capacity(), inEnd - inPos));
					int n = ch.read(in, inPos);
					if (n < 0)
						throw new MetaImageException(file, "compressed data end at byte offset " + inPos + " after inflating " + produced +
							" of the " + expected + " bytes the image needs (truncated)");
					inPos += n;
					in.flip();
					inflater.setInput(in);
				}
				int n;
				try {
					n = inflater.inflate(out);
				}
				catch (DataFormatException e) {
					throw new MetaImageException(file, "corrupt zlib data near byte offset " + (inPos - in.remaining()) + ": " +
						e.getMessage(), e);
				}
				if (n == 0 && inflater.needsDictionary())
					throw new MetaImageException(file, "zlib data at byte offset " + start + " need a preset dictionary, which MetaImage never uses");
				produced += n;
				if (produced > expected)
					throw new MetaImageException(file, "compressed data at byte offset " + start + " inflate to more than the " + expected +
						" bytes that DimSize and ElementType give");
				out.flip();
				sink.put(out);
				out.compact();
			}
			if (produced != expected)
				throw new MetaImageException(file, "compressed data at byte offset " + start + " inflate to " + produced +
					" bytes, but DimSize and ElementType need " + expected);
		}
		finally {
			inflater.end();
		}
	}

	/**
	 * Collects encoded voxels in a heap chunk and hands full chunks to an output stream (the file,
	 * or a DeflaterOutputStream in front of it).
	 */
	static final class Writer {
		private final ByteBuffer buf;
		private final OutputStream out;

		Writer(OutputStream out, ByteOrder order) {
			this.out = out;
			this.buf = ByteBuffer.allocate(CHUNK_BYTES).order(order);
		}

		/** Room for at least {@code bytes} more bytes, flushing if needed. */
		ByteBuffer room(int bytes) throws IOException {
			if (buf.remaining() < bytes) flush();
			return buf;
		}

		/** Writes {@code n} elements of a primitive array, chunk by chunk. */
		void putArray(MetType.Storage storage, Object array, int n) throws IOException {
			int size = storage.bytes, pos = 0;
			while (pos < n) {
				if (buf.remaining() < size) flush();
				int k = Math.min(n - pos, buf.remaining() / size);
				int p = buf.position();
				switch (storage) {
					case BYTE: buf.put((byte[]) array, pos, k); break;
					case SHORT: buf.asShortBuffer().put((short[]) array, pos, k); break;
					case INT: buf.asIntBuffer().put((int[]) array, pos, k); break;
					case LONG: buf.asLongBuffer().put((long[]) array, pos, k); break;
					case FLOAT: buf.asFloatBuffer().put((float[]) array, pos, k); break;
					default: buf.asDoubleBuffer().put((double[]) array, pos, k); break;
				}
				buf.position(p + k * size);
				pos += k;
			}
		}

		void flush() throws IOException {
			out.write(buf.array(), 0, buf.position());
			buf.clear();
		}
	}
}
