package org.lungnodules.fiji;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.MetaImage;
import org.lungnodules.io.Nifti;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Converts a CT between formats: any CT the product reads (DICOM series, MetaImage, NIfTI) to a
 * MetaImage or NIfTI file, chosen by the output's ending, with voxel values and geometry kept
 * exactly. MetaImage to MetaImage keeps its own path, which also takes 2D and 4D images and keeps
 * the element type as it is.
 */
@Plugin(type = Command.class, name = "convert", label = "Convert CT",
	description = "Convert a CT between DICOM, MetaImage and NIfTI (or rewrite a MetaImage, e.g. compressed or as one .mha file)")
public class ConvertCommand extends LunaCommand {

	@Parameter(label = "input", description = "A CT: a .mhd/.mha or .nii/.nii.gz file, or a DICOM series (its folder, or one of its files)")
	private File input;

	@Parameter(label = "output", description = "The file to write; its ending picks the format: .mhd or .mha (MetaImage), .nii or .nii.gz (NIfTI-1)")
	private File output;

	@Parameter(label = "compress", description = "MetaImage only: zlib-compress the voxel data (for NIfTI, name the output .nii.gz)")
	private boolean compress = false;

	@Parameter(label = "series", required = false,
		description = "For a DICOM folder holding several series: the SeriesInstanceUID to convert (a unique prefix or suffix is enough)")
	private String series = "";

	@Parameter(label = "lossy", required = false, choices = { "refuse", "accept" }, description = "Lossy-compressed DICOM (lossy JPEG, " +
		"JPEG 2000 irreversible, JPEG-LS near-lossless): refuse (default) or accept, with a warning in every output")
	private String lossy = "refuse";

	@Override
	protected boolean acceptsLossy() {
		return lossyAccepted(lossy);
	}

	@Parameter(type = ItemIO.OUTPUT, label = "Summary")
	private String summary;

	@Override
	protected void execute() throws Exception {
		String name = output.getName().toLowerCase(Locale.ROOT);
		boolean toMetaImage = name.endsWith(".mhd") || name.endsWith(".mha");
		boolean toNifti = name.endsWith(".nii") || name.endsWith(".nii.gz");
		if (!toMetaImage && !toNifti)
			throw new BadValue("output must end in .mhd or .mha (MetaImage) or .nii or .nii.gz (NIfTI): " + output);
		if (toNifti && compress)
			throw new BadValue("compress=true applies to MetaImage output; for a compressed NIfTI name the output .nii.gz: " + output);
		if (output.exists() && input.getCanonicalFile().equals(output.getCanonicalFile()))
			throw new BadValue("input and output are the same file: " + input);
		Path in = input.toPath(), out = output.toPath();
		status.showStatus("Reading " + input.getName());
		if (toMetaImage && CtReader.formatOf(in) == CtReader.Format.METAIMAGE && (series == null || series.isEmpty())) {
			MetaImage image = MetaImage.read(in);
			status.showStatus("Writing " + output.getName());
			MetaImage.write(out, image, compress);
			summary = String.format("Wrote %s (%s, %s, %d bytes%s)", output, image.elementType(), Arrays.toString(image.dimensions()),
				Files.size(out), compress ? ", compressed" : "");
			return;
		}
		CtReader.ReadCt read = CtReader.read(in, series, acceptsLossy());
		for (String note : read.notes())
			log.info(note);
		CtVolume volume = read.volume();
		status.showStatus("Writing " + output.getName());
		if (toMetaImage) MetaImage.writeVolume(out, volume, compress);
		else Nifti.write(out, volume);
		summary = String.format("Wrote %s (%s %s to %s, %dx%dx%d, %d bytes%s)", output, read.format().name().toLowerCase(Locale.ROOT),
			volume.image().getType().getClass().getSimpleName(), toMetaImage ? "MetaImage" : "NIfTI", volume.width(), volume.height(),
			volume.depth(), Files.size(out), compress ? ", compressed" : "");
		// The written file no longer says that its voxels came from lossy data: the summary must.
		if (read.lossy()) summary += "\n" + LOSSY_WARNING;
	}
}
