package org.lungnodules.fiji;

import java.io.File;
import java.nio.file.Path;

import org.lungnodules.training.ChunkCache;
import org.lungnodules.training.LunaData;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Crops every chunk training needs into a disk cache, once, so that training never re-reads whole
 * CTs. Resumable: CTs whose cache file is complete and fresh are skipped.
 */
@Plugin(type = Command.class, name = "prepare-cache", label = "Prepare Training Cache",
	description = "Crop the training chunks of a LUNA16-style dataset into a disk cache (resumable)")
public class PrepareCacheCommand extends LunaCommand {

	@Parameter(label = "Data folder", description = "LUNA16-style root: subset*/*.mhd or a flat folder of .mhd, with the tables", style = "directory")
	private File data;

	@Parameter(label = "Cache folder", description = "Where the <series>.chunks files go", style = "directory")
	private File cache;

	@Parameter(label = "Kind", choices = { "all", "cls", "seg", "mal" }, required = false,
		description = "cls: a chunk per candidate; mal: a chunk per nodule; seg: U-Net crops per nodule + validation slices")
	private String kind = "all";

	@Parameter(label = "annotations.csv", required = false, description = "Default: in the data folder. A CSV in LUNA16's columns (seriesuid = " +
		"DICOM SeriesInstanceUID or file name stem; optional mal_bool), or a folder of LIDC-IDRI XML readings")
	private File annotations;

	@Parameter(label = "seg_model", required = false, description = "Without a candidates.csv (kind cls or all): the U-Net whose components " +
		"are the classifier's candidates; empty: the published U-Net")
	private File seg_model;

	@Parameter(label = "random_points", required = false, min = "0", description = "Without a candidates.csv: random lung points per scan")
	private int random_points = 100;

	@Parameter(label = "seed", required = false, description = "Without a candidates.csv: the random lung points' seed")
	private long seed = 1;

	@Parameter(label = "Device", choices = { "auto", "cpu", "gpu" }, required = false, description = "Where the U-Net generating candidates runs")
	private String device = "auto";

	@Parameter(label = "candidates.csv", required = false, description = "Default: in the data folder")
	private File candidates;

	@Parameter(label = "annotations_with_malignancy.csv", required = false, description = "Default: in the data folder")
	private File malignancy;

	@Parameter(label = "Validation stride", required = false, min = "2",
		description = "Every n-th series (sorted by UID) is validation; seg caches whole slices of those")
	private int val_stride = 10;

	@Parameter(label = "Validation subsets", required = false,
		description = "LUNA16 folds used as validation instead of the stride, e.g. 9 or 8,9")
	private String val_subsets = "";

	@Parameter(type = ItemIO.OUTPUT, label = "Result")
	private String result;

	@Override
	protected void execute() throws Exception {
		LunaData.Options options = LunaData.Options.defaults()
			.withAnnotations(path(annotations)).withCandidates(path(candidates)).withMalignancy(path(malignancy))
			.withValStride(val_stride).withValSubsets(LunaData.Options.parseSubsets(val_subsets));
		java.util.Set<ChunkCache.Kind> kinds = ChunkCache.Kind.parse(kind);
		StringBuilder generated = new StringBuilder();
		if (kinds.contains(ChunkCache.Kind.CLS))
			options = CohortCandidates.ensure(data.toPath(), options, cache.toPath().resolve("candidates"), seg_model, device, random_points, seed,
				text -> {
					if (log != null) log.info(text);
					if (text.startsWith("Generated") || text.startsWith("Split")) generated.append(text).append('\n');
				}, progress());
		LunaData d = LunaData.open(data.toPath(), options);
		if (log != null) {
			log.info(d.toString());
			if (!d.missingSummary().isEmpty()) log.warn(d.missingSummary());
		}
		ChunkCache.PrepareResult r = ChunkCache.prepare(d, cache.toPath(), kinds, progress());
		result = generated + "Training cache " + cache + ": " + r.written() + " CT(s) written (" + (r.bytes() >> 20) + " MB), " + r.skipped() +
			" already complete" + (d.missingSummary().isEmpty() ? "" : "; " + d.missingSummary());
		if (log != null) log.info(result);
	}

	public String result() { return result; }

	private static Path path(File f) {
		return f == null ? null : f.toPath();
	}
}
