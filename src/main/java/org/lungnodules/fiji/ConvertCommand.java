package org.lungnodules.fiji;

import java.io.File;
import java.nio.file.Files;

import org.lungnodules.io.MetaImage;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** MetaImage to MetaImage: .mhd ↔ .mha, compressed or not, geometry and voxel values kept exactly. */
@Plugin(type = Command.class, name = "convert", label = "Convert MetaImage",
	description = "Rewrite a .mhd/.mha file (e.g. compress it, or make a single-file .mha)")
public class ConvertCommand extends LunaCommand {

	@Parameter(label = "input", description = "A .mhd or .mha file")
	private File input;

	@Parameter(label = "output", description = "The .mhd or .mha file to write")
	private File output;

	@Parameter(label = "compress", description = "zlib-compress the voxel data")
	private boolean compress = false;

	@Parameter(type = ItemIO.OUTPUT, label = "Summary")
	private String summary;

	@Override
	protected void execute() throws Exception {
		String name = output.getName().toLowerCase();
		if (!name.endsWith(".mhd") && !name.endsWith(".mha"))
			throw new BadValue("output must end in .mhd or .mha: " + output);
		if (input.getCanonicalFile().equals(output.getCanonicalFile()))
			throw new BadValue("input and output are the same file: " + input);
		status.showStatus("Reading " + input.getName());
		MetaImage image = MetaImage.read(input.toPath());
		status.showStatus("Writing " + output.getName());
		MetaImage.write(output.toPath(), image, compress);
		summary = String.format("Wrote %s (%s, %s, %d bytes%s)", output, image.elementType(),
			java.util.Arrays.toString(image.dimensions()), Files.size(output.toPath()), compress ? ", compressed" : "");
	}
}
