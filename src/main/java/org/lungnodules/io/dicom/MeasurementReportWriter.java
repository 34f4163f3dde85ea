package org.lungnodules.io.dicom;

import static org.lungnodules.io.dicom.DicomDataSet.code;
import static org.lungnodules.io.dicom.DicomDataSet.tag;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Writes a DICOM Comprehensive 3D SR (SOP class 1.2.840.10008.5.1.4.1.1.88.34) following TID 1500
 * "Measurement Report": the device as observer, the source images as image library, and per nodule a
 * TID 1411 volumetric measurement group with its tracking identifier and UID (the same as its SEG
 * segment's), a reference to the segment, the source series, finding category and type and site,
 * the diameter (mm), volume (mm³), nodule probability, malignancy probability when scored, and the
 * centre as a SCOORD3D point in the source frame of reference.
 */
public final class MeasurementReportWriter {

	public static final String SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.88.34";
	static final int SERIES_NUMBER = 9902;
	/** Our private coding scheme, for the nodule probability (no standard code says "probability of being a nodule"). */
	public static final String PRIVATE_SCHEME = "99LUNGNOD";
	public static final String NODULE_PROBABILITY_CODE = "p_nodule";

	private static final int CONCEPT_NAME = tag(0x0040, 0xA043), CONTENT_SEQUENCE = tag(0x0040, 0xA730);

	private MeasurementReportWriter() {}

	/**
	 * Writes the report atomically; returns its SOP Instance UID.
	 *
	 * @param file where to write it
	 * @param source the source series
	 * @param segmentation the Segmentation written for the same findings; null only when there are no
	 *        findings (the report then says that no nodule was measured)
	 * @param findings the nodules, in the same order as given to the Segmentation
	 * @param algorithm what produced them
	 */
	public static String write(Path file, SourceImages source, SegmentationWriter.Written segmentation,
		List<NoduleFinding> findings, Algorithm algorithm) throws IOException {
		String sop = Part10Writer.newUid();
		Part10Writer.write(file, build(source, segmentation, findings, algorithm, sop, Part10Writer.newUid(), ZonedDateTime.now()));
		return sop;
	}

	static DicomDataSet build(SourceImages src, SegmentationWriter.Written seg, List<NoduleFinding> findings, Algorithm alg,
		String sopInstanceUid, String seriesUid, ZonedDateTime now) {
		if (seg == null && !findings.isEmpty()) throw new IllegalArgumentException("Findings need their Segmentation");
		if (seg != null && seg.segmentNumbers().size() != findings.size())
			throw new IllegalArgumentException(findings.size() + " findings for " + seg.segmentNumbers().size() + " segments");
		if (src.frameOfReferenceUid() == null || src.frameOfReferenceUid().isEmpty())
			throw new IllegalArgumentException("The source series has no Frame of Reference UID: SCOORD3D points need one");
		DicomDataSet ds = new DicomDataSet();
		CommonModules.patientAndStudy(ds, src);
		// SR Document Series
		ds.string(tag(0x0008, 0x0060), "CS", "SR")
			.string(tag(0x0020, 0x000E), "UI", seriesUid)
			.string(tag(0x0020, 0x0011), "IS", Integer.toString(SERIES_NUMBER))
			.string(tag(0x0008, 0x103E), "LO", DicomDataSet.cut("Lung nodule measurements (" + alg.name() + ")", 64))
			.empty(tag(0x0008, 0x1111), "SQ");
		CommonModules.equipment(ds, alg);
		// SR Document General
		ds.string(tag(0x0020, 0x0013), "IS", "1")
			.string(tag(0x0040, 0xA491), "CS", "COMPLETE")
			.string(tag(0x0040, 0xA493), "CS", "UNVERIFIED")
			.string(tag(0x0008, 0x0023), "DA", Part10Writer.da(now))
			.string(tag(0x0008, 0x0033), "TM", Part10Writer.tm(now))
			.string(tag(0x0008, 0x0012), "DA", Part10Writer.da(now))
			.string(tag(0x0008, 0x0013), "TM", Part10Writer.tm(now))
			.empty(tag(0x0040, 0xA372), "SQ")
			.sequence(tag(0x0040, 0xA375), evidence(src, seg));
		if (!findings.isEmpty()) ds.sequence(tag(0x0008, 0x0110), new DicomDataSet()
			.string(tag(0x0008, 0x0102), "SH", PRIVATE_SCHEME)
			.string(tag(0x0008, 0x0115), "ST", "Lung Nodules for Fiji codes")
			.string(tag(0x0008, 0x0116), "ST", CommonModules.MANUFACTURER));

		// SR Document Content: the root container of TID 1500.
		ds.string(tag(0x0040, 0xA040), "CS", "CONTAINER")
			.sequence(CONCEPT_NAME, code("126000", "DCM", "Imaging Measurement Report"))
			.string(tag(0x0040, 0xA050), "CS", "SEPARATE")
			.sequence(tag(0x0040, 0xA504), new DicomDataSet()
				.string(tag(0x0008, 0x0105), "CS", "DCMR").string(tag(0x0040, 0xDB00), "CS", "1500"));
		List<DicomDataSet> root = new ArrayList<>();
		root.add(codeItem("HAS CONCEPT MOD", code("121049", "DCM", "Language of Content Item and Descendants"),
			code("en-US", "RFC5646", "English (United States)")));
		root.add(codeItem("HAS OBS CONTEXT", code("121005", "DCM", "Observer Type"), code("121007", "DCM", "Device")));
		root.add(uidItem("HAS OBS CONTEXT", code("121012", "DCM", "Device Observer UID"), deviceUid(alg)));
		root.add(textItem("HAS OBS CONTEXT", code("121013", "DCM", "Device Observer Name"), alg.name()));
		root.add(textItem("HAS OBS CONTEXT", code("121014", "DCM", "Device Observer Manufacturer"), CommonModules.MANUFACTURER));
		root.add(textItem("HAS OBS CONTEXT", code("121015", "DCM", "Device Observer Model Name"), alg.name() + " " + alg.version()));
		root.add(codeItem("HAS CONCEPT MOD", code("121058", "DCM", "Procedure reported"), code("25045-6", "LN", "CT unspecified body region")));

		List<DicomDataSet> library = new ArrayList<>();
		Map<String, String> seen = new LinkedHashMap<>();
		for (SourceImages.Image img : src.images())
			if (seen.putIfAbsent(img.sopInstanceUid(), img.sopClassUid()) == null)
				library.add(new DicomDataSet().string(tag(0x0040, 0xA010), "CS", "CONTAINS").string(tag(0x0040, 0xA040), "CS", "IMAGE")
					.sequence(tag(0x0008, 0x1199), sopReference(img.sopClassUid(), img.sopInstanceUid())));
		root.add(container("CONTAINS", code("111028", "DCM", "Image Library"),
			List.of(container("CONTAINS", code("126200", "DCM", "Image Library Group"), library))));

		List<DicomDataSet> groups = new ArrayList<>();
		for (int i = 0; i < findings.size(); i++)
			groups.add(measurementGroup(findings.get(i), seg.segmentNumbers().get(i), seg.trackingUids().get(i), seg, src));
		if (!groups.isEmpty()) root.add(container("CONTAINS", code("126010", "DCM", "Imaging Measurements"), groups));
		else // TID 1500 needs measurements or evaluations; an empty container is not allowed.
			root.add(container("CONTAINS", code("C0034375", "UMLS", "Qualitative Evaluations"),
				List.of(textItem("CONTAINS", code("121106", "DCM", "Comment"), "No nodule found at or above the threshold."))));
		ds.sequence(CONTENT_SEQUENCE, root);

		CommonModules.sopCommon(ds, SOP_CLASS_UID, sopInstanceUid);
		return ds;
	}

	/** One TID 1411 Volumetric ROI Measurements group. */
	private static DicomDataSet measurementGroup(NoduleFinding f, int segmentNumber, String trackingUid,
		SegmentationWriter.Written seg, SourceImages src) {
		List<DicomDataSet> items = new ArrayList<>();
		items.add(textItem("HAS OBS CONTEXT", code("112039", "DCM", "Tracking Identifier"), "Nodule " + f.rank()));
		items.add(uidItem("HAS OBS CONTEXT", code("112040", "DCM", "Tracking Unique Identifier"), trackingUid));
		items.add(codeItem("CONTAINS", code("276214006", "SCT", "Finding category"), code("49755003", "SCT", "Morphologically Abnormal Structure")));
		items.add(codeItem("CONTAINS", code("121071", "DCM", "Finding"), code("27925004", "SCT", "Nodule")));
		DicomDataSet segRef = sopReference(SegmentationWriter.SOP_CLASS_UID, seg.sopInstanceUid()).us(tag(0x0062, 0x000B), segmentNumber);
		items.add(new DicomDataSet().string(tag(0x0040, 0xA010), "CS", "CONTAINS").string(tag(0x0040, 0xA040), "CS", "IMAGE")
			.sequence(CONCEPT_NAME, code("121191", "DCM", "Referenced Segment")).sequence(tag(0x0008, 0x1199), segRef));
		items.add(uidItem("CONTAINS", code("121232", "DCM", "Source series for segmentation"), src.seriesInstanceUid()));
		items.add(codeItem("HAS CONCEPT MOD", code("363698007", "SCT", "Finding Site"), code("39607008", "SCT", "Lung")));
		items.add(numItem(code("81827009", "SCT", "Diameter"), f.diameterMm(), code("mm", "UCUM", "millimeter")));
		items.add(numItem(code("118565006", "SCT", "Volume"), f.volumeMm3(), code("mm3", "UCUM", "cubic millimeter")));
		items.add(numItem(code(NODULE_PROBABILITY_CODE, PRIVATE_SCHEME, "Nodule probability"), f.pNodule(), code("1", "UCUM", "no units")));
		if (f.hasMalignancy())
			items.add(numItem(code("111047", "DCM", "Probability of cancer"), f.pMalignant(), code("1", "UCUM", "no units")));
		items.add(new DicomDataSet().string(tag(0x0040, 0xA010), "CS", "CONTAINS").string(tag(0x0040, 0xA040), "CS", "SCOORD3D")
			.sequence(CONCEPT_NAME, code("111010", "DCM", "Center"))
			.string(tag(0x0070, 0x0023), "CS", "POINT")
			.fl(tag(0x0070, 0x0022), (float) f.x(), (float) f.y(), (float) f.z())
			.string(tag(0x3006, 0x0024), "UI", src.frameOfReferenceUid()));
		DicomDataSet group = container("CONTAINS", code("125007", "DCM", "Measurement Group"), items);
		group.sequence(tag(0x0040, 0xA504), new DicomDataSet()
			.string(tag(0x0008, 0x0105), "CS", "DCMR").string(tag(0x0040, 0xDB00), "CS", "1411"));
		return group;
	}

	/** CurrentRequestedProcedureEvidenceSequence: the source images and the Segmentation, one study. */
	private static DicomDataSet evidence(SourceImages src, SegmentationWriter.Written seg) {
		Map<String, String> instances = new LinkedHashMap<>();
		for (SourceImages.Image img : src.images()) instances.putIfAbsent(img.sopInstanceUid(), img.sopClassUid());
		List<DicomDataSet> refs = new ArrayList<>();
		instances.forEach((uid, cls) -> refs.add(sopReference(cls, uid)));
		DicomDataSet sourceSeries = new DicomDataSet().string(tag(0x0020, 0x000E), "UI", src.seriesInstanceUid())
			.sequence(tag(0x0008, 0x1199), refs);
		if (seg == null)
			return new DicomDataSet().string(tag(0x0020, 0x000D), "UI", src.studyInstanceUid()).sequence(tag(0x0008, 0x1115), sourceSeries);
		DicomDataSet segSeries = new DicomDataSet().string(tag(0x0020, 0x000E), "UI", seg.seriesInstanceUid())
			.sequence(tag(0x0008, 0x1199), sopReference(SegmentationWriter.SOP_CLASS_UID, seg.sopInstanceUid()));
		return new DicomDataSet().string(tag(0x0020, 0x000D), "UI", src.studyInstanceUid())
			.sequence(tag(0x0008, 0x1115), sourceSeries, segSeries);
	}

	private static DicomDataSet sopReference(String cls, String uid) {
		return new DicomDataSet().string(tag(0x0008, 0x1150), "UI", cls).string(tag(0x0008, 0x1155), "UI", uid);
	}

	private static DicomDataSet item(String relationship, String valueType, DicomDataSet conceptName) {
		return new DicomDataSet().string(tag(0x0040, 0xA010), "CS", relationship).string(tag(0x0040, 0xA040), "CS", valueType)
			.sequence(CONCEPT_NAME, conceptName);
	}

	private static DicomDataSet container(String relationship, DicomDataSet conceptName, List<DicomDataSet> children) {
		return item(relationship, "CONTAINER", conceptName).string(tag(0x0040, 0xA050), "CS", "SEPARATE")
			.sequence(CONTENT_SEQUENCE, children);
	}

	private static DicomDataSet codeItem(String relationship, DicomDataSet conceptName, DicomDataSet value) {
		return item(relationship, "CODE", conceptName).sequence(tag(0x0040, 0xA168), value);
	}

	private static DicomDataSet textItem(String relationship, DicomDataSet conceptName, String text) {
		return item(relationship, "TEXT", conceptName).string(tag(0x0040, 0xA160), "UT", text);
	}

	private static DicomDataSet uidItem(String relationship, DicomDataSet conceptName, String uid) {
		return item(relationship, "UIDREF", conceptName).string(tag(0x0040, 0xA124), "UI", uid);
	}

	/** A NUM item; when 16 characters of DS cannot hold the value exactly, FloatingPointValue (FD) holds it too. */
	private static DicomDataSet numItem(DicomDataSet conceptName, double value, DicomDataSet units) {
		String ds = Part10Writer.ds(value);
		DicomDataSet measured = new DicomDataSet().string(tag(0x0040, 0xA30A), "DS", ds).sequence(tag(0x0040, 0x08EA), units);
		if (Double.parseDouble(ds) != value) measured.fd(tag(0x0040, 0xA161), value);
		return item("CONTAINS", "NUM", conceptName).sequence(tag(0x0040, 0xA300), measured);
	}

	/** A stable UID for this algorithm and version (name-based UUID in the 2.25 form). */
	static String deviceUid(Algorithm alg) {
		return Part10Writer.uidOf(UUID.nameUUIDFromBytes(("device:" + alg.name() + "\u0000" + alg.version()).getBytes(StandardCharsets.UTF_8)));
	}
}
