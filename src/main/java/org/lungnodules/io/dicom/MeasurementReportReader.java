package org.lungnodules.io.dicom;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the nodules back from a TID 1500 Measurement Report as {@link MeasurementReportWriter} writes it (and as
 * another tool may have edited it): per measurement group (DCM 125007) of the Imaging Measurements container
 * (DCM 126010), the tracking identifier's rank, the SCOORD3D centre, diameter, volume, nodule and malignancy
 * probabilities, with the source series and frame of reference.
 *
 * <p>The file is walked as a generic tree of elements, sequences and items (explicit or implicit VR little endian,
 * also deflated; defined and undefined lengths). The image reader's {@link Part10} is specialised for image headers
 * and skips nested content, which here is the whole report. Every length is checked against the bytes that hold
 * it, and nesting, element count and file size are capped, so a hostile file fails with a message, not an
 * OutOfMemoryError or a hang.
 */
public final class MeasurementReportReader {

	/**
	 * One nodule of the report.
	 *
	 * @param rank from the tracking identifier "Nodule &lt;rank&gt;", else the group's place (1, 2, …)
	 * @param x world x (LPS, mm) of the centre, as stored (FL: single precision)
	 * @param y world y
	 * @param z world z
	 * @param diameterMm diameter (mm)
	 * @param volumeMm3 volume (mm³)
	 * @param pNodule nodule probability
	 * @param pMalignant malignancy probability, NaN when the report has none
	 */
	public record Nodule(int rank, double x, double y, double z, double diameterMm, double volumeMm3, double pNodule, double pMalignant) {}

	/**
	 * What the report says.
	 *
	 * @param sourceSeriesUid the SeriesInstanceUID of the CT the nodules were found on; empty if the report does not say
	 * @param frameOfReferenceUid the frame of reference of the centres; empty when there is no nodule
	 * @param nodules in the report's order
	 */
	public record Report(String sourceSeriesUid, String frameOfReferenceUid, List<Nodule> nodules) {}

	/** Our reports are a few hundred kB (the image library); far more is not one of them. */
	static final long MAX_FILE = 32L << 20;
	/** Our content tree nests about eight sequences deep; far deeper is malformed or hostile. */
	static final int MAX_DEPTH = 64;
	/** Elements and items in the whole file: a report of 1 000 nodules and 5 000 images needs about 120 000. */
	static final int MAX_ELEMENTS = 500_000;

	private static final int ITEM = 0xFFFEE000, ITEM_END = 0xFFFEE00D, SEQUENCE_END = 0xFFFEE0DD;
	private static final long UNDEFINED = 0xFFFFFFFFL;
	private static final int PIXEL_DATA = 0x7FE00010;
	private static final int SOP_CLASS = 0x00080016, VALUE_TYPE = 0x0040A040, CONCEPT_NAME = 0x0040A043, CONTENT = 0x0040A730,
		TEMPLATE = 0x0040A504, TEMPLATE_ID = 0x0040DB00, CODE_VALUE = 0x00080100, SCHEME = 0x00080102, MEANING = 0x00080104,
		TEXT_VALUE = 0x0040A160, UID = 0x0040A124, MEASURED_VALUE = 0x0040A300, UNITS = 0x004008EA, NUMERIC_VALUE = 0x0040A30A,
		FLOATING_POINT_VALUE = 0x0040A161, GRAPHIC_TYPE = 0x00700023, GRAPHIC_DATA = 0x00700022, FRAME_OF_REFERENCE = 0x30060024,
		EVIDENCE = 0x0040A375, REFERENCED_SERIES = 0x00081115, REFERENCED_SOP = 0x00081199, REFERENCED_SOP_CLASS = 0x00081150,
		SERIES_UID = 0x0020000E;
	/**
	 * The sequences an implicit VR file may hold with a defined length (it gives no VR): those the report's content is
	 * read from. Other defined-length values are kept as bytes and never looked into.
	 */
	private static final Set<Integer> SEQUENCES = Set.of(CONTENT, CONCEPT_NAME, TEMPLATE, MEASURED_VALUE, UNITS, EVIDENCE,
		REFERENCED_SERIES, REFERENCED_SOP, 0x0040A168 /* ConceptCodeSequence */);

	/** What other objects a file given by mistake is, for the refusal message. */
	private static final Map<String, String> SOP_CLASSES = Map.ofEntries(
		Map.entry("1.2.840.10008.5.1.4.1.1.2", "a CT image"), Map.entry("1.2.840.10008.5.1.4.1.1.2.1", "an enhanced CT image"),
		Map.entry("1.2.840.10008.5.1.4.1.1.4", "an MR image"), Map.entry("1.2.840.10008.5.1.4.1.1.7", "a secondary capture image"),
		Map.entry(SegmentationWriter.SOP_CLASS_UID, "a Segmentation (SEG)"),
		Map.entry("1.2.840.10008.5.1.4.1.1.88.11", "a Basic Text SR"), Map.entry("1.2.840.10008.5.1.4.1.1.88.22", "an Enhanced SR"),
		Map.entry("1.2.840.10008.5.1.4.1.1.88.33", "a Comprehensive SR (2D coordinates)"),
		Map.entry("1.2.840.10008.5.1.4.1.1.88.59", "a Key Object Selection document"),
		Map.entry("1.2.840.10008.5.1.4.1.1.481.3", "an RT Structure Set"), Map.entry("1.2.840.10008.1.3.10", "a DICOMDIR"));

	private MeasurementReportReader() {}

	/** True when the file has the DICOM Part 10 mark: "DICM" after a 128-byte preamble. */
	public static boolean isPart10(Path file) throws IOException {
		try (InputStream in = Files.newInputStream(file)) {
			byte[] head = in.readNBytes(132);
			return head.length == 132 && head[128] == 'D' && head[129] == 'I' && head[130] == 'C' && head[131] == 'M';
		}
	}

	/** Reads the report, or fails with a {@link DicomException} naming the file and what is wrong with it. */
	public static Report read(Path file) throws IOException {
		return interpret(file, parse(file));
	}

	// ---------------------------------------------------------------------------------------------------------
	// The generic walk: elements, sequences and items.

	/** One element: its value's place in the bytes, or the items of a sequence. */
	record Element(int tag, String vr, int offset, int length, List<Item> items) {}

	/** A data set: the elements of an item (or of the whole file), by tag. */
	static final class Item {
		final Map<Integer, Element> elements = new LinkedHashMap<>();
	}

	/** The parsed file: its bytes and its top-level data set. */
	private record Parsed(FileBytes bytes, Item dataset) {}

	private static Parsed parse(Path file) throws IOException {
		long size = Files.size(file);
		if (size > MAX_FILE)
			throw new DicomException(file, "is " + (size >> 20) + " MB, far larger than a measurement report; it is not one");
		byte[] data = Files.readAllBytes(file);
		if (data.length < 132 || data[128] != 'D' || data[129] != 'I' || data[130] != 'C' || data[131] != 'M')
			throw new DicomException(file, "is not a DICOM file: no \"DICM\" after a 128-byte preamble");
		FileBytes meta = new FileBytes(file, data);
		String syntax = "", metaSopClass = "";
		long pos = 132;
		// File meta information (group 0002): always explicit VR little endian.
		while (pos + 8 <= data.length && meta.u16(pos, false) == 0x0002) {
			int element = meta.u16(pos + 2, false);
			int c0 = meta.u8(pos + 4), c1 = meta.u8(pos + 5);
			if (!Part10.isVr(c0, c1))
				throw new DicomException(file, String.format(Locale.ROOT, "file meta element (0002,%04X) at byte %d has no valid VR", element, pos));
			long length, value;
			if (Part10.isLongVr(c0, c1)) {
				meta.need(pos, 12, "file meta element (0002," + Part10.hex(element) + ")");
				length = meta.u32(pos + 8, false);
				value = pos + 12;
			}
			else {
				length = meta.u16(pos + 6, false);
				value = pos + 8;
			}
			if (value + length > data.length)
				throw new DicomException(file, "file meta element (0002," + Part10.hex(element) + ") at byte " + pos + " declares " + length +
					" bytes, but only " + (data.length - value) + " remain: the file is truncated or damaged");
			if (element == 0x0010) syntax = meta.string(value, length, "TransferSyntaxUID (0002,0010)");
			else if (element == 0x0002) metaSopClass = meta.string(value, length, "MediaStorageSOPClassUID (0002,0002)");
			pos = value + length;
		}
		// Refuse another object before walking it: a CT slice's pixel data is no report's business.
		if (!metaSopClass.isEmpty()) checkSopClass(file, metaSopClass);
		boolean implicit;
		FileBytes in = meta;
		long start = pos;
		switch (syntax) {
		case TransferSyntax.EXPLICIT_LE -> implicit = false;
		case TransferSyntax.IMPLICIT_LE -> implicit = true;
		case TransferSyntax.DEFLATED_LE -> {
			in = new FileBytes(file, Part10.inflateDataset(file, pos));
			start = 0;
			implicit = false;
		}
		case TransferSyntax.EXPLICIT_BE -> throw new DicomException(file, "is in explicit VR big endian (a retired transfer syntax), which " +
			"this reader does not take; convert it to little endian first (dcmconv +te, or pydicom)");
		case "" -> throw new DicomException(file, "has no TransferSyntaxUID (0002,0010) in its file meta information: the file is " +
			"truncated or damaged");
		default -> throw new DicomException(file, "has transfer syntax " + syntax + ", not one a structured report is stored in " +
			"(explicit or implicit VR little endian, or deflated)");
		}
		Walker w = new Walker(file, in);
		Item top = new Item();
		w.dataset(top, start, in.size, implicit, 0, true);
		return new Parsed(in, top);
	}

	private static final class Walker {
		final Path file;
		final FileBytes in;
		int elements;

		Walker(Path file, FileBytes in) {
			this.file = file;
			this.in = in;
		}

		/**
		 * Reads elements into {@code into} from {@code pos} up to {@code end}, or to an item delimiter when
		 * {@code delimited}; returns the position after them. The top level stops at PixelData.
		 */
		long dataset(Item into, long pos, long end, boolean implicit, int depth, boolean topLevel) throws IOException {
			boolean delimited = !topLevel && end < 0;
			long limit = end < 0 ? in.size : end;
			while (pos < limit) {
				need(pos, 8, limit, "an element header");
				int tag = (in.u16(pos, false) << 16) | in.u16(pos + 2, false);
				if (tag == ITEM_END) {
					if (delimited) return pos + 8;
					throw new DicomException(file, "an item delimiter (FFFE,E00D) at byte " + pos + " outside any item of undefined length");
				}
				if (tag == ITEM || tag == SEQUENCE_END)
					throw new DicomException(file, "an item tag " + Part10.tagName(tag) + " at byte " + pos + " outside any sequence");
				if (topLevel && tag == PIXEL_DATA) return limit;
				if (++elements > MAX_ELEMENTS) throw new DicomException(file, "holds more than " + MAX_ELEMENTS + " elements; not a report of ours");
				String vr = null;
				long length, value;
				if (implicit) {
					length = in.u32(pos + 4, false);
					value = pos + 8;
				}
				else {
					int c0 = in.u8(pos + 4), c1 = in.u8(pos + 5);
					if (!Part10.isVr(c0, c1))
						throw new DicomException(file, String.format(Locale.ROOT, "element %s at byte %d has no valid VR (bytes %02X %02X): " +
							"the file is damaged", Part10.tagName(tag), pos, c0, c1));
					vr = "" + (char) c0 + (char) c1;
					if (Part10.isLongVr(c0, c1)) {
						need(pos, 12, limit, "the header of element " + Part10.tagName(tag));
						length = in.u32(pos + 8, false);
						value = pos + 12;
					}
					else {
						length = in.u16(pos + 6, false);
						value = pos + 8;
					}
				}
				// A sequence: SQ; in implicit VR an undefined length or one of the sequences we read; UN holding one
				// (a tool that did not know the tag) is implicit VR inside.
				boolean unknownVr = vr == null || "UN".equals(vr);
				boolean sequence = "SQ".equals(vr) || (unknownVr && (length == UNDEFINED || SEQUENCES.contains(tag)));
				if (sequence) {
					boolean inner = "SQ".equals(vr) ? implicit : true;
					List<Item> items = new ArrayList<>();
					if (length == UNDEFINED) pos = sequence(items, value, -1, inner, depth + 1, tag);
					else {
						if (value + length > limit) throw pastEnd(tag, pos, value, length, limit);
						pos = sequence(items, value, value + length, inner, depth + 1, tag);
					}
					into.elements.put(tag, new Element(tag, vr == null ? "SQ" : vr, (int) value, 0, items));
					continue;
				}
				if (length == UNDEFINED)
					throw new DicomException(file, "element " + Part10.tagName(tag) + " at byte " + pos + " has VR " + vr +
						" with undefined length; only sequences may");
				if (value + length > limit) throw pastEnd(tag, pos, value, length, limit);
				into.elements.put(tag, new Element(tag, vr, (int) value, (int) length, null));
				pos = value + length;
			}
			if (delimited) throw new DicomException(file, "an item of undefined length runs to the end of the file without its delimiter (FFFE,E00D)");
			return pos;
		}

		/** Reads the items of a sequence up to {@code end}, or to its delimiter when {@code end < 0}. */
		long sequence(List<Item> items, long pos, long end, boolean implicit, int depth, int owner) throws IOException {
			if (depth > MAX_DEPTH) throw new DicomException(file, "sequences nested deeper than " + MAX_DEPTH + " levels at byte " + pos);
			long limit = end < 0 ? in.size : end;
			while (true) {
				if (end >= 0 && pos >= end) return end;
				if (pos + 8 > limit)
					throw new DicomException(file, "the sequence " + Part10.tagName(owner) + (end < 0 ? " of undefined length runs to the end " +
						"of the file without its delimiter (FFFE,E0DD)" : " ends inside an item header at byte " + pos) + ": the file is truncated or damaged");
				int tag = (in.u16(pos, false) << 16) | in.u16(pos + 2, false);
				long length = in.u32(pos + 4, false);
				if (tag == SEQUENCE_END) {
					if (end < 0) return pos + 8;
					throw new DicomException(file, "a sequence delimiter (FFFE,E0DD) at byte " + pos + " inside the sequence " +
						Part10.tagName(owner) + " of defined length");
				}
				if (tag != ITEM)
					throw new DicomException(file, "the sequence " + Part10.tagName(owner) + " holds " + Part10.tagName(tag) + " at byte " + pos +
						" where an item (FFFE,E000) or the sequence delimiter belongs");
				if (++elements > MAX_ELEMENTS) throw new DicomException(file, "holds more than " + MAX_ELEMENTS + " elements; not a report of ours");
				Item item = new Item();
				items.add(item);
				if (length == UNDEFINED) pos = dataset(item, pos + 8, -1, implicit, depth, false);
				else {
					if (pos + 8 + length > limit) throw pastEnd(tag, pos, pos + 8, length, limit);
					dataset(item, pos + 8, pos + 8 + length, implicit, depth, false);
					pos = pos + 8 + length;
				}
			}
		}

		void need(long pos, long n, long limit, String what) throws IOException {
			if (pos + n > limit) {
				if (limit < in.size)
					throw new DicomException(file, what + " at byte " + pos + " crosses the end of its item or sequence at byte " + limit +
						": the file is damaged");
				in.need(pos, n, what);
			}
		}

		DicomException pastEnd(int tag, long pos, long value, long length, long limit) {
			return new DicomException(file, (tag == ITEM ? "an item" : "element " + Part10.tagName(tag)) + " at byte " + pos + " declares " +
				length + " bytes, but only " + Math.max(0, limit - value) + (limit < in.size ? " remain in what holds it" : " remain in the file (" +
					in.size + " bytes)") + ": the file is truncated or damaged");
		}
	}

	// ---------------------------------------------------------------------------------------------------------
	// The report: TID 1500 and its TID 1411 measurement groups.

	private static void checkSopClass(Path file, String sopClass) throws DicomException {
		if (MeasurementReportWriter.SOP_CLASS_UID.equals(sopClass)) return;
		String what = SOP_CLASSES.get(sopClass);
		throw new DicomException(file, "is " + (what != null ? what + " (SOP class " + sopClass + ")" : "of SOP class " + sopClass) +
			", not a Comprehensive 3D SR measurement report (SOP class " + MeasurementReportWriter.SOP_CLASS_UID + ")" +
			(SegmentationWriter.SOP_CLASS_UID.equals(sopClass) ? "; open the run's " + NoduleDicom.SR_SUFFIX + " instead" : ""));
	}

	private static Report interpret(Path file, Parsed p) throws IOException {
		Content c = new Content(file, p.bytes());
		Item top = p.dataset();
		String sopClass = c.text(top, SOP_CLASS);
		if (sopClass == null) throw new DicomException(file, "has no SOPClassUID (0008,0016)");
		checkSopClass(file, sopClass);
		String[] title = c.code(top, CONCEPT_NAME);
		if (!"CONTAINER".equals(c.text(top, VALUE_TYPE)) || title == null || !"126000".equals(title[0]) || !"DCM".equals(title[1]))
			throw new DicomException(file, "is a Comprehensive 3D SR but not a TID 1500 Imaging Measurement Report: its document title is " +
				(title == null ? "missing" : "(" + title[0] + ", " + title[1] + ", \"" + title[2] + "\")"));
		Item template = c.first(top, TEMPLATE);
		if (template != null) {
			String id = c.text(template, TEMPLATE_ID);
			if (id != null && !id.equals("1500"))
				throw new DicomException(file, "is a Comprehensive 3D SR of template TID " + id + ", not TID 1500 (Measurement Report)");
		}
		// TID 1500 always has content (the observer, the image library, measurements or evaluations); a file without
		// is cut short at an element boundary, and must not read as "no nodules".
		if (c.items(top, CONTENT).isEmpty())
			throw new DicomException(file, "has no content (ContentSequence (0040,A730) is missing or empty): the file is truncated or damaged");
		List<Item> measurements = new ArrayList<>();
		for (Item i : c.items(top, CONTENT))
			if ("CONTAINER".equals(c.text(i, VALUE_TYPE)) && c.isCode(i, "126010", "DCM")) measurements.add(i);
		if (measurements.size() > 1)
			throw new DicomException(file, "has " + measurements.size() + " Imaging Measurements containers (DCM 126010); TID 1500 has one");

		List<Nodule> nodules = new ArrayList<>();
		Set<String> series = new LinkedHashSet<>(), frames = new LinkedHashSet<>();
		int place = 0;
		for (Item g : measurements.isEmpty() ? List.<Item>of() : c.items(measurements.get(0), CONTENT)) {
			if (!c.isCode(g, "125007", "DCM")) continue; // not a measurement group: nothing of ours
			place++;
			nodules.add(group(c, g, place, series, frames));
		}
		if (series.size() > 1) throw new DicomException(file, "names several source series in its measurement groups: " + String.join(", ", series));
		if (frames.size() > 1) throw new DicomException(file, "places its nodules in several frames of reference: " + String.join(", ", frames));
		String sourceSeries = series.isEmpty() ? evidenceSeries(c, top) : series.iterator().next();
		return new Report(sourceSeries, frames.isEmpty() ? "" : frames.iterator().next(), List.copyOf(nodules));
	}

	private static final Pattern RANK = Pattern.compile("Nodule\\s+(\\d{1,9})");

	/** One TID 1411 group: its tracking identifier, measurements and centre. */
	private static Nodule group(Content c, Item g, int place, Set<String> series, Set<String> frames) throws IOException {
		String name = "measurement group " + place;
		int rank = place;
		double diameter = Double.NaN, volume = Double.NaN, pNodule = Double.NaN, pMalignant = Double.NaN;
		float[] centre = null;
		for (Item i : c.items(g, CONTENT)) {
			String type = c.text(i, VALUE_TYPE);
			if (c.isCode(i, "112039", "DCM")) {
				String id = c.text(i, TEXT_VALUE);
				Matcher m = RANK.matcher(id == null ? "" : id);
				if (m.matches()) rank = Integer.parseInt(m.group(1));
				name += " (\"" + id + "\")";
			}
			else if (c.isCode(i, "121232", "DCM")) {
				String uid = c.text(i, UID);
				if (uid != null && !uid.isEmpty()) series.add(uid);
			}
			else if ("NUM".equals(type)) {
				if (c.isCode(i, "81827009", "SCT")) diameter = c.number(i, "mm", name + " diameter");
				else if (c.isCode(i, "118565006", "SCT")) volume = c.number(i, "mm3", name + " volume");
				else if (c.isCode(i, MeasurementReportWriter.NODULE_PROBABILITY_CODE, MeasurementReportWriter.PRIVATE_SCHEME))
					pNodule = c.number(i, "1", name + " nodule probability");
				else if (c.isCode(i, "111047", "DCM")) pMalignant = c.number(i, "1", name + " malignancy probability");
			}
			else if ("SCOORD3D".equals(type) && c.isCode(i, "111010", "DCM")) {
				if (!"POINT".equals(c.text(i, GRAPHIC_TYPE)))
					throw new DicomException(c.file, name + ": its centre (DCM 111010) is a " + c.text(i, GRAPHIC_TYPE) + ", not a POINT");
				centre = c.floats(i, GRAPHIC_DATA, 3, name + " centre GraphicData (0070,0022)");
				String frame = c.text(i, FRAME_OF_REFERENCE);
				if (frame != null && !frame.isEmpty()) frames.add(frame);
			}
		}
		if (centre == null) throw new DicomException(c.file, name + " has no centre (SCOORD3D POINT, DCM 111010)");
		if (Double.isNaN(diameter)) throw new DicomException(c.file, name + " has no diameter (SCT 81827009)");
		if (Double.isNaN(volume)) throw new DicomException(c.file, name + " has no volume (SCT 118565006)");
		if (Double.isNaN(pNodule)) throw new DicomException(c.file, name + " has no nodule probability (" +
			MeasurementReportWriter.PRIVATE_SCHEME + " " + MeasurementReportWriter.NODULE_PROBABILITY_CODE + ")");
		for (float v : centre)
			if (!Float.isFinite(v)) throw new DicomException(c.file, name + ": its centre is not finite");
		return new Nodule(rank, centre[0], centre[1], centre[2], diameter, volume, pNodule, pMalignant);
	}

	/** For a report without nodules: the evidence's series of images (not the SEG's, not an SR's). */
	private static String evidenceSeries(Content c, Item top) throws IOException {
		for (Item study : c.items(top, EVIDENCE))
			for (Item s : c.items(study, REFERENCED_SERIES))
				for (Item ref : c.items(s, REFERENCED_SOP)) {
					String cls = c.text(ref, REFERENCED_SOP_CLASS);
					if (cls != null && !cls.equals(SegmentationWriter.SOP_CLASS_UID) && !cls.startsWith("1.2.840.10008.5.1.4.1.1.88.")) {
						String uid = c.text(s, SERIES_UID);
						if (uid != null && !uid.isEmpty()) return uid;
					}
				}
		return "";
	}

	/** Typed access to the values of the parsed tree. */
	private static final class Content {
		final Path file;
		final FileBytes in;

		Content(Path file, FileBytes in) {
			this.file = file;
			this.in = in;
		}

		/** A text value without padding, or null when absent. */
		String text(Item item, int tag) throws IOException {
			Element e = item.elements.get(tag);
			if (e == null) return null;
			if (e.items() != null) throw new DicomException(file, Part10.tagName(tag) + " is a sequence where a value belongs");
			return in.string(e.offset(), e.length(), Part10.tagName(tag));
		}

		List<Item> items(Item item, int tag) throws IOException {
			Element e = item.elements.get(tag);
			if (e == null) return List.of();
			if (e.items() == null) {
				if (e.length() == 0) return List.of();
				throw new DicomException(file, Part10.tagName(tag) + " at byte " + e.offset() + " is not a sequence");
			}
			return e.items();
		}

		Item first(Item item, int tag) throws IOException {
			List<Item> l = items(item, tag);
			return l.isEmpty() ? null : l.get(0);
		}

		/** The first code of a code sequence: value, scheme, meaning; null when absent. */
		String[] code(Item item, int tag) throws IOException {
			Item c = first(item, tag);
			if (c == null) return null;
			return new String[] { nonNull(text(c, CODE_VALUE)), nonNull(text(c, SCHEME)), nonNull(text(c, MEANING)) };
		}

		boolean isCode(Item item, String value, String scheme) throws IOException {
			String[] c = code(item, CONCEPT_NAME);
			return c != null && c[0].equals(value) && c[1].equals(scheme);
		}

		/** A NUM item's value in the given UCUM unit: FloatingPointValue when present (exact), else NumericValue (DS). */
		double number(Item num, String unit, String what) throws IOException {
			Item m = first(num, MEASURED_VALUE);
			if (m == null) throw new DicomException(file, what + " has no measured value");
			String[] u = code(m, UNITS);
			if (u == null || !u[0].equals(unit))
				throw new DicomException(file, what + " is in units " + (u == null ? "(none)" : "\"" + u[0] + "\"") + ", not \"" + unit + "\"");
			Element fd = m.elements.get(FLOATING_POINT_VALUE);
			double v;
			if (fd != null && fd.items() == null && fd.length() > 0) {
				if (fd.length() != 8 || (fd.vr() != null && !fd.vr().equals("FD") && !fd.vr().equals("UN")))
					throw new DicomException(file, what + ": FloatingPointValue (0040,A161) is " + fd.length() + " bytes of VR " + fd.vr() + ", not one FD");
				v = Double.longBitsToDouble(in.u32(fd.offset(), false) | (in.u32(fd.offset() + 4, false) << 32));
			}
			else {
				String ds = text(m, NUMERIC_VALUE);
				if (ds == null || ds.isEmpty()) throw new DicomException(file, what + " has no NumericValue (0040,A30A)");
				try {
					v = Double.parseDouble(ds.trim());
				}
				catch (NumberFormatException e) {
					throw new DicomException(file, what + ": NumericValue \"" + ds + "\" is not a number");
				}
			}
			if (!Double.isFinite(v)) throw new DicomException(file, what + " is not finite: " + v);
			return v;
		}

		float[] floats(Item item, int tag, int count, String what) throws IOException {
			Element e = item.elements.get(tag);
			if (e == null || e.items() != null) throw new DicomException(file, what + " is missing");
			if (e.length() != 4 * count || (e.vr() != null && !e.vr().equals("FL") && !e.vr().equals("UN")))
				throw new DicomException(file, what + " is " + e.length() + " bytes of VR " + e.vr() + ", not " + count + " FL values");
			float[] f = new float[count];
			for (int k = 0; k < count; k++) f[k] = Float.intBitsToFloat((int) in.u32(e.offset() + 4L * k, false));
			return f;
		}

		private static String nonNull(String s) {
			return s == null ? "" : s;
		}
	}
}
