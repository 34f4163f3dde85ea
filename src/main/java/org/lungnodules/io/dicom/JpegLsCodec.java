package org.lungnodules.io.dicom;

import java.io.IOException;
import java.util.Arrays;

/**
 * Decodes one DICOM JPEG-LS frame (transfer syntaxes 1.2.840.10008.1.2.4.80 lossless and .81
 * near-lossless) of a single-component (grayscale) image. Written from ITU-T T.87 (1998) | ISO/IEC
 * 14495-1; the clause numbers below are T.87's. No JPEG-LS decoder is on Maven Central in pure Java.
 *
 * <p>Supported: one component, 2 to 16 bits per sample (P), NEAR >= 0 (lossless and near-lossless),
 * regular and run mode, LSE preset coding parameters (MAXVAL, T1, T2, T3, RESET; C.2.4.1.1) or the
 * defaults (C.2.4.1.1.1), the LSE oversize-dimension segment, restart intervals (DRI, RSTm markers),
 * APPn and COM segments. Refused, each with the reason: other components counts, mapping tables
 * (palette images, LSE ID 2/3, Tm != 0), a point transform, JPEG (T.81) frames.
 *
 * <p>Hostile input: every size is checked before it is used (the frame must be Columns x Rows, and
 * claim no more pixels than its length can hold), code lengths are bounded by LIMIT (A.5.3), and a
 * codestream that ends before the last sample is refused as truncated; every failure is an
 * IOException naming the source.
 */
public final class JpegLsCodec {

	private JpegLsCodec() {}

	/** J[RUNindex], the run-length order table of A.7.1.1 (A.2.1 initialises RUNindex to 0). */
	private static final int[] J = { 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
		4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15 };

	private static final int MIN_C = -128, MAX_C = 127; // A.6.2

	/** 2^28 pixels (16384 x 16384): far above any CT frame, and an int[] of at most 1 GiB. */
	static final long MAX_PIXELS = 1L << 28;

	/**
	 * Decodes one frame.
	 *
	 * @param codestream the frame's bytes, a JPEG-LS stream from SOI to EOI
	 * @param rows the header's Rows
	 * @param columns the header's Columns
	 * @param bitsStored the header's BitsStored (1..16)
	 * @param signed the header's PixelRepresentation is 1: samples are two's complement patterns of
	 *        bitsStored bits, as DICOM stores them in JPEG-LS, and are sign-extended
	 * @param source the file and frame, for error messages
	 * @return rows x columns stored values, row-major
	 * @throws IOException naming source and the problem
	 */
	public static int[] decode(byte[] codestream, int rows, int columns, int bitsStored, boolean signed, String source)
		throws IOException
	{
		if (codestream == null) throw new IOException(source + ": no JPEG-LS data");
		Jpeg2000Codec.checkHeader(rows, columns, bitsStored, source);
		try {
			int[] samples = new Decoder(codestream, source).decode(rows, columns);
			int mask = (1 << bitsStored) - 1;
			for (int i = 0; i < samples.length; i++) samples[i] = Jpeg2000Codec.interpret(samples[i] & mask, bitsStored, signed);
			return samples;
		}
		catch (IOException e) {
			throw e;
		}
		catch (RuntimeException e) {
			// Should not happen (every index is checked); still, never let one escape.
			throw new IOException(source + ": the JPEG-LS codestream cannot be decoded: " + e, e);
		}
		catch (OutOfMemoryError e) {
			throw new IOException(source + ": the JPEG-LS frame of " + columns + "x" + rows + " pixels does not fit in memory", e);
		}
	}

	/** One decoding: the marker segments (Annex C), then the scan (Annex A). */
	private static final class Decoder {
		final byte[] d;
		final String source;
		int pos;

		// Frame (C.2.2) and scan (C.2.3) parameters.
		int precision, width = -1, height = -1;
		int near, maxval, t1, t2, t3, reset;
		int presetMaxval, presetT1, presetT2, presetT3, presetReset; // 0: default
		int restartInterval;
		// Derived (A.2.1).
		int range, qbpp, bpp, limit;

		// Context variables (A.2.1): 365 regular contexts (indices 1..364 used) and the two run
		// interruption contexts 365 (RItype 0) and 366 (RItype 1).
		final int[] a = new int[367], b = new int[367], c = new int[367], n = new int[367], nn = new int[367];
		int runIndex;

		// Bit input (A.1 and C.1.2: a 0 bit is stuffed after every 0xFF byte of scan data).
		long buf;
		int bits;
		boolean afterFF, atMarker;
		long phantomBits; // zero bits supplied past the end of the scan data

		Decoder(byte[] d, String source) {
			this.d = d;
			this.source = source;
		}

		IOException error(String what) {
			return new IOException(source + ": " + what);
		}

		int u8() throws IOException {
			if (pos >= d.length) throw error("the JPEG-LS codestream is truncated in its header (" + d.length + " bytes)");
			return d[pos++] & 0xFF;
		}

		int u16() throws IOException {
			return u8() << 8 | u8();
		}

		int[] decode(int rows, int columns) throws IOException {
			expectedRows = rows;
			expectedColumns = columns;
			if (d.length < 2 || (d[0] & 0xFF) != 0xFF || (d[1] & 0xFF) != 0xD8)
				throw error("not a JPEG-LS codestream (no SOI marker FFD8 at its start" +
					(d.length >= 2 ? String.format(", found %02X%02X", d[0] & 0xFF, d[1] & 0xFF) : "") + ")");
			pos = 2;
			boolean frame = false;
			while (true) {
				int marker = nextMarker();
				if (marker == 0xF7) { // SOF55: JPEG-LS frame header (C.2.2)
					if (frame) throw error("the JPEG-LS codestream has two frame headers");
					readFrameHeader(rows, columns);
					frame = true;
				}
				else if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
					throw error(String.format("the codestream is a JPEG (T.81) frame (marker FF%02X), not JPEG-LS", marker));
				}
				else if (marker == 0xF8) readPresetParameters(); // LSE (C.2.4.1)
				else if (marker == 0xDD) { // DRI (C.2.5)
					int lr = u16();
					if (lr < 3 || lr > 6) throw error("the JPEG-LS DRI segment has length " + lr);
					int ri = 0;
					for (int i = 0; i < lr - 2; i++) ri = ri << 8 | u8();
					restartInterval = ri;
				}
				else if (marker == 0xDA) { // SOS (C.2.3)
					if (!frame) throw error("the JPEG-LS scan comes before the frame header");
					readScanHeader();
					return decodeScan();
				}
				else if (marker == 0xD9) throw error("the JPEG-LS codestream ends (EOI) before any scan");
				else if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01)
					throw error(String.format("the JPEG-LS codestream has a misplaced marker FF%02X at byte %d", marker, pos - 2));
				else skipSegment(); // APPn, COM and others with a length
			}
		}

		/** The next marker's second byte; fill bytes 0xFF before it are allowed (C.1.2 / T.81 B.1.1.2). */
		int nextMarker() throws IOException {
			int at = pos;
			if (u8() != 0xFF) throw error("the JPEG-LS codestream has no marker at byte " + at);
			int m;
			do m = u8(); while (m == 0xFF);
			if (m == 0) throw error("the JPEG-LS codestream has no marker at byte " + at);
			return m;
		}

		void skipSegment() throws IOException {
			int len = u16();
			if (len < 2 || pos - 2 + len > d.length) throw error("a JPEG-LS marker segment at byte " + (pos - 4) + " is truncated");
			pos += len - 2;
		}

		void readFrameHeader(int rows, int columns) throws IOException {
			int lf = u16();
			precision = u8();
			int y = u16(), x = u16();
			int nf = u8();
			if (lf != 8 + 3 * nf) throw error("the JPEG-LS frame header has length " + lf + " for " + nf + " components");
			if (nf != 1) throw error("the JPEG-LS frame has " + nf + " components; a grayscale CT frame has one");
			u8(); // component identifier
			int hv = u8();
			u8(); // Tq, 0 in JPEG-LS
			if (hv != 0x11) throw error(String.format("the JPEG-LS component has sampling factors %02X", hv));
			if (precision < 2 || precision > 16) throw error("the JPEG-LS frame has " + precision + "-bit samples (2 to 16 are supported)");
			// Y = 0 or X = 0: given later by an LSE oversize-dimension segment (C.2.4.1.4).
			if (x != 0) width = x;
			if (y != 0) height = y;
			checkSize(rows, columns, true);
		}

		int expectedRows, expectedColumns;

		void checkSize(int rows, int columns, boolean allowUnknown) throws IOException {
			if ((width >= 0 && width != columns) || (height >= 0 && height != rows))
				throw error("the JPEG-LS frame is " + (width < 0 ? "?" : width) + "x" + (height < 0 ? "?" : height) +
					" pixels, but Columns x Rows say " + columns + "x" + rows);
			if (!allowUnknown && (width < 0 || height < 0)) throw error("the JPEG-LS frame does not give its size");
		}

		void readPresetParameters() throws IOException {
			int ll = u16();
			int start = pos;
			if (ll < 3 || start - 2 + ll > d.length) throw error("the JPEG-LS LSE segment is truncated");
			int id = u8();
			if (id == 1) { // C.2.4.1.1 preset coding parameters
				if (ll != 13) throw error("the JPEG-LS preset parameters segment has length " + ll + " (13 expected)");
				presetMaxval = u16();
				presetT1 = u16();
				presetT2 = u16();
				presetT3 = u16();
				presetReset = u16();
			}
			else if (id == 2 || id == 3) throw error("the JPEG-LS codestream uses a mapping table (palette); not supported for CT");
			else if (id == 4) { // C.2.4.1.4 oversize image dimension
				int wxy = u8();
				if (wxy < 2 || wxy > 4 || ll != 4 + 2 * wxy) throw error("the JPEG-LS oversize dimension segment is malformed");
				long y = 0, x = 0;
				for (int i = 0; i < wxy; i++) y = y << 8 | u8();
				for (int i = 0; i < wxy; i++) x = x << 8 | u8();
				if (x > Integer.MAX_VALUE || y > Integer.MAX_VALUE) throw error("the JPEG-LS frame claims " + x + "x" + y + " pixels");
				width = (int) x;
				height = (int) y;
				checkSize(expectedRows, expectedColumns, true);
			}
			else throw error("the JPEG-LS LSE segment has unknown ID " + id);
			pos = start + ll - 2;
		}

		void readScanHeader() throws IOException {
			checkSize(expectedRows, expectedColumns, false);
			int ls = u16();
			int ns = u8();
			if (ns != 1 || ls != 6 + 2 * ns) throw error("the JPEG-LS scan has " + ns + " components (length " + ls + "); one expected");
			u8(); // component selector
			int tm = u8();
			if (tm != 0) throw error("the JPEG-LS scan uses mapping table " + tm + "; not supported for CT");
			near = u8();
			int ilv = u8();
			int ahal = u8();
			if (ilv > 2) throw error("the JPEG-LS scan has interleave mode " + ilv);
			if ((ahal & 0x0F) != 0) throw error("the JPEG-LS scan uses a point transform (Al " + (ahal & 0x0F) + "); not supported");

			// C.2.4.1.1: MAXVAL, then the thresholds (defaults of C.2.4.1.1.1 where the LSE gives 0 or is absent).
			maxval = presetMaxval != 0 ? presetMaxval : (1 << precision) - 1;
			if (maxval >= 1 << precision) throw error("the JPEG-LS MAXVAL " + maxval + " does not fit in " + precision + " bits");
			if (near > Math.min(255, maxval / 2)) throw error("the JPEG-LS scan has NEAR " + near + " for MAXVAL " + maxval);
			int[] def = defaultThresholds(maxval, near);
			t1 = presetT1 != 0 ? presetT1 : def[0];
			t2 = presetT2 != 0 ? presetT2 : def[1];
			t3 = presetT3 != 0 ? presetT3 : def[2];
			reset = presetReset != 0 ? presetReset : 64;
			if (!(near + 1 <= t1 && t1 <= t2 && t2 <= t3 && t3 <= maxval))
				throw error("the JPEG-LS thresholds T1 " + t1 + ", T2 " + t2 + ", T3 " + t3 + " are invalid for NEAR " + near + ", MAXVAL " + maxval);
			if (reset < 3 || reset > Math.max(255, maxval)) throw error("the JPEG-LS RESET " + reset + " is invalid");

			// A.2.1: RANGE, qbpp, bpp, LIMIT.
			range = (maxval + 2 * near) / (2 * near + 1) + 1;
			qbpp = ceilLog2(range);
			bpp = Math.max(2, ceilLog2(maxval + 1));
			limit = 2 * (bpp + Math.max(8, bpp));

			// A codestream cannot hold more samples than this: in run mode one bit codes at most
			// 2^15 samples (J <= 15), and every line costs at least one bit.
			long pixels = (long) width * height;
			if (pixels > MAX_PIXELS)
				throw error("the JPEG-LS frame of " + width + "x" + height + " pixels is larger than this decoder supports (" + MAX_PIXELS + " pixels)");
			long maxPixels = ((long) d.length * 8 + 1) * 32768L;
			if (pixels > maxPixels || (long) height > (long) d.length * 8 + 8)
				throw error("the JPEG-LS frame claims " + width + "x" + height + " pixels, more than its " + d.length + " bytes can hold");
		}

		/** C.2.4.1.1.1: the default thresholds for MAXVAL and NEAR. */
		static int[] defaultThresholds(int maxval, int near) {
			final int basicT1 = 3, basicT2 = 7, basicT3 = 21;
			int t1, t2, t3;
			if (maxval >= 128) {
				int factor = (Math.min(maxval, 4095) + 128) / 256;
				t1 = clamp(factor * (basicT1 - 2) + 2 + 3 * near, near + 1, maxval);
				t2 = clamp(factor * (basicT2 - 3) + 3 + 5 * near, t1, maxval);
				t3 = clamp(factor * (basicT3 - 4) + 4 + 7 * near, t2, maxval);
			}
			else {
				int factor = 256 / (maxval + 1);
				t1 = clamp(Math.max(2, basicT1 / factor + 3 * near), near + 1, maxval);
				t2 = clamp(Math.max(3, basicT2 / factor + 5 * near), t1, maxval);
				t3 = clamp(Math.max(4, basicT3 / factor + 7 * near), t2, maxval);
			}
			return new int[] { t1, t2, t3 };
		}

		/** CLAMP(i, j, MAXVAL) of C.2.4.1.1.1: j when i is above MAXVAL or below j. */
		static int clamp(int i, int j, int maxval) {
			return i > maxval || i < j ? j : i;
		}

		static int ceilLog2(int v) {
			int k = 0;
			while ((1L << k) < v) k++;
			return k;
		}

		/** A.2.1: context variables and run index at the start of a scan and after each restart marker. */
		void initContexts() {
			int a0 = Math.max(2, (range + 32) >> 6);
			Arrays.fill(a, a0);
			Arrays.fill(b, 0);
			Arrays.fill(c, 0);
			Arrays.fill(n, 1);
			Arrays.fill(nn, 0);
			runIndex = 0;
		}

		int[] decodeScan() throws IOException {
			int w = width, h = height;
			int[] out = new int[w * h];
			// Lines with one sample of margin on each side: sample x of a line sits at index x + 1.
			int[] prev = new int[w + 2], cur = new int[w + 2];
			initContexts();
			int restarts = 0;
			for (int y = 0; y < h; y++) {
				if (restartInterval > 0 && y > 0 && y % restartInterval == 0) {
					// C.2.5 / D.3: the scan restarts byte-aligned after RSTm (m = count mod 8); coding starts
					// over as at the top of the image: contexts reset (A.2.1), the line above taken as 0.
					readRestartMarker(restarts++);
					initContexts();
					Arrays.fill(cur, 0);
				}
				int[] t = prev;
				prev = cur;
				cur = t;
				// A.2.1 edge rules: Rb, Rc, Rd of the first line are 0 (prev is all zeros then); Ra of a
				// line's first sample is the Rb above it, and its Rc is the Ra of the previous line's first
				// sample (kept in prev[0]); Rd of the last sample is its Rb.
				cur[0] = prev[1];
				prev[w + 1] = prev[w];
				try {
					decodeLine(prev, cur, w);
				}
				catch (IOException e) {
					// Zeros past the end of the data make nonsense codes: that is truncation.
					if (phantomBits - bits > 0)
						throw error("the JPEG-LS codestream is truncated: its data ends in line " + (y + 1) + " of " + h);
					throw e;
				}
				System.arraycopy(cur, 1, out, y * w, w);
				// A valid scan never needs bits past its end: more than a byte's worth means truncation.
				if (phantomBits - bits > 8)
					throw error("the JPEG-LS codestream is truncated: its data ends in line " + (y + 1) + " of " + h);
			}
			return out;
		}

		void readRestartMarker(int count) throws IOException {
			bits = 0; // drop the padding bits of the last byte (markers are byte-aligned)
			buf = 0;
			// After a final 0xFF data byte comes its stuffed byte (high bit 0), padding too.
			if (afterFF && !atMarker && pos < d.length && (d[pos] & 0x80) == 0) pos++;
			afterFF = false;
			atMarker = false;
			int at = pos;
			if (at + 1 >= d.length || (d[at] & 0xFF) != 0xFF)
				throw error("the JPEG-LS codestream has no restart marker at byte " + at);
			int p = at;
			while (p < d.length && (d[p] & 0xFF) == 0xFF) p++;
			int expected = 0xD0 + (count & 7);
			if (p >= d.length || (d[p] & 0xFF) != expected)
				throw error(String.format("the JPEG-LS codestream has no restart marker FF%02X at byte %d", expected, at));
			pos = p + 1;
		}

		void decodeLine(int[] prev, int[] cur, int w) throws IOException {
			int x = 0;
			while (x < w) {
				int ra = cur[x], rb = prev[x + 1], rc = prev[x], rd = prev[x + 2];
				// A.3.1: local gradients.
				int d1 = rd - rb, d2 = rb - rc, d3 = rc - ra;
				if (Math.abs(d1) <= near && Math.abs(d2) <= near && Math.abs(d3) <= near) {
					x = decodeRun(prev, cur, x, w); // A.3.2: run mode
					continue;
				}
				// A.3.3: quantised gradients, merged to one context with a sign (A.3.4).
				int q1 = quantize(d1), q2 = quantize(d2), q3 = quantize(d3);
				int sign = 1;
				if (q1 < 0 || (q1 == 0 && (q2 < 0 || (q2 == 0 && q3 < 0)))) {
					sign = -1;
					q1 = -q1;
					q2 = -q2;
					q3 = -q3;
				}
				int q = 81 * q1 + 9 * q2 + q3; // 1..364: a one-to-one numbering of the 365 contexts
				// A.4.1: the edge-detecting predictor; A.4.2: its correction by C[Q], clamped.
				int px;
				if (rc >= Math.max(ra, rb)) px = Math.min(ra, rb);
				else if (rc <= Math.min(ra, rb)) px = Math.max(ra, rb);
				else px = ra + rb - rc;
				px += sign * c[q];
				if (px > maxval) px = maxval;
				else if (px < 0) px = 0;
				// A.5.1: the Golomb parameter k.
				int k = golombK(n[q], a[q]);
				// A.5.3: the limited-length Golomb code; A.5.2: its mapping back to an error value.
				int merr = decodeValue(k, limit);
				if (merr > 2 * range + 2) throw error("the JPEG-LS codestream is corrupt (an error value of " + merr + " in line data)");
				int err;
				if (near == 0 && k == 0 && 2 * b[q] <= -n[q]) err = (merr & 1) != 0 ? (merr - 1) >> 1 : -(merr >> 1) - 1;
				else err = (merr & 1) != 0 ? -((merr + 1) >> 1) : merr >> 1;
				// A.6.1 and A.6.2: context update and bias correction.
				b[q] += err * (2 * near + 1);
				a[q] += Math.abs(err);
				if (n[q] == reset) {
					a[q] >>= 1;
					b[q] >>= 1;
					n[q] >>= 1;
				}
				n[q]++;
				if (b[q] <= -n[q]) {
					b[q] += n[q];
					if (c[q] > MIN_C) c[q]--;
					if (b[q] <= -n[q]) b[q] = -n[q] + 1;
				}
				else if (b[q] > 0) {
					b[q] -= n[q];
					if (c[q] < MAX_C) c[q]++;
					if (b[q] > 0) b[q] = 0;
				}
				// A.4.4 (decoder): the reconstructed sample, modulo RANGE and clamped.
				cur[x + 1] = reconstruct(px + sign * err * (2 * near + 1));
				x++;
			}
		}

		/** A.3.3, Figure A.4. */
		int quantize(int di) {
			if (di <= -t3) return -4;
			if (di <= -t2) return -3;
			if (di <= -t1) return -2;
			if (di < -near) return -1;
			if (di <= near) return 0;
			if (di < t1) return 1;
			if (di < t2) return 2;
			if (di < t3) return 3;
			return 4;
		}

		int golombK(int nq, int aq) throws IOException {
			int k = 0;
			while (((long) nq << k) < aq) {
				k++;
				if (k > 24) throw error("the JPEG-LS codestream is corrupt (Golomb parameter above 24)");
			}
			return k;
		}

		/** The decoder's modulo reduction and clamping (A.4.4 with A.4.5's RANGE). */
		int reconstruct(int rx) {
			if (rx < -near) rx += range * (2 * near + 1);
			else if (rx > maxval + near) rx -= range * (2 * near + 1);
			if (rx < 0) return 0;
			return rx > maxval ? maxval : rx;
		}

		/**
		 * A.7.1.2 (run-length decoding) and A.7.2 (run interruption sample). Returns the position after
		 * the run (and the interruption sample, if any).
		 */
		int decodeRun(int[] prev, int[] cur, int x, int w) throws IOException {
			int runValue = cur[x]; // RUNval = Ra
			int remaining = w - x;
			while (true) {
				if (readBit() == 1) {
					int rm = 1 << J[runIndex];
					int count = Math.min(rm, remaining);
					Arrays.fill(cur, x + 1, x + 1 + count, runValue);
					x += count;
					remaining -= count;
					if (count == rm && runIndex < 31) runIndex++; // a whole segment (A.7.1.1)
					if (remaining == 0) return x; // the run reached the end of the line
				}
				else {
					int count = J[runIndex] == 0 ? 0 : readBits(J[runIndex]);
					if (count > remaining)
						throw error("the JPEG-LS codestream is corrupt (a run of " + count + " samples with " + remaining + " left in the line)");
					Arrays.fill(cur, x + 1, x + 1 + count, runValue);
					x += count;
					// A.7.1.1's encoder ends a run reaching the line's end with a 1 bit; a 0 bit whose
					// count reaches it too is accepted (as CharLS does), with no interruption sample.
					if (count == remaining) return x;
					cur[x + 1] = decodeRunInterruption(cur[x], prev[x + 1]);
					if (runIndex > 0) runIndex--; // A.7.2, end
					return x + 1;
				}
			}
		}

		/** A.7.2: the sample that ended a run. */
		int decodeRunInterruption(int ra, int rb) throws IOException {
			int riType = Math.abs(ra - rb) <= near ? 1 : 0;
			int px = riType == 1 ? ra : rb;
			int q = 365 + riType;
			int temp = riType == 0 ? a[q] : a[q] + (n[q] >> 1);
			int k = golombK(n[q], temp);
			int em = decodeValue(k, limit - J[runIndex] - 1);
			if (em > 2 * range + 2) throw error("the JPEG-LS codestream is corrupt (an error value of " + em + " at a run's end)");
			// Inverse of the mapping in A.7.2: EMErrval = 2|Errval| - RItype - map.
			int t = em + riType;
			int map = t & 1;
			int abs = (t + map) >> 1;
			boolean negativeMapsToOne = k != 0 || 2 * nn[q] >= n[q];
			int err = (map == 1) == negativeMapsToOne ? -abs : abs;
			// Context update for run interruption samples (A.7.2).
			if (err < 0) nn[q]++;
			a[q] += (em + 1 - riType) >> 1;
			if (n[q] == reset) {
				a[q] >>= 1;
				n[q] >>= 1;
				nn[q] >>= 1;
			}
			n[q]++;
			if (riType == 0 && ra > rb) err = -err;
			return reconstruct(px + err * (2 * near + 1));
		}

		/** A.5.3: a limited-length Golomb code with parameter k; glimit is LIMIT (or A.7.2's reduced limit). */
		int decodeValue(int k, int glimit) throws IOException {
			int escape = glimit - qbpp - 1;
			if (escape < 0) throw error("the JPEG-LS code limit is inconsistent");
			int zeros = 0;
			while (readBit() == 0) {
				zeros++;
				if (zeros > escape) throw error("the JPEG-LS codestream is corrupt (a code longer than LIMIT)");
			}
			if (zeros == escape) return readBits(qbpp) + 1;
			return (zeros << k) | (k == 0 ? 0 : readBits(k));
		}

		int readBit() throws IOException {
			if (bits == 0) fill();
			bits--;
			return (int) (buf >>> bits) & 1;
		}

		int readBits(int count) throws IOException {
			while (bits < count) fill();
			bits -= count;
			return (int) ((buf >>> bits) & ((1L << count) - 1));
		}

		/**
		 * Appends the next byte of scan data: 8 bits, or 7 after a 0xFF byte (the stuffed 0 bit of
		 * C.1.2 is dropped). An 0xFF followed by a byte with its high bit set is a marker: the scan data
		 * ends there, and zeros are supplied (and counted) from then on.
		 */
		void fill() throws IOException {
			if (atMarker || pos >= d.length) {
				buf = buf << 8;
				bits += 8;
				phantomBits += 8;
				if (phantomBits > 1 << 16) throw error("the JPEG-LS codestream is truncated: its scan data ended long before the last sample");
				return;
			}
			int v = d[pos] & 0xFF;
			if (afterFF) {
				if ((v & 0x80) != 0) { // cannot happen: checked when the 0xFF was read
					atMarker = true;
					fill();
					return;
				}
				buf = buf << 7 | v;
				bits += 7;
				afterFF = false;
				pos++;
				return;
			}
			if (v == 0xFF && pos + 1 < d.length && (d[pos + 1] & 0x80) != 0) {
				atMarker = true;
				fill();
				return;
			}
			buf = buf << 8 | v;
			bits += 8;
			afterFF = v == 0xFF;
			pos++;
		}
	}
}
