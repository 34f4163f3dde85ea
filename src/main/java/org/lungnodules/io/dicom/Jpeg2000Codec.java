package org.lungnodules.io.dicom;

import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.List;

import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

import com.github.jaiimageio.jpeg2000.impl.J2KImageReaderSpi;

/**
 * Decodes one DICOM JPEG 2000 frame (transfer syntaxes 1.2.840.10008.1.2.4.90 lossless and .91
 * irreversible) of a single-component (grayscale) image, with jai-imageio's JPEG 2000 plugin (the
 * JJ2000 decoder, pure Java).
 *
 * <p>Before the decoder sees the codestream, its SIZ marker segment (ISO/IEC 15444-1 A.5.1) is read
 * here and checked against the DICOM header: image size equal to Columns x Rows, one component, a
 * precision of at most 16 bits and a sane tiling. So a bogus size is refused before anything large is
 * allocated.
 *
 * <p>Signedness: the codestream says per component whether its samples are signed (Ssiz bit 7), and
 * some writers disagree with the header's PixelRepresentation (pydicom's
 * {@code J2K_pixelrep_mismatch.dcm}: unsigned 13-bit samples, header signed 13 bits stored). As
 * pydicom does, the header wins: when the two disagree, the decoded bit pattern is reinterpreted, its
 * low BitsStored bits taken and sign-extended when PixelRepresentation is 1.
 *
 * <p>The reader's service provider is instantiated directly, never looked up through ImageIO's
 * registry, so the plugin is found in Fiji too, whatever class loader filled the registry.
 */
public final class Jpeg2000Codec {

	private Jpeg2000Codec() {}

	/** At most this many tiles: a real CT frame has one or a few dozen; a hostile SIZ may claim millions. */
	private static final long MAX_TILES = 1 << 16;

	/**
	 * Decodes one frame.
	 *
	 * @param codestream the frame's bytes: a JPEG 2000 codestream (starting with SOC), or a JP2 file
	 *        holding one (some writers put the JP2 wrapper in DICOM)
	 * @param rows the header's Rows
	 * @param columns the header's Columns
	 * @param bitsStored the header's BitsStored (1..16)
	 * @param signed the header's PixelRepresentation is 1
	 * @param source the file and frame, for error messages
	 * @return rows x columns stored values, row-major, as signed says
	 * @throws IOException naming source and the problem, for any malformed, truncated or mismatching
	 *         codestream
	 */
	public static int[] decode(byte[] codestream, int rows, int columns, int bitsStored, boolean signed, String source)
		throws IOException
	{
		if (codestream == null) throw new IOException(source + ": no JPEG 2000 data");
		checkHeader(rows, columns, bitsStored, source);
		Siz siz = readSiz(codestream, source);
		if (siz.width != columns || siz.height != rows)
			throw new IOException(source + ": the JPEG 2000 codestream is " + siz.width + "x" + siz.height +
				" pixels, but Columns x Rows say " + columns + "x" + rows);
		if (siz.components != 1)
			throw new IOException(source + ": the JPEG 2000 codestream has " + siz.components +
				" components; a grayscale CT frame has one");
		checkTileParts(codestream, siz.codestreamStart, source);
		if (siz.precision > 16)
			throw new IOException(source + ": the JPEG 2000 codestream has " + siz.precision +
				"-bit samples; at most 16 are supported");

		int[] out;
		try {
			out = decodeWithPlugin(codestream, rows, columns, source);
		}
		catch (IOException e) {
			if (e.getMessage() != null && e.getMessage().startsWith(source)) throw e;
			throw new IOException(source + ": the JPEG 2000 codestream cannot be decoded: " + e, e);
		}
		catch (RuntimeException e) {
			// JJ2000 fails on corrupt streams in many ways (index errors, its own runtime exceptions).
			throw new IOException(source + ": the JPEG 2000 codestream cannot be decoded: " + e, e);
		}
		catch (VirtualMachineError e) {
			if (!(e instanceof OutOfMemoryError || e instanceof StackOverflowError)) throw e;
			throw new IOException(source + ": the JPEG 2000 codestream cannot be decoded: " + e, e);
		}
		catch (LinkageError e) {
			throw new IOException(source + ": the JPEG 2000 decoder (jai-imageio-jpeg2000) is missing or broken: " + e, e);
		}
		catch (Error e) {
			// JJ2000's JJ2KExceptionHandler turns an I/O error inside the decoder (such as reading past
			// the end) into a ThreadDeath, after printing its stack trace.
			throw new IOException(source + ": the JPEG 2000 codestream cannot be decoded: " + e, e);
		}

		if (siz.signed != signed) {
			// The header wins (as in pydicom): reinterpret the decoded bit pattern as BitsStored bits.
			int mask = bitsStored == 32 ? -1 : (1 << bitsStored) - 1;
			for (int i = 0; i < out.length; i++) out[i] = interpret(out[i] & mask, bitsStored, signed);
		}
		return out;
	}

	static void checkHeader(int rows, int columns, int bitsStored, String source) throws IOException {
		if (rows <= 0 || columns <= 0)
			throw new IOException(source + ": a frame of " + columns + "x" + rows + " pixels cannot be decoded");
		if ((long) rows * columns > JpegLsCodec.MAX_PIXELS)
			throw new IOException(source + ": a frame of " + columns + "x" + rows + " pixels is larger than the decoders support (" +
				JpegLsCodec.MAX_PIXELS + " pixels)");
		if (bitsStored < 1 || bitsStored > 16)
			throw new IOException(source + ": BitsStored " + bitsStored + " is not supported (1 to 16)");
	}

	/** Sign-extends (or not) the low {@code bits} bits of v. */
	static int interpret(int v, int bits, boolean signed) {
		return signed ? (v << (32 - bits)) >> (32 - bits) : v;
	}

	/**
	 * Collects what JJ2000 reports (it would print to the console otherwise); an ERROR report makes
	 * the frame refused, warnings are only named if decoding then fails.
	 */
	private static final class Messages implements jj2000.j2k.util.MsgLogger {
		final java.util.List<String> warnings = new java.util.ArrayList<>(), errors = new java.util.ArrayList<>();

		@Override public void printmsg(int severity, String message) {
			if (severity >= ERROR) errors.add(message);
			else if (severity >= WARNING && warnings.size() < 20) warnings.add(message);
		}

		@Override public void println(String message, int firstIndent, int indent) {}

		@Override public void flush() {}
	}

	private static int[] decodeWithPlugin(byte[] codestream, int rows, int columns, String source) throws IOException {
		Messages messages = new Messages();
		Thread thread = Thread.currentThread();
		jj2000.j2k.util.FacilityManager.registerMsgLogger(thread, messages);
		try {
			int[] out = decodeWithPlugin(codestream, rows, columns, source, messages);
			if (!messages.errors.isEmpty())
				throw new IOException(source + ": the JPEG 2000 codestream is corrupt (" + String.join("; ", messages.errors) + ")");
			return out;
		}
		catch (IOException | RuntimeException | Error e) {
			if (messages.warnings.isEmpty() && messages.errors.isEmpty()) throw e;
			List<String> said = new java.util.ArrayList<>(messages.errors);
			said.addAll(messages.warnings);
			String text = e.getMessage() != null && e.getMessage().startsWith(source) ? e.getMessage()
				: source + ": the JPEG 2000 codestream cannot be decoded: " + e;
			throw new IOException(text + " (the decoder said: " + String.join("; ", said) + ")", e);
		}
		finally {
			jj2000.j2k.util.FacilityManager.unregisterMsgLogger(thread);
		}
	}

	private static int[] decodeWithPlugin(byte[] codestream, int rows, int columns, String source, Messages messages) throws IOException {
		ImageReader reader = new J2KImageReaderSpi().createReaderInstance();
		try (ImageInputStream stream = new MemoryCacheImageInputStream(new ByteArrayInputStream(codestream))) {
			reader.setInput(stream, true, true);
			int w = reader.getWidth(0), h = reader.getHeight(0);
			if (w != columns || h != rows)
				throw new IOException(source + ": the JPEG 2000 codestream decodes to " + w + "x" + h +
					" pixels, but Columns x Rows say " + columns + "x" + rows);
			Raster raster = reader.readRaster(0, null);
			if (raster.getWidth() != columns || raster.getHeight() != rows || raster.getNumBands() != 1)
				throw new IOException(source + ": the JPEG 2000 codestream decodes to " + raster.getWidth() + "x" +
					raster.getHeight() + " pixels with " + raster.getNumBands() + " bands; a CT frame has one");
			int[] out = new int[rows * columns];
			raster.getSamples(raster.getMinX(), raster.getMinY(), columns, rows, 0, out);
			// Rasters of TYPE_USHORT give 0..65535, TYPE_SHORT -32768..32767: both are the bit pattern
			// the codestream's signedness describes.
			return out;
		}
		finally {
			reader.dispose();
		}
	}

	/** What the SIZ marker segment says (15444-1 A.5.1), for component 0. */
	record Siz(int width, int height, int components, int precision, boolean signed, int codestreamStart) {}

	/**
	 * Finds and reads the SIZ marker segment: at offset 2 of a raw codestream (SOC then SIZ), or in the
	 * contiguous codestream box ('jp2c') of a JP2 file.
	 */
	static Siz readSiz(byte[] b, String source) throws IOException {
		int soc = findCodestream(b, source);
		int at = soc + 2;
		if (at + 4 > b.length || u16(b, at) != 0xFF51)
			throw new IOException(source + ": the JPEG 2000 codestream has no SIZ marker after SOC");
		int lsiz = u16(b, at + 2);
		// Lsiz = 38 + 3 * Csiz; the fixed part is 38 bytes after the marker.
		if (lsiz < 41 || at + 2 + lsiz > b.length)
			throw new IOException(source + ": the JPEG 2000 SIZ marker segment is truncated (length " + lsiz + ", " +
				(b.length - at - 2) + " bytes left)");
		long xsiz = u32(b, at + 6), ysiz = u32(b, at + 10), xo = u32(b, at + 14), yo = u32(b, at + 18);
		long xt = u32(b, at + 22), yt = u32(b, at + 26), xto = u32(b, at + 30), yto = u32(b, at + 34);
		int csiz = u16(b, at + 38);
		if (csiz < 1 || lsiz != 38 + 3 * csiz)
			throw new IOException(source + ": the JPEG 2000 SIZ marker segment is malformed (Lsiz " + lsiz +
				", Csiz " + csiz + ")");
		if (xo >= xsiz || yo >= ysiz || xt == 0 || yt == 0 || xto > xo || yto > yo || xto + xt <= xo || yto + yt <= yo)
			throw new IOException(source + ": the JPEG 2000 SIZ marker segment has an impossible geometry (Xsiz " + xsiz +
				", Ysiz " + ysiz + ", XOsiz " + xo + ", YOsiz " + yo + ", tiles " + xt + "x" + yt + ")");
		long width = xsiz - xo, height = ysiz - yo;
		long tiles = ((xsiz - xto + xt - 1) / xt) * ((ysiz - yto + yt - 1) / yt);
		if (tiles > MAX_TILES)
			throw new IOException(source + ": the JPEG 2000 codestream claims " + tiles + " tiles; refusing more than " + MAX_TILES);
		int ssiz = b[at + 40] & 0xFF;
		int precision = (ssiz & 0x7F) + 1;
		if (precision > 38)
			throw new IOException(source + ": the JPEG 2000 SIZ marker segment gives " + precision + "-bit samples");
		int xr = b[at + 41] & 0xFF, yr = b[at + 42] & 0xFF;
		if (xr == 0 || yr == 0)
			throw new IOException(source + ": the JPEG 2000 SIZ marker segment has a zero subsampling factor");
		return new Siz((int) Math.min(width, Integer.MAX_VALUE), (int) Math.min(height, Integer.MAX_VALUE), csiz,
			precision, (ssiz & 0x80) != 0, soc);
	}

	/**
	 * Walks the main header's marker segments and then the tile-parts by their lengths (SOT's Psot,
	 * 15444-1 A.4.2), so that a truncated codestream is refused: JJ2000 was written for rate
	 * scalability and decodes a cut stream to a coarser image without complaint, which for a lossless
	 * CT would be wrong voxels. A stream whose tile-parts fill the data exactly is accepted without its
	 * final EOC marker; one whose last tile-part has Psot = 0 ("up to EOC") must end with EOC.
	 */
	static void checkTileParts(byte[] b, int soc, String source) throws IOException {
		int end = b.length;
		int at = soc + 2;
		// Main header: marker segments (FFxx, then a length counting itself) up to the first SOT.
		while (true) {
			if (at + 4 > end)
				throw new IOException(source + ": the JPEG 2000 codestream is truncated in its main header (" + end + " bytes)");
			int marker = u16(b, at);
			if (marker == 0xFF90) break;
			if ((marker & 0xFF00) != 0xFF00 || marker < 0xFF30)
				throw new IOException(source + ": the JPEG 2000 main header has no marker at byte " + at +
					String.format(" (found %04X)", marker));
			int len = u16(b, at + 2);
			if (len < 2) throw new IOException(source + ": the JPEG 2000 marker " + String.format("%04X", marker) +
				" at byte " + at + " has length " + len);
			at += 2 + len;
		}
		// Tile-parts.
		while (true) {
			if (at + 12 > end)
				throw new IOException(source + ": the JPEG 2000 codestream is truncated: a tile-part header at byte " + at +
					" runs past the end (" + end + " bytes)");
			if (u16(b, at) != 0xFF90 || u16(b, at + 2) != 10)
				throw new IOException(source + ": the JPEG 2000 codestream has no tile-part (SOT marker) at byte " + at);
			long psot = u32(b, at + 6);
			if (psot == 0) {
				int last = end;
				while (last > at && b[last - 1] == 0) last--; // DICOM pads fragments to even length
				if (last - at < 14 || u16(b, last - 2) != 0xFFD9)
					throw new IOException(source + ": the JPEG 2000 codestream is truncated: its last tile-part runs to the end of the" +
						" data, which has no EOC marker");
				return;
			}
			if (psot < 14 || at + psot > end)
				throw new IOException(source + ": the JPEG 2000 codestream is truncated: the tile-part at byte " + at + " is " + psot +
					" bytes long, but only " + (end - at) + " remain");
			at += (int) psot;
			if (at == end) return;
			if (at + 2 <= end && u16(b, at) == 0xFFD9) return;
			if (at + 2 <= end && u16(b, at) == 0xFF90) continue;
			// Padding after the last tile-part (a DICOM pad byte, or zeros from a writer).
			boolean zeros = true;
			for (int i = at; i < end && zeros; i++) zeros = b[i] == 0;
			if (zeros) return;
			throw new IOException(source + ": the JPEG 2000 codestream has neither a tile-part nor EOC at byte " + at);
		}
	}

	/** Offset of the SOC marker: 0 for a raw codestream, inside the 'jp2c' box for a JP2 file. */
	private static int findCodestream(byte[] b, String source) throws IOException {
		if (b.length >= 2 && u16(b, 0) == 0xFF4F) return 0;
		// JP2 (15444-1 Annex I): a sequence of boxes, LBox (4) TBox (4) [XLBox (8)] contents.
		if (b.length >= 12 && u32(b, 0) == 12 && u32(b, 4) == 0x6A502020) {
			long at = 0;
			for (int boxes = 0; at + 8 <= b.length && boxes < 10_000; boxes++) {
				long lbox = u32(b, (int) at), tbox = u32(b, (int) at + 4), header = 8;
				if (lbox == 1) {
					if (at + 16 > b.length) break;
					lbox = (u32(b, (int) at + 8) << 32) | u32(b, (int) at + 12);
					header = 16;
				}
				else if (lbox == 0) lbox = b.length - at; // the last box runs to the end
				if (lbox < header) break;
				if (tbox == 0x6A703263) { // 'jp2c'
					long c = at + header;
					if (c + 2 <= b.length && u16(b, (int) c) == 0xFF4F) return (int) c;
					break;
				}
				at += lbox;
			}
			throw new IOException(source + ": the JP2 data holds no JPEG 2000 codestream");
		}
		throw new IOException(source + ": not a JPEG 2000 codestream (no SOC marker FF4F at its start" +
			(b.length >= 2 ? ", found " + String.format("%02X%02X", b[0] & 0xFF, b[1] & 0xFF) : ", " + b.length + " bytes") + ")");
	}

	private static int u16(byte[] b, int at) {
		return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
	}

	private static long u32(byte[] b, int at) {
		return (b[at] & 0xFFL) << 24 | (b[at + 1] & 0xFFL) << 16 | (b[at + 2] & 0xFFL) << 8 | (b[at + 3] & 0xFFL);
	}
}
