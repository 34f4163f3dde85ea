package org.lungnodules.io.dicom;

import static org.lungnodules.io.dicom.Part10.ITEM;
import static org.lungnodules.io.dicom.Part10.SEQUENCE_END;
import static org.lungnodules.io.dicom.Part10.UNDEFINED;
import static org.lungnodules.io.dicom.Part10.tagName;
import static org.lungnodules.io.dicom.TransferSyntax.RLE_LOSSLESS;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A slice's stored pixel values: native pixel data read straight from the file (or from the inflated dataset),
 * encapsulated pixel data gathered from its fragments and handed to a codec ({@link RleCodec},
 * {@link JpegLosslessCodec}).
 */
final class PixelData {

	/** Largest ArrayImg: Java arrays hold a little less than 2^31 elements. */
	static final long MAX_VOXELS = Integer.MAX_VALUE - 8;

	private PixelData() {}

	/**
	 * Reads the frames of a series, keeping what one file needs for all its frames (an inflated dataset, the fragment
	 * table of encapsulated pixel data) while consecutive frames come from the same file.
	 */
	static final class Reader {
		private DicomHeader current;
		private byte[] inflated;
		private List<long[]> fragments;
		private long[] offsetTable;
		private long firstItem;

		/**
		 * Reads one frame's stored pixel values (before rescaling), masked to BitsStored and sign-extended.
		 *
		 * @param frame the 0-based frame in the file (0 for a single-frame file)
		 */
		void readStored(DicomHeader s, int frame, int[] out) throws IOException {
			if (s != current) {
				current = s;
				inflated = null;
				fragments = null;
				offsetTable = null;
			}
			long frameBytes = (long) out.length * (s.bitsAllocated / 8);
			byte[] data;
			int offset;
			String syntax = s.syntax;
			if (s.deflated) {
				if (inflated == null) inflated = Part10.inflateDataset(s.file, s.datasetStart);
				data = inflated;
				long at = s.pixelOffset + frame * frameBytes;
				if (at + frameBytes > data.length)
					throw new DicomException(s.file, "the inflated dataset ends inside frame " + (frame + 1) + " of its PixelData (7FE0,0010)");
				offset = (int) at;
			}
			else if (TransferSyntax.isDecodedEncapsulated(syntax)) {
				byte[] codestream = frameOf(s, frame);
				String source = s.file + (s.frames > 1 ? " frame " + (frame + 1) : "");
				int bits = s.bitsStored < 0 ? s.bitsAllocated : s.bitsStored;
				boolean signed = s.pixelRepresentation == 1;
				int[] decoded = null;
				try {
					if (TransferSyntax.JPEG_2000_LOSSLESS.equals(syntax) || TransferSyntax.JPEG_2000.equals(syntax))
						decoded = Jpeg2000Codec.decode(codestream, s.rows, s.cols, bits, signed, source);
					else if (TransferSyntax.JPEG_LS_LOSSLESS.equals(syntax) || TransferSyntax.JPEG_LS_NEAR_LOSSLESS.equals(syntax))
						decoded = JpegLsCodec.decode(codestream, s.rows, s.cols, bits, signed, source);
					else if (TransferSyntax.LOSSY_JPEG.contains(syntax))
						// 8-bit to the JDK's decoder, 12-bit to our own (T.81): ImageIO reads 8-bit precision only.
						decoded = JpegLossyCodec.decode(codestream, s.rows, s.cols, bits, signed, source);
				}
				catch (DicomException e) {
					throw e;
				}
				catch (IOException e) {
					throw new DicomException(s.file, (s.frames > 1 ? "frame " + (frame + 1) + ": " : "") + "the " +
						TransferSyntax.COMPRESSED.get(syntax) + " pixel data (transfer syntax " + syntax + ") cannot be decoded: " +
						stripSource(e.getMessage(), source), e);
				}
				if (decoded != null) {
					if (decoded.length != out.length)
						throw new DicomException(s.file, "a decoded frame of " + decoded.length + " pixels where Rows x Columns are " + out.length);
					System.arraycopy(decoded, 0, out, 0, out.length);
					return;
				}
				data = RLE_LOSSLESS.equals(syntax) ? RleCodec.decode(s, codestream, out.length) : JpegLosslessCodec.decode(s, codestream, out.length);
				offset = 0;
			}
			else {
				try (FileChannel ch = FileChannel.open(s.file, StandardOpenOption.READ)) {
					if (ch.size() != s.fileSize)
						throw new DicomException(s.file, "changed while the series was being read (" + s.fileSize + " bytes, now " + ch.size() + ")");
					long at = s.pixelOffset + frame * frameBytes;
					if (s.pixelLength >= 0 && (frame + 1) * frameBytes > s.pixelLength)
						throw new DicomException(s.file, "PixelData (7FE0,0010) of " + s.pixelLength + " bytes ends inside frame " + (frame + 1));
					data = new byte[(int) frameBytes];
					ByteBuffer bb = ByteBuffer.wrap(data);
					while (bb.hasRemaining()) {
						int r = ch.read(bb, at);
						if (r < 0) throw new DicomException(s.file, "ends inside its PixelData (7FE0,0010) at byte " + at);
						at += r;
					}
				}
				offset = 0;
			}
			int bits = s.bitsStored < 0 ? s.bitsAllocated : s.bitsStored;
			int mask = bits >= 32 ? -1 : (1 << bits) - 1;
			int signBit = 1 << (bits - 1);
			boolean signed = s.pixelRepresentation == 1;
			for (int i = 0; i < out.length; i++) {
				int v;
				if (s.bitsAllocated == 8) v = data[offset + i] & 0xFF;
				else {
					int p = offset + 2 * i;
					v = s.bigEndian ? ((data[p] & 0xFF) << 8) | (data[p + 1] & 0xFF) : (data[p] & 0xFF) | ((data[p + 1] & 0xFF) << 8);
				}
				v &= mask;
				if (signed && (v & signBit) != 0) v -= 1 << bits;
				out[i] = v;
			}
		}

		/** The compressed bytes of one frame: by the Basic Offset Table, one fragment per frame, or split where codestreams start. */
		private byte[] frameOf(DicomHeader s, int frame) throws IOException {
			if (fragments == null) readFragments(s);
			List<long[]> mine;
			if (s.frames <= 1) mine = fragments;
			else if (offsetTable.length == s.frames) {
				long first = firstItem, from = first + offsetTable[frame];
				long to = frame + 1 < s.frames ? first + offsetTable[frame + 1] : Long.MAX_VALUE;
				mine = new ArrayList<>();
				for (long[] f : fragments)
					if (f[0] - 8 >= from && f[0] - 8 < to) mine.add(f);
			}
			else if (fragments.size() == s.frames) mine = List.of(fragments.get(frame));
			else {
				List<List<long[]>> frames = splitAtCodestreamStarts(s);
				if (frames.size() != s.frames)
					throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) holds " + fragments.size() + " fragments for " + s.frames +
						" frames, no Basic Offset Table, and " + frames.size() + " codestream starts: its frames cannot be told apart");
				mine = frames.get(frame);
			}
			if (mine.isEmpty()) throw new DicomException(s.file, "frame " + (frame + 1) + " has no compressed data in PixelData (7FE0,0010)");
			long total = 0;
			for (long[] f : mine) total += f[1];
			if (total > MAX_VOXELS) throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) holds " + total + " bytes, too many for one frame");
			byte[] out = new byte[(int) total];
			int at = 0;
			try (FileChannel ch = FileChannel.open(s.file, StandardOpenOption.READ)) {
				for (long[] f : mine) {
					ByteBuffer bb = ByteBuffer.wrap(out, at, (int) f[1]);
					long p = f[0];
					while (bb.hasRemaining()) {
						int r = ch.read(bb, p);
						if (r < 0) throw new DicomException(s.file, "ends inside a PixelData fragment at byte " + p);
						p += r;
					}
					at += (int) f[1];
				}
			}
			return out;
		}

		private List<List<long[]>> splitAtCodestreamStarts(DicomHeader s) throws IOException {
			List<List<long[]>> frames = new ArrayList<>();
			try (FileChannel ch = FileChannel.open(s.file, StandardOpenOption.READ)) {
				FileBytes in = new FileBytes(s.file, ch, s.fileSize);
				for (long[] f : fragments) {
					boolean start = f[1] >= 2 && in.u8(f[0]) == 0xFF && (in.u8(f[0] + 1) == 0xD8 || in.u8(f[0] + 1) == 0x4F);
					if (start || frames.isEmpty()) frames.add(new ArrayList<>());
					frames.get(frames.size() - 1).add(f);
				}
			}
			return frames;
		}

		/**
		 * The Basic Offset Table and the fragment items of an encapsulated PixelData, up to the sequence delimiter.
		 * Every length is checked against the file size before anything is allocated.
		 */
		private void readFragments(DicomHeader s) throws IOException {
			try (FileChannel ch = FileChannel.open(s.file, StandardOpenOption.READ)) {
				if (ch.size() != s.fileSize)
					throw new DicomException(s.file, "changed while the series was being read (" + s.fileSize + " bytes, now " + ch.size() + ")");
				FileBytes in = new FileBytes(s.file, ch, s.fileSize);
				long pos = s.pixelOffset;
				in.need(pos, 8, "the Basic Offset Table item of PixelData (7FE0,0010)");
				if (itemTag(in, pos) != ITEM)
					throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) does not start with a Basic Offset Table item (FFFE,E000) at " +
						"byte " + pos + " but with " + tagName(itemTag(in, pos)));
				long tableLength = in.u32(pos + 4, false);
				if (tableLength == UNDEFINED || pos + 8 + tableLength > s.fileSize)
					throw new DicomException(s.file, "the Basic Offset Table item at byte " + pos + " declares " + tableLength + " bytes, past the end " +
						"of the file (" + s.fileSize + " bytes)");
				long[] table = new long[0];
				if (tableLength % 4 == 0 && tableLength / 4 == s.frames && s.frames > 1) {
					table = new long[s.frames];
					for (int i = 0; i < s.frames; i++) table[i] = in.u32(pos + 8 + 4L * i, false);
					for (int i = 1; i < s.frames; i++)
						if (table[i] <= table[i - 1]) { table = new long[0]; break; } // not increasing: ignore it
				}
				pos += 8 + tableLength;
				firstItem = pos;
				List<long[]> list = new ArrayList<>();
				long total = 0;
				while (true) {
					in.need(pos, 8, "the fragments of PixelData (7FE0,0010) (no sequence delimiter FFFE,E0DD)");
					int tag = itemTag(in, pos);
					if (tag == SEQUENCE_END) break;
					if (tag != ITEM)
						throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) holds " + tagName(tag) + " at byte " + pos +
							" where a fragment item (FFFE,E000) or the sequence delimiter (FFFE,E0DD) belongs");
					long length = in.u32(pos + 4, false);
					if (length == UNDEFINED || pos + 8 + length > s.fileSize)
						throw new DicomException(s.file, "the PixelData fragment at byte " + pos + " declares " + length + " bytes, past the end of " +
							"the file (" + s.fileSize + " bytes)");
					if (length > 0) list.add(new long[] { pos + 8, length });
					total += length;
					// Each step moves forward by at least 8 bytes, and the file's end bounds the loop.
					pos += 8 + length;
				}
				if (total == 0) throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) holds no compressed data (no non-empty fragment)");
				fragments = list;
				offsetTable = table;
			}
		}
	}

	/** A codec's message without the source it starts with (the DicomException names the file itself). */
	private static String stripSource(String message, String source) {
		if (message == null) return "the compressed frame cannot be decoded";
		return message.startsWith(source + ": ") ? message.substring(source.length() + 2) : message;
	}

	private static int itemTag(FileBytes in, long pos) throws IOException {
		return (in.u16(pos, false) << 16) | in.u16(pos + 2, false);
	}
}
