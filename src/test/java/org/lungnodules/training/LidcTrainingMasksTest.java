package org.lungnodules.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.LidcXml;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.MetaImage;

/**
 * masks=lidc on two synthetic CTs (100 × 100 × 10, spacing 1 × 1 × 2.5 mm), each with a dense cube
 * (x, y 40..49, slices 3..6) in air. The book's threshold mask of the cube is the cube: 400 voxels.
 * Series A has readings: two readers outline the square x, y 42..47 on slices 4 and 5, so its
 * consensus mask is 6 × 6 × 2 = 72 voxels. Series B has none and keeps the threshold mask.
 */
class LidcTrainingMasksTest {

	static final String A = "1.2.826.0.1.1", B = "1.2.826.0.1.2";

	@TempDir
	Path dir;
	Path data;

	@BeforeEach
	void writeDataset() throws IOException {
		data = Files.createDirectories(dir.resolve("data"));
		Geometry g = Geometry.of(new double[] { 0, 0, 0 }, new double[] { 1, 1, 2.5 });
		for (String uid : new String[] { A, B }) {
			short[] hu = new short[10 * 100 * 100];
			java.util.Arrays.fill(hu, (short) -1000);
			for (int z = 3; z <= 6; z++)
				for (int y = 40; y <= 49; y++)
					for (int x = 40; x <= 49; x++) hu[(z * 100 + y) * 100 + x] = 100;
			MetaImage.writeVolume(data.resolve(uid + ".mhd"), CtVolume.ofShorts(hu, 100, 100, 10, g, uid), false);
		}
		Luna16Tables.writeAnnotations(data.resolve("annotations.csv"),
			List.of(new Luna16Tables.Annotation(A, 44.5, 44.5, 11.25, 10), new Luna16Tables.Annotation(B, 44.5, 44.5, 11.25, 10)));
	}

	private static LidcXml readings(String uid) {
		LidcXml x = new LidcXml(uid);
		for (String r : new String[] { "R1", "R2" }) x.reader(r).nodule("n", 3).square(10, true, 42, 42, 47, 47).square(12.5, true, 42, 42, 47, 47);
		return x;
	}

	private static int maskCount(Crops crops, String uid) throws IOException {
		float[] img = new float[100 * 100], mask = new float[100 * 100];
		int n = 0;
		for (int z = 0; z < 10; z++) {
			crops.slice(uid, z, img, 0, mask, 0);
			for (float v : mask) if (v != 0) n++;
		}
		return n;
	}

	@Test
	void readingsNextToTheCtReplaceTheThresholdMask() throws IOException {
		readings(A).write(data.resolve(A + ".xml"));
		try (TrainingData t = TrainingData.openWithLidcMasks(data, null, LunaData.Options.defaults().withValStride(1000), null)) {
			assertEquals(72, maskCount(t.crops(), A));
			assertArrayEquals(new int[] { 4, 5 }, t.crops().positiveSlices(A));
			float[] img = new float[100 * 100], mask = new float[100 * 100];
			t.crops().slice(A, 4, img, 0, mask, 0);
			for (int y = 0; y < 100; y++)
				for (int x = 0; x < 100; x++) assertEquals(x >= 42 && x <= 47 && y >= 42 && y <= 47 ? 1f : 0f, mask[y * 100 + x]);
			assertEquals(400, maskCount(t.crops(), B));
			assertArrayEquals(new int[] { 3, 4, 5, 6 }, t.crops().positiveSlices(B));
			assertTrue(t.maskSummary().contains("1 series with LIDC") && t.maskSummary().contains("1 with the book's"), t.maskSummary());
		}
		// The default keeps the threshold masks even with readings present.
		try (TrainingData t = TrainingData.open(data, null, LunaData.Options.defaults().withValStride(1000))) {
			assertEquals(400, maskCount(t.crops(), A));
		}
	}

	@Test
	void aReadingsFolderIsMatchedByTheHeader() throws IOException {
		Path folder = Files.createDirectories(dir.resolve("xml/nested"));
		readings(B).write(folder.resolve("069.xml"));
		try (TrainingData t = TrainingData.openWithLidcMasks(data, null, LunaData.Options.defaults().withValStride(1000), dir.resolve("xml"))) {
			assertEquals(400, maskCount(t.crops(), A));
			assertEquals(72, maskCount(t.crops(), B));
		}
	}

	/** ./luna train-seg masks=lidc trains one short epoch and logs where the masks came from. */
	@Test
	void trainSegWithLidcMasksFromTheCommandLine() throws IOException {
		readings(A).write(data.resolve(A + ".xml"));
		java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(), err = new java.io.ByteArrayOutputStream();
		// The SciJava LogService writes to the process's stderr, so catch that too.
		java.io.PrintStream stderr = System.err, stdout = System.out;
		java.io.PrintStream both = new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8);
		int code;
		try {
			System.setErr(both);
			System.setOut(both);
			code = org.lungnodules.fiji.LunaCli.run(new String[] { "train-seg", "data=" + data, "masks=lidc", "output=" + dir.resolve("runs"),
				"name=lidc", "epochs=1", "epoch_size=4", "batch_size=2", "val_stride=2", "device=cpu" },
				new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8), both);
		}
		finally {
			System.setErr(stderr);
			System.setOut(stdout);
		}
		String log = out.toString(java.nio.charset.StandardCharsets.UTF_8) + err.toString(java.nio.charset.StandardCharsets.UTF_8);
		assertEquals(0, code, log);
		assertTrue(log.contains("1 series with LIDC readers' consensus masks, 1 with the book's"), log);
		assertTrue(Files.isRegularFile(dir.resolve("runs/lidc/last.pt")), log);
		int bad = org.lungnodules.fiji.LunaCli.run(new String[] { "train-seg", "data=" + data, "masks=both", "output=" + dir.resolve("runs") },
			new java.io.PrintStream(out, true), new java.io.PrintStream(err, true));
		assertEquals(2, bad);
	}

	@Test
	void readingsOfAnotherSeriesAreRefused() throws IOException {
		readings("9.9.9").write(data.resolve(A + ".xml"));
		try (TrainingData t = TrainingData.openWithLidcMasks(data, null, LunaData.Options.defaults().withValStride(1000), null)) {
			IllegalStateException e = assertThrows(IllegalStateException.class, () -> maskCount(t.crops(), A));
			assertTrue(e.getMessage().contains("9.9.9") && e.getMessage().contains(A), e.getMessage());
		}
		assertThrows(IOException.class, () -> TrainingData.openWithLidcMasks(data, dir, LunaData.Options.defaults(), null));
	}
}
