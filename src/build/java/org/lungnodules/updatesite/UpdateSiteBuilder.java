package org.lungnodules.updatesite;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.stream.XMLOutputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamWriter;

import org.scijava.util.FileUtils;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * Build tooling: writes an ImageJ/Fiji update site (files named {@code <path>-<yyyyMMddHHmmss>} plus
 * {@code db.xml.gz}) from our plugin jar and the library jars Fiji does not ship.
 * <p>
 * Run during {@code mvn package} by exec-maven-plugin:
 *
 * <pre>
 * UpdateSiteBuilder --out update-site --plugins target/Lung_Nodules-x.jar --jars target/update-site-staging
 * </pre>
 *
 * {@code --plugins} and {@code --jars} take jar files or folders of jars (repeatable); plugin jars go
 * to {@code plugins/} and depend on every library jar, libraries go to {@code jars/}. The output folder
 * keeps anything that is not generated (README.md); old {@code jars/}, {@code plugins/} and
 * {@code db.xml.gz} are replaced. {@code --previous db.xml.gz} (the site's current index, downloaded)
 * carries older versions over as {@code previous-version} records, so installed old versions show as
 * "update available" rather than "locally modified".
 * <p>
 * Checksums, timestamps and the XML follow imagej-updater (UpdaterUtil, FilterManifest,
 * SkipHashedLines, XMLFileWriter, FileObject); see {@link #checksum(String, Path)}.
 */
public final class UpdateSiteBuilder {

	/** The name the updater downloads the index from. */
	public static final String DB_NAME = "db.xml.gz";

	/** The DTD the updater embeds in every db.xml (XMLFileWriter); the reader is not validating. */
	static final String DTD = "<!DOCTYPE pluginRecords [\n"
		+ "<!ELEMENT pluginRecords ((update-site | disabled-update-site)*, plugin*)>\n"
		+ "<!ELEMENT update-site EMPTY>\n"
		+ "<!ELEMENT disabled-update-site EMPTY>\n"
		+ "<!ELEMENT plugin (platform*, category*, version?, previous-version*)>\n"
		+ "<!ELEMENT version (description?, dependency*, link*, author*)>\n"
		+ "<!ELEMENT previous-version EMPTY>\n"
		+ "<!ELEMENT description (#PCDATA)>\n"
		+ "<!ELEMENT dependency EMPTY>\n"
		+ "<!ELEMENT link (#PCDATA)>\n"
		+ "<!ELEMENT author (#PCDATA)>\n"
		+ "<!ELEMENT platform (#PCDATA)>\n"
		+ "<!ELEMENT category (#PCDATA)>\n"
		+ "<!ATTLIST update-site name CDATA #REQUIRED>\n"
		+ "<!ATTLIST update-site url CDATA #REQUIRED>\n"
		+ "<!ATTLIST update-site ssh-host CDATA #IMPLIED>\n"
		+ "<!ATTLIST update-site upload-directory CDATA #IMPLIED>\n"
		+ "<!ATTLIST update-site description CDATA #IMPLIED>\n"
		+ "<!ATTLIST update-site maintainer CDATA #IMPLIED>\n"
		+ "<!ATTLIST update-site timestamp CDATA #REQUIRED>\n"
		+ "<!ATTLIST disabled-update-site name CDATA #REQUIRED>\n"
		+ "<!ATTLIST disabled-update-site url CDATA #REQUIRED>\n"
		+ "<!ATTLIST disabled-update-site ssh-host CDATA #IMPLIED>\n"
		+ "<!ATTLIST disabled-update-site upload-directory CDATA #IMPLIED>\n"
		+ "<!ATTLIST disabled-update-site description CDATA #IMPLIED>\n"
		+ "<!ATTLIST disabled-update-site maintainer CDATA #IMPLIED>\n"
		+ "<!ATTLIST disabled-update-site timestamp CDATA #REQUIRED>\n"
		+ "<!ATTLIST plugin update-site CDATA #IMPLIED>\n"
		+ "<!ATTLIST plugin filename CDATA #REQUIRED>\n"
		+ "<!ATTLIST plugin executable CDATA #IMPLIED>\n"
		+ "<!ATTLIST dependency filename CDATA #REQUIRED>\n"
		+ "<!ATTLIST dependency timestamp CDATA #IMPLIED>\n"
		+ "<!ATTLIST dependency overrides CDATA #IMPLIED>\n"
		+ "<!ATTLIST version timestamp CDATA #REQUIRED>\n"
		+ "<!ATTLIST version checksum CDATA #REQUIRED>\n"
		+ "<!ATTLIST version filesize CDATA #REQUIRED>\n"
		+ "<!ATTLIST previous-version filename CDATA #IMPLIED>\n"
		+ "<!ATTLIST previous-version timestamp CDATA #REQUIRED>\n"
		+ "<!ATTLIST previous-version timestamp-obsolete CDATA #IMPLIED>\n"
		+ "<!ATTLIST previous-version checksum CDATA #REQUIRED>]>";

	/**
	 * The updater's timestamps are the file's modification time in the local time zone, written as
	 * the digits yyyyMMddHHmmss (UpdaterUtil.timestamp); they are not epoch values.
	 */
	private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");

	/** One file of the site, as listed in db.xml.gz. */
	public record SiteFile(String filename, String checksum, long timestamp, long filesize,
		String description, List<String> links, List<String> platforms, List<SiteFile> dependencies,
		List<Previous> previous)
	{
		/** The name the file is stored under on the site: {@code <filename>-<timestamp>}. */
		public String storedName() {
			return filename + "-" + timestamp;
		}
	}

	/** An older version of a file, carried over from a previous db.xml.gz. */
	public record Previous(String filename, String checksum, long timestamp, long timestampObsolete) {}

	private UpdateSiteBuilder() {}

	public static void main(String[] args) throws IOException {
		Path out = null, previousDb = null;
		List<Path> plugins = new ArrayList<>(), jars = new ArrayList<>();
		for (int i = 0; i < args.length; i++) {
			String option = args[i];
			if (i + 1 >= args.length) throw new IllegalArgumentException(option + " needs a value; usage: "
				+ "--out <folder> [--plugins <jar|folder>]... [--jars <jar|folder>]... [--previous db.xml.gz]");
			Path value = Path.of(args[++i]);
			switch (option) {
				case "--out" -> out = value;
				case "--plugins" -> plugins.add(value);
				case "--jars" -> jars.add(value);
				case "--previous" -> previousDb = value;
				default -> throw new IllegalArgumentException("Unknown option " + option);
			}
		}
		if (out == null) throw new IllegalArgumentException("--out <folder> is required");
		List<SiteFile> files = build(out, plugins, jars, previousDb);
		System.out.println("Update site " + out + ": " + files.size() + " files");
		for (SiteFile f : files)
			System.out.println("  " + f.storedName() + " (" + f.filesize() + " bytes)");
	}

	/**
	 * Writes the site into {@code out} and returns what db.xml.gz lists. Inputs are jar files or
	 * folders whose {@code *.jar} files are taken (not recursively); a missing input is an error.
	 */
	public static List<SiteFile> build(Path out, List<Path> pluginInputs, List<Path> jarInputs,
		Path previousDb) throws IOException
	{
		List<Path> pluginJars = listJars(pluginInputs), libraryJars = listJars(jarInputs);
		List<PreviousRecord> history = previousDb == null ? List.of() : PreviousRecord.read(previousDb);

		Files.createDirectories(out);
		deleteGenerated(out);

		// Where each site file comes from, by its path on the site.
		Map<String, Path> sources = new LinkedHashMap<>();
		List<SiteFile> libraries = new ArrayList<>();
		for (Path jar : libraryJars) {
			// Native jars go to jars/<platform>/, as Fiji and scijava-maven-plugin place them.
			String name = jar.getFileName().toString();
			List<String> platforms = platformsOf(name);
			String folder = platforms.isEmpty() ? "jars/" : "jars/" + platforms.get(0) + "/";
			SiteFile f = describe(folder + name, jar, List.of());
			libraries.add(f);
			sources.put(f.filename(), jar);
		}
		List<SiteFile> all = new ArrayList<>();
		for (Path jar : pluginJars) {
			SiteFile f = describe("plugins/" + jar.getFileName(), jar, libraries);
			all.add(f);
			sources.put(f.filename(), jar);
		}
		all.addAll(libraries);
		all.sort((a, b) -> a.filename().compareTo(b.filename()));
		if (!history.isEmpty()) {
			List<SiteFile> withHistory = new ArrayList<>();
			for (SiteFile f : all) withHistory.add(PreviousRecord.attach(f, history));
			all = withHistory;
		}

		for (SiteFile f : all)
			copyAtomically(sources.get(f.filename()), out.resolve(f.storedName()));
		writeDb(out.resolve(DB_NAME), all);
		return all;
	}

	// -- checksums ---------------------------------------------------------------------------------

	/**
	 * The updater's checksum of a file stored at {@code path} (relative to Fiji.app), lower-case hex
	 * SHA-1 (UpdaterUtil.getDigest). Jars are digested entry by entry so that a rebuild with the same
	 * content keeps its checksum: for each entry in name order, the name's ASCII bytes, then its
	 * bytes, where {@code *.properties} entries drop their comment lines (Maven writes the build date
	 * into pom.properties) and {@code META-INF/MANIFEST.MF} contributes no bytes at all. Other files:
	 * SHA-1 of the path's ASCII bytes followed by the content.
	 */
	public static String checksum(String path, Path file) throws IOException {
		MessageDigest sha1 = sha1();
		if (path.endsWith(".jar")) {
			digestJar(file, sha1);
		}
		else {
			sha1.update(path.getBytes(StandardCharsets.US_ASCII));
			try (InputStream in = Files.newInputStream(file)) {
				digestStream(in, sha1);
			}
		}
		return hex(sha1.digest());
	}

	private static void digestJar(Path file, MessageDigest sha1) throws IOException {
		try (JarFile jar = new JarFile(file.toFile())) {
			List<JarEntry> entries = Collections.list(jar.entries());
			entries.sort((a, b) -> a.getName().compareTo(b.getName()));
			for (JarEntry entry : entries) {
				String name = entry.getName();
				// Non-ASCII characters become '?', as String.getBytes("ASCII") does in the updater.
				sha1.update(name.getBytes(StandardCharsets.US_ASCII));
				if (name.equals("META-INF/MANIFEST.MF")) {
					// The updater's FilterManifest keeps only lines whose upper-cased text starts with
					// "Main-Class:" (mixed case), which never matches: the manifest adds no bytes. This
					// is what makes Built-By, Build-Jdk, Implementation-Build and dates irrelevant.
					continue;
				}
				try (InputStream in = jar.getInputStream(entry)) {
					digestStream(name.endsWith(".properties") ? new SkipCommentLines(in) : in, sha1);
				}
			}
		}
		catch (ZipException e) {
			throw new ZipException(file + " is not a valid jar: " + e.getMessage());
		}
	}

	private static void digestStream(InputStream in, MessageDigest sha1) throws IOException {
		byte[] buffer = new byte[65536];
		for (int n; (n = in.read(buffer)) >= 0;)
			sha1.update(buffer, 0, n);
	}

	/**
	 * Drops comment lines of a .properties file the way the updater's SkipHashedLines does: a line
	 * that starts with '#' at a line start is reduced to its '\n'. Quirk kept on purpose: the
	 * updater leaves "line start" on the first character that is not a comment '#', even when that is
	 * the '\n' of an empty line or of a line of '#' only, so the line after such a line is kept even
	 * if it is a comment. A final comment without '\n' disappears entirely.
	 */
	static final class SkipCommentLines extends InputStream {

		private final InputStream in;
		private boolean atLineStart = true;

		SkipCommentLines(InputStream in) {
			this.in = new BufferedInputStream(in);
		}

		@Override
		public int read() throws IOException {
			int ch = in.read();
			if (!atLineStart) {
				if (ch == '\n') atLineStart = true;
				return ch;
			}
			if (ch != '#') {
				atLineStart = false;
				return ch;
			}
			// Skip the comment: further '#' right after it are part of it.
			do ch = in.read(); while (ch == '#');
			atLineStart = false;
			if (ch == '\n' || ch < 0) return ch; // a line of '#' only: the next line is not skipped
			do ch = in.read(); while (ch != '\n' && ch >= 0);
			if (ch == '\n') atLineStart = true;
			return ch;
		}

		@Override
		public int read(byte[] b, int off, int len) throws IOException {
			int count = 0;
			while (count < len) {
				int ch = read();
				if (ch < 0) return count == 0 ? -1 : count;
				b[off + count++] = (byte) ch;
			}
			return count;
		}

		@Override
		public void close() throws IOException {
			in.close();
		}
	}

	static MessageDigest sha1() {
		try {
			return MessageDigest.getInstance("SHA-1");
		}
		catch (NoSuchAlgorithmException e) {
			throw new IllegalStateException("Every Java runtime must provide SHA-1", e);
		}
	}

	static String hex(byte[] bytes) {
		StringBuilder s = new StringBuilder(bytes.length * 2);
		for (byte b : bytes) s.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
		return s.toString();
	}

	/** The updater's timestamp of a file: its modification time, local time, as yyyyMMddHHmmss. */
	public static long timestamp(Path file) throws IOException {
		Instant modified = Files.getLastModifiedTime(file).toInstant();
		return Long.parseLong(TIMESTAMP.format(modified.atZone(ZoneId.systemDefault())));
	}

	/** Strips the version the way the updater keys files and dependencies ("jars/api-0.33.0.jar" to "jars/api.jar"). */
	public static String unversioned(String filename) {
		return FileUtils.stripFilenameVersion(filename);
	}

	// -- metadata ----------------------------------------------------------------------------------

	private static SiteFile describe(String filename, Path jar, List<SiteFile> dependencies)
		throws IOException
	{
		PomInfo pom = PomInfo.read(jar);
		List<String> links = pom.url == null ? List.of() : List.of(pom.url);
		return new SiteFile(filename, checksum(filename, jar), timestamp(jar), Files.size(jar),
			pom.description, links, platformsOf(filename), dependencies, List.of());
	}

	/**
	 * Native jars carry their platform as Maven classifier; the updater installs a file with
	 * platforms only on those platforms (names from UpdaterUtil: linux64, win64, macosx).
	 */
	static List<String> platformsOf(String filename) {
		if (filename.contains("-linux-x86_64")) return List.of("linux64");
		if (filename.contains("-win-x86_64")) return List.of("win64");
		if (filename.contains("-osx-")) return List.of("macosx");
		return List.of();
	}

	/** Description and home page from the pom.xml Maven puts into META-INF/maven/(group)/(artifact)/. */
	private record PomInfo(String description, String url) {

		static PomInfo read(Path jar) throws IOException {
			try (JarFile j = new JarFile(jar.toFile())) {
				JarEntry pom = Collections.list(j.entries()).stream()
					.filter(e -> e.getName().startsWith("META-INF/maven/") && e.getName().endsWith("/pom.xml"))
					.findFirst().orElse(null);
				if (pom == null) return new PomInfo(null, null);
				try (InputStream in = j.getInputStream(pom)) {
					DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
					f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
					f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
					Element project = f.newDocumentBuilder().parse(in).getDocumentElement();
					return new PomInfo(childText(project, "description"), childText(project, "url"));
				}
				catch (Exception e) {
					// Metadata is optional: a jar with an unreadable pom.xml is still a valid site file.
					return new PomInfo(null, null);
				}
			}
			catch (ZipException e) {
				throw new ZipException(jar + " is not a valid jar: " + e.getMessage());
			}
		}

		private static String childText(Element parent, String name) {
			for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling())
				if (n instanceof Element e && name.equals(e.getTagName())) {
					String text = e.getTextContent().strip().replaceAll("\\s+", " ");
					return text.isEmpty() || text.contains("${") ? null : text;
				}
			return null;
		}
	}

	/** One file's versions as recorded in an earlier db.xml.gz. */
	private record PreviousRecord(String filename, String checksum, long timestamp,
		List<Previous> older)
	{

		static List<PreviousRecord> read(Path db) throws IOException {
			List<PreviousRecord> records = new ArrayList<>();
			try (InputStream in = new java.util.zip.GZIPInputStream(Files.newInputStream(db))) {
				DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
				f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
				// The embedded DTD is internal; never fetch anything external.
				f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
				f.setExpandEntityReferences(false);
				Element root = f.newDocumentBuilder().parse(in).getDocumentElement();
				for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
					if (!(n instanceof Element plugin) || !plugin.getTagName().equals("plugin")) continue;
					String checksum = null;
					long timestamp = 0;
					List<Previous> older = new ArrayList<>();
					for (Node c = plugin.getFirstChild(); c != null; c = c.getNextSibling()) {
						if (!(c instanceof Element v)) continue;
						if (v.getTagName().equals("version")) {
							checksum = v.getAttribute("checksum");
							timestamp = Long.parseLong(v.getAttribute("timestamp"));
						}
						else if (v.getTagName().equals("previous-version")) {
							String obsolete = v.getAttribute("timestamp-obsolete");
							older.add(new Previous(v.getAttribute("filename"), v.getAttribute("checksum"),
								Long.parseLong(v.getAttribute("timestamp")), obsolete.isEmpty() ? 0 : Long.parseLong(obsolete)));
						}
					}
					records.add(new PreviousRecord(plugin.getAttribute("filename"), checksum, timestamp, older));
				}
			}
			catch (NoSuchFileException e) {
				throw e;
			}
			catch (IOException e) {
				throw new IOException(db + " is not a readable db.xml.gz: " + e.getMessage(), e);
			}
			catch (Exception e) {
				throw new IOException(db + " is not a valid db.xml.gz: " + e.getMessage(), e);
			}
			return records;
		}

		/**
		 * Adds the earlier versions of the same component (same unversioned name), as the updater
		 * does when a new version is uploaded: the old current version becomes obsolete now.
		 */
		static SiteFile attach(SiteFile file, List<PreviousRecord> history) {
			long now = Long.parseLong(TIMESTAMP.format(java.time.LocalDateTime.now()));
			List<Previous> previous = new ArrayList<>();
			String key = unversioned(file.filename());
			for (PreviousRecord r : history) {
				if (!unversioned(r.filename).equals(key)) continue;
				if (r.checksum != null && !r.checksum.equals(file.checksum()))
					addOnce(previous, new Previous(r.filename, r.checksum, r.timestamp, now));
				for (Previous p : r.older) addOnce(previous, p);
			}
			if (previous.isEmpty()) return file;
			return new SiteFile(file.filename(), file.checksum(), file.timestamp(), file.filesize(),
				file.description(), file.links(), file.platforms(), file.dependencies(), previous);
		}

		private static void addOnce(List<Previous> list, Previous p) {
			for (Previous q : list)
				if (q.checksum().equals(p.checksum()) && q.timestamp() == p.timestamp()) return;
			list.add(p);
		}
	}

	// -- writing -----------------------------------------------------------------------------------

	private static List<Path> listJars(List<Path> inputs) throws IOException {
		List<Path> jars = new ArrayList<>();
		for (Path input : inputs) {
			if (Files.isDirectory(input)) {
				try (DirectoryStream<Path> dir = Files.newDirectoryStream(input, "*.jar")) {
					for (Path p : dir) if (Files.isRegularFile(p)) jars.add(p);
				}
			}
			else if (Files.isRegularFile(input) && input.getFileName().toString().endsWith(".jar")) {
				jars.add(input);
			}
			else {
				throw new NoSuchFileException(input.toString(), null, "not a jar file or a folder of jars");
			}
		}
		jars.sort(null);
		// Two versions of one component (e.g. a stale jar left in the staging folder after a version
		// change) would both be installed by the updater: refuse rather than ship a conflict.
		Map<String, Path> byComponent = new LinkedHashMap<>();
		for (Path p : jars) {
			Path other = byComponent.put(unversioned(p.getFileName().toString()), p);
			if (other != null) throw new IOException("Two versions of the same jar: " + other + " and " + p
				+ " (a stale staging folder? run mvn clean)");
		}
		return jars;
	}

	/** Removes what an earlier run generated, leaving README.md and anything else alone. */
	private static void deleteGenerated(Path out) throws IOException {
		for (String folder : new String[] { "jars", "plugins" }) {
			Path dir = out.resolve(folder);
			if (!Files.isDirectory(dir)) continue;
			try (var files = Files.walk(dir)) {
				for (Path p : files.sorted(Collections.reverseOrder()).toList()) Files.delete(p);
			}
		}
		Files.deleteIfExists(out.resolve(DB_NAME));
	}

	private static void copyAtomically(Path source, Path target) throws IOException {
		Files.createDirectories(target.getParent());
		// A plain new file (not createTempFile, which is owner-only): the site must be world-readable.
		Path tmp = target.resolveSibling("." + target.getFileName() + ".part");
		try {
			Files.copy(source, tmp, StandardCopyOption.REPLACE_EXISTING);
			Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		}
		finally {
			Files.deleteIfExists(tmp);
		}
	}

	private static void writeDb(Path db, List<SiteFile> files) throws IOException {
		Path tmp = db.resolveSibling("." + db.getFileName() + ".part");
		try {
			try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(tmp))) {
				XMLStreamWriter xml = XMLOutputFactory.newFactory().createXMLStreamWriter(gz, "UTF-8");
				xml.writeStartDocument("UTF-8", "1.0");
				xml.writeCharacters("\n");
				xml.writeDTD(DTD);
				xml.writeCharacters("\n");
				xml.writeStartElement("pluginRecords");
				for (SiteFile f : files) writePlugin(xml, f);
				xml.writeCharacters("\n");
				xml.writeEndElement();
				xml.writeCharacters("\n");
				xml.writeEndDocument();
				xml.close();
			}
			Files.move(tmp, db, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
		}
		catch (XMLStreamException e) {
			throw new IOException("Could not write " + db + ": " + e.getMessage(), e);
		}
		finally {
			Files.deleteIfExists(tmp);
		}
	}

	/** Element order follows the DTD: platform*, category*, version?, previous-version*. */
	private static void writePlugin(XMLStreamWriter xml, SiteFile f) throws XMLStreamException {
		indent(xml, 1);
		xml.writeStartElement("plugin");
		xml.writeAttribute("filename", f.filename());
		for (String platform : f.platforms()) simpleElement(xml, 2, "platform", platform);
		indent(xml, 2);
		xml.writeStartElement("version");
		xml.writeAttribute("checksum", f.checksum());
		xml.writeAttribute("timestamp", Long.toString(f.timestamp()));
		xml.writeAttribute("filesize", Long.toString(f.filesize()));
		if (f.description() != null) simpleElement(xml, 3, "description", f.description());
		for (SiteFile d : f.dependencies()) {
			indent(xml, 3);
			xml.writeEmptyElement("dependency");
			// The updater keys dependencies by the unversioned name, so a new version still satisfies them.
			xml.writeAttribute("filename", unversioned(d.filename()));
			xml.writeAttribute("timestamp", Long.toString(d.timestamp()));
		}
		for (String link : f.links()) simpleElement(xml, 3, "link", link);
		indent(xml, 2);
		xml.writeEndElement();
		for (Previous p : f.previous()) {
			indent(xml, 2);
			xml.writeEmptyElement("previous-version");
			xml.writeAttribute("timestamp", Long.toString(p.timestamp()));
			xml.writeAttribute("timestamp-obsolete", Long.toString(p.timestampObsolete()));
			xml.writeAttribute("checksum", p.checksum());
			if (p.filename() != null && !p.filename().isEmpty()) xml.writeAttribute("filename", p.filename());
		}
		indent(xml, 1);
		xml.writeEndElement();
	}

	private static void simpleElement(XMLStreamWriter xml, int depth, String name, String text)
		throws XMLStreamException
	{
		indent(xml, depth);
		xml.writeStartElement(name);
		xml.writeCharacters(text);
		xml.writeEndElement();
	}

	private static void indent(XMLStreamWriter xml, int depth) throws XMLStreamException {
		xml.writeCharacters("\n" + "    ".repeat(depth));
	}
}
