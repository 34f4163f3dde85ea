package org.lungnodules.analysis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

import net.imglib2.img.array.ArrayImgs;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.AtomicFiles;
import org.lungnodules.io.Nifti;
import org.lungnodules.io.dicom.Algorithm;
import org.lungnodules.io.dicom.NoduleDicom;
import org.lungnodules.io.dicom.NoduleFinding;
import org.lungnodules.io.dicom.SourceImages;
import org.lungnodules.nn.PublishedModels;

/**
 * The nodules of an analysis as files that 3D Slicer and ITK-SNAP open next to the CT, both on the
 * CT's own grid and world geometry, as read ({@link AnalysisResult#geometry()}):
 * <ul>
 * <li>{@code <seriesuid>_nodules.nii.gz}: a NIfTI-1 label map with the CT's voxel grid, qform and
 * sform; 0 is background and k the voxels of nodule k (its U-Net component);</li>
 * <li>{@code <seriesuid>_nodules.mrk.json}: a 3D Slicer markups file (schema v1.0.3), one control
 * point per nodule at its centre, in LPS millimetres, labelled with rank and probabilities.</li>
 * </ul>
 * Nodule k is the k-th row of the candidates file ({@link CandidatesCsv}, highest probability first)
 * among the rows whose probability is at or above the nodule threshold; it is also the {@code rank}
 * of Fiji's Nodules table and the {@code #k} of its overlay.
 */
public final class ViewerFiles {

	public static final String LABEL_MAP_SUFFIX = "_nodules.nii.gz", MARKUPS_SUFFIX = "_nodules.mrk.json";
	/** Slicer's markups schema that {@link #markupsJson} follows. */
	public static final String MARKUPS_SCHEMA =
		"https://raw.githubusercontent.com/slicer/slicer/master/Modules/Loadable/Markups/Resources/Schema/markups-schema-v1.0.3.json#";

	private ViewerFiles() {}

	/** {@code <seriesuid>_nodules.nii.gz}, the UID made safe as for the candidates file. */
	public static String labelMapName(String seriesUid) {
		return base(seriesUid) + LABEL_MAP_SUFFIX;
	}

	public static String markupsName(String seriesUid) {
		return base(seriesUid) + MARKUPS_SUFFIX;
	}

	private static String base(String seriesUid) {
		String csv = CandidatesCsv.fileName(seriesUid);
		return csv.substring(0, csv.length() - "_candidates.csv".length());
	}

	/**
	 * Writes the markups and, when the result kept its label volume, the label map into
	 * {@code outputDir}; returns the files written.
	 */
	public static List<Path> write(Path outputDir, AnalysisResult result, double threshold) throws IOException {
		List<Path> written = new ArrayList<>();
		if (result.labels() != null) {
			Path labels = outputDir.resolve(labelMapName(result.seriesUid()));
			Nifti.write(labels, labelMap(result, threshold));
			written.add(labels);
		}
		Path markups = outputDir.resolve(markupsName(result.seriesUid()));
		AtomicFiles.writeString(markups, markupsJson(result, threshold));
		written.add(markups);
		return written;
	}

	/**
	 * Writes the nodules as a DICOM Segmentation ({@code <seriesuid>_nodules.seg.dcm}, one segment per
	 * nodule, segment k being nodule k) and a TID 1500 Structured Report ({@code _nodules.sr.dcm}) into
	 * {@code outputDir}, in the source series' study and frame of reference. The result must be on the
	 * grid the series was read on, as {@code CtReader} returns it, and have kept its label volume.
	 *
	 * @throws IllegalArgumentException if the source has not one image per slice of the result
	 */
	public static NoduleDicom.Written writeDicom(Path outputDir, AnalysisResult result, double threshold, SourceImages source,
		Algorithm algorithm) throws IOException {
		int[] components = result.labels();
		if (components == null) throw new IllegalStateException("The analysis of " + result.seriesUid() + " did not keep its label volume");
		int[] shape = result.shapeIrc();
		if (source.images().size() != shape[0])
			throw new IllegalArgumentException("The DICOM series of " + result.seriesUid() + " has " + source.images().size() +
				" images for " + shape[0] + " slices");
		double[] spacing = result.geometry().spacing();
		double voxelMm3 = spacing[0] * spacing[1] * spacing[2];
		List<NoduleFinding> findings = new ArrayList<>();
		int rank = 0;
		for (Candidate c : result.nodules(threshold))
			findings.add(new NoduleFinding(++rank, c.label(), c.x(), c.y(), c.z(), c.diameterMm(), c.voxels() * voxelMm3, c.probability(),
				c.pMalignant()));
		return NoduleDicom.write(outputDir, base(result.seriesUid()), source, result.geometry(), shape, components, findings, algorithm);
	}

	/**
	 * {@link #writeDicom} for a scan of a cohort or a single run ({@code dicom=true}): a CT not read from DICOM
	 * ({@code source} null), or a series the DICOM objects cannot refer to (no Frame of Reference UID, say),
	 * gives the result back with a warning saying why no SEG or SR was written, rather than failing a scan
	 * whose other outputs are sound.
	 */
	public static AnalysisResult writeDicomOrWarn(Path outputDir, AnalysisResult result, double threshold, SourceImages source,
		Algorithm algorithm) throws IOException {
		if (source == null) return result.withWarning(AnalysisResult.NOT_DICOM_WARNING);
		try {
			writeDicom(outputDir, result, threshold, source, algorithm);
			return result;
		}
		catch (IllegalArgumentException e) {
			return result.withWarning(AnalysisResult.NO_DICOM + " no DICOM Segmentation or Structured Report was written: " + e.getMessage());
		}
	}

	/** Names the program, its version and the SHA-256 of each network given (nulls left out), for the DICOM outputs. */
	public static Algorithm algorithm(Path segModel, Path clsModel, Path malModel) throws IOException {
		List<Algorithm.Model> models = new ArrayList<>();
		String[] roles = { "segmentation", "nodule classifier", "malignancy classifier" };
		Path[] paths = { segModel, clsModel, malModel };
		for (int i = 0; i < paths.length; i++)
			if (paths[i] != null) models.add(new Algorithm.Model(roles[i], PublishedModels.sha256(paths[i])));
		return new Algorithm(PROGRAM, programVersion(), models);
	}

	static final String PROGRAM = "Lung Nodules for Fiji";

	/** The version the build wrote into {@code lung-nodules.properties}; "development" when run from classes without it. */
	static String programVersion() {
		Properties p = new Properties();
		try (InputStream in = ViewerFiles.class.getResourceAsStream("/lung-nodules.properties")) {
			if (in != null) p.load(in);
		}
		catch (IOException e) {
			// unknown version: say so rather than fail the outputs
		}
		String v = p.getProperty("Version", "");
		return v.isBlank() || v.startsWith("${") ? "development" : v;
	}

	/**
	 * The label map on the CT's grid with its geometry: voxel value k for the component of nodule k,
	 * 0 elsewhere (other components included).
	 *
	 * @throws IllegalStateException if the result has no label volume
	 */
	public static CtVolume labelMap(AnalysisResult result, double threshold) {
		int[] components = result.labels();
		if (components == null) throw new IllegalStateException("The analysis of " + result.seriesUid() + " did not keep its label volume");
		int maxLabel = 0;
		for (Candidate c : result.candidates()) maxLabel = Math.max(maxLabel, c.label());
		int[] rankOf = new int[maxLabel + 1];
		int rank = 0;
		for (Candidate c : result.nodules(threshold)) rankOf[c.label()] = ++rank;
		int[] map = new int[components.length];
		for (int i = 0; i < map.length; i++) {
			int l = components[i];
			if (l > 0 && l <= maxLabel) map[i] = rankOf[l];
		}
		int[] shape = result.shapeIrc();
		return new CtVolume(ArrayImgs.ints(map, shape[2], shape[1], shape[0]), result.geometry(), result.seriesUid());
	}

	/** The control point label: "#1 p=0.98" or, with a malignancy score, "#1 p=0.98 mal=0.40". */
	public static String label(int rank, Candidate c) {
		return c.hasMalignancy() ? String.format(Locale.ROOT, "#%d p=%.2f mal=%.2f", rank, c.probability(), c.pMalignant())
			: String.format(Locale.ROOT, "#%d p=%.2f", rank, c.probability());
	}

	/** A 3D Slicer markups document (schema v1.0.3): one "Fiducial" markup, a control point per nodule, in LPS. */
	public static String markupsJson(AnalysisResult result, double threshold) {
		List<Candidate> nodules = result.nodules(threshold);
		StringBuilder sb = new StringBuilder();
		sb.append("{\n  \"@schema\": ").append(quote(MARKUPS_SCHEMA)).append(",\n  \"markups\": [\n    {\n");
		sb.append("      \"type\": \"Fiducial\",\n");
		sb.append("      \"name\": ").append(quote("Lung nodules " + result.seriesUid())).append(",\n");
		sb.append("      \"coordinateSystem\": \"LPS\",\n      \"coordinateUnits\": \"mm\",\n");
		sb.append("      \"locked\": true,\n      \"fixedNumberOfControlPoints\": false,\n      \"labelFormat\": \"#%d\",\n");
		sb.append("      \"lastUsedControlPointNumber\": ").append(nodules.size()).append(",\n");
		sb.append("      \"controlPoints\": [");
		int rank = 0;
		for (Candidate c : nodules) {
			rank++;
			sb.append(rank == 1 ? "\n" : ",\n");
			String description = String.format(Locale.ROOT,
				"Lung Nodules: nodule %d of %d (probability >= %s) in series %s; probability %.4f; p_malignant %s; diameter %.1f mm; " +
					"voxel (index,row,col) %.2f,%.2f,%.2f",
				rank, nodules.size(), number(threshold), result.seriesUid(), c.probability(),
				c.hasMalignancy() ? String.format(Locale.ROOT, "%.4f", c.pMalignant()) : "not scored", c.diameterMm(), c.index(), c.row(), c.col());
			sb.append("        {\n");
			sb.append("          \"id\": ").append(quote(Integer.toString(rank))).append(",\n");
			sb.append("          \"label\": ").append(quote(label(rank, c))).append(",\n");
			sb.append("          \"description\": ").append(quote(description)).append(",\n");
			sb.append("          \"associatedNodeID\": \"\",\n");
			sb.append("          \"position\": [").append(number(c.x())).append(", ").append(number(c.y())).append(", ").append(number(c.z()))
				.append("],\n");
			// Slicer writes the identity of RAS seen from LPS
			sb.append("          \"orientation\": [-1.0, -0.0, -0.0, -0.0, -1.0, -0.0, 0.0, 0.0, 1.0],\n");
			sb.append("          \"selected\": true,\n          \"locked\": true,\n          \"visibility\": true,\n");
			sb.append("          \"positionStatus\": \"defined\"\n        }");
		}
		sb.append(nodules.isEmpty() ? "],\n" : "\n      ],\n");
		sb.append("      \"measurements\": [],\n");
		sb.append("      \"display\": {\n        \"visibility\": true,\n        \"opacity\": 1.0,\n        \"color\": [1.0, 1.0, 0.0],\n");
		sb.append("        \"selectedColor\": [1.0, 0.5, 0.0],\n        \"propertiesLabelVisibility\": false,\n");
		sb.append("        \"pointLabelsVisibility\": true,\n        \"textScale\": 3.0,\n        \"glyphType\": \"Sphere3D\",\n");
		sb.append("        \"glyphScale\": 3.0,\n        \"glyphSize\": 5.0,\n        \"useGlyphScale\": true\n      }\n");
		sb.append("    }\n  ]\n}\n");
		return sb.toString();
	}

	/** Shortest decimal that reads back to the same double (JSON has no NaN: refused). */
	private static String number(double v) {
		if (!Double.isFinite(v)) throw new IllegalArgumentException("Not a finite number for JSON: " + v);
		return Double.toString(v);
	}

	/** A JSON string literal. */
	static String quote(String s) {
		StringBuilder sb = new StringBuilder("\"");
		for (int i = 0; i < s.length(); i++) {
			char ch = s.charAt(i);
			switch (ch) {
			case '"' -> sb.append("\\\"");
			case '\\' -> sb.append("\\\\");
			case '\n' -> sb.append("\\n");
			case '\r' -> sb.append("\\r");
			case '\t' -> sb.append("\\t");
			default -> {
				if (ch < 0x20) sb.append(String.format(Locale.ROOT, "\\u%04x", (int) ch));
				else sb.append(ch);
			}
			}
		}
		return sb.append('"').toString();
	}
}
