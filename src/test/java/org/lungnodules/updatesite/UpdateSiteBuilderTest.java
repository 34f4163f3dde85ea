package org.lungnodules.updatesite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import javax.xml.parsers.DocumentBuilderFactory;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXParseException;

/**
 * Checks the update site builder against an independent reading of the updater's rules: jar
 * checksums recomputed here with a plain SHA-1 over the sorted entries, hand-built byte strings, and
 * a db.xml.gz parsed with a validating parser against its own DTD.
 */
class UpdateSiteBuilderTest {

	@TempDir
	Path tmp;

	// -- independent checksum ----------------------------------------------------------------------

	/** The updater's jar digest, written the simple way: read everything, sort, hash. */
	static String independentJarDigest(Path jar) throws Exception {
		TreeMap<String, byte[]> entries = new TreeMap<>();
		try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(jar))) {
			for (ZipEntry e; (e = zip.getNextEntry()) != null;)
				entries.put(e.getName(), zip.readAllBytes());
		}
		MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
		for (Map.Entry<String, byte[]> e : entries.entrySet()) {
			sha1.update(e.getKey().getBytes(StandardCharsets.US_ASCII));
			if (e.getKey().equals("META-INF/MANIFEST.MF")) continue; // the filter keeps no line
			sha1.update(e.getKey().endsWith(".properties") ? withoutComments(e.getValue()) : e.getValue());
		}
		return HexFormat.of().formatHex(sha1.digest());
	}

	/**
	 * SkipHashedLines as a line rule: a comment line (at a line start, starting with '#') becomes a
	 * bare newline. Its state flag leaves "line start" on the first character that is not a comment
	 * '#', even when that character is the '\n' of an empty line or of a line of '#' only; so the
	 * line after an empty line or a '#'-only line is never treated as a comment.
	 */
	static byte[] withoutComments(byte[] properties) {
		String text = new String(properties, StandardCharsets.ISO_8859_1);
		StringBuilder out = new StringBuilder();
		boolean nextIsExempt = false;
		int start = 0;
		while (start < text.length()) {
			int newline = text.indexOf('\n', start);
			boolean hasNewline = newline >= 0;
			String line = hasNewline ? text.substring(start, newline) : text.substring(start);
			if (!nextIsExempt && line.startsWith("#")) {
				if (hasNewline) out.append('\n');
				nextIsExempt = line.chars().allMatch(c -> c == '#');
			}
			else {
				out.append(line);
				if (hasNewline) out.append('\n');
				nextIsExempt = !nextIsExempt && line.isEmpty();
			}
			start = hasNewline ? newline + 1 : text.length();
		}
		return out.toString().getBytes(StandardCharsets.ISO_8859_1);
	}

	// -- helpers -----------------------------------------------------------------------------------

	/** Writes a jar with exactly these entries, in this order, with the given entry time. */
	static Path jar(Path file, long entryTime, Map<String, String> entries) throws IOException {
		try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
			for (Map.Entry<String, String> e : entries.entrySet()) {
				ZipEntry entry = new ZipEntry(e.getKey());
				entry.setTime(entryTime);
				zip.putNextEntry(entry);
				zip.write(e.getValue().getBytes(StandardCharsets.ISO_8859_1));
				zip.closeEntry();
			}
		}
		return file;
	}

	static Map<String, String> entries(String... nameThenContent) {
		Map<String, String> map = new LinkedHashMap<>();
		for (int i = 0; i < nameThenContent.length; i += 2) map.put(nameThenContent[i], nameThenContent[i + 1]);
		return map;
	}

	static String sha1Hex(String isoLatin1) throws Exception {
		return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1")
			.digest(isoLatin1.getBytes(StandardCharsets.ISO_8859_1)));
	}

	static byte[] skip(String text) throws IOException {
		try (InputStream in = new UpdateSiteBuilder.SkipCommentLines(
			new ByteArrayInputStream(text.getBytes(StandardCharsets.ISO_8859_1))))
		{
			ByteArrayOutputStream out = new ByteArrayOutputStream();
			in.transferTo(out);
			return out.toByteArray();
		}
	}

	static Path classpathJar(Class<?> c) throws URISyntaxException {
		return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
	}

	// -- checksums, hand-checked -------------------------------------------------------------------

	@Test
	void rebuiltJarWithOtherManifestAndPomDateKeepsItsChecksum() throws Exception {
		String classBytes = "\u00ca\u00fe\u00ba\u00be fake class";
		Path first = jar(tmp.resolve("first.jar"), 1_000_000_000_000L, entries(
			"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nBuilt-By: alice\r\nBuild-Jdk-Spec: 17\r\n"
				+ "Implementation-Build: abc123\r\nImplementation-Date: 2024-01-01T00:00:00Z\r\n\r\n",
			"META-INF/maven/x/y/pom.properties", "#Generated by Maven\n#Mon Jan 01 10:00:00 CET 2024\nversion=1.0\n",
			"a/B.class", classBytes));
		// Same content, other entry order, other entry times, other manifest and build date.
		Path second = jar(tmp.resolve("second.jar"), 1_700_000_000_000L, entries(
			"a/B.class", classBytes,
			"META-INF/maven/x/y/pom.properties", "#Generated by Maven\n#Tue Feb 02 11:11:11 UTC 2025\nversion=1.0\n",
			"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\nCreated-By: Maven JAR Plugin 3.4.2\r\nBuilt-By: bob\r\n"
				+ "Implementation-Build: def456\r\nImplementation-Date: 2025-02-02T11:11:11Z\r\n\r\n"));

		// By hand: names in sorted order ('M' < 'm' < 'a'), manifest adds nothing, comments become "\n".
		String expected = sha1Hex("META-INF/MANIFEST.MF"
			+ "META-INF/maven/x/y/pom.properties" + "\n\nversion=1.0\n"
			+ "a/B.class" + classBytes);
		assertEquals(expected, UpdateSiteBuilder.checksum("jars/first.jar", first));
		assertEquals(expected, UpdateSiteBuilder.checksum("jars/second.jar", second));
		assertEquals(expected, independentJarDigest(first));

		Path changed = jar(tmp.resolve("changed.jar"), 1_000_000_000_000L, entries(
			"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n",
			"META-INF/maven/x/y/pom.properties", "version=1.0\n",
			"a/B.class", classBytes + "!"));
		assertNotEquals(expected, UpdateSiteBuilder.checksum("jars/changed.jar", changed));
	}

	@Test
	void propertiesCommentsAreSkippedLikeTheUpdater() throws Exception {
		assertEquals("\n\nversion=1.0\n", new String(skip("#Generated by Maven\n#date\nversion=1.0\n"), StandardCharsets.ISO_8859_1));
		// A line of '#' only leaves the reader "not at a line start": the next comment survives.
		assertEquals("\n#kept\nk=v\n", new String(skip("#\n#kept\nk=v\n"), StandardCharsets.ISO_8859_1));
		assertEquals("\nk=v # not a comment\n\n", new String(skip("##x\nk=v # not a comment\n#y\n"), StandardCharsets.ISO_8859_1));
		assertEquals("k=v\n", new String(skip("k=v\n#no newline at the end"), StandardCharsets.ISO_8859_1));
		// Same after an empty line.
		assertEquals("a=1\n\n#kept\n\n", new String(skip("a=1\n\n#kept\n#gone\n"), StandardCharsets.ISO_8859_1));
		// The independent line rule agrees on all of these.
		for (String s : new String[] { "#Generated by Maven\n#date\nversion=1.0\n", "#\n#kept\nk=v\n",
			"##x\nk=v # not a comment\n#y\n", "k=v\n#no newline at the end", "\n#a\r\n#\n\n#b", "" })
			assertEquals(new String(withoutComments(s.getBytes(StandardCharsets.ISO_8859_1)), StandardCharsets.ISO_8859_1),
				new String(skip(s), StandardCharsets.ISO_8859_1), s);
	}

	@Test
	void otherFilesHashThePathThenTheContent() throws Exception {
		Path macro = Files.writeString(tmp.resolve("Find_Nodules.ijm"), "run(\"Analyze CT\");\n");
		assertEquals(sha1Hex("macros/Find_Nodules.ijm" + "run(\"Analyze CT\");\n"),
			UpdateSiteBuilder.checksum("macros/Find_Nodules.ijm", macro));
	}

	@Test
	void aBrokenJarFailsWithItsName() throws Exception {
		Path broken = Files.writeString(tmp.resolve("broken.jar"), "not a zip");
		IOException e = assertThrows(IOException.class, () -> UpdateSiteBuilder.checksum("jars/broken.jar", broken));
		assertTrue(e.getMessage().contains("broken.jar"), e.getMessage());
		assertThrows(NoSuchFileException.class, () -> UpdateSiteBuilder.build(tmp.resolve("site"),
			List.of(tmp.resolve("missing.jar")), List.of(), null));
		Path staging = Files.createDirectories(tmp.resolve("staging"));
		jar(staging.resolve("gson-2.10.1.jar"), 0, entries("a", "1"));
		jar(staging.resolve("gson-2.11.0.jar"), 0, entries("a", "2"));
		IOException twoVersions = assertThrows(IOException.class,
			() -> UpdateSiteBuilder.build(tmp.resolve("site"), List.of(), List.of(staging), null));
		assertTrue(twoVersions.getMessage().contains("gson-2.10.1.jar"), twoVersions.getMessage());
	}

	// -- the whole site ----------------------------------------------------------------------------

	@Test
	void siteListsEveryFileWithTheUpdatersNameSizeAndChecksum() throws Exception {
		Path plugin = jar(tmp.resolve("Lung_Nodules-1.2.3.jar"), 1_000_000_000_000L, entries(
			"META-INF/MANIFEST.MF", "Manifest-Version: 1.0\r\n\r\n",
			"META-INF/maven/org.lungnodules/Lung_Nodules/pom.xml",
			"<project><artifactId>Lung_Nodules</artifactId><description>Finds  lung\n nodules &amp; more.</description>"
				+ "<url>https://example.org/lung</url><developers><developer><url>https://not.this</url></developer></developers></project>",
			"META-INF/maven/org.lungnodules/Lung_Nodules/pom.properties", "#Generated by Maven\nversion=1.2.3\n",
			"plugins.config", "Plugins>Lung Nodules, \"About\", org.lungnodules.fiji.LunaPlugIn(\"about\")\n"));
		Files.setLastModifiedTime(plugin, FileTime.fromMillis(1_712_345_678_000L));
		Path libs = Files.createDirectories(tmp.resolve("libs"));
		Path api = classpathJar(ai.djl.Model.class), engine = classpathJar(ai.djl.pytorch.engine.PtEngine.class);
		Files.copy(api, libs.resolve(api.getFileName()));
		Files.copy(engine, libs.resolve(engine.getFileName()));

		Path site = Files.createDirectories(tmp.resolve("update-site"));
		Files.writeString(site.resolve("README.md"), "kept");
		Path stale = Files.createDirectories(site.resolve("jars")).resolve("old-0.1.jar-20200101000000");
		Files.writeString(stale, "stale");

		UpdateSiteBuilder.main(new String[] { "--out", site.toString(), "--plugins", plugin.toString(),
			"--jars", libs.toString() });

		assertEquals("kept", Files.readString(site.resolve("README.md")));
		assertFalse(Files.exists(stale), "files of an earlier build are removed");

		Document db = parseValidating(site.resolve("db.xml.gz"));
		NodeList plugins = db.getElementsByTagName("plugin");
		Map<String, Element> byName = new TreeMap<>();
		for (int i = 0; i < plugins.getLength(); i++) {
			Element p = (Element) plugins.item(i);
			byName.put(p.getAttribute("filename"), p);
		}
		String apiName = "jars/" + api.getFileName(), engineName = "jars/" + engine.getFileName();
		assertEquals(List.of(apiName, engineName, "plugins/Lung_Nodules-1.2.3.jar"), new ArrayList<>(byName.keySet()));

		Map<String, Path> sources = Map.of(apiName, libs.resolve(api.getFileName()),
			engineName, libs.resolve(engine.getFileName()), "plugins/Lung_Nodules-1.2.3.jar", plugin);
		SimpleDateFormat updaterTimestamp = new SimpleDateFormat("yyyyMMddHHmmss"); // local time, like the updater
		for (Element p : byName.values()) {
			String name = p.getAttribute("filename");
			Element version = (Element) p.getElementsByTagName("version").item(0);
			String timestamp = version.getAttribute("timestamp");
			assertEquals(updaterTimestamp.format(new Date(Files.getLastModifiedTime(sources.get(name)).toMillis())), timestamp, name);
			Path stored = site.resolve(name + "-" + timestamp);
			assertTrue(Files.isRegularFile(stored), stored + " exists");
			assertEquals(Files.size(stored), Long.parseLong(version.getAttribute("filesize")), name);
			assertEquals(Files.size(sources.get(name)), Files.size(stored), name);
			assertEquals(independentJarDigest(stored), version.getAttribute("checksum"), name);
		}
		// Nothing on the site that db.xml.gz does not list.
		try (var walk = Files.walk(site)) {
			assertEquals(3, walk.filter(f -> f.toString().matches(".*\\.jar-\\d{14}")).count());
		}

		Element ours = (Element) byName.get("plugins/Lung_Nodules-1.2.3.jar").getElementsByTagName("version").item(0);
		assertEquals("Finds lung nodules & more.", ours.getElementsByTagName("description").item(0).getTextContent());
		assertEquals("https://example.org/lung", ours.getElementsByTagName("link").item(0).getTextContent());
		NodeList deps = ours.getElementsByTagName("dependency");
		List<String> depNames = new ArrayList<>();
		for (int i = 0; i < deps.getLength(); i++) {
			Element d = (Element) deps.item(i);
			depNames.add(d.getAttribute("filename"));
			// The dependency's timestamp is the one the library is stored under.
			String libName = d.getAttribute("filename").equals("jars/api.jar") ? apiName : engineName;
			Element libVersion = (Element) byName.get(libName).getElementsByTagName("version").item(0);
			assertEquals(libVersion.getAttribute("timestamp"), d.getAttribute("timestamp"));
		}
		assertEquals(List.of("jars/api.jar", "jars/pytorch-engine.jar"), depNames);
		assertEquals(0, ((Element) byName.get(apiName)).getElementsByTagName("dependency").getLength());

		// A new build of the plugin, with the old index as history: the old version is carried over.
		String oldChecksum = ours.getAttribute("checksum");
		Path old = site.resolve("old-db.xml.gz");
		Files.copy(site.resolve("db.xml.gz"), old);
		Path newer = jar(Files.createDirectories(tmp.resolve("new")).resolve("Lung_Nodules-1.2.4.jar"), 0, entries("plugins.config", "changed\n"));
		UpdateSiteBuilder.build(site, List.of(newer), List.of(libs), old);
		Element updated = (Element) parseValidating(site.resolve("db.xml.gz")).getElementsByTagName("plugin").item(2);
		assertEquals("plugins/Lung_Nodules-1.2.4.jar", updated.getAttribute("filename"));
		Element previous = (Element) updated.getElementsByTagName("previous-version").item(0);
		assertEquals(oldChecksum, previous.getAttribute("checksum"));
		assertEquals("plugins/Lung_Nodules-1.2.3.jar", previous.getAttribute("filename"));
	}

	/**
	 * The DICOM pixel-data codecs' jars (TwelveMonkeys' JPEG plugin and its parts, jai-imageio's JPEG
	 * 2000 plugin and its core) are not in a plain Fiji: the pom must not leave them out of the staging
	 * folder, and a site built from them ships each under jars/ with the plugin depending on it.
	 */
	@Test
	void dicomCodecJarsAreShippedWithThePlugin() throws Exception {
		List<Path> codecJars = new ArrayList<>();
		for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
			String unix = entry.replace('\\', '/');
			if (entry.endsWith(".jar") && (unix.contains("/com/twelvemonkeys/") || unix.contains("/com/github/jai-imageio/")))
				codecJars.add(Path.of(entry));
		}
		List<String> artifacts = new ArrayList<>();
		for (Path jar : codecJars) artifacts.add(jar.getParent().getParent().getFileName().toString());
		for (String needed : List.of("jai-imageio-jpeg2000", "jai-imageio-core", "imageio-jpeg", "imageio-core", "imageio-metadata"))
			assertTrue(artifacts.contains(needed), needed + " on the runtime class path: " + artifacts);
		// The same classes the codecs instantiate come from those jars.
		assertTrue(codecJars.contains(classpathJar(com.github.jaiimageio.jpeg2000.impl.J2KImageReaderSpi.class)));
		assertTrue(codecJars.contains(classpathJar(com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi.class)));

		// pom.xml's update-site-stage execution does not exclude any of them.
		Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile());
		NodeList executions = pom.getElementsByTagName("execution");
		String excluded = null;
		for (int i = 0; i < executions.getLength(); i++) {
			Element e = (Element) executions.item(i);
			if ("update-site-stage".equals(e.getElementsByTagName("id").item(0).getTextContent().trim()))
				excluded = e.getElementsByTagName("excludeArtifactIds").item(0).getTextContent();
		}
		assertTrue(excluded != null, "pom.xml has the update-site-stage execution");
		List<String> excludedIds = List.of(excluded.trim().split("\\s*,\\s*"));
		assertTrue(excludedIds.contains("ij"), "the exclusion list was read: " + excludedIds);
		for (String a : artifacts) assertFalse(excludedIds.contains(a), a + " must be shipped, not excluded");

		// A site staged with them ships each one, and the plugin depends on each.
		Path staging = Files.createDirectories(tmp.resolve("staging"));
		for (Path jar : codecJars) Files.copy(jar, staging.resolve(jar.getFileName()));
		Path plugin = jar(tmp.resolve("Lung_Nodules-1.0.0.jar"), 0, entries("plugins.config", "x\n"));
		Path site = tmp.resolve("site");
		UpdateSiteBuilder.build(site, List.of(plugin), List.of(staging), null);
		Document db = parseValidating(site.resolve("db.xml.gz"));
		NodeList plugins = db.getElementsByTagName("plugin");
		List<String> listed = new ArrayList<>();
		List<String> pluginDeps = new ArrayList<>();
		for (int i = 0; i < plugins.getLength(); i++) {
			Element p = (Element) plugins.item(i);
			listed.add(p.getAttribute("filename"));
			if (p.getAttribute("filename").startsWith("plugins/")) {
				NodeList deps = p.getElementsByTagName("dependency");
				for (int d = 0; d < deps.getLength(); d++) pluginDeps.add(((Element) deps.item(d)).getAttribute("filename"));
			}
		}
		for (Path jar : codecJars) {
			String name = "jars/" + jar.getFileName();
			assertTrue(listed.contains(name), name + " listed in db.xml.gz: " + listed);
			assertTrue(pluginDeps.contains(UpdateSiteBuilder.unversioned(name)), "the plugin depends on " + name + ": " + pluginDeps);
		}
	}

	@Test
	void nativeJarsGoToTheirPlatformFolder() throws Exception {
		Path libs = Files.createDirectories(tmp.resolve("natives"));
		jar(libs.resolve("pytorch-native-cpu-2.5.1-linux-x86_64.jar"), 0, entries("native/lib/libtorch.so", "elf"));
		Path site = tmp.resolve("site");
		UpdateSiteBuilder.build(site, List.of(), List.of(libs), null);
		Element p = (Element) parseValidating(site.resolve("db.xml.gz")).getElementsByTagName("plugin").item(0);
		assertEquals("jars/linux64/pytorch-native-cpu-2.5.1-linux-x86_64.jar", p.getAttribute("filename"));
		assertEquals("linux64", p.getElementsByTagName("platform").item(0).getTextContent());
		String timestamp = ((Element) p.getElementsByTagName("version").item(0)).getAttribute("timestamp");
		assertTrue(Files.isRegularFile(site.resolve(p.getAttribute("filename") + "-" + timestamp)));
	}

	@Test
	void nativeJarsAreMarkedWithTheirPlatform() {
		assertEquals(List.of("linux64"), UpdateSiteBuilder.platformsOf("jars/pytorch-native-cpu-2.5.1-linux-x86_64.jar"));
		assertEquals(List.of("win64"), UpdateSiteBuilder.platformsOf("jars/pytorch-native-cpu-2.5.1-win-x86_64.jar"));
		assertEquals(List.of(), UpdateSiteBuilder.platformsOf("jars/api-0.33.0.jar"));
		assertEquals("jars/pytorch-jni.jar", UpdateSiteBuilder.unversioned("jars/pytorch-jni-2.5.1-0.33.0.jar"));
	}

	/** Parses db.xml.gz with DTD validation on: any structural error fails the test. */
	static Document parseValidating(Path dbGz) throws Exception {
		DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
		f.setValidating(true);
		var builder = f.newDocumentBuilder();
		builder.setErrorHandler(new ErrorHandler() {
			@Override public void warning(SAXParseException e) {}
			@Override public void error(SAXParseException e) throws SAXParseException { throw e; }
			@Override public void fatalError(SAXParseException e) throws SAXParseException { throw e; }
		});
		try (InputStream in = new GZIPInputStream(Files.newInputStream(dbGz))) {
			return builder.parse(in);
		}
	}
}
