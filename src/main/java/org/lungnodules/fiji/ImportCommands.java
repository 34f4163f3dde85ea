package org.lungnodules.fiji;

import java.io.File;

import org.lungnodules.ct.CtVolume;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/**
 * The File › Import entries beside MetaImage's ({@link OpenCommand}): each is {@code open} with the
 * chooser and menu label its format needs, since a macro records the menu label and a DICOM series
 * is a folder, which ImageJ's file dialog cannot pick. Both read through the same entry point as the
 * analysis, so what Fiji shows is what the networks see: HU, spacing, origin and direction.
 */
public final class ImportCommands {

	private ImportCommands() {}

	/** A DICOM series: slices ordered along the slice normal, HU from the rescale tags, the scanner's geometry. */
	@Plugin(type = Command.class, name = "open-dicom", label = "DICOM series with geometry",
		description = "Open a DICOM CT series (its folder, or one file of it) with HU, spacing, origin and direction")
	public static class Dicom extends LunaCommand {

		@Parameter(label = "input", style = FileWidget.DIRECTORY_STYLE, description = "The folder holding the series (or one file of it)")
		private File input;

		@Parameter(label = "series", required = false, description = "For a folder holding several series: the SeriesInstanceUID to open")
		private String series = "";

		@Parameter(label = "lossy", required = false, choices = { "refuse", "accept" }, description = "Lossy-compressed DICOM: refuse " +
			"(default) or accept, with a warning in the summary")
		private String lossy = "refuse";

		@Override
		protected boolean acceptsLossy() {
			return lossyAccepted(lossy);
		}

		@Parameter(type = ItemIO.OUTPUT, label = "CT")
		private CtVolume volume;

		@Parameter(type = ItemIO.OUTPUT, label = "Summary")
		private String summary;

		@Override
		protected void execute() throws Exception {
			OpenCommand.Opened o = OpenCommand.open(input, series, this);
			if (o.volume == null)
				throw new BadValue(input + " is a MetaImage, not a DICOM series: use File > Import > MetaImage (.mhd/.mha) with geometry");
			volume = o.volume;
			summary = o.summary;
		}

		public CtVolume volume() { return volume; }
	}

	/** A NIfTI-1 file, its RAS world frame turned into LUNA16's LPS. */
	@Plugin(type = Command.class, name = "open-nifti", label = "NIfTI (.nii/.nii.gz) with geometry",
		description = "Open a NIfTI-1 CT (.nii or .nii.gz) with its spacing, origin and direction in LUNA16's LPS frame")
	public static class Nifti extends LunaCommand {

		@Parameter(label = "input", description = "A .nii or .nii.gz file")
		private File input;

		@Parameter(type = ItemIO.OUTPUT, label = "CT")
		private CtVolume volume;

		@Parameter(type = ItemIO.OUTPUT, label = "Summary")
		private String summary;

		@Override
		protected void execute() throws Exception {
			String name = input == null ? "" : input.getName().toLowerCase(java.util.Locale.ROOT);
			if (input != null && !name.endsWith(".nii") && !name.endsWith(".nii.gz"))
				throw new BadValue(input + " is not a .nii or .nii.gz file");
			OpenCommand.Opened o = OpenCommand.open(input, "", this);
			volume = o.volume;
			summary = o.summary;
		}

		public CtVolume volume() { return volume; }
	}
}
