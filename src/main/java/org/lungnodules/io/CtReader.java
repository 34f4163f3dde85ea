package org.lungnodules.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.dicom.DicomSeries;
import org.lungnodules.io.dicom.SourceImages;

/**
 * The one way the product reads a CT from a path, whatever its format: a MetaImage file
 * ({@code .mhd}/{@code .mha}), a NIfTI-1 file ({@code .nii}/{@code .nii.gz}), or a DICOM series
 * (a folder holding one series, or one file of a series, which stands for its whole series).
 * Commands, the SciJava IOPlugin and the cohort walk all come through here, so none of them
 * branches on file formats itself.
 */
public final class CtReader {

	/** The formats we read. */
	public enum Format {
		METAIMAGE, NIFTI, DICOM
	}

	/** A CT as read, with what the reader wants the user to know (skipped files, left-out scouts). */
	public static final class ReadCt {
		private final CtVolume volume;
		private final Format format;
		private final List<String> notes;
		private final boolean lossy;
		private final SourceImages dicomSource;

		public ReadCt(CtVolume volume, Format format, List<String> notes) {
			this(volume, format, notes, false, null);
		}

		public ReadCt(CtVolume volume, Format format, List<String> notes, boolean lossy, SourceImages dicomSource) {
			this.volume = volume;
			this.format = format;
			this.notes = Collections.unmodifiableList(new ArrayList<>(notes));
			this.lossy = lossy;
			this.dicomSource = dicomSource;
		}

		public CtVolume volume() { return volume; }
		public Format format() { return format; }
		public List<String> notes() { return notes; }
		/** True when the voxels were decoded from lossy-compressed data (read only with the opt-in); a note says how. */
		public boolean lossy() { return lossy; }
		/**
		 * For DICOM: the study, series, frame of reference, patient and study attributes and one source image per
		 * volume slice (in the volume's slice order), for derived objects (SEG, SR); null for NIfTI and MetaImage.
		 */
		public SourceImages dicomSource() { return dicomSource; }
	}

	private CtReader() {}

	/** Reads the CT at {@code path}; for DICOM, the only series there (several: an error listing them). */
	public static ReadCt read(Path path) throws IOException {
		return read(path, null);
	}

	/**
	 * Reads the CT at {@code path}.
	 *
	 * @param series for a DICOM folder holding several series, the SeriesInstanceUID to read (a
	 *        unique prefix or suffix of it is enough); null or empty when there is only one
	 */
	public static ReadCt read(Path path, String series) throws IOException {
		return read(path, series, false);
	}

	/**
	 * Reads the CT at {@code path}.
	 *
	 * @param series as in {@link #read(Path, String)}
	 * @param acceptLossy read lossy-compressed DICOM (lossy JPEG, JPEG 2000 irreversible, JPEG-LS near-lossless)
	 *        instead of refusing it; the result is then flagged {@link ReadCt#lossy()} with a note. This is the
	 *        {@code lossy=accept} opt-in
	 */
	public static ReadCt read(Path path, String series, boolean acceptLossy) throws IOException {
		if (!Files.exists(path)) throw new IOException(path + ": no such file or folder");
		Format format = formatOf(path);
		if (format == null)
			throw new IOException(path + ": not a CT this product reads (expected a .mhd/.mha or .nii/.nii.gz file, or a DICOM series " +
				"folder or file)");
		if (series != null && !series.isEmpty() && format != Format.DICOM)
			throw new IOException(path + ": series=" + series + " only applies to DICOM folders; this is " + format.name().toLowerCase(Locale.ROOT));
		switch (format) {
		case METAIMAGE:
			return new ReadCt(MetaImage.readVolume(path), format, List.of());
		case NIFTI:
			return new ReadCt(Nifti.read(path), format, List.of());
		default:
			return DicomSeries.read(path, series, acceptLossy);
		}
	}

	/** The format of a path by its name (and, for DICOM, its first bytes), or null if it is none we read. */
	public static Format formatOf(Path path) throws IOException {
		String name = path.getFileName() == null ? "" : path.getFileName().toString().toLowerCase(Locale.ROOT);
		if (Files.isDirectory(path)) return holdsDicom(path) ? Format.DICOM : null;
		if (name.endsWith(".mhd") || name.endsWith(".mha")) return Format.METAIMAGE;
		if (name.endsWith(".nii") || name.endsWith(".nii.gz")) return Format.NIFTI;
		if (looksLikeDicomFile(path)) return Format.DICOM;
		return null;
	}

	/**
	 * The scans in a cohort folder, sorted by name: every MetaImage and NIfTI file in it, every
	 * subfolder that holds a DICOM series, and the folder itself when it holds DICOM files directly
	 * (one series folder given as a cohort of one). Files that are not scans are passed over.
	 */
	public static List<Path> scansIn(Path folder) throws IOException {
		if (!Files.isDirectory(folder)) throw new IOException(folder + ": not a folder");
		if (holdsDicom(folder)) return List.of(folder);
		List<Path> entries;
		try (Stream<Path> s = Files.list(folder)) {
			entries = s.sorted().collect(Collectors.toList());
		}
		List<Path> scans = new ArrayList<>();
		for (Path p : entries) {
			if (Files.isDirectory(p)) {
				if (holdsDicom(p)) scans.add(p);
				continue;
			}
			String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
			if (n.endsWith(".mhd") || n.endsWith(".mha") || n.endsWith(".nii") || n.endsWith(".nii.gz")) scans.add(p);
		}
		return scans;
	}

	/** A scan's name for file names and tables: the file name without its CT ending, or the folder's name. */
	public static String nameOf(Path scan) {
		String name = scan.getFileName() == null ? scan.toString() : scan.getFileName().toString();
		String lower = name.toLowerCase(Locale.ROOT);
		for (String ending : new String[] { ".nii.gz", ".nii", ".mhd", ".mha", ".dcm" })
			if (lower.endsWith(ending)) return name.substring(0, name.length() - ending.length());
		return name;
	}

	/**
	 * True when the folder directly holds at least one DICOM file other than a DICOMDIR (an index
	 * that often sits at the top of a cohort whose series are in subfolders).
	 */
	static boolean holdsDicom(Path folder) throws IOException {
		try (Stream<Path> s = Files.list(folder)) {
			return s.filter(Files::isRegularFile)
				.filter(p -> !String.valueOf(p.getFileName()).equalsIgnoreCase("DICOMDIR"))
				.anyMatch(CtReader::looksLikeDicomFile);
		}
	}

	/**
	 * A DICOM file by its content (see {@link DicomSeries#isDicomFile}), or by a .dcm name, so that a
	 * damaged .dcm file reaches the DICOM reader and gets its error rather than "not a CT".
	 */
	static boolean looksLikeDicomFile(Path file) {
		String n = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
		return n.endsWith(".dcm") || DicomSeries.isDicomFile(file);
	}
}
