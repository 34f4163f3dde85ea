package org.lungnodules.io.dicom;

import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;

import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

import com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi;

/**
 * JPEG Lossless, Non-Hierarchical (Process 14; transfer syntaxes 1.2.840.10008.1.2.4.57 and its Selection Value 1
 * form .70), decoded by TwelveMonkeys' ImageIO JPEG reader, which the JDK's reader is not (it cannot do lossless).
 */
final class JpegLosslessCodec {

	private JpegLosslessCodec() {}


	/**
	 * TwelveMonkeys' JPEG reader, registered here by hand: ImageIO may list the JDK's reader first
	 * (which cannot decode lossless JPEG), and in Fiji the registry may have been filled before our
	 * jars were on the class path.
	 */
	private static ImageReaderSpi twelveMonkeysJpeg() {
		synchronized (JpegLosslessCodec.class) {
			IIORegistry registry = IIORegistry.getDefaultInstance();
			JPEGImageReaderSpi spi = registry.getServiceProviderByClass(JPEGImageReaderSpi.class);
			if (spi == null) {
				registry.registerServiceProvider(new JPEGImageReaderSpi());
				spi = registry.getServiceProviderByClass(JPEGImageReaderSpi.class);
			}
			return spi;
		}
	}

	/**
	 * Drops 0xFF fill bytes before the final EOI marker (T.81 B.1.1.2 allows any number; dcmtk's
	 * dcmcjpeg writes one when the last code ends on a byte boundary). TwelveMonkeys 3.13.0 takes
	 * "FF FF" for a marker while it still holds the last code's bits, and leaves the frame's last
	 * pixel 0: seen on 9 of the 133 LIDC-IDRI-0001 slices compressed with dcmcjpeg. Fill bytes carry
	 * no data, so removing them changes nothing else.
	 */
	private static byte[] dropFillBeforeEndOfImage(byte[] frame) {
		int end = frame.length;
		while (end > 0 && frame[end - 1] == 0) end--; // fragments are padded to even length
		if (end < 4 || frame[end - 2] != (byte) 0xFF || frame[end - 1] != (byte) 0xD9) return frame;
		int data = end - 2;
		while (data > 0 && frame[data - 1] == (byte) 0xFF) data--;
		if (data == end - 2) return frame;
		byte[] out = Arrays.copyOf(frame, data + 2);
		out[data] = (byte) 0xFF;
		out[data + 1] = (byte) 0xD9;
		return out;
	}

	/** The syntax's name and UID, for messages. */
	private static String name(DicomHeader s) {
		return TransferSyntax.COMPRESSED.getOrDefault(s.syntax, "JPEG") + " (transfer syntax " + s.syntax + ")";
	}

	/** Decodes a JPEG Lossless (Process 14) frame (and, with the lossy opt-in, a lossy JPEG frame of 8-bit precision) into little-endian native pixel bytes. */
	static byte[] decode(DicomHeader s, byte[] frame, int pixels) throws IOException {
		int bytesPerPixel = s.bitsAllocated / 8;
		ImageReader reader = twelveMonkeysJpeg().createReaderInstance();
		try (ImageInputStream stream = new MemoryCacheImageInputStream(new ByteArrayInputStream(dropFillBeforeEndOfImage(frame)))) {
			reader.setInput(stream, true, true);
			// The size comes from the JPEG header; check it before the decoder allocates anything.
			int w = reader.getWidth(0), h = reader.getHeight(0);
			if (w != s.cols || h != s.rows)
				throw new DicomException(s.file, "the " + name(s) + " frame is " + w + "x" + h + " pixels, but Columns x Rows say " + s.cols + "x" + s.rows);
			Raster raster = reader.canReadRaster() ? reader.readRaster(0, null) : reader.read(0).getRaster();
			if (raster.getWidth() != w || raster.getHeight() != h || raster.getNumBands() != 1)
				throw new DicomException(s.file, "the " + name(s) + " frame decodes to " + raster.getWidth() + "x" + raster.getHeight() + " pixels with " +
					raster.getNumBands() + " components; a CT slice has one");
			byte[] out = new byte[pixels * bytesPerPixel];
			int[] row = new int[w];
			for (int y = 0; y < h; y++) {
				raster.getSamples(raster.getMinX(), raster.getMinY() + y, w, 1, 0, row);
				for (int x = 0; x < w; x++) {
					int i = y * w + x, v = row[x];
					if (bytesPerPixel == 1) out[i] = (byte) v;
					else { out[2 * i] = (byte) v; out[2 * i + 1] = (byte) (v >> 8); }
				}
			}
			return out;
		}
		catch (DicomException e) {
			throw e;
		}
		catch (IOException | RuntimeException e) {
			// A corrupt stream makes decoders fail in many ways (IIOException, index errors); name the file either way.
			String why = String.valueOf(e.getMessage());
			if (why.contains("precision"))
				throw new DicomException(s.file, "the " + name(s) + " pixel data cannot be decoded: " + why + "; the JPEG decoder here " +
					"(TwelveMonkeys/ImageIO) reads lossy JPEG of 8-bit precision only, so 12-bit lossy JPEG is not read");
			throw new DicomException(s.file, "the " + name(s) + " pixel data cannot be decoded: " + e);
		}
		finally {
			reader.dispose();
		}
	}
}
