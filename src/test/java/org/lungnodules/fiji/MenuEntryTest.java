package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.InputStream;

import org.junit.jupiter.api.Test;

/**
 * Issue #23 §4: the class ImageJ 1 loads for every menu entry can be loaded by a Java 8 Fiji (class-file
 * version 52, the Java 8 format, per JVMS §4.1), and says which Java is needed. There is no Java 8 runtime
 * on this machine, so the message path is checked through its parts, not on a Java 8 Fiji.
 */
class MenuEntryTest {

	static int classFileMajorVersion(Class<?> c) throws Exception {
		try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class"); DataInputStream data = new DataInputStream(in)) {
			assertEquals(0xCAFEBABE, data.readInt(), "class file magic");
			data.readUnsignedShort(); // minor
			return data.readUnsignedShort();
		}
	}

	@Test
	void menuEntryIsJava8BytecodeAndTheRestIsJava17() throws Exception {
		assertEquals(52, classFileMajorVersion(MenuEntry.class), "Java 8 class files are version 52");
		assertEquals(61, classFileMajorVersion(LunaPlugIn.class), "Java 17 class files are version 61");
	}

	@Test
	void javaVersionsAreReadAsTheJdkWritesThem() {
		assertEquals(8, MenuEntry.featureVersion("1.8"));
		assertEquals(17, MenuEntry.featureVersion("17"));
		assertEquals(21, MenuEntry.featureVersion("21.0.2"));
		assertEquals(0, MenuEntry.featureVersion(""));
		assertTrue(MenuEntry.featureVersion(System.getProperty("java.specification.version")) >= MenuEntry.REQUIRED_JAVA,
			"this JVM runs the plugin");
	}

	@Test
	void theMessageNamesBothJavasAndTheWayOut() {
		String m = MenuEntry.message("1.8");
		assertTrue(m.contains("Java 17") && m.contains("Java 1.8") && m.contains("fiji-linux-x64") && m.contains("https://fiji.sc"), m);
	}
}
