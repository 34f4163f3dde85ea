package org.lungnodules.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.ExternalTools;
import org.lungnodules.SharedData;
import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;

import net.imglib2.RandomAccess;
import net.imglib2.type.numeric.RealType;

/**
 * Gantry tilt: the Philips Ingenuity series tilted by -18.5 degrees (dcm2niix's CT corpus) is resampled as Debian's
 * dcm2niix's tilt correction does. Its {@code *_Tilt_1.nii}, made at test time, is the truth: the same voxel grid in
 * world coordinates (every voxel centre of ours is one of its voxel centres, and the sizes agree), HU within the
 * error of the interpolation's rounding. Uneven steps under a tilt (GE) stay refused, naming the steps.
 */
class DicomTiltTest {

	@Test
	void tiltedSeriesIsResampledAsDcm2niixDoes(@TempDir Path out) throws Exception {
		Path series = SharedData.require("dicom-corpus/dcm_qa_ct/Philips_Ingenuity_tilt-18.5_2.5mm_ser201");
		String dcm2niix = ExternalTools.require("dcm2niix", "-h");
		ExternalTools.run(5, dcm2niix, "-o", out.toString(), "-f", "tilt", "-z", "n", series.toString());
		List<Path> tilted;
		try (Stream<Path> s = Files.list(out)) {
			tilted = s.filter(p -> p.getFileName().toString().endsWith("_Tilt_1.nii")).collect(Collectors.toList());
		}
		assertEquals(1, tilted.size(), "dcm2niix wrote one *_Tilt_1.nii: " + tilted);
		CtVolume truth = CtReader.read(tilted.get(0)).volume();

		CtReader.ReadCt ct = CtReader.read(series);
		assertTrue(ct.notes().stream().anyMatch(n -> n.contains("gantry tilt") && n.contains("resampled")), ct.notes().toString());
		CtVolume v = ct.volume();
		// The same number of voxels per axis (dcm2niix stores rows bottom-up; axes may be permuted or flipped).
		long[] ours = { v.width(), v.height(), v.depth() }, theirs = { truth.width(), truth.height(), truth.depth() };
		java.util.Arrays.sort(ours);
		java.util.Arrays.sort(theirs);
		assertEquals(java.util.Arrays.toString(theirs), java.util.Arrays.toString(ours), "grid size");
		assertEquals(600, v.height(), "rows extended to hold the shifted slices");

		Geometry g = v.geometry(), tg = truth.geometry();
		RandomAccess<? extends RealType<?>> a = v.image().randomAccess(), b = truth.image().randomAccess();
		long compared = 0, within1 = 0, edge = 0;
		double maxOff = 0, maxDiff = 0;
		// What the scan did not cover holds the series' lowest HU (-1024 here), as in dcm2niix's output.
		double fill = -1024;
		for (int z = 0; z < v.depth(); z++)
			for (int y = 0; y < v.height(); y++)
				for (int x = 0; x < v.width(); x++) {
					double[] w = g.voxelToWorld(z, y, x);
					double[] t = tg.worldToVoxel(w[0], w[1], w[2]);
					long[] ti = new long[3];
					for (int i = 0; i < 3; i++) {
						maxOff = Math.max(maxOff, Math.abs(t[i] - Math.rint(t[i])));
						ti[i] = (long) Math.rint(t[i]);
					}
					assertTrue(ti[0] >= 0 && ti[0] < truth.depth() && ti[1] >= 0 && ti[1] < truth.height() && ti[2] >= 0 && ti[2] < truth.width(),
						"voxel " + x + "," + y + "," + z + " lies outside dcm2niix's grid");
					if (edgeOfCoverage(v, x, y, z, fill)) {
						edge++;
						continue;
					}
					a.setPosition(new long[] { x, y, z });
					b.setPosition(new long[] { ti[2], ti[1], ti[0] });
					double d = Math.abs(a.get().getRealDouble() - b.get().getRealDouble());
					compared++;
					if (d <= 1) within1++;
					maxDiff = Math.max(maxDiff, d);
				}
		assertTrue(maxOff < 0.01, "voxel centres off dcm2niix's by up to " + maxOff + " voxel");
		// Rounding of interpolated values may differ by 1 HU. In the row at each edge of a slice's coverage the two
		// differ by design: dcm2niix extends a slice by up to a pixel above its first row and none below its last, we by
		// half a pixel on both sides; those rows are not compared.
		assertEquals(compared, within1, "voxels more than 1 HU from dcm2niix's (max " + maxDiff + ")");
		assertTrue(edge < 0.01 * compared, edge + " edge voxels");
		assertTrue(compared > 0.95 * v.width() * (long) v.height() * v.depth(), compared + " voxels compared");
	}

	/** A voxel in the row where a slice's coverage starts or ends: it, or the voxel above or below, is the fill, but not all three. */
	private static boolean edgeOfCoverage(CtVolume v, int x, int y, int z, double fill) {
		RandomAccess<? extends RealType<?>> r = v.image().randomAccess();
		int fills = 0, n = 0;
		for (int dy = -1; dy <= 1; dy++) {
			int yy = y + dy;
			if (yy < 0 || yy >= v.height()) continue;
			r.setPosition(new long[] { x, yy, z });
			n++;
			if (r.get().getRealDouble() == fill) fills++;
		}
		return fills > 0 && fills < n;
	}

	@Test
	void unevenStepsUnderATiltAreRefusedNamingThem() {
		Path series = SharedData.require("dicom-corpus/dcm_qa_ct/GE_HiSpeedDual_tilt18.5_varspacing_ser2");
		IOException e = assertThrows(IOException.class, () -> CtReader.read(series));
		assertTrue(e.getMessage().contains("uneven slice spacing") && e.getMessage().contains("GE_HiSpeedDual"), e.getMessage());
	}
}
