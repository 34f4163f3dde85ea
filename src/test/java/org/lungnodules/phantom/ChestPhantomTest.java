package org.lungnodules.phantom;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.lungnodules.phantom.ChestPhantom.Candidate;
import org.lungnodules.phantom.ChestPhantom.CandidateKind;
import org.lungnodules.phantom.ChestPhantom.Nodule;
import org.lungnodules.phantom.ChestPhantom.NoduleSpec;
import org.lungnodules.phantom.ChestPhantom.NoduleType;
import org.lungnodules.phantom.ChestPhantom.Tissue;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;

class ChestPhantomTest {

	/** One default-size (128x256x256) phantom shared by the read-only tests. */
	private static ChestPhantom phantom;

	@BeforeAll
	static void generateDefault() {
		phantom = ChestPhantom.generate(42, 3, ChestPhantom.Options.defaults().withNodules(6, 6));
	}

	private static double hu(ChestPhantom p, int z, int y, int x) {
		CtVolume v = p.volume();
		return p.hu()[(z * v.height() + y) * v.width() + x];
	}

	@Test
	void defaultPhantomHasTheRequestedGeometry() {
		CtVolume v = phantom.volume();
		assertArrayEquals(new int[] { 128, 256, 256 }, v.shapeIrc());
		assertArrayEquals(new double[] { 0.7, 0.7, 1.25 }, v.geometry().spacing(), 1e-12);
		assertTrue(v.geometry().isIdentityDirection());
		double[] origin = v.geometry().origin();
		// LUNA16-like: x and y centred on the field of view, z negative.
		assertEquals(-256 * 0.7 / 2, origin[0], 6);
		assertEquals(-256 * 0.7 / 2, origin[1], 6);
		assertTrue(origin[2] < -128 * 1.25, "z origin " + origin[2]);
		assertEquals("1.3.6.1.4.1.14519.5.2.1.99999.42.3", phantom.seriesUid());
		assertTrue(phantom.seriesUid().matches("[0-9.]+"));
		// The volume reads back the same HU through ImgLib2 as the raw array holds.
		assertEquals(phantom.hu()[(5 * 256 + 7) * 256 + 9],
			v.image().getAt(9, 7, 5).getRealDouble(), 0);
	}

	@Test
	void sameSeedGivesIdenticalBytesAndOtherSeedsDiffer() {
		ChestPhantom.Options small = ChestPhantom.Options.defaults().withSize(48, 128, 128).withDiameterRange(3, 12);
		ChestPhantom a = ChestPhantom.generate(7, 1, small), b = ChestPhantom.generate(7, 1, small);
		assertArrayEquals(a.hu(), b.hu());
		assertArrayEquals(a.noduleMask(), b.noduleMask());
		assertEquals(a.nodules().size(), b.nodules().size());
		for (int i = 0; i < a.nodules().size(); i++)
			assertArrayEquals(a.nodules().get(i).centerXyz(), b.nodules().get(i).centerXyz(), 0);
		assertEquals(a.candidates(), b.candidates());
		assertFalse(Arrays.equals(a.hu(), ChestPhantom.generate(8, 1, small).hu()));
		assertFalse(Arrays.equals(a.hu(), ChestPhantom.generate(7, 2, small).hu()));
	}

	@Test
	void tissuesHaveTheirHounsfieldUnits() {
		CtVolume v = phantom.volume();
		Map<Tissue, double[]> sums = new EnumMap<>(Tissue.class);
		for (int z = 0; z < v.depth(); z += 2)
			for (int y = 0; y < v.height(); y += 2)
				for (int x = 0; x < v.width(); x += 2) {
					double[] s = sums.computeIfAbsent(phantom.tissueAt(z, y, x), t -> new double[2]);
					s[0] += hu(phantom, z, y, x);
					s[1]++;
				}
		double lung = mean(sums, Tissue.LUNG), fat = mean(sums, Tissue.FAT), soft = mean(sums, Tissue.SOFT_TISSUE),
			bone = mean(sums, Tissue.BONE), air = mean(sums, Tissue.AIR);
		assertTrue(lung > -900 && lung < -800, "lung " + lung);
		assertTrue(fat > -150 && fat < -50, "fat " + fat);
		assertTrue(soft > 0 && soft < 90, "soft tissue " + soft);
		assertTrue(bone > 350, "bone " + bone);
		assertTrue(air < -950, "air " + air);
		// Lungs are a sizeable part of a chest CT.
		double total = 0;
		for (double[] s : sums.values()) total += s[1];
		assertTrue(sums.get(Tissue.LUNG)[1] / total > 0.08, "lung fraction");
		assertTrue(sums.containsKey(Tissue.VESSEL) && sums.get(Tissue.VESSEL)[1] > 300, "vessels present");
		// The corner of the field of view is outside the body.
		assertTrue(hu(phantom, 0, 0, 0) < -950);
	}

	private static double mean(Map<Tissue, double[]> sums, Tissue t) {
		double[] s = sums.get(t);
		assertNotNull(s, "no " + t + " voxels");
		return s[0] / s[1];
	}

	@Test
	void lungAndSpineLandmarksHaveTheirHounsfieldUnits() {
		Geometry g = phantom.geometry();
		for (int side : new int[] { -1, 1 }) {
			double[] p = phantom.lungLandmarkXyz(side);
			int[] c = g.worldToVoxelRounded(p[0], p[1], p[2]);
			List<Double> values = new ArrayList<>();
			for (int dz = -1; dz <= 1; dz++)
				for (int dy = -2; dy <= 2; dy++)
					for (int dx = -2; dx <= 2; dx++)
						values.add(hu(phantom, c[0] + dz, c[1] + dy, c[2] + dx));
			values.sort(null);
			double median = values.get(values.size() / 2);
			assertTrue(median > -950 && median < -750, "lung median " + median + " at side " + side);
			// Right lung (patient's right) lies at smaller x than the left.
			assertEquals(side < 0, p[0] < phantom.spineLandmarkXyz()[0]);
		}
		double[] s = phantom.spineLandmarkXyz();
		int[] c = g.worldToVoxelRounded(s[0], s[1], s[2]);
		double sum = 0;
		for (int dy = -1; dy <= 1; dy++)
			for (int dx = -1; dx <= 1; dx++)
				sum += hu(phantom, c[0], c[1] + dy, c[2] + dx);
		assertTrue(sum / 9 > 300, "vertebral body " + sum / 9);
		// Posterior (+y) of the vertebral body, the spine is the most posterior bone in the midline.
		assertEquals(Tissue.BONE, phantom.tissueAt(c[0], c[1], c[2]));
	}

	@Test
	void noduleCentresHaveTheirTypesDensityAndMatchTheGeometry() {
		List<Nodule> nodules = phantom.nodules();
		assertTrue(nodules.size() >= 3, "placed " + nodules.size());
		byte[] mask = phantom.noduleMask();
		Geometry g = phantom.geometry();
		CtVolume v = phantom.volume();
		for (Nodule n : nodules) {
			double[] w = n.centerXyz(), irc = n.centerIrc();
			assertArrayEquals(g.worldToVoxel(w[0], w[1], w[2]), irc, 1e-9);
			assertArrayEquals(w, g.voxelToWorld(irc[0], irc[1], irc[2]), 1e-9);
			int z = (int) Math.rint(irc[0]), y = (int) Math.rint(irc[1]), x = (int) Math.rint(irc[2]);
			double h = hu(phantom, z, y, x);
			String what = n.type() + (n.calcified() ? " calcified" : "") + " nodule " + n.id() + " d=" + n.diameterMm();
			if (n.calcified()) assertTrue(h >= 200, what + ": " + h);
			else if (n.type() == NoduleType.GROUND_GLASS) assertTrue(h > -780 && h < -400, what + ": " + h);
			else assertTrue(h > -100 && h < 160, what + ": " + h);
			assertEquals(n.id(), mask[(z * v.height() + y) * v.width() + x], "mask id at centre of " + what);
			assertEquals(Tissue.NODULE, phantom.tissueAt(z, y, x));
			assertTrue(n.diameterMm() >= 3 && n.diameterMm() <= 30);
			// The mask's bounding box contains the centre and is about as large as the nodule.
			for (int a = 0; a < 3; a++) {
				assertTrue(n.bboxLowXyz()[a] <= w[a] + 1e-9 && n.bboxHighXyz()[a] >= w[a] - 1e-9, what + " bbox axis " + a);
				double extent = n.bboxHighXyz()[a] - n.bboxLowXyz()[a];
				assertTrue(extent > 0.4 * n.diameterMm() - 2 && extent < 3 * n.diameterMm() + 2, what + " extent " + extent);
			}
			// Mask volume vs nominal sphere volume (lobulation, ellipticity and spicules change it a little).
			long voxels = 0;
			for (byte m : mask) if (m == n.id()) voxels++;
			double mm3 = voxels * 0.7 * 0.7 * 1.25, sphere = Math.PI / 6 * Math.pow(n.diameterMm(), 3);
			assertTrue(mm3 > 0.4 * sphere && mm3 < 3 * sphere, what + ": mask " + mm3 + " mm3 vs sphere " + sphere);
		}
	}

	@Test
	void candidatesIncludeEveryNoduleAndManyLookAlikesOnRealStructures() {
		List<Candidate> cands = phantom.candidates();
		long positives = cands.stream().filter(Candidate::isNodule).count();
		long negatives = cands.size() - positives;
		assertEquals(phantom.nodules().size(), positives);
		assertTrue(negatives >= 50 * positives, negatives + " : " + positives);
		Geometry g = phantom.geometry();
		Map<CandidateKind, Integer> kinds = new EnumMap<>(CandidateKind.class);
		for (Candidate c : cands) {
			kinds.merge(c.kind(), 1, Integer::sum);
			int[] v = g.worldToVoxelRounded(c.x(), c.y(), c.z());
			Tissue t = phantom.tissueAt(v[0], v[1], v[2]);
			switch (c.kind()) {
				case VESSEL, VESSEL_BRANCH -> assertEquals(Tissue.VESSEL, t);
				case LUNG -> assertEquals(Tissue.LUNG, t);
				case RIB_END -> assertTrue(t == Tissue.BONE || t == Tissue.SOFT_TISSUE, "rib end on " + t);
				case NODULE -> assertTrue(c.isNodule());
				default -> {}
			}
			if (!c.isNodule())
				for (Nodule n : phantom.nodules()) {
					double[] w = n.centerXyz();
					double d = Math.sqrt(Math.pow(c.x() - w[0], 2) + Math.pow(c.y() - w[1], 2) + Math.pow(c.z() - w[2], 2));
					assertTrue(d > n.diameterMm() / 2, "non-nodule candidate inside nodule " + n.id());
				}
		}
		for (CandidateKind k : CandidateKind.values())
			assertTrue(kinds.getOrDefault(k, 0) > 0, "no candidates of kind " + k + ": " + kinds);
	}

	@Test
	void diameterAloneSeparatesMalignancyWithAucAround080() {
		SplittableRandom rng = new SplittableRandom(2024);
		List<double[]> specs = new ArrayList<>(); // diameter, malignant
		int malignant = 0;
		for (int i = 0; i < 2000; i++) {
			NoduleSpec s = ChestPhantom.sampleNoduleSpec(rng, ChestPhantom.Options.defaults());
			specs.add(new double[] { s.diameterMm(), s.malignant() ? 1 : 0 });
			if (s.malignant()) malignant++;
			// Ratings agree with the label by the book's rule: malignant iff >= 2 ratings of 4 or 5.
			int high = 0;
			for (int r : s.malignancyRatings()) {
				assertTrue(r >= 1 && r <= 5);
				if (r >= 4) high++;
			}
			assertEquals(s.malignant(), high >= 2, Arrays.toString(s.malignancyRatings()));
			assertTrue(s.malignancyRatings().length >= 1 && s.malignancyRatings().length <= 4);
			if (s.calcified()) assertFalse(s.malignant());
		}
		// Mann–Whitney AUC computed by brute force over all pairs, ties counting half.
		double wins = 0;
		long pairs = 0;
		for (double[] m : specs)
			if (m[1] == 1)
				for (double[] b : specs)
					if (b[1] == 0) {
						wins += m[0] > b[0] ? 1 : m[0] == b[0] ? 0.5 : 0;
						pairs++;
					}
		double auc = wins / pairs;
		assertTrue(auc >= 0.72 && auc <= 0.88, "AUC " + auc);
		assertTrue(malignant > 400 && malignant < 900, "malignant " + malignant);
	}

	@Test
	void solidOnlyAndDiameterRangeAreHonoured() {
		SplittableRandom rng = new SplittableRandom(5);
		ChestPhantom.Options o = ChestPhantom.Options.defaults().withSolidOnly(true).withDiameterRange(4, 8);
		for (int i = 0; i < 500; i++) {
			NoduleSpec s = ChestPhantom.sampleNoduleSpec(rng, o);
			assertEquals(NoduleType.SOLID, s.type());
			assertTrue(s.diameterMm() >= 4 && s.diameterMm() <= 8, "diameter " + s.diameterMm());
		}
	}

	@Test
	void juxtaPleuralShareIsHonouredAndPlacesNodulesAgainstTheChestWall() {
		for (double share : new double[] { 0, 0.6, 1 }) {
			SplittableRandom rng = new SplittableRandom(9);
			ChestPhantom.Options o = ChestPhantom.Options.defaults().withJuxtaPleuralFraction(share);
			int juxta = 0;
			for (int i = 0; i < 2000; i++) if (ChestPhantom.sampleNoduleSpec(rng, o).juxtaPleural()) juxta++;
			// Binomial(2000, 0.6) has a standard deviation of 22; 0 and 1 are exact.
			assertEquals(share * 2000, juxta, share == 0.6 ? 90 : 0, "share " + share);
		}
		ChestPhantom p = ChestPhantom.generate(11, 0, ChestPhantom.Options.defaults().withSize(64, 256, 256)
			.withNodules(4, 4).withDiameterRange(6, 10).withJuxtaPleuralFraction(1));
		assertFalse(p.nodules().isEmpty());
		CtVolume v = p.volume();
		for (Nodule n : p.nodules()) {
			assertTrue(n.juxtaPleural());
			// Against the chest wall: soft tissue (> -100 HU, not the nodule) lies within a radius and a bit of
			// the centre in some in-plane direction.
			double[] c = n.centerIrc();
			double mmPerVoxel = v.geometry().spacing()[0], reachVoxels = (n.diameterMm() / 2 + 2) / mmPerVoxel;
			boolean wall = false;
			for (int a = 0; a < 32 && !wall; a++) {
				double dy = Math.sin(a * Math.PI / 16), dx = Math.cos(a * Math.PI / 16);
				for (double r = n.diameterMm() / 2 / mmPerVoxel * 0.8; r <= reachVoxels && !wall; r += 0.5) {
					int z = (int) Math.round(c[0]), y = (int) Math.round(c[1] + dy * r), x = (int) Math.round(c[2] + dx * r);
					wall = p.noduleMask()[(z * v.height() + y) * v.width() + x] == 0 && hu(p, z, y, x) > -100;
				}
			}
			assertTrue(wall, "no chest wall next to nodule " + n.id() + " of " + n.diameterMm() + " mm");
		}
	}

	@Test
	void badOptionsFailCleanlyAndCancelStops() {
		ChestPhantom.Options o = ChestPhantom.Options.defaults();
		assertThrows(IllegalArgumentException.class, () -> o.withSize(2000, 2000, 2000));
		assertThrows(IllegalArgumentException.class, () -> o.withSize(4, 256, 256));
		assertThrows(IllegalArgumentException.class, () -> o.withSpacing(0, 0.7, 1));
		assertThrows(IllegalArgumentException.class, () -> o.withNodules(3, 2));
		assertThrows(IllegalArgumentException.class, () -> o.withDiameterRange(10, 5));
		assertThrows(IllegalArgumentException.class, () -> o.withJuxtaPleuralFraction(1.5));
		assertThrows(IllegalArgumentException.class, () -> o.withJuxtaPleuralFraction(Double.NaN));
		assertThrows(CancellationException.class, () -> ChestPhantom.generate(1, 0, o, () -> true));
	}
}
