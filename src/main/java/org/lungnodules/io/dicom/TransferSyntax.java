package org.lungnodules.io.dicom;

import java.util.Map;
import java.util.Set;

/**
 * The DICOM transfer syntaxes by UID: which this reader decodes (the four native ones, RLE Lossless, JPEG Lossless),
 * which it refuses as lossy, and the names of the others for refusal messages.
 */
public final class TransferSyntax {

	public static final String IMPLICIT_LE = "1.2.840.10008.1.2";
	public static final String EXPLICIT_LE = "1.2.840.10008.1.2.1";
	public static final String DEFLATED_LE = "1.2.840.10008.1.2.1.99";
	public static final String EXPLICIT_BE = "1.2.840.10008.1.2.2";
	public static final String JPEG_LOSSLESS_SV1 = "1.2.840.10008.1.2.4.70";
	public static final String JPEG_LOSSLESS = "1.2.840.10008.1.2.4.57";
	public static final String RLE_LOSSLESS = "1.2.840.10008.1.2.5";
	public static final String JPEG_LS_LOSSLESS = "1.2.840.10008.1.2.4.80";
	public static final String JPEG_LS_NEAR_LOSSLESS = "1.2.840.10008.1.2.4.81";
	public static final String JPEG_2000_LOSSLESS = "1.2.840.10008.1.2.4.90";
	public static final String JPEG_2000 = "1.2.840.10008.1.2.4.91";
	public static final String JPEG_BASELINE = "1.2.840.10008.1.2.4.50";
	public static final String JPEG_EXTENDED = "1.2.840.10008.1.2.4.51";
	/**
	 * The lossy syntaxes we decode: lossy JPEG, JPEG 2000 irreversible, JPEG-LS near-lossless. Refused by default
	 * because their decoded values are not the scanner's HU; read only with the lossy opt-in.
	 */
	static final Set<String> LOSSY = Set.of(JPEG_BASELINE, JPEG_EXTENDED, JPEG_2000, JPEG_LS_NEAR_LOSSLESS);
	/** Kept for the older name: lossy JPEG. */
	static final Set<String> LOSSY_JPEG = Set.of(JPEG_BASELINE, JPEG_EXTENDED);

	/** Names of the encapsulated (compressed) transfer syntaxes, for the refusal message. */
	static final Map<String, String> COMPRESSED = Map.ofEntries(
		Map.entry("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian"),
		Map.entry("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)"),
		Map.entry("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)"),
		Map.entry("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)"),
		Map.entry(JPEG_LOSSLESS_SV1, "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14, Selection Value 1)"),
		Map.entry("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"),
		Map.entry("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless)"),
		Map.entry("1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless Only)"),
		Map.entry("1.2.840.10008.1.2.4.91", "JPEG 2000"),
		Map.entry("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component (Lossless Only)"),
		Map.entry("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component"),
		Map.entry("1.2.840.10008.1.2.4.94", "JPIP Referenced"),
		Map.entry("1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate"),
		Map.entry("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level"),
		Map.entry("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level"),
		Map.entry("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1"),
		Map.entry("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1"),
		Map.entry("1.2.840.10008.1.2.4.110", "JPEG XL Lossless"),
		Map.entry("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression"),
		Map.entry("1.2.840.10008.1.2.4.112", "JPEG XL"),
		Map.entry("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 (Lossless Only)"),
		Map.entry("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options (Lossless Only)"),
		Map.entry("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000"),
		Map.entry("1.2.840.10008.1.2.5", "RLE Lossless"));


	private TransferSyntax() {}

	/** The uncompressed syntaxes: implicit and explicit VR little endian, explicit VR big endian, deflated explicit VR little endian. */
	static boolean isNative(String syntax) {
		return IMPLICIT_LE.equals(syntax) || EXPLICIT_LE.equals(syntax) || EXPLICIT_BE.equals(syntax) || DEFLATED_LE.equals(syntax);
	}

	/**
	 * The compressed syntaxes this reader decodes: RLE itself, JPEG Lossless with TwelveMonkeys' ImageIO reader,
	 * JPEG 2000 with jai-imageio ({@link Jpeg2000Codec}), JPEG-LS with our T.87 decoder ({@link JpegLsCodec}), and
	 * the lossy ones of {@link #LOSSY} (which the series reader refuses unless the lossy opt-in is given).
	 */
	static boolean isDecodedEncapsulated(String syntax) {
		return RLE_LOSSLESS.equals(syntax) || JPEG_LOSSLESS.equals(syntax) || JPEG_LOSSLESS_SV1.equals(syntax)
			|| JPEG_2000_LOSSLESS.equals(syntax) || JPEG_LS_LOSSLESS.equals(syntax) || LOSSY.contains(syntax);
	}
}
