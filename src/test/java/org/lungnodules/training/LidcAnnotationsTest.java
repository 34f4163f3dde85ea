package org.lungnodules.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.io.Luna16Tables;
import org.lungnodules.io.Luna16Tables.CandidateInfo;

/**
 * Issue #22 §1: {@code annotations=} as a folder of LIDC-IDRI XML readings. On the real LIDC-IDRI-0001
 * (LIDC-IDRI, TCIA, CC BY 3.0: ../shared/real/ATTRIBUTION.md), a dataset holding its DICOM series and
 * the readers' XML gives LUNA16's one nodule of that series as one annotation, within 1 mm of LUNA16's
 * centre (../shared/luna/annotations.csv), malignant as the book's mal_bool says.
 */
class LidcAnnotationsTest {

	static final String SERIES = "1.3.6.1.4.1.14519.5.2.1.6279.6001.179049373636438705059720603192";

	@TempDir
	Path temp;

	@Test
	void readingsFolderGivesLuna16sNodule() throws Exception {
		Path real = SharedData.require("real/LIDC-IDRI-0001");
		// The dataset: the DICOM series folder, linked (not copied) into a folder of its own.
		Path data = Files.createDirectories(temp.resolve("cohort"));
		Files.createSymbolicLink(data.resolve("LIDC-IDRI-0001"), real.resolve("dicom"));
		LunaData d = LunaData.open(data, LunaData.Options.defaults().withAnnotations(real));

		assertEquals(List.of(SERIES), List.copyOf(d.ctPaths().keySet()), "the series is keyed by its SeriesInstanceUID");
		List<CandidateInfo> nodules = d.nodules(SERIES);
		assertEquals(1, nodules.size(), nodules.toString());
		CandidateInfo n = nodules.get(0);
		Luna16Tables.Annotation luna = Luna16Tables.readAnnotations(SharedData.require("luna/annotations.csv")).stream()
			.filter(a -> a.seriesUid().equals(SERIES)).findFirst().orElseThrow();
		double distance = Math.sqrt(Math.pow(n.x() - luna.x(), 2) + Math.pow(n.y() - luna.y(), 2) + Math.pow(n.z() - luna.z(), 2));
		System.out.printf("LIDC consensus annotation (%.3f, %.3f, %.3f) d %.2f mm; LUNA16 (%.3f, %.3f, %.3f) d %.2f mm; %.3f mm apart%n", n.x(),
			n.y(), n.z(), n.diameterMm(), luna.x(), luna.y(), luna.z(), luna.diameterMm(), distance);
		assertTrue(distance < 1.0, "within 1 mm of LUNA16's centre: " + distance);
		// LUNA16's diameter_mm is close to the sphere of the readers' mean volume (LidcConsensusTest: 1.5 mm)
		assertEquals(luna.diameterMm(), n.diameterMm(), 1.5);
		assertTrue(d.hasMalignancy());
		Luna16Tables.MalignancyAnnotation mal = Luna16Tables.readMalignancy(SharedData.require("luna/annotations_with_malignancy.csv")).stream()
			.filter(a -> a.seriesUid().equals(SERIES)).findFirst().orElseThrow();
		assertEquals(mal.malignant(), n.isMalignant());
	}
}
