package org.lungnodules.training;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Scalar summaries in TensorBoard's event-file format, without TensorFlow: TFRecord framing around
 * hand-encoded {@code Event} protocol buffers.
 * <p>
 * Record: uint64 length (little-endian), masked CRC32C of those 8 bytes, the data, masked CRC32C of
 * the data. Event: wall_time (field 1, double), step (2, int64), file_version (3, string; first
 * event only, "brain.Event:2"), summary (5) → Summary.value (1, repeated) → Value{tag (1, string),
 * simple_value (2, float)}. The file is {@code events.out.tfevents.<seconds>.<host>} in the folder;
 * each record is flushed as written, so TensorBoard can follow a running training.
 */
public final class TensorBoardWriter implements Closeable {

	private static final int MASK_DELTA = 0xa282ead8;

	private final Path file;
	private final OutputStream out;

	/** Creates the folder and a new event file in it (a resumed run gets a second file, as with PyTorch). */
	public TensorBoardWriter(Path folder) throws IOException {
		Files.createDirectories(folder);
		String host;
		try {
			host = InetAddress.getLocalHost().getHostName();
		} catch (IOException e) {
			host = "localhost";
		}
		long seconds = System.currentTimeMillis() / 1000;
		Path f = folder.resolve("events.out.tfevents." + seconds + "." + host);
		// Two writers within one second (a quick resume) must not share a file.
		for (int k = 1; Files.exists(f); k++) f = folder.resolve("events.out.tfevents." + seconds + "." + host + "." + k);
		file = f;
		out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
		ByteArrayOutputStream event = new ByteArrayOutputStream();
		writeDouble(event, 1, now());
		writeVarintField(event, 2, 0);
		writeBytes(event, 3, "brain.Event:2".getBytes(StandardCharsets.UTF_8));
		writeRecord(event.toByteArray());
	}

	public Path file() { return file; }

	/** One event holding all the scalars at this step (NaN values are written as NaN). */
	public synchronized void scalars(long step, Map<String, Double> values) throws IOException {
		ByteArrayOutputStream summary = new ByteArrayOutputStream();
		for (Map.Entry<String, Double> e : values.entrySet()) {
			ByteArrayOutputStream value = new ByteArrayOutputStream();
			writeBytes(value, 1, e.getKey().getBytes(StandardCharsets.UTF_8));
			writeTag(value, 2, 5); // fixed32
			writeFixed32(value, Float.floatToRawIntBits(e.getValue().floatValue()));
			writeBytes(summary, 1, value.toByteArray());
		}
		ByteArrayOutputStream event = new ByteArrayOutputStream();
		writeDouble(event, 1, now());
		writeVarintField(event, 2, step);
		writeBytes(event, 5, summary.toByteArray());
		writeRecord(event.toByteArray());
	}

	@Override
	public synchronized void close() throws IOException {
		out.close();
	}

	private static double now() {
		return System.currentTimeMillis() / 1000.0;
	}

	private void writeRecord(byte[] data) throws IOException {
		ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
		header.putLong(data.length);
		header.putInt(maskedCrc(header.array(), 0, 8));
		ByteBuffer footer = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskedCrc(data, 0, data.length));
		out.write(header.array());
		out.write(data);
		out.write(footer.array());
		out.flush();
	}

	/** TFRecord's CRC: CRC32C rotated right by 15 bits plus a constant, so that CRCs of CRCs do not degenerate. */
	static int maskedCrc(byte[] data, int offset, int length) {
		CRC32C crc = new CRC32C();
		crc.update(data, offset, length);
		int c = (int) crc.getValue();
		return ((c >>> 15) | (c << 17)) + MASK_DELTA;
	}

	// ---- protocol buffer wire format: tag = field << 3 | wire type (0 varint, 1 fixed64, 2 bytes, 5 fixed32)

	private static void writeTag(ByteArrayOutputStream out, int field, int wireType) {
		writeVarint(out, ((long) field << 3) | wireType);
	}

	private static void writeVarint(ByteArrayOutputStream out, long v) {
		while ((v & ~0x7fL) != 0) {
			out.write((int) ((v & 0x7f) | 0x80));
			v >>>= 7;
		}
		out.write((int) v);
	}

	private static void writeVarintField(ByteArrayOutputStream out, int field, long v) {
		writeTag(out, field, 0);
		writeVarint(out, v);
	}

	private static void writeDouble(ByteArrayOutputStream out, int field, double v) {
		writeTag(out, field, 1);
		long bits = Double.doubleToRawLongBits(v);
		for (int i = 0; i < 8; i++) out.write((int) (bits >>> (8 * i)));
	}

	private static void writeFixed32(ByteArrayOutputStream out, int bits) {
		for (int i = 0; i < 4; i++) out.write(bits >>> (8 * i));
	}

	private static void writeBytes(ByteArrayOutputStream out, int field, byte[] bytes) {
		writeTag(out, field, 2);
		writeVarint(out, bytes.length);
		out.write(bytes, 0, bytes.length);
	}
}
