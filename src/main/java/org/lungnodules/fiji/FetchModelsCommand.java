package org.lungnodules.fiji;

import java.io.File;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.lungnodules.nn.Devices;
import org.lungnodules.nn.PublishedModels;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;
import org.scijava.widget.FileWidget;

/** Downloads the book's published classifier and segmentation weights and checks their SHA-256. */
@Plugin(type = Command.class, name = "fetch-models", label = "Fetch Published Models",
	description = "Download the book's published classifier and U-Net weights and check their SHA-256 digests")
public class FetchModelsCommand extends LunaCommand {

	@Parameter(label = "output", style = FileWidget.DIRECTORY_STYLE, required = false,
		description = "Models folder (default: $LUNG_NODULES_HOME/models or ~/.lung-nodules/models)")
	private File output;

	@Parameter(label = "base_url", description = "Where the files are; a mirror or a file: URL works too")
	private String base_url = PublishedModels.DEFAULT_BASE_URL;

	@Parameter(label = "digests", required = false, description = "Optional SHA256SUMS file to check against instead of the built-in digests")
	private File digests;

	@Parameter(type = ItemIO.OUTPUT, label = "Summary")
	private String summary;

	@Override
	protected void execute() throws Exception {
		Path folder = output == null ? Devices.modelsFolder() : output.toPath();
		Map<String, String> expected = PublishedModels.DIGESTS;
		if (digests != null) {
			Map<String, String> all = PublishedModels.readDigests(digests.toPath());
			expected = new LinkedHashMap<>();
			for (String name : PublishedModels.DIGESTS.keySet()) {
				String d = all.get(name);
				if (d == null) throw new BadValue(digests + " has no digest for " + name);
				expected.put(name, d);
			}
		}
		List<Path> files = PublishedModels.fetch(base_url, folder, expected, progress());
		StringBuilder sb = new StringBuilder("Published models, SHA-256 checked:");
		for (Path f : files) sb.append("\n  ").append(f.toAbsolutePath());
		summary = sb.toString();
	}
}
