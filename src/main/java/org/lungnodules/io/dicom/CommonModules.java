package org.lungnodules.io.dicom;

import static org.lungnodules.io.dicom.DicomDataSet.tag;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Modules shared by the Segmentation and the Structured Report: patient, study, equipment, SOP common. */
final class CommonModules {

	static final String MANUFACTURER = "Lung Nodules for Fiji";

	private CommonModules() {}

	/** Source keyword → (tag, VR, type 2: always present). */
	private record Attr(int tag, String vr, boolean type2) {}

	private static final Map<String, Attr> COPIED = new LinkedHashMap<>();
	static {
		COPIED.put("PatientName", new Attr(tag(0x0010, 0x0010), "PN", true));
		COPIED.put("PatientID", new Attr(tag(0x0010, 0x0020), "LO", true));
		COPIED.put("IssuerOfPatientID", new Attr(tag(0x0010, 0x0021), "LO", false));
		COPIED.put("PatientBirthDate", new Attr(tag(0x0010, 0x0030), "DA", true));
		COPIED.put("PatientSex", new Attr(tag(0x0010, 0x0040), "CS", true));
		COPIED.put("PatientAge", new Attr(tag(0x0010, 0x1010), "AS", false));
		COPIED.put("PatientIdentityRemoved", new Attr(tag(0x0012, 0x0062), "CS", false));
		COPIED.put("DeidentificationMethod", new Attr(tag(0x0012, 0x0063), "LO", false));
		COPIED.put("StudyDate", new Attr(tag(0x0008, 0x0020), "DA", true));
		COPIED.put("StudyTime", new Attr(tag(0x0008, 0x0030), "TM", true));
		COPIED.put("AccessionNumber", new Attr(tag(0x0008, 0x0050), "SH", true));
		COPIED.put("ReferringPhysicianName", new Attr(tag(0x0008, 0x0090), "PN", true));
		COPIED.put("StudyDescription", new Attr(tag(0x0008, 0x1030), "LO", false));
		COPIED.put("StudyID", new Attr(tag(0x0020, 0x0010), "SH", true));
	}

	/** Patient and General Study modules from the source, Study Instance UID included. */
	static void patientAndStudy(DicomDataSet ds, SourceImages src) {
		for (Map.Entry<String, Attr> e : COPIED.entrySet()) {
			String v = src.patientAndStudy().get(e.getKey());
			Attr a = e.getValue();
			boolean copied = false;
			if (v != null && !v.isEmpty()) {
				try {
					ds.string(a.tag(), a.vr(), v);
					copied = true;
				}
				catch (IllegalArgumentException tooLong) {
					// An invalid source value is left out rather than copied into an invalid file.
				}
			}
			if (!copied && a.type2()) ds.empty(a.tag(), a.vr());
		}
		ds.string(tag(0x0020, 0x000D), "UI", src.studyInstanceUid());
	}

	/** General Equipment and Enhanced General Equipment. */
	static void equipment(DicomDataSet ds, Algorithm alg) {
		ds.string(tag(0x0008, 0x0070), "LO", MANUFACTURER)
			.string(tag(0x0008, 0x1090), "LO", alg.name())
			.string(tag(0x0018, 0x1000), "LO", "1")
			.string(tag(0x0018, 0x1020), "LO", alg.version());
	}

	/** SOP Common: class, instance, and the character set when a value needs more than ASCII. */
	static void sopCommon(DicomDataSet ds, String sopClass, String sopInstance) {
		ds.string(tag(0x0008, 0x0016), "UI", sopClass).string(tag(0x0008, 0x0018), "UI", sopInstance);
		if (!ds.needsUtf8()) return;
		// Latin-1 (ISO_IR 100, what most CT series use) when it suffices, as more readers support it; else UTF-8.
		if (ds.fits(StandardCharsets.ISO_8859_1)) {
			ds.recode(StandardCharsets.ISO_8859_1);
			ds.string(tag(0x0008, 0x0005), "CS", "ISO_IR 100");
		}
		else ds.string(tag(0x0008, 0x0005), "CS", "ISO_IR 192");
	}
}
