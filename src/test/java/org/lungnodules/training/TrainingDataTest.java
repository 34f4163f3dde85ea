package org.lungnodules.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.IntStream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.Progress;
import org.lungnodules.phantom.ChestPhantom;
import org.lungnodules.phantom.PhantomDataset;
import org.lungnodules.io.Luna16Tables.CandidateInfo;
import org.lungnodules.nn.Networks;

/** Split, balance, determinism, cache and segmentation data on four tiny phantom CTs. */
class TrainingDataTest {

	@TempDir
	static Path tmp;
	static Path root, cacheDir;
	static LunaData data;

	@BeforeAll
	static void writeDataset() throws IOException {
		root = tmp.resolve("luna");
		PhantomDataset.write(root, 2024, 4, PhantomDataset.Options.defaults().withPhantom(ChestPhantom.Options.defaults()
			.withSize(40, 96, 96).withSpacing(2.0, 2.0, 2.5).withNodules(2, 2).withDiameterRange(8, 14).withSolidOnly(true)
			.withCandidatesPerCt(25)));
		// Make both classes certain for the malignancy tests: malignant on every other row.
		Path mal = root.resolve(PhantomDataset.MALIGNANCY);
		List<String> lines = Files.readAllLines(mal, StandardCharsets.UTF_8);
		for (int i = 1; i < lines.size(); i++)
			lines.set(i, lines.get(i).replace(i % 2 == 0 ? ",False," : ",True,", i % 2 == 0 ? ",True," : ",False,"));
		Files.write(mal, lines, StandardCharsets.UTF_8);
		data = LunaData.open(root);
		cacheDir = tmp.resolve("cache");
		ChunkCache.prepare(data, cacheDir, EnumSet.allOf(ChunkCache.Kind.class), Progress.NONE);
	}

	// ---------------------------------------------------------------- LunaData

	@Test
	void splitsBySeriesEveryNthSortedUid() throws IOException {
		List<String> sorted = new ArrayList<>(data.ctPaths().keySet());
		assertEquals(4, sorted.size());
		assertEquals(sorted, data.series());
		assertEquals(List.of(sorted.get(0)), data.validationSeries());
		LunaData two = LunaData.open(root, LunaData.Options.defaults().withValStride(2));
		assertEquals(List.of(sorted.get(0), sorted.get(2)), two.validationSeries());
		assertEquals(List.of(sorted.get(1), sorted.get(3)), two.trainingSeries());
		for (CandidateInfo c : two.candidates(true)) assertTrue(two.isValidation(c.seriesUid()));
		for (CandidateInfo c : two.candidates(false)) assertFalse(two.isValidation(c.seriesUid()));
		assertEquals(two.candidates().size(), two.candidates(true).size() + two.candidates(false).size());
		assertEquals("", data.missingSummary());
	}

	@Test
	void luna16SubsetFoldsCanDecideTheSplit() throws IOException {
		Path folded = tmp.resolve("folded");
		List<String> uids = data.series();
		foldIntoSubsets(folded);
		LunaData d = LunaData.open(folded, LunaData.Options.defaults().withValSubsets(LunaData.Options.parseSubsets("1,3")));
		assertEquals(List.of(uids.get(1), uids.get(3)), d.validationSeries());
		assertEquals(3, d.subsetOf(uids.get(3)));

		// The log line's counts, against candidates.csv read here row by row.
		long[] counts = new long[4];
		for (String row : Files.readAllLines(folded.resolve(PhantomDataset.CANDIDATES)).stream().skip(1).toList()) {
			String[] f = row.split(",");
			boolean val = f[0].equals(uids.get(1)) || f[0].equals(uids.get(3));
			counts[(val ? 2 : 0) + (f[4].equals("1") ? 0 : 1)]++;
		}
		assertTrue(counts[0] > 0 && counts[1] > 0 && counts[2] > 0 && counts[3] > 0);
		assertEquals(String.format(Locale.ROOT, "%s: training 2 series: %d nodules, %d non-nodules; validation (subsets 1,3) 2 series: %d nodules, "
			+ "%d non-nodules", folded, counts[0], counts[1], counts[2], counts[3]), d.splitSummary());
		assertTrue(data.splitSummary().contains("; validation (every 10th series) 1 series: "), data.splitSummary());
		assertEquals(List.of("1st", "2nd", "3rd", "4th", "10th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th", "112th"),
			IntStream.of(1, 2, 3, 4, 10, 11, 12, 13, 21, 22, 23, 101, 111, 112).mapToObj(LunaData::ordinal).toList());
		assertThrows(IOException.class, () -> LunaData.open(root, LunaData.Options.defaults().withValSubsets(Set.of(9))));
	}

	@Test
	void seriesListedButNotOnDiskGiveOneSummaryLine() throws IOException {
		Path mal = tmp.resolve("mal-extra.csv"), cand = tmp.resolve("cand-extra.csv");
		List<String> m = new ArrayList<>(Files.readAllLines(root.resolve(PhantomDataset.MALIGNANCY)));
		List<String> c = new ArrayList<>(Files.readAllLines(root.resolve(PhantomDataset.CANDIDATES)));
		for (String ghost : new String[] { "1.2.3.ghost.1", "1.2.3.ghost.2" }) {
			m.add(ghost + ",1,2,3,5,True,\"[4, 4]\",0,0,0,1,1,1,2");
			c.add(ghost + ",1,2,3,0");
			c.add(ghost + ",4,5,6,0");
		}
		Files.write(mal, m);
		Files.write(cand, c);
		LunaData d = LunaData.open(root, LunaData.Options.defaults().withMalignancy(mal).withCandidates(cand));
		assertEquals(List.of("1.2.3.ghost.1", "1.2.3.ghost.2"), d.missingSeries());
		String line = d.missingSummary();
		assertFalse(line.contains("\n"), line);
		assertTrue(line.startsWith("2 series are listed"), line);
		assertEquals(data.candidates(), d.candidates());
	}

	@Test
	void validationSourcesOfOtherSeriesHaveAnotherIdentity() throws IOException {
		// Series 0 validates by default; a copy folded into subsets validates on series 1 instead, which has
		// as many nodules and candidates (every CT here has 2 nodules and 25 candidates), so only which
		// series they are tells the two apart. best.pt's score is kept on resume only for the same identity.
		Path folded = tmp.resolve("folded-identity");
		List<String> uids = data.series();
		foldIntoSubsets(folded);
		LunaData.Options series1 = LunaData.Options.defaults().withValSubsets(Set.of(1));
		try (TrainingData a = TrainingData.open(root, null, LunaData.Options.defaults());
			TrainingData again = TrainingData.open(root, null, LunaData.Options.defaults());
			TrainingData b = TrainingData.open(folded, null, series1)) {
			assertEquals(List.of(uids.get(1)), b.data().validationSeries());
			for (Networks.Kind kind : Networks.Kind.values()) {
				SampleSource va = a.validation(kind, 0), vb = b.validation(kind, 0);
				assertEquals(va.identity(), again.validation(kind, 0).identity(), kind + ": the same data, another time");
				assertNotEquals(va.identity(), vb.identity(), kind + ": other series");
				if (kind != Networks.Kind.SEG) assertEquals(va.epochSize(), vb.epochSize(), kind + ": as many samples");
			}
		}
	}

	/** Copies the dataset to {@code folded} with CT i in subset i, LUNA16's layout. */
	private static void foldIntoSubsets(Path folded) throws IOException {
		List<String> uids = data.series();
		for (int i = 0; i < uids.size(); i++) {
			Path sub = Files.createDirectories(folded.resolve("subset" + i));
			for (String ext : new String[] { ".mhd", ".raw" })
				Files.copy(root.resolve(uids.get(i) + ext), sub.resolve(uids.get(i) + ext));
		}
		for (String t : new String[] { PhantomDataset.ANNOTATIONS, PhantomDataset.MALIGNANCY, PhantomDataset.CANDIDATES })
			Files.copy(root.resolve(t), folded.resolve(t));
	}

	// ---------------------------------------------------------------- classifier order

	@Test
	void balancedInterleavingPutsPositivesAtEveryRatioPlusOnePosition() {
		for (int ratio : new int[] { 1, 3 }) {
			ClassifierSamples s = ClassifierSamples.of(data.candidates(), Crops.fromCts(data),
				ClassifierSamples.Settings.defaults().withRatio(ratio).withEpochSize(60).withSeed(3));
			for (int i = 0; i < 60; i++)
				assertEquals(i % (ratio + 1) == 0, s.candidate(2, i).isNodule(), "ratio " + ratio + ", sample " + i);
		}
	}

	@Test
	void positivesCycleThroughAllBeforeRepeating() {
		ClassifierSamples s = ClassifierSamples.of(data.candidates(), Crops.fromCts(data),
			ClassifierSamples.Settings.defaults().withEpochSize(200).withSeed(9));
		int n = s.positiveCount();
		assertEquals(8, n);
		List<CandidateInfo> positives = new ArrayList<>();
		for (int i = 0; i < 200; i += 2) positives.add(s.candidate(0, i));
		assertEquals(n, new HashSet<>(positives.subList(0, n)).size(), "the first cycle holds every positive once");
		for (int k = n; k < positives.size(); k++) assertEquals(positives.get(k - n), positives.get(k));
		// Negatives run on through their shuffled list: the first negativeCount of them are all different.
		List<CandidateInfo> negatives = new ArrayList<>();
		for (int i = 1; i < 200; i += 2) negatives.add(s.candidate(0, i));
		int distinct = Math.min(negatives.size(), s.negativeCount());
		assertEquals(distinct, new HashSet<>(negatives.subList(0, distinct)).size());
	}

	@Test
	void shuffleIsAPureFunctionOfSeedAndEpoch() {
		ClassifierSamples.Settings set = ClassifierSamples.Settings.defaults().withEpochSize(100).withSeed(42);
		ClassifierSamples a = ClassifierSamples.of(data.candidates(), Crops.fromCts(data), set);
		ClassifierSamples b = ClassifierSamples.of(data.candidates(), Crops.fromCts(data), set);
		ClassifierSamples other = ClassifierSamples.of(data.candidates(), Crops.fromCts(data), set.withSeed(43));
		List<CandidateInfo> e1 = order(a, 1), e1b = order(b, 1), e2 = order(a, 2);
		assertEquals(e1, e1b);
		assertNotEquals(e1, e2);
		assertNotEquals(e1, order(other, 1));
		// Asking for epochs out of order (as a resumed run does) changes nothing.
		order(b, 7);
		assertEquals(e2, order(b, 2));
		assertEquals(e1, order(b, 1));
	}

	private static List<CandidateInfo> order(ClassifierSamples s, int epoch) {
		List<CandidateInfo> out = new ArrayList<>();
		for (int i = 0; i < s.epochSize(); i++) out.add(s.candidate(epoch, i));
		return out;
	}

	@Test
	void fillIsIdenticalAcrossInstancesWithAugmentation() throws IOException {
		ClassifierSamples.Settings set = ClassifierSamples.Settings.defaults().withEpochSize(10).withSeed(5);
		ClassifierSamples a = ClassifierSamples.training(data, Crops.fromCts(data, 1), set);
		try (ChunkCache cache = ChunkCache.open(cacheDir, data)) {
			ClassifierSamples b = ClassifierSamples.training(data, cache, set);
			int size = 32 * 48 * 48;
			for (int i : new int[] { 0, 1, 7 }) {
				float[] x = new float[size + 3], y = new float[size + 3], lx = new float[2], ly = new float[2];
				SampleSource.SampleInfo ix = a.fill(4, i, x, 3, lx, 1);
				SampleSource.SampleInfo iy = b.fill(4, i, y, 3, ly, 1);
				assertArrayEquals(x, y);
				assertEquals(ix, iy);
				assertEquals(ix.positive() ? 1f : 0f, lx[1]);
				assertEquals(i % 2 == 0, ix.positive());
				if (ix.positive()) assertTrue(ix.diameterMm() >= 8);
			}
			// Augmentation is on: the sample differs from the raw chunk, and from another epoch's.
			float[] raw = new float[size], aug = new float[size], other = new float[size], l = new float[1];
			CandidateInfo c = a.candidate(4, 0);
			a.fill(4, 0, aug, 0, l, 0);
			Crops.fromCts(data).chunk(c, raw, 0);
			assertFalse(Arrays.equals(raw, aug));
			assertEquals(c, a.candidate(4, 0));
		}
	}

	@Test
	void validationIsUnbalancedAndComplete() {
		ClassifierSamples v = ClassifierSamples.validation(data, Crops.fromCts(data), 0);
		List<CandidateInfo> expected = data.candidates(true);
		assertEquals(expected.size(), v.epochSize());
		for (int i = 0; i < expected.size(); i++) assertEquals(expected.get(i), v.candidate(0, i));
		ClassifierSamples capped = ClassifierSamples.validation(data, Crops.fromCts(data), 5);
		assertEquals(5, capped.epochSize());
		long nodules = expected.stream().filter(CandidateInfo::isNodule).count();
		assertEquals(nodules, order(capped, 0).stream().filter(CandidateInfo::isNodule).count());
	}

	@Test
	void malignancyAlternatesMalignantAndBenign() throws IOException {
		MalignancySamples m = MalignancySamples.training(data, Crops.fromCts(data),
			MalignancySamples.Settings.defaults().withEpochSize(24).withAugmentation(Augmentation.Settings.none()));
		assertTrue(m.benignCount() > 0 && m.malignantCount() > 0);
		for (int i = 0; i < 24; i++) {
			CandidateInfo c = m.candidate(0, i);
			assertTrue(c.isNodule());
			assertEquals(i % 2 == 1, c.isMalignant());
		}
		float[] x = new float[32 * 48 * 48], l = new float[1];
		SampleSource.SampleInfo info = m.fill(0, 1, x, 0, l, 0);
		assertEquals(1f, l[0]);
		assertEquals(m.candidate(0, 1).diameterMm(), info.diameterMm());
		MalignancySamples book = MalignancySamples.training(data, Crops.fromCts(data),
			MalignancySamples.Settings.defaults().withEpochSize(16).withNonNodules(true));
		for (int i = 0; i < 16; i++) {
			CandidateInfo c = book.candidate(0, i);
			assertEquals(i % 2 == 1, c.isMalignant(), "sample " + i);
			assertEquals(i % 4 != 2, c.isNodule(), "sample " + i);
		}
		assertEquals(data.candidates(true).stream().filter(CandidateInfo::isNodule).count(),
			MalignancySamples.validation(data, Crops.fromCts(data)).epochSize());
	}

	// ---------------------------------------------------------------- cache

	@Test
	void cacheGivesExactlyWhatDirectCroppingGives() throws IOException {
		Crops direct = Crops.fromCts(data, 2);
		try (ChunkCache cache = ChunkCache.open(cacheDir, data)) {
			float[] a = new float[32 * 48 * 48], b = new float[a.length];
			for (CandidateInfo c : data.candidates()) {
				direct.chunk(c, a, 0);
				cache.chunk(c, b, 0);
				assertArrayEquals(a, b);
			}
			float[] sa = new float[7 * 96 * 96], sb = new float[sa.length], ma = new float[96 * 96], mb = new float[ma.length];
			int nodules = 0;
			for (CandidateInfo c : data.candidates()) {
				if (!c.isNodule()) continue;
				direct.segCrop(c, sa, 0, ma, 0);
				cache.segCrop(c, sb, 0, mb, 0);
				assertArrayEquals(sa, sb);
				assertArrayEquals(ma, mb);
				assertTrue(sum(ma) > 0, "the nodule's own slice carries mask voxels");
				nodules++;
			}
			assertEquals(8, nodules);
			for (String uid : data.series())
				assertArrayEquals(direct.positiveSlices(uid), cache.positiveSlices(uid));
			String val = data.validationSeries().get(0);
			int[] shape = direct.shape(val);
			float[] pa = new float[shape[1] * shape[2]], pb = new float[pa.length], qa = new float[pa.length], qb = new float[pa.length];
			for (int z : direct.positiveSlices(val))
				for (int d = -3; d <= 3; d++) {
					direct.slice(val, z + d, pa, 0, qa, 0);
					cache.slice(val, z + d, pb, 0, qb, 0);
					assertArrayEquals(pa, pb);
					assertArrayEquals(qa, qb);
				}
			// Training series have no whole slices cached: a clear error, not garbage.
			String train = data.trainingSeries().get(0);
			IOException e = assertThrows(IOException.class, () -> cache.slice(train, 3, pb, 0, null, 0));
			assertTrue(e.getMessage().contains("slice"), e.getMessage());
		}
	}

	@Test
	void secondPrepareDoesNoWorkAndATouchedCtIsRefusedThenRebuilt() throws IOException {
		ChunkCache.PrepareResult again = ChunkCache.prepare(data, cacheDir, EnumSet.allOf(ChunkCache.Kind.class), Progress.NONE);
		assertEquals(0, again.written());
		assertEquals(4, again.skipped());
		// A subset of kinds is also complete.
		assertEquals(0, ChunkCache.prepare(data, cacheDir, EnumSet.of(ChunkCache.Kind.MAL), Progress.NONE).written());

		String uid = data.series().get(2);
		Path raw = root.resolve(uid + ".raw");
		FileTime before = Files.getLastModifiedTime(raw);
		CandidateInfo c = data.candidates(uid).get(0);
		float[] x = new float[32 * 48 * 48];
		try {
			Files.setLastModifiedTime(raw, FileTime.fromMillis(before.toMillis() + 60_000));
			try (ChunkCache cache = ChunkCache.open(cacheDir, data)) {
				IOException e = assertThrows(ChunkCache.StaleCacheException.class, () -> cache.chunk(c, x, 0));
				assertTrue(e.getMessage().contains(uid), e.getMessage());
			}
			ChunkCache.PrepareResult rebuilt = ChunkCache.prepare(data, cacheDir, EnumSet.of(ChunkCache.Kind.CLS), Progress.NONE);
			assertEquals(1, rebuilt.written());
			try (ChunkCache cache = ChunkCache.open(cacheDir, data)) {
				cache.chunk(c, x, 0); // fresh again
				float[] mask = new float[96 * 96];
				CandidateInfo n = data.nodules(uid).get(0);
				cache.segCrop(n, new float[7 * 96 * 96], 0, mask, 0); // the rebuilt file kept the other kinds
			}
		}
		finally {
			Files.setLastModifiedTime(raw, before);
			ChunkCache.prepare(data, cacheDir, EnumSet.allOf(ChunkCache.Kind.class), Progress.NONE);
		}
		try (var files = Files.list(cacheDir)) {
			assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
		}
	}

	@Test
	void canceledPrepareWritesNothingPartial() throws IOException {
		Path dir = tmp.resolve("canceled-cache");
		Progress cancelAfterFirst = new Progress() {
			int reports;

			@Override
			public void report(String stage, double fraction) { reports++; }

			@Override
			public boolean isCanceled() { return reports >= 1; }
		};
		assertThrows(Progress.Canceled.class, () -> ChunkCache.prepare(data, dir, EnumSet.of(ChunkCache.Kind.MAL), cancelAfterFirst));
		try (var files = Files.list(dir)) {
			List<Path> left = files.toList();
			assertEquals(1, left.size(), left.toString());
			assertTrue(left.get(0).getFileName().toString().endsWith(".chunks"));
		}
		ChunkCache.PrepareResult rest = ChunkCache.prepare(data, dir, EnumSet.of(ChunkCache.Kind.MAL), Progress.NONE);
		assertEquals(3, rest.written());
		assertEquals(1, rest.skipped());
	}

	// ---------------------------------------------------------------- segmentation

	@Test
	void segmentationSamplesAreRandom64CutsOfTheNoduleCrop() throws IOException {
		SegmentationSamples.Settings set = SegmentationSamples.Settings.defaults().withEpochSize(12).withSeed(1)
			.withAugmentation(Augmentation.Settings.none());
		SegmentationSamples s = SegmentationSamples.training(data, Crops.fromCts(data), set);
		assertArrayEquals(new int[] { 7, 64, 64 }, s.inputShape());
		assertArrayEquals(new int[] { 1, 64, 64 }, s.labelShape());
		float[] big = new float[7 * 96 * 96], bigMask = new float[96 * 96];
		float[] in = new float[7 * 64 * 64], label = new float[64 * 64];
		Set<Integer> offsets = new HashSet<>();
		int labelled = 0;
		try (ChunkCache cache = ChunkCache.open(cacheDir, data)) {
			SegmentationSamples cached = SegmentationSamples.training(data, cache, set);
			for (int i = 0; i < 12; i++) {
				SampleSource.SampleInfo info = s.fill(3, i, in, 0, label, 0);
				assertTrue(info.positive());
				CandidateInfo n = s.nodule(3, i);
				assertEquals(n.diameterMm(), info.diameterMm());
				Crops.fromCts(data).segCrop(n, big, 0, bigMask, 0);
				int[] at = findCut(big, in);
				offsets.add(at[0] * 32 + at[1]);
				for (int y = 0; y < 64; y++)
					for (int x = 0; x < 64; x++)
						assertEquals(bigMask[(at[0] + y) * 96 + at[1] + x], label[y * 64 + x]);
				labelled += sum(label) > 0 ? 1 : 0;
				float[] in2 = new float[in.length], label2 = new float[label.length];
				cached.fill(3, i, in2, 0, label2, 0);
				assertArrayEquals(in, in2);
				assertArrayEquals(label, label2);
			}
		}
		assertTrue(offsets.size() > 1, "offsets vary");
		// These CTs are only 96 wide, so the "crop" is the whole plane and a cut may miss the nodule; most do not.
		assertTrue(labelled > 0, "some cuts hold nodule voxels");
		// With augmentation the label stays binary and the result is reproducible.
		SegmentationSamples aug = SegmentationSamples.training(data, Crops.fromCts(data), set.withAugmentation(Augmentation.Settings.segmentation()));
		float[] a1 = new float[in.length], l1 = new float[label.length], a2 = new float[in.length], l2 = new float[label.length];
		aug.fill(0, 5, a1, 0, l1, 0);
		aug.fill(0, 5, a2, 0, l2, 0);
		assertArrayEquals(a1, a2);
		assertArrayEquals(l1, l2);
		for (float v : l1) assertTrue(v == 0 || v == 1);
	}

	/** Where the 7x64x64 cut sits in the 7x96x96 crop (row, col), by exact comparison. */
	private static int[] findCut(float[] big, float[] cut) {
		for (int r = 0; r < 32; r++)
			for (int c = 0; c < 32; c++) {
				boolean same = true;
				for (int ch = 0; ch < 7 && same; ch++)
					for (int y = 0; y < 64 && same; y++)
						for (int x = 0; x < 64 && same; x++)
							same = big[(ch * 96 + r + y) * 96 + c + x] == cut[(ch * 64 + y) * 64 + x];
				if (same) return new int[] { r, c };
			}
		throw new AssertionError("the cut is not a 64x64 window of the crop at offsets 0..31");
	}

	@Test
	void segmentationValidationUsesWholePositiveSlices() throws IOException {
		SegmentationValidation v = SegmentationValidation.of(data, Crops.fromCts(data));
		String uid = data.validationSeries().get(0);
		LoadedCt ct = LoadedCt.read(data.ctPath(uid), data.nodules(uid));
		int[] positive = ct.positiveSlices();
		assertTrue(positive.length > 0);
		assertEquals(positive.length, v.slices().size());
		assertEquals(1, v.sources().size());
		SampleSource src = v.sources().get(0);
		assertArrayEquals(new int[] { 7, 96, 96 }, src.inputShape());
		assertArrayEquals(new int[] { 1, 96, 96 }, src.labelShape());
		int plane = 96 * 96;
		float[] in = new float[7 * plane], label = new float[plane], expected = new float[plane];
		src.fill(0, 0, in, 0, label, 0);
		int z = positive[0];
		for (int c = 0; c < 7; c++) {
			ct.copySlice(z - 3 + c, expected, 0);
			assertArrayEquals(expected, Arrays.copyOfRange(in, c * plane, (c + 1) * plane), "channel " + c);
		}
		ct.copyMask(z, 0, 96, 0, 96, expected, 0);
		assertArrayEquals(expected, label);
		assertTrue(sum(label) > 0);
		try (ChunkCache cache = ChunkCache.open(cacheDir, data)) {
			SegmentationValidation cv = SegmentationValidation.of(data, cache);
			assertEquals(v.slices(), cv.slices());
			float[] in2 = new float[in.length], label2 = new float[label.length];
			cv.sources().get(0).fill(0, 0, in2, 0, label2, 0);
			assertArrayEquals(in, in2);
			assertArrayEquals(label, label2);
		}
	}

	private static double sum(float[] a) {
		double s = 0;
		for (float v : a) s += v;
		return s;
	}
}
