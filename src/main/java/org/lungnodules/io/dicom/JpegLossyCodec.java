package org.lungnodules.io.dicom;

import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;

import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;

/**
 * Decodes one DICOM lossy JPEG frame of a single-component (grayscale) image: JPEG Baseline
 * (1.2.840.10008.1.2.4.50, 8-bit, Process 1) and JPEG Extended (.51, 8- or 12-bit, Process 2 and 4),
 * both sequential DCT with Huffman coding (ITU-T T.81).
 *
 * <p>8-bit frames go to the JDK's JPEG decoder (through TwelveMonkeys' reader, registered by hand as
 * the DICOM reader does); neither decodes 12-bit DCT, so 12-bit frames are decoded here, from T.81
 * Annex F (Huffman decoding of the coefficients) and A.3.3 (the inverse DCT), with a floating-point
 * IDCT rounded to the nearest integer. T.81 does not define the IDCT's output bit-exactly (T.83
 * allows small differences), so another decoder may differ from this one by a unit now and then.
 *
 * <p>Refused with the reason: progressive, lossless (use the JPEG Lossless path), hierarchical and
 * arithmetic-coded frames, more than one component, sizes that disagree with the header.
 */
public final class JpegLossyCodec {

	private JpegLossyCodec() {}

	/**
	 * Decodes one frame.
	 *
	 * @param codestream the frame's bytes, a JPEG stream from SOI to EOI
	 * @param rows the header's Rows
	 * @param columns the header's Columns
	 * @param bitsStored the header's BitsStored (1..16)
	 * @param signed the header's PixelRepresentation is 1 (samples are two's complement patterns of
	 *        bitsStored bits and are sign-extended)
	 * @param source the file and frame, for error messages
	 * @return rows x columns stored values, row-major
	 * @throws IOException naming source and the problem
	 */
	public static int[] decode(byte[] codestream, int rows, int columns, int bitsStored, boolean signed, String source)
		throws IOException
	{
		if (codestream == null) throw new IOException(source + ": no JPEG data");
		Jpeg2000Codec.checkHeader(rows, columns, bitsStored, source);
		try {
			Frame f = Frame.parse(codestream, source);
			if (f.width != columns || f.height != rows)
				throw new IOException(source + ": the JPEG frame is " + f.width + "x" + f.height + " pixels, but Columns x Rows say " +
					columns + "x" + rows);
			int[] samples = f.precision == 8 ? decodeWithJdk(codestream, rows, columns, source) : decodeDct(codestream, source);
			int mask = (1 << bitsStored) - 1;
			for (int i = 0; i < samples.length; i++) samples[i] = Jpeg2000Codec.interpret(samples[i] & mask, bitsStored, signed);
			return samples;
		}
		catch (IOException e) {
			if (e.getMessage() != null && e.getMessage().startsWith(source)) throw e;
			throw new IOException(source + ": the JPEG frame cannot be decoded: " + e, e);
		}
		catch (RuntimeException e) {
			throw new IOException(source + ": the JPEG frame cannot be decoded: " + e, e);
		}
		catch (OutOfMemoryError e) {
			throw new IOException(source + ": the JPEG frame of " + columns + "x" + rows + " pixels does not fit in memory", e);
		}
	}

	/** The JDK's decoder via TwelveMonkeys' reader (which hands DCT frames to it). */
	private static int[] decodeWithJdk(byte[] codestream, int rows, int columns, String source) throws IOException {
		JPEGImageReaderSpi spi;
		synchronized (JpegLossyCodec.class) {
			// TwelveMonkeys' provider finds the JDK's reader it delegates to when it is registered.
			IIORegistry registry = IIORegistry.getDefaultInstance();
			spi = registry.getServiceProviderByClass(JPEGImageReaderSpi.class);
			if (spi == null) {
				registry.registerServiceProvider(new JPEGImageReaderSpi());
				spi = registry.getServiceProviderByClass(JPEGImageReaderSpi.class);
			}
		}
		ImageReader reader = spi.createReaderInstance();
		// libjpeg (inside the JDK) only warns about corrupt or truncated data and fills in the
		// missing blocks: refuse such a frame instead of returning made-up pixels.
		java.util.List<String> warnings = new java.util.ArrayList<>();
		reader.addIIOReadWarningListener((r, warning) -> warnings.add(warning));
		try (ImageInputStream stream = new MemoryCacheImageInputStream(new ByteArrayInputStream(codestream))) {
			reader.setInput(stream, true, true);
			Raster raster = reader.canReadRaster() ? reader.readRaster(0, null) : reader.read(0).getRaster();
			if (!warnings.isEmpty())
				throw new IOException(source + ": the JPEG data is corrupt or truncated (" + String.join("; ", warnings) + ")");
			if (raster.getWidth() != columns || raster.getHeight() != rows || raster.getNumBands() != 1)
				throw new IOException(source + ": the JPEG frame decodes to " + raster.getWidth() + "x" + raster.getHeight() +
					" pixels with " + raster.getNumBands() + " components; a CT frame has one");
			int[] out = new int[rows * columns];
			raster.getSamples(raster.getMinX(), raster.getMinY(), columns, rows, 0, out);
			return out;
		}
		finally {
			reader.dispose();
		}
	}

	/** Decodes a sequential DCT, Huffman-coded, single-component frame here (any precision 8 or 12). */
	static int[] decodeDct(byte[] codestream, String source) throws IOException {
		return new DctDecoder(Frame.parse(codestream, source), codestream, source).decode();
	}

	/** Zig-zag order (T.81 Figure A.6): the natural (row-major) index of the k-th coefficient. */
	private static final int[] ZIGZAG = {
		0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
		12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
		35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
		58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63 };

	/** A Huffman table (T.81 C.2 and F.2.2.3: MINCODE, MAXCODE, VALPTR by code length). */
	private static final class Huffman {
		final int[] minCode = new int[17], maxCode = new int[17], valPtr = new int[17];
		final int[] values;

		Huffman(int[] counts, int[] values, String source) throws IOException {
			this.values = values;
			int code = 0, k = 0;
			for (int len = 1; len <= 16; len++) {
				valPtr[len] = k;
				minCode[len] = code;
				code += counts[len];
				k += counts[len];
				maxCode[len] = counts[len] == 0 ? -1 : code - 1;
				if (code > 1 << len) throw new IOException(source + ": a JPEG Huffman table has more codes than fit in " + len + " bits");
				code <<= 1;
			}
		}
	}

	/** What the marker segments before the scan say (T.81 B.2). */
	private static final class Frame {
		int precision, width, height;
		int quantTable; // Tq of the one component
		final int[][] quant = new int[4][];
		final Huffman[] dc = new Huffman[4], ac = new Huffman[4];
		int restartInterval;
		int dcTable, acTable;
		int scanStart; // first byte of entropy-coded data

		static Frame parse(byte[] d, String source) throws IOException {
			Frame f = new Frame();
			Reader r = new Reader(d, source);
			if (d.length < 2 || (d[0] & 0xFF) != 0xFF || (d[1] & 0xFF) != 0xD8)
				throw new IOException(source + ": not a JPEG stream (no SOI marker FFD8 at its start)");
			r.pos = 2;
			boolean sof = false;
			while (true) {
				int marker = r.marker();
				if (marker == 0xC0 || marker == 0xC1) { // SOF0 baseline, SOF1 extended sequential, Huffman
					int lf = r.u16();
					f.precision = r.u8();
					f.height = r.u16();
					f.width = r.u16();
					int nf = r.u8();
					if (lf != 8 + 3 * nf) throw new IOException(source + ": the JPEG frame header has length " + lf);
					if (nf != 1) throw new IOException(source + ": the JPEG frame has " + nf + " components; a grayscale CT frame has one");
					r.u8();
					r.u8(); // sampling factors: irrelevant for one component
					f.quantTable = r.u8();
					if (f.precision != 8 && f.precision != 12)
						throw new IOException(source + ": the JPEG frame has " + f.precision + "-bit samples (8 or 12 for DCT)");
					if (f.quantTable > 3) throw new IOException(source + ": the JPEG frame uses quantisation table " + f.quantTable);
					if (f.width == 0 || f.height == 0)
						throw new IOException(source + ": the JPEG frame gives no size (" + f.width + "x" + f.height + ")");
					if ((long) f.width * f.height > JpegLsCodec.MAX_PIXELS)
						throw new IOException(source + ": the JPEG frame of " + f.width + "x" + f.height + " pixels is too large");
					sof = true;
				}
				else if (marker >= 0xC2 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
					String kind = marker == 0xC3 || marker == 0xC7 || marker == 0xCB || marker == 0xCF ? "lossless"
						: marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE ? "progressive" : "hierarchical or arithmetic-coded";
					throw new IOException(source + String.format(": the JPEG frame (SOF marker FF%02X) is %s; only sequential DCT with Huffman coding is decoded here", marker, kind));
				}
				else if (marker == 0xC8 || marker == 0xCC) throw new IOException(source + ": the JPEG stream uses arithmetic coding; not supported");
				else if (marker == 0xF7) throw new IOException(source + ": the stream is JPEG-LS, not JPEG");
				else if (marker == 0xDB) { // DQT (B.2.4.1)
					int end = r.segmentEnd();
					while (r.pos < end) {
						int pqtq = r.u8(), pq = pqtq >> 4, tq = pqtq & 15;
						if (pq > 1 || tq > 3) throw new IOException(source + ": a JPEG quantisation table is malformed");
						int[] q = new int[64];
						for (int k = 0; k < 64; k++) q[k] = pq == 0 ? r.u8() : r.u16();
						f.quant[tq] = q; // in zig-zag order
					}
					r.pos = end;
				}
				else if (marker == 0xC4) { // DHT (B.2.4.2)
					int end = r.segmentEnd();
					while (r.pos < end) {
						int tcth = r.u8(), tc = tcth >> 4, th = tcth & 15;
						if (tc > 1 || th > 3) throw new IOException(source + ": a JPEG Huffman table is malformed");
						int[] counts = new int[17];
						int total = 0;
						for (int len = 1; len <= 16; len++) total += counts[len] = r.u8();
						if (total > 256) throw new IOException(source + ": a JPEG Huffman table has " + total + " codes");
						int[] values = new int[total];
						for (int i = 0; i < total; i++) values[i] = r.u8();
						(tc == 0 ? f.dc : f.ac)[th] = new Huffman(counts, values, source);
					}
					r.pos = end;
				}
				else if (marker == 0xDD) { // DRI
					int lr = r.u16();
					if (lr != 4) throw new IOException(source + ": the JPEG DRI segment has length " + lr);
					f.restartInterval = r.u16();
				}
				else if (marker == 0xDA) { // SOS (B.2.3)
					if (!sof) throw new IOException(source + ": the JPEG scan comes before the frame header");
					int ls = r.u16(), ns = r.u8();
					if (ns != 1 || ls != 6 + 2 * ns) throw new IOException(source + ": the JPEG scan has " + ns + " components");
					r.u8();
					int tdta = r.u8();
					f.dcTable = tdta >> 4;
					f.acTable = tdta & 15;
					int ss = r.u8(), se = r.u8(), ahal = r.u8();
					if (ss != 0 || se != 63 || ahal != 0) throw new IOException(source + ": the JPEG scan is not a sequential DCT scan");
					if (f.dcTable > 3 || f.acTable > 3 || f.dc[f.dcTable] == null || f.ac[f.acTable] == null)
						throw new IOException(source + ": the JPEG scan uses a Huffman table that is not defined");
					if (f.quant[f.quantTable] == null) throw new IOException(source + ": the JPEG frame's quantisation table is not defined");
					if (f.precision == 8)
						for (int q : f.quant[f.quantTable]) if (q > 255) throw new IOException(source + ": 16-bit quantisation values in an 8-bit JPEG frame");
					f.scanStart = r.pos;
					return f;
				}
				else if (marker == 0xD9) throw new IOException(source + ": the JPEG stream ends (EOI) before any scan");
				else if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01)
					throw new IOException(source + String.format(": the JPEG stream has a misplaced marker FF%02X", marker));
				else r.pos = r.segmentEnd(); // APPn, COM, DNL ...
			}
		}
	}

	/** Byte-level reading of the marker segments. */
	private static final class Reader {
		final byte[] d;
		final String source;
		int pos;

		Reader(byte[] d, String source) {
			this.d = d;
			this.source = source;
		}

		int u8() throws IOException {
			if (pos >= d.length) throw new IOException(source + ": the JPEG stream is truncated in its header (" + d.length + " bytes)");
			return d[pos++] & 0xFF;
		}

		int u16() throws IOException {
			return u8() << 8 | u8();
		}

		int marker() throws IOException {
			int at = pos;
			if (u8() != 0xFF) throw new IOException(source + ": the JPEG stream has no marker at byte " + at);
			int m;
			do m = u8(); while (m == 0xFF);
			if (m == 0) throw new IOException(source + ": the JPEG stream has no marker at byte " + at);
			return m;
		}

		/** Reads a segment's length and returns where it ends. */
		int segmentEnd() throws IOException {
			int start = pos, len = u16();
			if (len < 2 || start + len > d.length) throw new IOException(source + ": a JPEG marker segment at byte " + (start - 2) + " is truncated");
			return start + len;
		}
	}

	/** Annex F decoding of the blocks and the inverse DCT. */
	private static final class DctDecoder {
		final Frame f;
		final byte[] d;
		final String source;
		int pos;
		int buf, bits;
		boolean atMarker;
		long phantomBits;

		/** COS[x][u] = C(u)/2 cos((2x+1)u pi/16), so that f(x) = sum_u COS[x][u] F(u) is A.3.3's 1-D IDCT. */
		static final double[][] COS = new double[8][8];
		static {
			for (int x = 0; x < 8; x++)
				for (int u = 0; u < 8; u++)
					COS[x][u] = (u == 0 ? Math.sqrt(0.5) : 1.0) / 2 * Math.cos((2 * x + 1) * u * Math.PI / 16);
		}

		DctDecoder(Frame f, byte[] d, String source) {
			this.f = f;
			this.d = d;
			this.source = source;
			this.pos = f.scanStart;
		}

		int[] decode() throws IOException {
			int w = f.width, h = f.height;
			int bw = (w + 7) / 8, bh = (h + 7) / 8;
			long minBits = (long) bw * bh * 2; // each block costs at least a DC and an EOB code
			if (minBits > (long) (d.length - f.scanStart) * 8 + 64)
				throw new IOException(source + ": the JPEG frame claims " + w + "x" + h + " pixels, more than its " + d.length + " bytes can hold");
			int[] out = new int[w * h];
			int[] q = f.quant[f.quantTable];
			Huffman dcT = f.dc[f.dcTable], acT = f.ac[f.acTable];
			int shift = 1 << (f.precision - 1), max = (1 << f.precision) - 1;
			double[] coef = new double[64], tmp = new double[64];
			int pred = 0, mcus = 0, restarts = 0;
			for (int by = 0; by < bh; by++)
				for (int bx = 0; bx < bw; bx++) {
					if (f.restartInterval > 0 && mcus > 0 && mcus % f.restartInterval == 0) {
						restart(restarts++);
						pred = 0;
					}
					mcus++;
					java.util.Arrays.fill(coef, 0);
					// F.2.2.1: the DC difference.
					int t = decodeSymbol(dcT);
					if (t > 16) throw new IOException(source + ": the JPEG data is corrupt (a DC category of " + t + ")");
					pred += extend(receive(t), t);
					coef[0] = (double) pred * q[0];
					// F.2.2.2: the AC coefficients, run-length coded in zig-zag order.
					for (int k = 1; k < 64;) {
						int rs = decodeSymbol(acT), r = rs >> 4, s = rs & 15;
						if (s == 0) {
							if (r != 15) break; // EOB
							k += 16;
							continue;
						}
						k += r;
						if (k > 63) throw new IOException(source + ": the JPEG data is corrupt (a coefficient past the 64th of a block)");
						coef[ZIGZAG[k]] = (double) extend(receive(s), s) * q[k];
						k++;
					}
					// A.3.3: 2-D IDCT as two 1-D passes (rows of coefficients, then columns).
					for (int v = 0; v < 8; v++)
						for (int x = 0; x < 8; x++) {
							double sum = 0;
							for (int u = 0; u < 8; u++) sum += COS[x][u] * coef[v * 8 + u];
							tmp[v * 8 + x] = sum;
						}
					for (int y = 0; y < 8; y++) {
						int py = by * 8 + y;
						if (py >= h) break;
						for (int x = 0; x < 8; x++) {
							int px = bx * 8 + x;
							if (px >= w) break;
							double sum = 0;
							for (int v = 0; v < 8; v++) sum += COS[y][v] * tmp[v * 8 + x];
							// A.3.1: level shift back, then clamp to the sample range.
							long value = Math.round(sum) + shift;
							out[py * w + px] = (int) Math.max(0, Math.min(max, value));
						}
					}
				}
			if (phantomBits - bits > 8)
				throw new IOException(source + ": the JPEG data is truncated: it ends before the last block");
			return out;
		}

		static int extend(int v, int t) {
			return t == 0 ? 0 : v < 1 << (t - 1) ? v - (1 << t) + 1 : v;
		}

		int decodeSymbol(Huffman hf) throws IOException {
			int code = 0;
			for (int len = 1; len <= 16; len++) {
				code = code << 1 | bit();
				if (code <= hf.maxCode[len]) return hf.values[hf.valPtr[len] + code - hf.minCode[len]];
			}
			if (phantomBits - bits > 8) throw new IOException(source + ": the JPEG data is truncated: it ends before the last block");
			throw new IOException(source + ": the JPEG data is corrupt (a code that no Huffman table defines)");
		}

		int receive(int t) throws IOException {
			int v = 0;
			for (int i = 0; i < t; i++) v = v << 1 | bit();
			return v;
		}

		int bit() throws IOException {
			if (bits == 0) {
				fill();
			}
			bits--;
			return (buf >>> bits) & 1;
		}

		/** Next byte of entropy-coded data; FF 00 is a data FF (F.1.2.3); any other FF xx a marker, after which 0s are supplied. */
		void fill() throws IOException {
			if (atMarker || pos >= d.length) {
				buf = 0;
				bits = 8;
				phantomBits += 8;
				if (phantomBits > 1 << 16) throw new IOException(source + ": the JPEG data is truncated: it ends long before the last block");
				return;
			}
			int v = d[pos] & 0xFF;
			if (v == 0xFF) {
				int next = pos + 1 < d.length ? d[pos + 1] & 0xFF : 0;
				if (next != 0) {
					atMarker = true;
					fill();
					return;
				}
				pos += 2;
			}
			else pos++;
			buf = v;
			bits = 8;
		}

		void restart(int count) throws IOException {
			bits = 0;
			atMarker = false;
			int p = pos;
			while (p < d.length && (d[p] & 0xFF) == 0xFF) p++;
			int expected = 0xD0 + (count & 7);
			if (p == pos || p >= d.length || (d[p] & 0xFF) != expected)
				throw new IOException(source + String.format(": the JPEG data has no restart marker FF%02X at byte %d", expected, pos));
			pos = p + 1;
		}
	}
}
