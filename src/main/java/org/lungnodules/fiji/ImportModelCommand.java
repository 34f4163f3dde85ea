package org.lungnodules.fiji;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.Map;

import org.lungnodules.io.TorchCheckpoint;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;
import org.lungnodules.nn.PublishedModels;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/**
 * Converts a published checkpoint (legacy {@code .state} or any PyTorch zip) into ours: a zip-format
 * checkpoint with {@code model_state}, {@code model_name}, {@code epoch} and provenance, readable by
 * {@code torch.load(path, weights_only=True)}. Names and shapes are checked against the network first.
 */
@Plugin(type = Command.class, name = "import-model", label = "Import Model",
	description = "Convert a published .state/.pt checkpoint into a checked zip-format checkpoint")
public class ImportModelCommand extends LunaCommand {

	@Parameter(label = "input", description = "A PyTorch checkpoint (.state or .pt)")
	private File input;

	@Parameter(label = "kind", choices = { "cls", "seg", "mal" }, description = "cls = nodule classifier, seg = U-Net, mal = malignancy classifier")
	private String kind = "cls";

	@Parameter(label = "output", description = "The .pt file to write")
	private File output;

	@Parameter(type = ItemIO.OUTPUT, label = "Summary")
	private String summary;

	@Override
	protected void execute() throws Exception {
		Networks.Kind k;
		try {
			k = Networks.Kind.parse(kind);
		}
		catch (IllegalArgumentException e) {
			throw new BadValue("kind must be cls, seg or mal, not '" + kind + "'");
		}
		if (input.getCanonicalFile().equals(output.getCanonicalFile())) throw new BadValue("input and output are the same file");
		status.showStatus("Checking " + input.getName());
		Map<String, Object> root = new LinkedHashMap<>();
		root.put("model_state", ModelFiles.load(input.toPath(), k));
		root.put("model_name", k == Networks.Kind.SEG ? "UNetWrapper" : "LunaModel");
		Object epoch = null, samples = null;
		if (TorchCheckpoint.read(input.toPath()).root() instanceof Map<?, ?> m) {
			epoch = m.get("epoch");
			samples = m.get("totalTrainingSamples_count");
		}
		root.put("epoch", epoch instanceof Number ? ((Number) epoch).longValue() : 0L);
		if (samples instanceof Number) root.put("totalTrainingSamples_count", ((Number) samples).longValue());
		root.put("kind", k.name().toLowerCase());
		root.put("source_file", input.getName());
		root.put("source_sha256", PublishedModels.sha256(input.toPath()));
		root.put("imported_by", "Lung Nodules " + AboutCommand.buildProperties().getProperty("version", ""));
		TorchCheckpoint.write(output.toPath(), root);
		summary = "Imported " + input.getName() + " as a " + k.name().toLowerCase() + " model: " + output.getAbsolutePath();
	}
}
