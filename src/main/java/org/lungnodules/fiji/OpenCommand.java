package org.lungnodules.fiji;

import java.io.File;
import java.util.Arrays;

import org.lungnodules.io.MetaImage;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Opens a MetaImage with its real geometry. In Fiji the image appears calibrated (spacing, origin,
 * HU intact); on the command line this prints the header facts, which is handy for checking scans.
 */
@Plugin(type = Command.class, name = "open", label = "MetaImage (.mhd/.mha) with geometry",
	description = "Open a .mhd/.mha file with its spacing, origin and direction")
public class OpenCommand extends LunaCommand {

	@Parameter(label = "input", description = "A .mhd or .mha file")
	private File input;

	@Parameter(type = ItemIO.OUTPUT, label = "Image")
	private MetaImage image;

	@Parameter(type = ItemIO.OUTPUT, label = "Summary")
	private String summary;

	@Override
	protected void execute() throws Exception {
		status.showStatus("Reading " + input.getName());
		image = MetaImage.read(input.toPath());
		summary = String.format("%s: %s %s, spacing %s mm, origin %s mm, direction %s, orientation %s", input.getName(),
			image.elementType(), Arrays.toString(image.dimensions()), Arrays.toString(image.spacing()),
			Arrays.toString(image.origin()), Arrays.toString(image.direction()),
			image.anatomicalOrientation() == null ? "(not given)" : image.anatomicalOrientation());
	}

	public MetaImage image() { return image; }
}
