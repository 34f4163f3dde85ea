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

	/** Reads one slice's stored pixel values (before rescaling), masked to BitsStored and sign-extended. */
	static void readStored(DicomHeader s, int[] out) throws IOException {
		byte[] data;
		int offset;
		if (s.deflated) {
			data = Part10.inflateDataset(s.file, s.datasetStart);
			offset = (int) s.pixelOffset;
		}
		else if (TransferSyntax.isDecodedEncapsulated(s.syntax)) {
			byte[] frame = readFrame(s);
			data = RLE_LOSSLESS.equals(s.syntax) ? RleCodec.decode(s, frame, out.length) : JpegLosslessCodec.decode(s, frame, out.length);
			offset = 0;
		}
		else {
			try (FileChannel ch = FileChannel.open(s.file, StandardOpenOption.READ)) {
				if (ch.size() != s.fileSize)
					throw new DicomException(s.file, "changed while the series was being read (" + s.fileSize + " bytes, now " + ch.size() + ")");
				data = new byte[(int) Math.min(s.pixelLength, out.length * 2L)];
				ByteBuffer bb = ByteBuffer.wrap(data);
				long at = s.pixelOffset;
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


	/**
	 * The compressed frame of an encapsulated PixelData: the Basic Offset Table item is skipped and
	 * the fragment items up to the sequence delimiter are concatenated (one frame per file). Every
	 * length is checked against the file size before anything is allocated.
	 */
	private static byte[] readFrame(DicomHeader s) throws IOException {
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
			pos += 8 + tableLength;
			List<long[]> fragments = new ArrayList<>();
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
				fragments.add(new long[] { pos + 8, length });
				total += length;
				// Each step moves forward by at least 8 bytes, and the file's end bounds the loop.
				pos += 8 + length;
			}
			if (total == 0) throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) holds no compressed data (no non-empty fragment)");
			if (total > MAX_VOXELS) throw new DicomException(s.file, "encapsulated PixelData (7FE0,0010) holds " + total + " bytes, too many for one frame");
			byte[] frame = new byte[(int) total];
			int at = 0;
			for (long[] f : fragments) {
				ByteBuffer bb = ByteBuffer.wrap(frame, at, (int) f[1]);
				long p = f[0];
				while (bb.hasRemaining()) {
					int r = ch.read(bb, p);
					if (r < 0) throw new DicomException(s.file, "ends inside a PixelData fragment at byte " + p);
					p += r;
				}
				at += (int) f[1];
			}
			return frame;
		}
	}

	private static int itemTag(FileBytes in, long pos) throws IOException {
		return (in.u16(pos, false) << 16) | in.u16(pos + 2, false);
	}
}
