package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import net.imglib2.Cursor;
import net.imglib2.type.numeric.RealType;
import net.imglib2.view.Views;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.io.MetaImage;

/** The ./luna front door, through a real SciJava context: exit codes, key checking, real outputs. */
public class LunaCliTest {

	@TempDir
	Path temp;

	public record Outcome(int code, String out, String err) {}

	public static Outcome luna(String... args) {
		ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
		int code = LunaCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
		return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
	}

	@Test
	void helpListsCommandsAndParameters() {
		Outcome all = luna("help");
		assertEquals(0, all.code());
		for (String c : List.of("about", "convert", "open", "phantom", "bench")) assertTrue(all.out().contains(c), all.out());
		Outcome one = luna("help", "phantom");
		assertEquals(0, one.code());
		assertTrue(one.out().contains("seed") && one.out().contains("default: 128,256,256"), one.out());
	}

	@Test
	void misspeltKeyIsNamedWithExitCode2() {
		Outcome o = luna("phantom", "outptu=" + temp);
		assertEquals(LunaCli.BAD_ARGUMENTS, o.code());
		assertTrue(o.err().contains("'outptu'") && o.err().contains("did you mean 'output'"), o.err());
		assertFalse(o.err().contains("\tat "), "no stack trace without --debug");
	}

	@Test
	void badValuesAndUnknownCommandsExitWith2() {
		assertEquals(2, luna("phantom", "count=many").code());
		assertEquals(2, luna("phantom", "size=1,2").code());
		assertEquals(2, luna("frobnicate").code());
		assertEquals(2, luna("convert", "input").code());
		Outcome missing = luna("convert", "output=x.mhd");
		assertEquals(2, missing.code());
		assertTrue(missing.err().contains("input"), missing.err());
	}

	@Test
	void failuresExitWith1AndOneLine() throws Exception {
		Path bad = temp.resolve("bad.mhd");
		Files.writeString(bad, "NDims = 3\nDimSize = 4 4 4\nElementType = MET_SHORT\nElementDataFile = missing.raw\n");
		Outcome o = luna("convert", "input=" + bad, "output=" + temp.resolve("out.mha"));
		assertEquals(LunaCli.FAILED, o.code());
		assertTrue(o.err().contains("bad.mhd") || o.err().contains("missing.raw"), o.err());
		assertFalse(o.err().contains("\tat "), o.err());
	}

	@Test
	void phantomThenConvertKeepsEveryVoxel() throws Exception {
		Path data = temp.resolve("data");
		Outcome made = luna("phantom", "output=" + data, "seed=5", "count=1", "size=40,96,96", "nodules=1-2", "preview=false");
		assertEquals(0, made.code(), made.err());
		List<Path> mhds;
		try (Stream<Path> s = Files.list(data)) {
			mhds = s.filter(p -> p.toString().endsWith(".mhd")).collect(Collectors.toList());
		}
		assertEquals(1, mhds.size());
		assertTrue(Files.exists(data.resolve("annotations.csv")) && Files.exists(data.resolve("candidates.csv")));

		Path mha = temp.resolve("converted.mha");
		Outcome conv = luna("convert", "input=" + mhds.get(0), "output=" + mha, "compress=true");
		assertEquals(0, conv.code(), conv.err());
		MetaImage back = MetaImage.read(mha);
		// Independent truth: the generator itself, run again with the same seed and options.
		ChestPhantom truth = ChestPhantom.generate(5, 0, ChestPhantom.Options.defaults().withSize(40, 96, 96).withNodules(1, 2));
		short[] hu = truth.hu();
		Cursor<? extends RealType<?>> c = Views.flatIterable(back.image()).cursor();
		short[] read = new short[hu.length];
		for (int i = 0; c.hasNext(); i++) read[i] = (short) c.next().getRealDouble();
		assertArrayEquals(hu, read);
		assertArrayEquals(truth.geometry().spacing(), back.spacing(), 1e-12);
		assertArrayEquals(truth.geometry().origin(), back.origin(), 1e-9);
	}
}
