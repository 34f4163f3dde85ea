package org.lungnodules.training;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.lungnodules.io.CtReader;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.Luna16Tables.CandidateInfo;
import org.lungnodules.io.MetaImage;

/**
 * A LUNA16-style dataset on disk: the CTs ({@code root/subset*}{@code /*.mhd}, or a flat folder of
 * {@code .mhd} files as {@link org.lungnodules.phantom.PhantomDataset} writes), the tables, and the
 * train/validation split by series.
 * <p>
 * The sample list is the book's (chapter 14) merged candidate list: the nodules of
 * annotations_with_malignancy.csv (or of annotations.csv, all benign, when that file is absent) plus
 * the class-0 rows of candidates.csv, in the book's order. Rows of series that are not on disk are
 * dropped, and reported once in {@link #missingSummary()}.
 * <p>
 * Split: the series on disk that appear in a table, sorted by UID; every {@code valStride}-th
 * (indices 0, 10, 20, … for 10) goes to validation, as the book's {@code series_list[::val_stride]}.
 * With {@code valSubsets} the LUNA16 folds decide instead: series in {@code subsetN} folders with N
 * in the set are validation.
 * <p>
 * Immutable after {@link #open}; thread-safe.
 */
public final class LunaData {

	/** Where the tables are (null = look in the root, then in root/CSVFILES) and how to split. */
	public record Options(Path annotationsCsv, Path candidatesCsv, Path malignancyCsv, int valStride, Set<Integer> valSubsets) {
		public Options {
			if (valStride < 2) throw new IllegalArgumentException("val_stride must be at least 2, not " + valStride);
			valSubsets = valSubsets == null ? Set.of() : Set.copyOf(valSubsets);
		}

		public static Options defaults() { return new Options(null, null, null, 10, Set.of()); }

		public Options withAnnotations(Path p) { return new Options(p, candidatesCsv, malignancyCsv, valStride, valSubsets); }
		public Options withCandidates(Path p) { return new Options(annotationsCsv, p, malignancyCsv, valStride, valSubsets); }
		public Options withMalignancy(Path p) { return new Options(annotationsCsv, candidatesCsv, p, valStride, valSubsets); }
		public Options withValStride(int stride) { return new Options(annotationsCsv, candidatesCsv, malignancyCsv, stride, valSubsets); }
		/** Use these LUNA16 folds (subsetN folder numbers) as validation instead of the stride. */
		public Options withValSubsets(Set<Integer> subsets) { return new Options(annotationsCsv, candidatesCsv, malignancyCsv, valStride, subsets); }

		/** Parses "9" or "8,9" as used by the val_subsets parameter; blank gives no subsets. */
		public static Set<Integer> parseSubsets(String text) {
			Set<Integer> out = new TreeSet<>();
			if (text == null || text.isBlank()) return out;
			for (String part : text.split("[,; ]+")) {
				if (part.isEmpty()) continue;
				try {
					out.add(Integer.parseInt(part.trim()));
				}
				catch (NumberFormatException e) {
					throw new IllegalArgumentException("val_subsets must be numbers such as 9 or 8,9, not '" + text + "'");
				}
			}
			return out;
		}
	}

	private static final Pattern SUBSET = Pattern.compile("subset(\\d+)", Pattern.CASE_INSENSITIVE);

	private final Path root;
	private final Options options;
	private final Map<String, Path> ctPaths;
	private final Map<String, Integer> subsets;
	private final List<CandidateInfo> candidates;
	private final Map<String, List<CandidateInfo>> bySeries;
	private final List<String> series;
	private final Set<String> validation;
	private final List<String> missing;
	private final Path candidatesFile;
	private final boolean hasMalignancy;

	private LunaData(Path root, Options options, Map<String, Path> ctPaths, Map<String, Integer> subsets,
		List<CandidateInfo> candidates, List<String> missing, Path candidatesFile, boolean hasMalignancy) {
		this.root = root;
		this.options = options;
		this.ctPaths = ctPaths;
		this.subsets = subsets;
		this.candidates = candidates;
		this.missing = missing;
		this.candidatesFile = candidatesFile;
		this.hasMalignancy = hasMalignancy;
		Map<String, List<CandidateInfo>> grouped = new TreeMap<>();
		for (CandidateInfo c : candidates)
			grouped.computeIfAbsent(c.seriesUid(), k -> new ArrayList<>()).add(c);
		grouped.replaceAll((k, v) -> List.copyOf(v));
		this.bySeries = Collections.unmodifiableMap(grouped);
		this.series = List.copyOf(grouped.keySet());
		Set<String> val = new HashSet<>();
		if (options.valSubsets().isEmpty()) {
			for (int i = 0; i < series.size(); i += options.valStride())
				val.add(series.get(i));
		}
		else {
			for (String uid : series)
				if (options.valSubsets().contains(subsets.get(uid))) val.add(uid);
		}
		this.validation = Collections.unmodifiableSet(val);
	}

	public static LunaData open(Path root) throws IOException {
		return open(root, Options.defaults());
	}

	/**
	 * Scans {@code root} for CTs and reads the tables.
	 *
	 * @throws NoSuchFileException if the root or a needed table is missing
	 * @throws IOException if a table is malformed (the message names file and line), or val_subsets
	 *         is used on a folder without subset folders
	 */
	public static LunaData open(Path root, Options options) throws IOException {
		Options o = options == null ? Options.defaults() : options;
		if (!Files.isDirectory(root)) throw new NoSuchFileException(root.toString(), null, "the data folder does not exist");
		Map<String, Path> paths = new TreeMap<>();
		Map<String, Integer> subsets = new HashMap<>();
		Map<String, String> aliases = new HashMap<>();
		scan(root, -1, paths, subsets, aliases);
		try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
			for (Path d : dirs) {
				Matcher m = SUBSET.matcher(d.getFileName().toString());
				if (m.matches()) scan(d, Integer.parseInt(m.group(1)), paths, subsets, aliases);
			}
		}
		addListedScans(root, paths, subsets, aliases);
		if (!o.valSubsets().isEmpty() && !subsets.values().stream().anyMatch(s -> s >= 0))
			throw new IOException("val_subsets=" + o.valSubsets() + " needs LUNA16 subsetN folders, but " + root + " has none");

		Path malignancy = o.malignancyCsv() != null ? o.malignancyCsv() : find(root, "annotations_with_malignancy.csv");
		Path annotations = o.annotationsCsv() != null ? o.annotationsCsv() : find(root, "annotations.csv");
		Path candidatesCsv = o.candidatesCsv() != null ? o.candidatesCsv() : find(root, "candidates.csv");
		if (candidatesCsv == null) candidatesCsv = find(root, "candidates_V2.csv");
		if (candidatesCsv != null && !Files.isRegularFile(candidatesCsv))
			throw new NoSuchFileException(candidatesCsv.toString(), null, "table not found");
		List<CandidateInfo> all;
		boolean withMalignancy;
		if (o.annotationsCsv() != null && Files.isDirectory(o.annotationsCsv())) {
			// A folder of LIDC-IDRI XML readings: the readers' consensus nodules are the annotations.
			List<Luna16Tables.MalignancyAnnotation> lidc = LidcAnnotations.read(o.annotationsCsv(), paths, aliases).annotations();
			List<Luna16Tables.Candidate> negatives = candidatesCsv == null ? List.of()
				: Luna16Tables.readCandidates(candidatesCsv, c -> !c.isNodule());
			all = Luna16Tables.candidateInfoList(lidc, negatives, null);
			withMalignancy = true;
		}
		else {
			Path nodules = malignancy != null ? malignancy : annotations;
			if (nodules == null)
				throw new NoSuchFileException(root.resolve("annotations.csv").toString(), null,
					"no annotations.csv or annotations_with_malignancy.csv in the data folder; give annotations=");
			if (!Files.isRegularFile(nodules)) throw new NoSuchFileException(nodules.toString(), null, "table not found");
			// An annotations.csv of one's own cohort may carry the book's mal_bool column (bounding box optional).
			List<Luna16Tables.MalignancyAnnotation> ownMalignancy = nodules.equals(malignancy) ? null
				: Luna16Tables.readAnnotationsWithOptionalMalignancy(nodules);
			withMalignancy = malignancy != null || ownMalignancy != null;
			// Read without the on-disk filter first, so that missing series can be counted.
			if (ownMalignancy != null) {
				List<Luna16Tables.Candidate> negatives = candidatesCsv == null ? List.of()
					: Luna16Tables.readCandidates(candidatesCsv, c -> !c.isNodule());
				all = Luna16Tables.candidateInfoList(ownMalignancy, negatives, null);
			}
			else all = candidatesCsv != null
				? Luna16Tables.readCandidateInfoList(nodules, candidatesCsv, null)
				: nodules.equals(malignancy)
					? Luna16Tables.candidateInfoList(Luna16Tables.readMalignancy(nodules), List.of(), null)
					: Luna16Tables.candidateInfoListWithoutMalignancy(Luna16Tables.readAnnotations(nodules), List.of(), null);
		}
		Set<String> missing = new TreeSet<>();
		List<CandidateInfo> kept = new ArrayList<>(all.size());
		Map<String, String> canonical = new HashMap<>(aliases);
		for (String uid : paths.keySet()) canonical.put(uid, uid);
		for (CandidateInfo c : all) {
			String uid = canonical.get(c.seriesUid());
			if (uid == null) {
				missing.add(c.seriesUid());
				continue;
			}
			// Re-create with the shared UID string: 550,000 rows would otherwise hold 550,000 copies.
			kept.add(new CandidateInfo(c.isNodule(), c.hasAnnotation(), c.isMalignant(), c.diameterMm(), uid, c.x(), c.y(), c.z()));
		}
		all = null;
		return new LunaData(root, o, Collections.unmodifiableMap(paths), subsets, Collections.unmodifiableList(kept),
			List.copyOf(missing), candidatesCsv, withMalignancy);
	}

	/**
	 * The scans of one folder, by series UID: every scan {@link CtReader#scansIn} finds (MetaImage,
	 * NIfTI, DICOM series folders). A MetaImage or NIfTI file's UID is its file name stem, as LUNA16
	 * names its files; a DICOM series' UID is its SeriesInstanceUID (read through {@link CtReader}),
	 * and its folder's name is accepted in the tables as well ({@code aliases}).
	 */
	private static void scan(Path dir, int subset, Map<String, Path> paths, Map<String, Integer> subsets, Map<String, String> aliases)
		throws IOException {
		for (Path f : CtReader.scansIn(dir)) {
			String lower = f.getFileName().toString().toLowerCase(Locale.ROOT);
			String uid;
			if (lower.endsWith(".mhd") || lower.endsWith(".mha")) uid = MetaImage.seriesUidOf(f);
			else if (Files.isDirectory(f)) {
				uid = dicomSeriesUid(f);
				String name = CtReader.nameOf(f);
				if (!name.equals(uid)) aliases.putIfAbsent(name, uid);
			}
			else uid = CtReader.nameOf(f);
			Path previous = paths.put(uid, f);
			if (previous != null)
				throw new IOException("Series " + uid + " is on disk twice: " + previous + " and " + f);
			subsets.put(uid, subset);
		}
	}

	/** The dataset's list of scans kept elsewhere ({@code scans.csv}, written by Add Scan to Dataset). */
	public static final String SCANS_CSV = "scans.csv";

	/**
	 * Adds the scans listed in {@code root/scans.csv} (columns {@code seriesuid,path}; a relative path
	 * is taken from the root): scans that stay where they are, referenced from the dataset folder.
	 */
	private static void addListedScans(Path root, Map<String, Path> paths, Map<String, Integer> subsets, Map<String, String> aliases)
		throws IOException {
		Path list = root.resolve(SCANS_CSV);
		if (!Files.isRegularFile(list)) return;
		for (Map.Entry<String, Path> e : readScanList(list).entrySet()) {
			Path scan = root.resolve(e.getValue()).normalize();
			if (!Files.exists(scan))
				throw new NoSuchFileException(scan.toString(), null, list + " lists it for series " + e.getKey() + ", but it is not there");
			Path previous = paths.get(e.getKey());
			if (previous != null) {
				if (Files.isSameFile(previous, scan)) continue;
				throw new IOException("Series " + e.getKey() + " is on disk twice: " + previous + " and " + scan + " (listed in " + list + ")");
			}
			paths.put(e.getKey(), scan);
			subsets.put(e.getKey(), -1);
		}
	}

	/** {@code scans.csv}: series UID → path as written (in file order). */
	public static Map<String, Path> readScanList(Path list) throws IOException {
		Map<String, Path> out = new java.util.LinkedHashMap<>();
		List<String> lines = Files.readAllLines(list);
		if (lines.isEmpty() || !lines.get(0).trim().equals("seriesuid,path"))
			throw new IOException(list + ": the first line must be 'seriesuid,path'");
		for (int i = 1; i < lines.size(); i++) {
			String line = lines.get(i);
			if (line.isBlank()) continue;
			int comma = line.indexOf(',');
			if (comma <= 0 || comma == line.length() - 1) throw new IOException(list + " line " + (i + 1) + ": expected seriesuid,path: " + line);
			String uid = line.substring(0, comma).trim(), path = line.substring(comma + 1).trim();
			if (out.put(uid, Path.of(path)) != null) throw new IOException(list + " line " + (i + 1) + ": series " + uid + " is listed twice");
		}
		return out;
	}

	/**
	 * The series UID by which a dataset knows a scan: the file name stem of a MetaImage or NIfTI
	 * file, the SeriesInstanceUID of a DICOM series (a folder, or one of its files).
	 */
	public static String seriesUidOf(Path scan) throws IOException {
		String lower = String.valueOf(scan.getFileName()).toLowerCase(Locale.ROOT);
		if (lower.endsWith(".mhd") || lower.endsWith(".mha")) return MetaImage.seriesUidOf(scan);
		if (lower.endsWith(".nii") || lower.endsWith(".nii.gz")) return CtReader.nameOf(scan);
		if (Files.isDirectory(scan)) return dicomSeriesUid(scan);
		if (CtReader.formatOf(scan) == CtReader.Format.DICOM) {
			String uid = CtReader.read(scan).volume().seriesUid();
			return uid == null || uid.isBlank() ? CtReader.nameOf(scan) : uid;
		}
		throw new IOException(scan + ": not a CT this product reads");
	}

	/** SeriesInstanceUIDs of DICOM folders already read in this process, by folder and its stamp. */
	private static final Map<String, String> DICOM_UIDS = new java.util.concurrent.ConcurrentHashMap<>();

	/**
	 * The SeriesInstanceUID of a DICOM series folder. The series is read through the one entry point
	 * (the UID is only trusted once the whole series reads); the answer is remembered for the
	 * folder while its files keep their sizes and times.
	 */
	static String dicomSeriesUid(Path folder) throws IOException {
		String key = folder.toAbsolutePath().normalize() + "|" + SeriesStamp.of(folder);
		String uid = DICOM_UIDS.get(key);
		if (uid == null) {
			uid = CtReader.read(folder).volume().seriesUid();
			if (uid == null || uid.isBlank()) uid = CtReader.nameOf(folder);
			DICOM_UIDS.put(key, uid);
		}
		return uid;
	}

	private static Path find(Path root, String name) {
		for (Path p : new Path[] { root.resolve(name), root.resolve("CSVFILES").resolve(name) })
			if (Files.isRegularFile(p)) return p;
		return null;
	}

	// ---------------------------------------------------------------- accessors

	public Path root() { return root; }
	public Options options() { return options; }
	/** Whether the nodules came from annotations_with_malignancy.csv (else all nodules count as benign). */
	public boolean hasMalignancy() { return hasMalignancy; }
	/** The candidates table used, or null when there is none (then there are no negatives). */
	public Path candidatesFile() { return candidatesFile; }

	/** Every CT found on disk, by series UID (sorted). */
	public Map<String, Path> ctPaths() { return ctPaths; }

	public Path ctPath(String uid) {
		Path p = ctPaths.get(uid);
		if (p == null) throw new IllegalArgumentException("Series " + uid + " is not on disk under " + root);
		return p;
	}

	/** The LUNA16 fold of a series (the N of its subsetN folder), or -1 for a flat folder. */
	public int subsetOf(String uid) { return subsets.getOrDefault(uid, -1); }

	/** The merged candidate list of the series on disk, in the book's order. */
	public List<CandidateInfo> candidates() { return candidates; }

	/** The candidates of one series (empty if none), in the book's order. */
	public List<CandidateInfo> candidates(String uid) { return bySeries.getOrDefault(uid, List.of()); }

	/** The annotated nodules of one series. */
	public List<CandidateInfo> nodules(String uid) {
		return candidates(uid).stream().filter(CandidateInfo::isNodule).toList();
	}

	/** Series on disk that appear in a table, sorted. */
	public List<String> series() { return series; }

	public boolean isValidation(String uid) { return validation.contains(uid); }

	public List<String> trainingSeries() { return series.stream().filter(s -> !validation.contains(s)).toList(); }

	public List<String> validationSeries() { return series.stream().filter(validation::contains).toList(); }

	/** The candidates of the training (false) or validation (true) series, in the book's order. */
	public List<CandidateInfo> candidates(boolean validationSet) {
		return candidates.stream().filter(c -> validation.contains(c.seriesUid()) == validationSet).toList();
	}

	/** Series listed in the tables but not on disk, sorted. */
	public List<String> missingSeries() { return missing; }

	/**
	 * One line about the listed-but-absent series (count and the first three), or empty if all are
	 * present: what a command logs, instead of a line per series.
	 */
	public String missingSummary() {
		if (missing.isEmpty()) return "";
		boolean one = missing.size() == 1;
		return missing.size() + (one ? " series is" : " series are") + " listed in the tables but not on disk under " + root +
			" and " + (one ? "was" : "were") + " skipped (" + String.join(", ", missing.subList(0, Math.min(3, missing.size()))) +
			(missing.size() > 3 ? ", ...)" : ")");
	}

	/**
	 * One line for a training log: series, nodules and non-nodules of each split, so that a run
	 * shows which data it saw (e.g. "training 799 series: 4,204 nodules, 479,063 non-nodules; ...").
	 */
	public String splitSummary() {
		long[] counts = new long[4]; // training nodules, training others, validation nodules, validation others
		for (CandidateInfo c : candidates)
			counts[(validation.contains(c.seriesUid()) ? 2 : 0) + (c.isNodule() ? 0 : 1)]++;
		int validationSeries = (int) series.stream().filter(validation::contains).count();
		String how = options.valSubsets().isEmpty() ? "every " + ordinal(options.valStride()) + " series" : "subsets " +
			options.valSubsets().stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
		return String.format(Locale.ROOT, "%s: training %,d series: %,d nodules, %,d non-nodules; validation (%s) %,d series: " +
			"%,d nodules, %,d non-nodules", root, series.size() - validationSeries, counts[0], counts[1], how, validationSeries, counts[2],
			counts[3]);
	}

	/** 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st: for the log line's "every 10th series". */
	static String ordinal(int n) {
		int lastTwo = n % 100, last = n % 10;
		String suffix = lastTwo >= 11 && lastTwo <= 13 ? "th" : last == 1 ? "st" : last == 2 ? "nd" : last == 3 ? "rd" : "th";
		return n + suffix;
	}

	/** Counts for logs: series on disk, validation series, nodules, negatives. */
	@Override
	public String toString() {
		long nodules = candidates.stream().filter(CandidateInfo::isNodule).count();
		return "LunaData[" + root + ": " + ctPaths.size() + " CTs on disk, " + series.size() + " with table rows (" +
			validation.size() + " validation), " + nodules + " nodules, " + (candidates.size() - nodules) + " negatives]";
	}
}
