package org.lungnodules.nn;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.lungnodules.Progress;

/**
 * The book's published weights (Deep Learning with PyTorch, part 2), fetched from its public
 * repository {@code deep-learning-with-pytorch/dlwpt-code}, folder {@code data/part2/models/}, and
 * checked against known SHA-256 digests so a corrupted or substituted file is never used.
 */
public final class PublishedModels {

	/** Where the book keeps its weights; a parameter, so mirrors and {@code file:} URLs work. */
	public static final String DEFAULT_BASE_URL = "https://github.com/deep-learning-with-pytorch/dlwpt-code/raw/master/data/part2/models/";

	public static final String CLASSIFIER = "cls_2020-02-06_14.16.55_final-nodule-nonnodule.best.state";
	public static final String SEGMENTATION = "seg_2020-01-26_19.45.12_w4d3c1-bal_1_nodupe-label_pos-d1_fn8-adam.best.state";

	/** SHA-256 of the published files, as the book's repository serves them. */
	public static final Map<String, String> DIGESTS = new LinkedHashMap<>();
	static {
		DIGESTS.put(CLASSIFIER, "0f2af10e3bb0f5159cb6ea0df97a2d9f4ac824e28d18a3f18746f39de5bb0727");
		DIGESTS.put(SEGMENTATION, "cb3291697a78d99d347054d9236f43e6acd79646861864b03fc109af38ba88fb");
	}

	/** The published files are about 1.5 MB; anything far larger is not them. */
	private static final long MAX_BYTES = 64L << 20;

	private PublishedModels() {}

	/** A file that did not arrive as published. */
	public static final class DigestMismatchException extends IOException {
		private static final long serialVersionUID = 1L;

		public DigestMismatchException(String message) {
			super(message);
		}
	}

	/**
	 * Downloads every published model into {@code folder}, skipping files already there with the right
	 * digest. Each download goes to a temporary file that is checked, then renamed; a wrong digest
	 * deletes it and fails.
	 *
	 * @return the model files, in {@link #DIGESTS} order
	 */
	public static List<Path> fetch(String baseUrl, Path folder, Map<String, String> digests, Progress progress) throws IOException {
		Files.createDirectories(folder);
		String base = baseUrl.endsWith("/") ? baseUrl : baseUrl + "/";
		List<Path> files = new ArrayList<>();
		int i = 0;
		for (Map.Entry<String, String> e : digests.entrySet()) {
			progress.report("Fetching " + e.getKey(), (double) i++ / digests.size());
			progress.checkCanceled();
			Path target = folder.resolve(e.getKey());
			if (Files.isRegularFile(target) && sha256(target).equals(e.getValue())) {
				files.add(target);
				continue;
			}
			download(base + e.getKey(), target, e.getValue(), progress);
			files.add(target);
		}
		progress.report("Fetched models", 1);
		return files;
	}

	static void download(String url, Path target, String expectedSha256, Progress progress) throws IOException {
		URL u;
		try {
			u = new URI(url).toURL();
		}
		catch (URISyntaxException | IllegalArgumentException e) {
			throw new IOException("Not a valid URL: " + url);
		}
		Path tmp = target.resolveSibling("." + target.getFileName() + ".download");
		MessageDigest sha = newSha256();
		try {
			URLConnection conn = u.openConnection();
			conn.setConnectTimeout(30_000);
			conn.setReadTimeout(60_000);
			try (InputStream in = conn.getInputStream(); OutputStream out = Files.newOutputStream(tmp)) {
				byte[] buf = new byte[1 << 16];
				long total = 0;
				for (int n; (n = in.read(buf)) > 0;) {
					total += n;
					if (total > MAX_BYTES) throw new IOException(url + ": larger than " + (MAX_BYTES >> 20) + " MB, not a published model");
					sha.update(buf, 0, n);
					out.write(buf, 0, n);
					progress.checkCanceled();
				}
			}
			String actual = HexFormat.of().formatHex(sha.digest());
			if (!actual.equals(expectedSha256))
				throw new DigestMismatchException(url + ": SHA-256 is " + actual + " but the published file has " + expectedSha256 +
					"; the download was deleted");
			Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		}
		catch (IOException | RuntimeException e) {
			Files.deleteIfExists(tmp);
			if (e instanceof java.io.FileNotFoundException) throw new IOException(url + ": not found", e);
			throw e;
		}
	}

	public static String sha256(Path file) throws IOException {
		MessageDigest sha = newSha256();
		try (InputStream in = Files.newInputStream(file)) {
			byte[] buf = new byte[1 << 16];
			for (int n; (n = in.read(buf)) > 0;) sha.update(buf, 0, n);
		}
		return HexFormat.of().formatHex(sha.digest());
	}

	/** Reads a {@code sha256sum}-style list ("digest  path" per line); keys are file names. */
	public static Map<String, String> readDigests(Path sums) throws IOException {
		Map<String, String> map = new LinkedHashMap<>();
		int lineNo = 0;
		for (String line : Files.readAllLines(sums)) {
			lineNo++;
			if (line.isBlank() || line.startsWith("#")) continue;
			String[] parts = line.trim().split("\\s+\\*?", 2);
			if (parts.length != 2 || !parts[0].matches("[0-9a-fA-F]{64}"))
				throw new IOException(sums + ", line " + lineNo + ": expected '<sha256>  <file>'");
			String name = Path.of(parts[1].trim()).getFileName().toString();
			map.put(name, parts[0].toLowerCase());
		}
		return map;
	}

	private static MessageDigest newSha256() {
		try {
			return MessageDigest.getInstance("SHA-256");
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException(e);
		}
	}
}
