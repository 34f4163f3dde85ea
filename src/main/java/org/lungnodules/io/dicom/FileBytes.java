package org.lungnodules.io.dicom;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Random access to a file (through a window, so headers of large files cost one small read) or to bytes in memory. */
final class FileBytes {

	/** How much of a file one header read fetches; CT headers are a few kB. */
	private static final int WINDOW = 64 * 1024;
	/** The values we interpret are short strings and numbers; longer ones mean a bogus length. */
	private static final int MAX_INTERPRETED_VALUE = 64 * 1024;

	final Path file;
	final long size;
	private final FileChannel channel;
	private byte[] window;
	private long windowStart;
	private int windowLength;

	FileBytes(Path file, FileChannel channel, long size) {
		this.file = file;
		this.channel = channel;
		this.size = size;
		this.window = new byte[0];
	}

	FileBytes(Path file, byte[] data) {
		this.file = file;
		this.channel = null;
		this.size = data.length;
		this.window = data;
		this.windowLength = data.length;
	}

	/** Makes bytes [pos, pos + n) readable, or fails naming what was being read. */
	void need(long pos, long n, String what) throws IOException {
		if (pos < 0 || n < 0 || pos + n > size)
			throw new DicomException(file, "ends at byte " + size + " inside " + what + " at byte " + pos + ": the file is truncated");
		if (pos >= windowStart && pos + n <= windowStart + windowLength) return;
		if (channel == null) throw new IllegalStateException("in-memory bytes are all loaded");
		int length = (int) Math.min(size - pos, Math.max(n, WINDOW));
		if (window.length < length) window = new byte[length];
		ByteBuffer bb = ByteBuffer.wrap(window, 0, length);
		long at = pos;
		while (bb.hasRemaining()) {
			int r = channel.read(bb, at);
			if (r < 0) throw new DicomException(file, "ends unexpectedly at byte " + at + " (it shrank while being read)");
			at += r;
		}
		windowStart = pos;
		windowLength = length;
	}

	int u8(long pos) throws IOException {
		need(pos, 1, "a byte");
		return window[(int) (pos - windowStart)] & 0xFF;
	}

	int u16(long pos, boolean big) throws IOException {
		need(pos, 2, "a 16-bit value");
		int i = (int) (pos - windowStart);
		int a = window[i] & 0xFF, b = window[i + 1] & 0xFF;
		return big ? (a << 8) | b : a | (b << 8);
	}

	long u32(long pos, boolean big) throws IOException {
		need(pos, 4, "a 32-bit value");
		int i = (int) (pos - windowStart);
		long a = window[i] & 0xFF, b = window[i + 1] & 0xFF, c = window[i + 2] & 0xFF, d = window[i + 3] & 0xFF;
		return big ? (a << 24) | (b << 16) | (c << 8) | d : a | (b << 8) | (c << 16) | (d << 24);
	}

	/** A text value, without the space/NUL padding DICOM adds to reach an even length. */
	String string(long pos, long length, String what) throws IOException {
		if (length > MAX_INTERPRETED_VALUE)
			throw new DicomException(file, what + " at byte " + pos + " declares " + length + " bytes, far more than such a value holds");
		need(pos, length, what);
		String text = new String(window, (int) (pos - windowStart), (int) length, StandardCharsets.ISO_8859_1);
		int end = text.length();
		while (end > 0 && (text.charAt(end - 1) == ' ' || text.charAt(end - 1) == '\0')) end--;
		int start = 0;
		while (start < end && text.charAt(start) == ' ') start++;
		return text.substring(start, end);
	}
}

