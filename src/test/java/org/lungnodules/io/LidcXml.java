package org.lungnodules.io;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes small LIDC reading files for tests: contours whose masks can be worked out by hand. */
public final class LidcXml {

	private final StringBuilder sb = new StringBuilder();
	private boolean inSession, inNodule;

	public LidcXml() {
		this("1.2.3");
	}

	/** Readings whose header names this series. */
	public LidcXml(String seriesUid) {
		sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LidcReadMessage xmlns=\"http://www.nih.gov\">\n")
			.append("<ResponseHeader><Version>1.8.1</Version><SeriesInstanceUid>").append(seriesUid).append("</SeriesInstanceUid></ResponseHeader>\n");
	}

	public LidcXml reader(String id) {
		close();
		sb.append("<readingSession><annotationVersion>3.12</annotationVersion><servicingRadiologistID>").append(id)
			.append("</servicingRadiologistID>\n");
		inSession = true;
		return this;
	}

	/** Starts a nodule; {@code malignancy} 0 leaves the characteristics out. */
	public LidcXml nodule(String id, int malignancy) {
		closeNodule();
		sb.append("<unblindedReadNodule><noduleID>").append(id).append("</noduleID>\n");
		if (malignancy > 0)
			sb.append("<characteristics><subtlety>4</subtlety><malignancy>").append(malignancy).append("</malignancy></characteristics>\n");
		inNodule = true;
		return this;
	}

	/** A contour through the given (x, y) points, at z mm. */
	public LidcXml roi(double z, boolean inclusion, int... xy) {
		sb.append("<roi><imageZposition>").append(z).append("</imageZposition><imageSOP_UID>1.2.3.").append((int) Math.abs(z))
			.append("</imageSOP_UID><inclusion>").append(inclusion ? "TRUE" : "FALSE").append("</inclusion>\n");
		for (int i = 0; i < xy.length; i += 2)
			sb.append("<edgeMap><xCoord>").append(xy[i]).append("</xCoord><yCoord>").append(xy[i + 1]).append("</yCoord></edgeMap>\n");
		sb.append("</roi>\n");
		return this;
	}

	/** The outline of the square x0..x1 × y0..y1: every boundary pixel, clockwise, as LIDC's edge maps are traced. */
	public LidcXml square(double z, boolean inclusion, int x0, int y0, int x1, int y1) {
		java.util.List<Integer> p = new java.util.ArrayList<>();
		for (int x = x0; x < x1; x++) { p.add(x); p.add(y0); }
		for (int y = y0; y < y1; y++) { p.add(x1); p.add(y); }
		for (int x = x1; x > x0; x--) { p.add(x); p.add(y1); }
		for (int y = y1; y > y0; y--) { p.add(x0); p.add(y); }
		return roi(z, inclusion, p.stream().mapToInt(Integer::intValue).toArray());
	}

	public LidcXml nonNodule(String id, double z, int x, int y) {
		closeNodule();
		sb.append("<nonNodule><nonNoduleID>").append(id).append("</nonNoduleID><imageZposition>").append(z)
			.append("</imageZposition><imageSOP_UID>9</imageSOP_UID><locus><xCoord>").append(x).append("</xCoord><yCoord>").append(y)
			.append("</yCoord></locus></nonNodule>\n");
		return this;
	}

	public String text() {
		close();
		return sb + "</LidcReadMessage>\n";
	}

	public Path write(Path file) throws IOException {
		Files.writeString(file, text(), StandardCharsets.UTF_8);
		return file;
	}

	private void closeNodule() {
		if (inNodule) sb.append("</unblindedReadNodule>\n");
		inNodule = false;
	}

	private void close() {
		closeNodule();
		if (inSession) sb.append("</readingSession>\n");
		inSession = false;
	}
}
