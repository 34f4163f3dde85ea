package org.lungnodules.io.dicom;

import static org.lungnodules.io.dicom.DicomDataSet.code;
import static org.lungnodules.io.dicom.DicomDataSet.tag;

import java.io.IOException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.lungnodules.ct.Geometry;

/**
 * Writes a DICOM Segmentation (PS3.3 A.51, SOP class 1.2.840.10008.5.1.4.1.1.66.4) of nodules found
 * in a CT: type BINARY, one segment per nodule, one bit-packed frame per source slice that the nodule
 * touches, on the source series' frame of reference and referencing its images.
 * <p>
 * Segments are numbered 1, 2, … in the order of the findings; the voxels of finding i are those whose
 * label-image value is {@code findings.get(i).label()}. Each segment is coded as SNOMED CT
 * 49755003 "Morphologically Abnormal Structure" / 27925004 "Nodule" in 39607008 "Lung" (CID 7150,
 * 7151), AUTOMATIC, with the algorithm's name, version and model SHA-256s in its Segmentation
 * Algorithm Identification Sequence.
 */
public final class SegmentationWriter {

	public static final String SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.66.4";
	static final int SERIES_NUMBER = 9901;

	/**
	 * What was written, for the Structured Report that refers to it.
	 *
	 * @param sopInstanceUid the SEG's SOP Instance UID
	 * @param seriesInstanceUid the SEG's own series
	 * @param segmentNumbers segment number of each finding, in the findings' order
	 * @param trackingUids Tracking UID of each finding's segment, in the findings' order
	 */
	public record Written(String sopInstanceUid, String seriesInstanceUid, List<Integer> segmentNumbers, List<String> trackingUids) {
		public String sopClassUid() { return SOP_CLASS_UID; }
	}

	private SegmentationWriter() {}

	/**
	 * Writes the Segmentation atomically.
	 *
	 * @param file where to write it
	 * @param source the source series (one image per slice of the volume, in slice order)
	 * @param geometry the source volume's geometry (as {@code CtReader} gives it)
	 * @param shapeIrc volume shape (slices, rows, columns)
	 * @param labels label image, C order [slice][row][col], 0 = background
	 * @param findings the nodules, one segment each
	 * @param algorithm what produced them
	 */
	public static Written write(Path file, SourceImages source, Geometry geometry, int[] shapeIrc, int[] labels,
		List<NoduleFinding> findings, Algorithm algorithm) throws IOException {
		List<String> tracking = new ArrayList<>();
		for (int i = 0; i < findings.size(); i++) tracking.add(Part10Writer.newUid());
		String sop = Part10Writer.newUid(), series = Part10Writer.newUid();
		DicomDataSet ds = build(source, geometry, shapeIrc, labels, findings, algorithm, sop, series, tracking, ZonedDateTime.now());
		Part10Writer.write(file, ds);
		List<Integer> numbers = new ArrayList<>();
		for (int i = 0; i < findings.size(); i++) numbers.add(i + 1);
		return new Written(sop, series, List.copyOf(numbers), List.copyOf(tracking));
	}

	static DicomDataSet build(SourceImages src, Geometry g, int[] shapeIrc, int[] labels, List<NoduleFinding> findings,
		Algorithm alg, String sopInstanceUid, String seriesUid, List<String> trackingUids, ZonedDateTime now) {
		int depth = shapeIrc[0], rows = shapeIrc[1], cols = shapeIrc[2];
		if ((long) depth * rows * cols != labels.length)
			throw new IllegalArgumentException("Label image has " + labels.length + " voxels, shape " + depth + "×" + rows + "×" + cols);
		if (src.images().size() != depth)
			throw new IllegalArgumentException("Source has " + src.images().size() + " images for " + depth + " slices");
		if (rows > 0xFFFF || cols > 0xFFFF) throw new IllegalArgumentException("Image too large for DICOM: " + rows + "×" + cols);
		if (src.frameOfReferenceUid() == null || src.frameOfReferenceUid().isEmpty())
			throw new IllegalArgumentException("The source series has no Frame of Reference UID: a Segmentation needs one");
		if (findings.isEmpty()) throw new IllegalArgumentException("A Segmentation needs at least one segment");
		if (findings.size() > 0xFFFF) throw new IllegalArgumentException("Too many segments: " + findings.size());
		Map<Integer, Integer> segmentOfLabel = new LinkedHashMap<>();
		for (int i = 0; i < findings.size(); i++)
			if (segmentOfLabel.put(findings.get(i).label(), i + 1) != null)
				throw new IllegalArgumentException("Two findings share label " + findings.get(i).label());

		// Which slices each segment touches.
		int plane = rows * cols;
		boolean[][] touches = new boolean[findings.size()][depth];
		for (int k = 0; k < depth; k++)
			for (int p = 0; p < plane; p++) {
				int v = labels[k * plane + p];
				if (v == 0) continue;
				Integer s = segmentOfLabel.get(v);
				if (s != null) touches[s - 1][k] = true;
			}
		List<int[]> frames = new ArrayList<>(); // {segment number, slice}
		for (int s = 0; s < findings.size(); s++) {
			int before = frames.size();
			for (int k = 0; k < depth; k++)
				if (touches[s][k]) frames.add(new int[] { s + 1, k });
			if (frames.size() == before)
				throw new IllegalArgumentException("Nodule label " + findings.get(s).label() + " has no voxel in the label image");
		}

		DicomDataSet ds = new DicomDataSet();
		CommonModules.patientAndStudy(ds, src);
		// General Series, Segmentation Series
		ds.string(tag(0x0008, 0x0060), "CS", "SEG")
			.string(tag(0x0020, 0x000E), "UI", seriesUid)
			.string(tag(0x0020, 0x0011), "IS", Integer.toString(SERIES_NUMBER))
			.string(tag(0x0008, 0x103E), "LO", DicomDataSet.cut("Lung nodules (" + alg.name() + ")", 64));
		// Frame of Reference
		ds.string(tag(0x0020, 0x0052), "UI", src.frameOfReferenceUid()).empty(tag(0x0020, 0x1040), "LO");
		CommonModules.equipment(ds, alg);
		// General Image, Segmentation Image, Multi-frame Functional Groups
		ds.strings(tag(0x0008, 0x0008), "CS", List.of("DERIVED", "PRIMARY"))
			.string(tag(0x0020, 0x0013), "IS", "1")
			.string(tag(0x0008, 0x0023), "DA", Part10Writer.da(now))
			.string(tag(0x0008, 0x0033), "TM", Part10Writer.tm(now))
			.string(tag(0x0008, 0x0012), "DA", Part10Writer.da(now))
			.string(tag(0x0008, 0x0013), "TM", Part10Writer.tm(now))
			.string(tag(0x0070, 0x0080), "CS", "NODULES")
			.string(tag(0x0070, 0x0081), "LO", DicomDataSet.cut("Lung nodules found by " + alg.name(), 64))
			.empty(tag(0x0070, 0x0084), "PN")
			.us(tag(0x0028, 0x0002), 1)
			.string(tag(0x0028, 0x0004), "CS", "MONOCHROME2")
			.string(tag(0x0028, 0x0008), "IS", Integer.toString(frames.size()))
			.us(tag(0x0028, 0x0010), rows)
			.us(tag(0x0028, 0x0011), cols)
			.us(tag(0x0028, 0x0100), 1)
			.us(tag(0x0028, 0x0101), 1)
			.us(tag(0x0028, 0x0102), 0)
			.us(tag(0x0028, 0x0103), 0)
			.string(tag(0x0028, 0x2110), "CS", "00")
			.string(tag(0x0062, 0x0001), "CS", "BINARY");

		List<DicomDataSet> segments = new ArrayList<>();
		for (int i = 0; i < findings.size(); i++) segments.add(segment(i + 1, findings.get(i), alg, trackingUids.get(i)));
		ds.sequence(tag(0x0062, 0x0002), segments);

		// Multi-frame Dimension: segment, then position along the slice normal.
		String dimOrg = Part10Writer.newUid();
		ds.sequence(tag(0x0020, 0x9221), new DicomDataSet().string(tag(0x0020, 0x9164), "UI", dimOrg));
		ds.sequence(tag(0x0020, 0x9222),
			dimension(dimOrg, tag(0x0062, 0x000B), tag(0x0062, 0x000A), "ReferencedSegmentNumber"),
			dimension(dimOrg, tag(0x0020, 0x0032), tag(0x0020, 0x9113), "ImagePositionPatient"));

		// Shared functional groups: pixel measures and orientation.
		double[] sp = g.spacing(), d = g.direction();
		ds.sequence(tag(0x5200, 0x9229), new DicomDataSet()
			.sequence(tag(0x0028, 0x9110), new DicomDataSet()
				.string(tag(0x0018, 0x0050), "DS", Part10Writer.ds(sp[2]))
				.string(tag(0x0018, 0x0088), "DS", Part10Writer.ds(sp[2]))
				.string(tag(0x0028, 0x0030), "DS", Part10Writer.ds(sp[1], sp[0])))
			.sequence(tag(0x0020, 0x9116), new DicomDataSet()
				.string(tag(0x0020, 0x0037), "DS", Part10Writer.ds(d[0], d[3], d[6], d[1], d[4], d[7]))));

		// Per-frame functional groups.
		List<DicomDataSet> perFrame = new ArrayList<>();
		for (int[] f : frames) {
			SourceImages.Image img = src.images().get(f[1]);
			double[] ipp = g.voxelToWorld(f[1], 0, 0);
			DicomDataSet sourceImage = new DicomDataSet()
				.string(tag(0x0008, 0x1150), "UI", img.sopClassUid())
				.string(tag(0x0008, 0x1155), "UI", img.sopInstanceUid())
				.sequence(tag(0x0040, 0xA170), code("121322", "DCM", "Source image for image processing operation"));
			if (img.frameNumber() > 0) sourceImage.string(tag(0x0008, 0x1160), "IS", Integer.toString(img.frameNumber()));
			perFrame.add(new DicomDataSet()
				.sequence(tag(0x0008, 0x9124), new DicomDataSet()
					.sequence(tag(0x0008, 0x2112), sourceImage)
					.sequence(tag(0x0008, 0x9215), code("113076", "DCM", "Segmentation")))
				.sequence(tag(0x0020, 0x9111), new DicomDataSet().ul(tag(0x0020, 0x9157), f[0], f[1] + 1))
				.sequence(tag(0x0020, 0x9113), new DicomDataSet().string(tag(0x0020, 0x0032), "DS", Part10Writer.ds(ipp)))
				.sequence(tag(0x0062, 0x000A), new DicomDataSet().us(tag(0x0062, 0x000B), f[0])));
		}
		ds.sequence(tag(0x5200, 0x9230), perFrame);

		// Common Instance Reference: the source series and its instances.
		ds.sequence(tag(0x0008, 0x1115), referencedSeries(src));

		ds.binary(tag(0x7FE0, 0x0010), "OB", pixelData(frames, labels, plane, findings));
		CommonModules.sopCommon(ds, SOP_CLASS_UID, sopInstanceUid);
		return ds;
	}

	/** A ReferencedSeriesSequence item: the source series with each of its instances once. */
	static DicomDataSet referencedSeries(SourceImages src) {
		Map<String, String> instances = new LinkedHashMap<>();
		for (SourceImages.Image img : src.images()) instances.putIfAbsent(img.sopInstanceUid(), img.sopClassUid());
		List<DicomDataSet> refs = new ArrayList<>();
		instances.forEach((uid, cls) -> refs.add(new DicomDataSet()
			.string(tag(0x0008, 0x1150), "UI", cls).string(tag(0x0008, 0x1155), "UI", uid)));
		return new DicomDataSet().sequence(tag(0x0008, 0x114A), refs).string(tag(0x0020, 0x000E), "UI", src.seriesInstanceUid());
	}

	private static DicomDataSet dimension(String org, int pointer, int group, String label) {
		return new DicomDataSet().string(tag(0x0020, 0x9164), "UI", org).at(tag(0x0020, 0x9165), pointer)
			.at(tag(0x0020, 0x9167), group).string(tag(0x0020, 0x9421), "LO", label);
	}

	private static DicomDataSet segment(int number, NoduleFinding f, Algorithm alg, String trackingUid) {
		String description = String.format(java.util.Locale.ROOT, "p_nodule %.3f%s, diameter %.1f mm", f.pNodule(),
			f.hasMalignancy() ? String.format(java.util.Locale.ROOT, ", p_malignant %.3f", f.pMalignant()) : "", f.diameterMm());
		DicomDataSet algorithm = new DicomDataSet()
			.sequence(tag(0x0066, 0x002F), code("123110", "DCM", "Artificial Intelligence"))
			.string(tag(0x0066, 0x0036), "LO", alg.name())
			.string(tag(0x0066, 0x0031), "LO", alg.version())
			.string(tag(0x0024, 0x0202), "LO", CommonModules.MANUFACTURER);
		if (!alg.models().isEmpty()) algorithm.string(tag(0x0066, 0x0032), "LT", alg.parameters());
		int[] lab = malignancyColour(f);
		return new DicomDataSet()
			.sequence(tag(0x0008, 0x2218), code("39607008", "SCT", "Lung"))
			.sequence(tag(0x0062, 0x0003), code("49755003", "SCT", "Morphologically Abnormal Structure"))
			.us(tag(0x0062, 0x0004), number)
			.string(tag(0x0062, 0x0005), "LO", "Nodule " + f.rank())
			.string(tag(0x0062, 0x0006), "ST", description)
			.sequence(tag(0x0062, 0x0007), algorithm)
			.string(tag(0x0062, 0x0008), "CS", "AUTOMATIC")
			.string(tag(0x0062, 0x0009), "LO", alg.name())
			.us(tag(0x0062, 0x000D), lab)
			.sequence(tag(0x0062, 0x000F), code("27925004", "SCT", "Nodule"))
			.string(tag(0x0062, 0x0020), "UT", "Nodule " + f.rank())
			.string(tag(0x0062, 0x0021), "UI", trackingUid);
	}

	/** DICOM-scaled CIELab (PS3.3 C.10.7.1.1): yellow for benign or unscored, red for malignant. */
	private static int[] malignancyColour(NoduleFinding f) {
		double t = f.hasMalignancy() ? Math.max(0, Math.min(1, f.pMalignant())) : 0;
		// Yellow L*97 a*-22 b*94, red L*53 a*80 b*67, blended.
		double l = 97 + (53 - 97) * t, a = -22 + (80 + 22) * t, b = 94 + (67 - 94) * t;
		return new int[] { (int) Math.round(l * 65535 / 100), (int) Math.round((a + 128) * 65535 / 255),
			(int) Math.round((b + 128) * 65535 / 255) };
	}

	private static byte[] pixelData(List<int[]> frames, int[] labels, int plane, List<NoduleFinding> findings) {
		long bits = (long) frames.size() * plane;
		if ((bits + 7) / 8 > 0xFFFFFFF0L) throw new IllegalArgumentException("Segmentation too large: " + frames.size() + " frames");
		BitPacker packer = new BitPacker(bits);
		for (int[] f : frames) {
			int label = findings.get(f[0] - 1).label(), start = f[1] * plane;
			for (int p = 0; p < plane; p++) packer.add(labels[start + p] == label);
		}
		return packer.bytes();
	}
}
