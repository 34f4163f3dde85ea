package org.lungnodules.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * The radiologists' readings of one CT in LIDC-IDRI's XML ({@code LidcReadMessage}, namespace
 * {@code http://www.nih.gov}): per reading session (one reader), the nodules of 3 mm or more with
 * their slice contours and 1-5 ratings, the nodules under 3 mm and the non-nodules as points.
 * <p>
 * Elements are matched by local name, so files with or without the namespace, and the 1.x and 2.x
 * variants of the schema (which differ in header fields we do not use), read the same. Contours
 * stay in the file's own units (pixel column x, pixel row y, and the slice's z in mm): turning them
 * into voxels needs the CT's geometry, which is {@code analysis.LidcConsensus}'s job.
 * <p>
 * The parser refuses DOCTYPEs and never resolves external entities or XIncludes: a hostile file
 * can neither fetch anything nor blow up by entity expansion.
 */
public final class LidcReadings {

	/** The rating names in LIDC's order; calcification goes to 6 and internalStructure to 4, the others to 5. */
	public static final List<String> RATINGS = List.of("subtlety", "internalStructure", "calcification", "sphericity", "margin",
		"lobulation", "spiculation", "texture", "malignancy");

	/** Larger files are not LIDC readings (the biggest are a few MB); refusing them bounds the DOM's memory. */
	static final long MAX_BYTES = 64L << 20;

	/** One contour on one slice: pixel (x = column, y = row) points at the slice's z (mm). */
	public record Roi(double z, String sopUid, boolean inclusion, int[] xs, int[] ys) {
		public int points() { return xs.length; }
	}

	/**
	 * A nodule as one reader marked it. {@code ratings} maps rating names to 1-6; a rating the
	 * reader did not give is absent from the map (never 0).
	 */
	public record Nodule(String readerId, String noduleId, Map<String, Integer> ratings, List<Roi> rois) {
		/** True when the reader gave the nodule's characteristics at all. */
		public boolean hasRatings() { return !ratings.isEmpty(); }

		/** The rating or null when the reader did not give it. */
		public Integer rating(String name) { return ratings.get(name); }
	}

	/** A nodule under 3 mm or a non-nodule: one point (pixel x, y) at z mm. */
	public record Mark(String readerId, String id, double z, String sopUid, int x, int y) {}

	/** What one reader marked. */
	public record Reading(String readerId, List<Nodule> nodules, List<Mark> smallNodules, List<Mark> nonNodules) {}

	/** A file that is not a usable LIDC reading; the message names the file and the element. */
	public static final class LidcException extends IOException {
		private static final long serialVersionUID = 1L;
		private final transient Path file;

		public LidcException(Path file, String problem) {
			super(file == null ? problem : file + ": " + problem);
			this.file = file;
		}

		public LidcException(Path file, String problem, Throwable cause) {
			super(file + ": " + problem, cause);
			this.file = file;
		}

		public Path file() { return file; }
	}

	private final Path file;
	private final String seriesUid;
	private final String version;
	private final List<Reading> readings;

	private LidcReadings(Path file, String seriesUid, String version, List<Reading> readings) {
		this.file = file;
		this.seriesUid = seriesUid;
		this.version = version;
		this.readings = Collections.unmodifiableList(readings);
	}

	public Path file() { return file; }
	/** The header's SeriesInstanceUid, or "" when the file has none. */
	public String seriesUid() { return seriesUid; }
	/** The header's Version, or "" when absent. */
	public String version() { return version; }
	public List<Reading> readings() { return readings; }

	/** Every nodule of 3 mm or more, of every reader, in file order. */
	public List<Nodule> nodules() {
		List<Nodule> out = new ArrayList<>();
		for (Reading r : readings) out.addAll(r.nodules());
		return out;
	}

	public List<Mark> smallNodules() {
		List<Mark> out = new ArrayList<>();
		for (Reading r : readings) out.addAll(r.smallNodules());
		return out;
	}

	public List<Mark> nonNodules() {
		List<Mark> out = new ArrayList<>();
		for (Reading r : readings) out.addAll(r.nonNodules());
		return out;
	}

	/** Reads and checks an LIDC XML file. */
	public static LidcReadings read(Path file) throws IOException {
		if (!Files.isRegularFile(file)) throw new LidcException(file, "no such file");
		long size = Files.size(file);
		if (size > MAX_BYTES) throw new LidcException(file, "is " + size + " bytes, more than any LIDC reading file (limit " + MAX_BYTES + ")");
		Document doc;
		try (InputStream in = Files.newInputStream(file)) {
			DocumentBuilder b = secureFactory().newDocumentBuilder();
			b.setErrorHandler(new ErrorHandler() {
				@Override public void warning(SAXParseException e) {}
				@Override public void error(SAXParseException e) throws SAXException { throw e; }
				@Override public void fatalError(SAXParseException e) throws SAXException { throw e; }
			});
			// No entity can be resolved: any attempt (a DTD is refused before that anyway) fails loudly.
			b.setEntityResolver((publicId, systemId) -> {
				throw new SAXException("external entity " + systemId + " refused");
			});
			InputSource src = new InputSource(in);
			src.setSystemId(file.toUri().toString());
			doc = b.parse(src);
		}
		catch (SAXParseException e) {
			throw new LidcException(file, "not well-formed XML at line " + e.getLineNumber() + ": " + e.getMessage(), e);
		}
		catch (SAXException | ParserConfigurationException e) {
			throw new LidcException(file, "not readable as XML: " + e.getMessage(), e);
		}
		return fromDocument(file, doc);
	}

	private static DocumentBuilderFactory secureFactory() throws ParserConfigurationException {
		DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
		f.setNamespaceAware(true);
		f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
		f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
		f.setFeature("http://xml.org/sax/features/external-general-entities", false);
		f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
		f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
		f.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
		f.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
		f.setXIncludeAware(false);
		f.setExpandEntityReferences(false);
		f.setValidating(false);
		return f;
	}

	private static LidcReadings fromDocument(Path file, Document doc) throws LidcException {
		Element root = doc.getDocumentElement();
		if (!"LidcReadMessage".equals(local(root)))
			throw new LidcException(file, "the root element is <" + local(root) + ">, not <LidcReadMessage>: not an LIDC reading file");
		String series = "", version = "";
		Element header = child(root, "ResponseHeader");
		if (header != null) {
			series = text(child(header, "SeriesInstanceUid"));
			version = text(child(header, "Version"));
		}
		List<Reading> readings = new ArrayList<>();
		java.util.Set<String> readerIds = new java.util.HashSet<>();
		int sessionNo = 0;
		for (Element session : children(root, "readingSession")) {
			sessionNo++;
			String reader = text(child(session, "servicingRadiologistID"));
			// Some files blank the ID or repeat it; each session is one reader, so keep them distinct.
			if (reader.isEmpty()) reader = "reader" + sessionNo;
			if (!readerIds.add(reader)) {
				reader = reader + " (session " + sessionNo + ")";
				readerIds.add(reader);
			}
			String where = "readingSession " + sessionNo + " (reader " + reader + ")";
			List<Nodule> nodules = new ArrayList<>();
			List<Mark> small = new ArrayList<>(), non = new ArrayList<>();
			int noduleNo = 0;
			for (Element n : children(session, "unblindedReadNodule")) {
				noduleNo++;
				String id = text(child(n, "noduleID"));
				if (id.isEmpty()) id = "#" + noduleNo;
				String nwhere = where + ", unblindedReadNodule '" + id + "'";
				Map<String, Integer> ratings = ratings(file, child(n, "characteristics"), nwhere);
				List<Roi> rois = new ArrayList<>();
				int roiNo = 0;
				for (Element roi : children(n, "roi")) rois.add(roi(file, roi, nwhere + ", roi " + (++roiNo)));
				if (rois.isEmpty()) throw new LidcException(file, nwhere + " has no <roi>");
				boolean point = rois.stream().allMatch(r -> r.points() <= 1);
				if (point) {
					Roi r = rois.get(0);
					if (r.points() == 0) throw new LidcException(file, nwhere + ": its <roi> has no <edgeMap> point");
					small.add(new Mark(reader, id, r.z(), r.sopUid(), r.xs()[0], r.ys()[0]));
				}
				else nodules.add(new Nodule(reader, id, Collections.unmodifiableMap(ratings), List.copyOf(rois)));
			}
			int nonNo = 0;
			for (Element n : children(session, "nonNodule")) {
				nonNo++;
				String id = text(child(n, "nonNoduleID"));
				if (id.isEmpty()) id = "#" + nonNo;
				String nwhere = where + ", nonNodule '" + id + "'";
				double z = number(file, child(n, "imageZposition"), nwhere, "imageZposition");
				Element locus = child(n, "locus");
				if (locus == null) throw new LidcException(file, nwhere + " has no <locus>");
				int x = pixel(file, child(locus, "xCoord"), nwhere, "locus/xCoord");
				int y = pixel(file, child(locus, "yCoord"), nwhere, "locus/yCoord");
				non.add(new Mark(reader, id, z, text(child(n, "imageSOP_UID")), x, y));
			}
			readings.add(new Reading(reader, List.copyOf(nodules), List.copyOf(small), List.copyOf(non)));
		}
		if (readings.isEmpty()) throw new LidcException(file, "no <readingSession>: the file holds no reading");
		return new LidcReadings(file, series, version, readings);
	}

	private static Map<String, Integer> ratings(Path file, Element ch, String where) throws LidcException {
		Map<String, Integer> out = new LinkedHashMap<>();
		if (ch == null) return out;
		for (String name : RATINGS) {
			Element e = child(ch, name);
			String t = text(e);
			if (t.isEmpty()) continue; // absent or empty: not rated
			int v;
			try {
				v = Integer.parseInt(t);
			}
			catch (NumberFormatException ex) {
				throw new LidcException(file, where + ": <" + name + "> is '" + shorten(t) + "', not a whole number");
			}
			int max = name.equals("calcification") ? 6 : name.equals("internalStructure") ? 4 : 5;
			if (v < 1 || v > max) throw new LidcException(file, where + ": <" + name + "> is " + v + ", outside LIDC's scale 1.." + max);
			out.put(name, v);
		}
		return out;
	}

	private static Roi roi(Path file, Element roi, String where) throws LidcException {
		double z = number(file, child(roi, "imageZposition"), where, "imageZposition");
		String inc = text(child(roi, "inclusion"));
		boolean inclusion;
		if (inc.isEmpty() || inc.equalsIgnoreCase("TRUE")) inclusion = true; // absent: the usual outline
		else if (inc.equalsIgnoreCase("FALSE")) inclusion = false;
		else throw new LidcException(file, where + ": <inclusion> is '" + shorten(inc) + "', not TRUE or FALSE");
		List<Element> edges = children(roi, "edgeMap");
		int[] xs = new int[edges.size()], ys = new int[edges.size()];
		for (int i = 0; i < xs.length; i++) {
			xs[i] = pixel(file, child(edges.get(i), "xCoord"), where, "edgeMap " + (i + 1) + " xCoord");
			ys[i] = pixel(file, child(edges.get(i), "yCoord"), where, "edgeMap " + (i + 1) + " yCoord");
		}
		return new Roi(z, text(child(roi, "imageSOP_UID")), inclusion, xs, ys);
	}

	private static double number(Path file, Element e, String where, String name) throws LidcException {
		if (e == null) throw new LidcException(file, where + " has no <" + name + ">");
		String t = text(e);
		double v;
		try {
			v = Double.parseDouble(t);
		}
		catch (NumberFormatException ex) {
			throw new LidcException(file, where + ": <" + name + "> is '" + shorten(t) + "', not a number");
		}
		if (!Double.isFinite(v) || Math.abs(v) > 1e6) throw new LidcException(file, where + ": <" + name + "> is " + t + ", not a position in mm");
		return v;
	}

	/** A pixel coordinate: a whole number in 0..65535 (DICOM rows and columns are 16-bit). */
	private static int pixel(Path file, Element e, String where, String name) throws LidcException {
		if (e == null) throw new LidcException(file, where + " has no <" + name.replaceAll(".* ", "") + "> (" + name + ")");
		String t = text(e);
		double v;
		try {
			v = Double.parseDouble(t);
		}
		catch (NumberFormatException ex) {
			throw new LidcException(file, where + ": " + name + " is '" + shorten(t) + "', not a pixel coordinate");
		}
		if (!(v >= 0 && v <= 65535) || v != Math.rint(v))
			throw new LidcException(file, where + ": " + name + " is " + t + ", not a pixel coordinate (a whole number 0..65535)");
		return (int) v;
	}

	private static String shorten(String s) {
		return s.length() > 40 ? s.substring(0, 40) + "..." : s;
	}

	private static String local(Node n) {
		String l = n.getLocalName();
		return l != null ? l : n.getNodeName();
	}

	private static Element child(Element parent, String name) {
		if (parent == null) return null;
		for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling())
			if (n instanceof Element e && name.equals(local(e))) return e;
		return null;
	}

	private static List<Element> children(Element parent, String name) {
		List<Element> out = new ArrayList<>();
		for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling())
			if (n instanceof Element e && name.equals(local(e))) out.add(e);
		return out;
	}

	private static String text(Element e) {
		return e == null ? "" : e.getTextContent().trim();
	}
}
