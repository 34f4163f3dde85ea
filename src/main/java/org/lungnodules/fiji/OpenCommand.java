package org.lungnodules.fiji;

import java.io.File;
import java.util.Arrays;

import org.lungnodules.ct.CtVolume;
import org.lungnodules.ct.Geometry;
import org.lungnodules.io.CtReader;
import org.lungnodules.io.MetaImage;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Opens a CT with its real geometry: a MetaImage, a NIfTI file or a DICOM series. In Fiji the image
 * appears calibrated (spacing, origin, direction, HU intact); on the command line this prints the
 * geometry, which is handy for checking scans before a long run. MetaImage files keep their own
 * reader here, so 2D and 4D MetaImages still open; every other format goes through
 * {@link CtReader}, the one entry point the analysis uses too.
 */
@Plugin(type = Command.class, name = "open", label = "MetaImage (.mhd/.mha) with geometry",
	description = "Open a CT (.mhd/.mha, .nii/.nii.gz, or a DICOM series) with its spacing, origin and direction")
public class OpenCommand extends LunaCommand {

	@Parameter(label = "input", description = "A .mhd/.mha or .nii/.nii.gz file, or a DICOM series (its folder, or one file of it)")
	private File input;

	@Parameter(label = "series", required = false, description = "For a folder holding several DICOM series: the SeriesInstanceUID to open")
	private String series = "";

	@Parameter(label = "lossy", required = false, choices = { "refuse", "accept" }, description = "Lossy-compressed DICOM (lossy JPEG, " +
		"JPEG 2000 irreversible, JPEG-LS near-lossless): refuse (default) or accept, with a warning in every output")
	private String lossy = "refuse";

	@Override
	protected boolean acceptsLossy() {
		return lossyAccepted(lossy);
	}

	@Parameter(type = ItemIO.OUTPUT, label = "Image")
	private MetaImage image;

	@Parameter(type = ItemIO.OUTPUT, label = "CT")
	private CtVolume volume;

	@Parameter(type = ItemIO.OUTPUT, label = "Summary")
	private String summary;

	@Override
	protected void execute() throws Exception {
		Opened o = open(input, series, this);
		image = o.image;
		volume = o.volume;
		summary = o.summary;
	}

	/** What {@link #open} read: a MetaImage (any dimension) or a CT volume, and the facts for the user. */
	static final class Opened {
		MetaImage image;
		CtVolume volume;
		String summary;
	}

	/** Reads {@code input}; shared with {@link ImportDicomCommand}. */
	static Opened open(File input, String series, LunaCommand by) throws Exception {
		if (input == null) throw new BadValue("input=FILE or FOLDER is needed");
		by.status.showStatus("Reading " + input.getName());
		Opened o = new Opened();
		if (CtReader.formatOf(input.toPath()) == CtReader.Format.METAIMAGE && (series == null || series.isEmpty())) {
			MetaImage m = MetaImage.read(input.toPath());
			o.image = m;
			o.summary = String.format("%s: %s %s, spacing %s mm, origin %s mm, direction %s, orientation %s", input.getName(), m.elementType(),
				Arrays.toString(m.dimensions()), Arrays.toString(m.spacing()), Arrays.toString(m.origin()), Arrays.toString(m.direction()),
				m.anatomicalOrientation() == null ? "(not given)" : m.anatomicalOrientation());
			return o;
		}
		CtReader.ReadCt ct = CtReader.read(input.toPath(), series, by.acceptsLossy());
		for (String note : ct.notes()) by.log.info(input.getName() + ": " + note);
		o.volume = ct.volume();
		Geometry g = ct.volume().geometry();
		StringBuilder sb = new StringBuilder(String.format("%s: %s series %s, %d x %d x %d voxels (x y z), spacing %s mm, origin %s mm, direction %s",
			input.getName(), ct.format().name(), ct.volume().seriesUid(), ct.volume().width(), ct.volume().height(), ct.volume().depth(),
			Arrays.toString(g.spacing()), Arrays.toString(g.origin()), Arrays.toString(g.direction())));
		for (String note : ct.notes()) sb.append("\n  note: ").append(note);
		if (ct.lossy()) sb.append("\n").append(LOSSY_WARNING);
		o.summary = sb.toString();
		return o;
	}

	public MetaImage image() { return image; }
	public CtVolume volume() { return volume; }
}
